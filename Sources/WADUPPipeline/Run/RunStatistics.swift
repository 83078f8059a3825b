import Synchronization
import WADUPCore
import WADUPRuntime

/// Counters of a run, shared by the workers and read by the progress line and the summary.
public final class RunStatistics: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var inputs = 0
        public var contents = 0
        public var succeeded = 0
        public var failed = 0
        public var skipped = 0
        /// Repeats of processed contents, linked instead of processed.
        public var duplicates = 0
        /// Sub-contents refused because their input's budget was reached.
        public var refused = 0
        public var bytes = 0
        /// Bytes of the inputs begun so far (depth 0 only): what the progress bar measures against.
        public var inputBytes = 0
        /// Of those, the bytes of the inputs in progress that their module-runs have not read yet
        /// (a disk image being walked): the progress bar counts an input as it is read.
        public var inputBytesUnread = 0
        /// Contents whose module-runs were stopped by an interrupt: not recorded.
        public var interrupted = 0
        /// Failed module-runs per kind.
        public var failureKinds: [FailureKind: Int] = [:]

        public init() {}
    }

    private let state = Mutex(Snapshot())
    /// The inputs being processed, by worker: their size and the bytes their module-runs have read.
    private let reading = Mutex([Int: (size: Int, progress: ReadProgress)]())

    public init() {}

    func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }

    public var snapshot: Snapshot {
        var snapshot = state.withLock { $0 }
        snapshot.inputBytesUnread = reading.withLock { $0.values.reduce(0) { $0 + max($1.size - $1.progress.bytesRead, 0) } }
        return snapshot
    }

    /// Worker `worker` begins an input of `size` bytes (counted in ``Snapshot/inputBytes``); the
    /// progress its module-runs' reads make, until ``endInput(worker:)``.
    package func beginInput(worker: Int, size: Int) -> ReadProgress {
        let progress = ReadProgress()
        state.withLock { $0.inputBytes += size }
        reading.withLock { $0[worker] = (size, progress) }
        return progress
    }

    /// Worker `worker`'s input is done with its modules: all of it counts as read.
    package func endInput(worker: Int) {
        _ = reading.withLock { $0.removeValue(forKey: worker) }
    }
}

/// Per-module counters kept by one worker, summed at the end of the run.
package struct ModuleCounters: Sendable {
    /// Contents the module was offered (dispatch asked its manifest).
    package var offered = 0
    /// Contents its manifest accepted (the others it never saw).
    package var accepted = 0
    package var runs = 0
    package var failures = 0
    package var nanoseconds: UInt64 = 0

    static func + (a: ModuleCounters, b: ModuleCounters) -> ModuleCounters {
        ModuleCounters(
            offered: a.offered + b.offered, accepted: a.accepted + b.accepted, runs: a.runs + b.runs, failures: a.failures + b.failures,
            nanoseconds: a.nanoseconds + b.nanoseconds)
    }
}
