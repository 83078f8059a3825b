import Foundation

/// A bounded queue of store items and the one thread that writes them, many per transaction.
///
/// Workers hand items over with ``enqueue(_:)`` and go on; the writer thread takes everything
/// queued once `batchSize` items wait or `batchDelay` after the first, so the database is never
/// waited on row by row. The queue is bounded: a slow disk or server slows the workers instead of
/// filling memory. The first write error stops the thread; every later ``enqueue(_:)`` throws it.
/// Both stores drive one: ``SQLiteStore`` and the PostgreSQL store.
public final class BatchWriter<Item>: @unchecked Sendable {  // Safe: every field is guarded by `condition`; `write` runs on the writer thread only.
    private let condition = NSCondition()
    private var queue: [Item] = []
    private var closing = false
    private var failure_: StoreError?
    private var started = false
    private var done = false
    private let name: String
    private let maxQueued: Int
    private let batchSize: Int
    private let batchDelay: Double

    /// A writer whose thread is named `name`; it writes nothing until ``start(write:describe:)``.
    public init(name: String, maxQueued: Int, batchSize: Int, batchDelay: Double = 0.05) {
        self.name = name
        self.maxQueued = maxQueued
        self.batchSize = batchSize
        self.batchDelay = batchDelay
    }

    /// Starts the thread that hands each batch to `write`, in order; `describe` turns a write
    /// error into the store's error.
    public func start(write: @escaping @Sendable ([Item]) throws -> Void, describe: @escaping @Sendable (any Error) -> StoreError) {
        condition.lock()
        started = true
        condition.unlock()
        let thread = Thread { [self] in run(write: write, describe: describe) }
        thread.name = name
        thread.start()
    }

    /// Queues `item`, waiting while the queue is full; throws the writer's failure, if it failed.
    public func enqueue(_ item: Item) throws(StoreError) {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= maxQueued && failure_ == nil { condition.wait() }
        if let failure_ { throw failure_ }
        queue.append(item)
        // Wake the writer only when a batch is ready; otherwise its deadline wakes it.
        if queue.count == 1 || queue.count == batchSize { condition.broadcast() }
    }

    /// The error that stopped the writer, if one did.
    public var failure: StoreError? {
        condition.lock()
        defer { condition.unlock() }
        return failure_
    }

    /// Writes what is queued, ends the thread, and returns the error that stopped it (`nil` if none).
    public func close() -> StoreError? {
        condition.lock()
        defer { condition.unlock() }
        closing = true
        condition.broadcast()
        while started && !done { condition.wait() }
        return failure_
    }

    private func run(write: ([Item]) throws -> Void, describe: (any Error) -> StoreError) {
        while true {
            condition.lock()
            while queue.isEmpty && !closing { condition.wait() }
            // Let a batch gather: one transaction per many contents keeps the commits few.
            let deadline = Date().addingTimeInterval(batchDelay)
            while queue.count < batchSize && !closing && condition.wait(until: deadline) {}
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            let finished = closing && batch.isEmpty
            condition.broadcast()
            condition.unlock()
            if finished { break }
            do {
                try write(batch)
            } catch {
                condition.lock()
                failure_ = describe(error)
                condition.broadcast()
                condition.unlock()
                break
            }
        }
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }
}
