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

/// What a store is opened with: the run's first record, and for a shared store what it needs to
/// register a run or join one.
public struct StoreRequest: Sendable {
    public var run: RunRecord
    /// The differences between this process's settings and a run's recorded settings (JSON text),
    /// each naming the setting; `nil` if the recorded settings cannot be read.
    public var differences: @Sendable (String) -> [String]?
    /// Walks the run's inputs (for the process that registers the run), calling `each` in order.
    public var enumerate: @Sendable (_ each: (QueuedInput) throws -> Void) throws -> Void

    public init(
        run: RunRecord, differences: @escaping @Sendable (String) -> [String]?,
        enumerate: @escaping @Sendable (_ each: (QueuedInput) throws -> Void) throws -> Void
    ) {
        self.run = run
        self.differences = differences
        self.enumerate = enumerate
    }
}

/// Outputs that name a database server rather than a file.
public enum StoreURL {
    /// Whether `output` is a PostgreSQL URL (`postgres://` or `postgresql://`).
    public static func isServer(_ output: String) -> Bool {
        output.hasPrefix("postgres://") || output.hasPrefix("postgresql://")
    }
}
