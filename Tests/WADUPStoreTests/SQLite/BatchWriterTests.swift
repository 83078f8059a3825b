import Foundation
import Testing
import WADUPCore
import WADUPStore

/// `BatchWriter`: the bounded queue between the workers and the one thread that writes.
@Suite(.serialized)
struct BatchWriterTests {
    /// What the writer thread was handed, batch by batch; and a gate that can hold a write.
    final class Written: @unchecked Sendable {  // Safe: `condition` guards every field.
        private let condition = NSCondition()
        private var list: [[Int]] = []
        private var entered = 0
        private var open = true

        /// Called on the writer thread: records the batch once the gate is open.
        func write(_ batch: [Int]) {
            condition.lock()
            entered += 1
            condition.broadcast()
            while !open { condition.wait() }
            list.append(batch)
            condition.broadcast()
            condition.unlock()
        }

        var batches: [[Int]] { condition.withLock { list } }
        var items: [Int] { batches.flatMap { $0 } }

        func close() { condition.withLock { open = false } }
        func release() {
            condition.withLock {
                open = true
                condition.broadcast()
            }
        }

        /// Waits up to `seconds` until `count` writes have begun; returns whether they did.
        func waitForWrites(_ count: Int, seconds: Double = 10) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            condition.lock()
            defer { condition.unlock() }
            while entered < count { if !condition.wait(until: deadline) { return entered >= count } }
            return true
        }

