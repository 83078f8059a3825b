import WADUPCore

/// A store that several processes share for one run: it is also the run's work queue.
///
/// Each process claims input paths with a lease, renews it while it works, and commits each input
/// tree with a check that the lease is still its own; a process that dies loses its leases and
/// another one redoes its trees. ``ResultStore/completeInput(path:rootUUID:note:)`` is where a tree
/// is committed, so the pipeline's calls are the same as for one process.
public protocol SharedRunStore: ResultStore {
    /// Claims up to `max` inputs for this process; see ``ClaimResult``.
    func claim(max: Int) throws(StoreError) -> ClaimResult
    /// Called after each commit with the processed contents (sha256, uuid) it made durable (maybe
    /// none): only those may be the target of another tree's `duplicate_of` (a tree not committed
    /// may be redone), and a queue that waited for this process's own trees may now be done.
    func onCommit(_ handler: @escaping @Sendable ([(sha256: String, uuid: String)]) -> Void)
    /// What the run already holds when this process joined it: module tables and processed contents.
    var joined: ResumePoint { get }
}

/// The answer to a claim.
public enum ClaimResult: Sendable {
    /// Inputs now leased to this process, in walk order.
    case inputs([QueuedInput])
    /// Nothing to claim now, but the run is not over: other processes (or this one) hold leases
    /// on the rest. Ask again later: a lease that expires is claimed then.
    case later
    /// Every input of the run is committed.
    case done
}

/// One input path of a shared run, as the first process's walk found it.
public struct QueuedInput: Sendable, Equatable {
    /// The path under the run's input, as bytes.
    public var path: [UInt8]
    /// Why the path is not processed (a link, a fifo, an unreadable folder), or `nil` for a regular file.
    public var reason: String?
    /// Its size when listed, if known (recorded with a ``reason``; for a file, what the work is split by).
    public var size: Int?

    public init(path: [UInt8], reason: String?, size: Int?) {
        self.path = path
        self.reason = reason
        self.size = size
    }
}

/// The run's inputs as the first process of a shared run lists them into the work queue.
///
/// The pipeline's walker implements it; the store only iterates it.
public protocol InputListing: Sendable {
    /// Calls `each` with every input in walk order.
    func forEach(_ each: (QueuedInput) throws -> Void) throws
}

/// What a store is opened with: the run's first record, its typed settings, and for a shared
/// store the inputs it lists when it registers the run.
public struct StoreRequest: Sendable {
    public var run: RunRecord
    /// The settings recorded in ``run`` (as JSON there); a run to join or resume must match them.
    public var settings: RunSettings
    /// The run's inputs, listed by the process that registers a shared run.
    public var inputs: any InputListing
    /// Test and benchmark switches (``Tuning/standard`` for every user's run).
    public var tuning: Tuning

    public init(run: RunRecord, settings: RunSettings, inputs: any InputListing, tuning: Tuning = .standard) {
        self.run = run
        self.settings = settings
        self.inputs = inputs
        self.tuning = tuning
    }
}
