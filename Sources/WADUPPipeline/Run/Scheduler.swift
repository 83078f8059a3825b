import DequeModule
import Foundation
import WADUPCore
import WADUPRuntime

/// A unit of work: an input file, or a sub-content emitted by a module.
public enum WorkItem: Sendable {
    case input(InputWalker.Input)
    case child(PendingContent)
}

/// A sub-content waiting to be processed.
public struct PendingContent: Sendable {
    public let uuid: UUID
    public let filename: String
    public let parentUUID: UUID?
    public let depth: Int
    public let data: ContentBuffer
    /// The input this content is under.
    let tree: InputTree
    /// Its hash, if started when it was emitted.
    var digest: ContentDigest? = nil
    /// For an encoded sub-content: its token and decoded size, and the index (in the run's module
    /// order) of the module that emitted it and decodes it; `data` is then the encoded range.
    var encoded: (encoding: Encoding, module: Int)? = nil
    /// Rows of the parent that the decoding run of this content inserted, written with its record.
    var parentRows: [(tableID: Int32, values: [CellValue])] = []

    package init(
        uuid: UUID, filename: String, parentUUID: UUID?, depth: Int, data: ContentBuffer, tree: InputTree, digest: ContentDigest? = nil
    ) {
        self.uuid = uuid
        self.filename = filename
        self.parentUUID = parentUUID
        self.depth = depth
        self.data = data
        self.tree = tree
        self.digest = digest
    }
}

/// Hands out work depth-first with work stealing.
///
/// Each worker has its own deque of pending sub-content. A worker takes from the back of its own
/// deque (the newest, deepest content, so a tree is finished before the next input starts), then
/// steals from the front of another's (the oldest, shallowest), and only then opens the next
/// input file. Memory is bounded by the trees in progress, not by the number of files.
package final class Scheduler: @unchecked Sendable {  // Safe: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var deques: [Deque<PendingContent>]
    private var inputs: any InputSource
    private var inputsDone = false
    private var active = 0
    private var cancelled = false
    private var waiting = 0

    /// How long an idle worker waits at most before asking a shared run's queue again.
    static let pollInterval = 0.5
    /// The first wait after the queue answered `later`; it doubles up to ``pollInterval``, so the
    /// end of a run held up by another process's last inputs is seen soon, and a long wait costs
    /// the server two queries a second per process.
    static let firstPoll = 0.05
    private var poll = Scheduler.firstPoll

    package init(workers: Int, inputs: any InputSource) {
        self.deques = Array(repeating: Deque(), count: workers)
        self.inputs = inputs
    }

    /// The next item for `worker`, or `nil` when the run is over (or cancelled).
    /// Each item returned must be followed by ``finished(worker:children:)``.
    package func next(worker: Int) -> WorkItem? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if cancelled { return nil }
            if let item = deques[worker].popLast() {
                active += 1
                return .child(item)
            }
            for offset in 1..<max(deques.count, 1) {
                let victim = (worker + offset) % deques.count
                if let item = deques[victim].popFirst() {
                    active += 1
                    return .child(item)
                }
            }
            if !inputsDone {
                switch inputs.nextInput() {
                case .input(let input):
                    active += 1
                    poll = Self.firstPoll
                    return .input(input)
                case .done:
                    inputsDone = true
                case .later:
                    // Leases on the rest are held (another process's, or this one's trees not yet
                    // committed): ask again after a commit here (``wake()``), or soon (a lease may
                    // expire, another process may finish), or take new sub-content.
                    waiting += 1
                    _ = condition.wait(until: Date().addingTimeInterval(poll))
                    poll = min(poll * 2, Self.pollInterval)
                    waiting -= 1
                    continue
                }
            }
            if active == 0 {
                condition.broadcast()
                return nil
            }
            waiting += 1
            condition.wait()
            waiting -= 1
        }
    }

    /// Ends an item; `children` go on `worker`'s deque so that the first emitted is processed first.
    package func finished(worker: Int, children: [PendingContent]) {
        condition.lock()
        deques[worker].append(contentsOf: children.reversed())
        active -= 1
        // Idle workers wait for new sub-content to steal, or for the end of the run.
        if waiting > 0 && (!children.isEmpty || active == 0) { condition.broadcast() }
        condition.unlock()
    }

    /// Wakes the workers waiting for a shared run's queue: this process committed trees, which may
    /// have been the last ones the queue waited for.
    package func wake() {
        condition.lock()
        if waiting > 0 { condition.broadcast() }
        condition.unlock()
    }

    /// Stops handing out work; queued sub-content is abandoned, items in progress finish.
    package func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// Sub-contents still queued (abandoned if the run was cancelled).
    package var pendingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return deques.reduce(0) { $0 + $1.count }
    }

    package var excludedInputs: [(path: String, reason: String)] {
        condition.lock()
        defer { condition.unlock() }
        return inputs.excluded
    }
}