        /// Waits up to `seconds` until `count` items are written; returns whether they were.
        func waitForItems(_ count: Int, seconds: Double = 10) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            condition.lock()
            defer { condition.unlock() }
            while list.joined().count < count { if !condition.wait(until: deadline) { return list.joined().count >= count } }
            return true
        }
    }

    /// A write error, as a store would describe it.
    struct DiskFull: Error {}

    static func describe(_ error: any Error) -> StoreError {
        StoreError(error is DiskFull ? .full : .failed, path: "/cases/run.db", "database or disk is full")
    }

    /// Runs `body` on another thread; the returned semaphore is signalled when it has returned.
    static func background(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread {
            body()
            done.signal()
        }.start()
        return done
    }

    @Test func itemsAreWrittenInTheOrderQueuedManyPerBatch() throws {
        let written = Written()
        let writer = BatchWriter<Int>(name: "test-writer", maxQueued: 100, batchSize: 10)
        writer.start(write: { written.write($0) }, describe: { Self.describe($0) })
        for i in 0..<1000 { try writer.enqueue(i) }
        #expect(writer.close() == nil)
        #expect(written.items == Array(0..<1000))
        #expect(written.batches.allSatisfy { !$0.isEmpty && $0.count <= 100 }, "a batch is what was queued, at most maxQueued")
        #expect(written.batches.count <= 100, "\(written.batches.count) batches for 1,000 items: not batched")
    }

    @Test func aFullBatchIsWrittenAtOnceAndALoneItemAfterTheDelay() throws {
        // A delay far longer than the test: only a full batch can make the first write.
        let full = Written()
        let patient = BatchWriter<Int>(name: "test-writer", maxQueued: 100, batchSize: 5, batchDelay: 600)
        patient.start(write: { full.write($0) }, describe: { Self.describe($0) })
        for i in 0..<5 { try patient.enqueue(i) }
        #expect(full.waitForItems(5), "a batch of batchSize items waited for the delay")
        #expect(full.batches == [[0, 1, 2, 3, 4]])
        #expect(patient.close() == nil)

        // One item and a short delay: written without close and without a full batch.
        let lone = Written()
        let quick = BatchWriter<Int>(name: "test-writer", maxQueued: 100, batchSize: 1000, batchDelay: 0.05)
        quick.start(write: { lone.write($0) }, describe: { Self.describe($0) })
        try quick.enqueue(7)
        #expect(lone.waitForItems(1), "a lone item was never written")
        #expect(lone.batches == [[7]])
        #expect(quick.close() == nil)
    }

    /// Back-pressure: while the writer is busy and `maxQueued` items wait, `enqueue` blocks until
    /// the writer takes the queue.
    @Test func enqueueWaitsWhileTheQueueIsFullUntilTheWriterTakesABatch() throws {
        let written = Written()
        let writer = BatchWriter<Int>(name: "test-writer", maxQueued: 3, batchSize: 1)
        writer.start(write: { written.write($0) }, describe: { Self.describe($0) })
        written.close()
        try writer.enqueue(0)
        #expect(written.waitForWrites(1), "the writer never took the first item")
        for i in 1...3 { try writer.enqueue(i) }  // the writer is held: the queue is now full
        let fourth = Self.background { try? writer.enqueue(4) }
        #expect(fourth.wait(timeout: .now() + 0.5) == .timedOut, "enqueue returned while the queue was full")
        written.release()
        #expect(fourth.wait(timeout: .now() + 10) == .success, "enqueue stayed blocked after the writer took the queue")
        #expect(writer.close() == nil)
        #expect(written.items == [0, 1, 2, 3, 4])
    }

    @Test func aWriteErrorStopsTheWriterAndIsThrownByTheNextEnqueue() throws {
        let written = Written()
        let writer = BatchWriter<Int>(name: "test-writer", maxQueued: 100, batchSize: 1)
        let calls = Written()
        writer.start(
            write: { batch in
                calls.write(batch)
                if batch.contains(2) { throw DiskFull() }
                written.write(batch)
            }, describe: { Self.describe($0) })
        for i in 0..<3 { try writer.enqueue(i) }
        #expect(calls.waitForItems(3))
        // The error surfaces from the next call, as the store's error.
        var thrown: StoreError?
        let deadline = Date().addingTimeInterval(10)
        while thrown == nil && Date() < deadline {
            do throws(StoreError) {
                try writer.enqueue(99)
                Thread.sleep(forTimeInterval: 0.01)
            } catch {
                thrown = error
            }
        }
        let error = try #require(thrown, "enqueue never threw the write error")
        #expect(error.kind == .full)
        #expect(error.description == "database /cases/run.db: database or disk is full")
        #expect(writer.failure?.kind == .full)
        #expect(writer.close()?.kind == .full)
        // Nothing after the failed batch was written: the writer stopped.
        #expect(written.items.allSatisfy { $0 < 2 })
        #expect(!calls.items.contains(99), "the writer went on after its error")
    }

    /// A producer blocked on a full queue is woken by the writer's error and gets it.
    @Test func aWriteErrorReleasesAProducerBlockedOnAFullQueue() throws {
        let gate = Written()
        let writer = BatchWriter<Int>(name: "test-writer", maxQueued: 2, batchSize: 1)
        writer.start(
            write: { batch in
                gate.write(batch)
                throw DiskFull()
            }, describe: { Self.describe($0) })
        gate.close()
        try writer.enqueue(0)
        #expect(gate.waitForWrites(1))
        try writer.enqueue(1)
        try writer.enqueue(2)
        final class Outcome: @unchecked Sendable {  // Safe: written before `done` is signalled, read after.
            var error: StoreError?
        }
        let outcome = Outcome()
        let blocked = Self.background {
            do throws(StoreError) { try writer.enqueue(3) } catch { outcome.error = error }
        }
        #expect(blocked.wait(timeout: .now() + 0.5) == .timedOut, "enqueue returned while the queue was full")
        gate.release()
        #expect(blocked.wait(timeout: .now() + 10) == .success, "the blocked producer was never released")
        #expect(outcome.error?.kind == .full)
        #expect(writer.close()?.kind == .full)
    }

    @Test func closeWritesEverythingQueuedAtOnceAndEndsTheThread() throws {
        let written = Written()
        let writer = BatchWriter<Int>(name: "test-writer", maxQueued: 1000, batchSize: 1000, batchDelay: 600)
        writer.start(write: { written.write($0) }, describe: { Self.describe($0) })
        for i in 0..<10 { try writer.enqueue(i) }
        let started = Date()
        #expect(writer.close() == nil)
        #expect(Date().timeIntervalSince(started) < 10, "close waited for the batch delay")
        #expect(written.items == Array(0..<10))
        let batches = written.batches.count
        Thread.sleep(forTimeInterval: 0.1)
        #expect(written.batches.count == batches, "the writer wrote after close returned")
    }

    @Test func closingAWriterThatNeverStartedReturnsAtOnce() {
        let writer = BatchWriter<Int>(name: "test-writer", maxQueued: 10, batchSize: 10)
        #expect(writer.close() == nil)
        #expect(writer.failure == nil)
    }
}
