import Foundation
import Synchronization
import WADUP

/// The live progress line on a terminal: inputs, contents, MB/s and failures, redrawn twice a second.
final class ProgressLine: Sendable {
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)

    init(statistics: RunStatistics) {
        let start = Date()
        let thread = Thread { [self] in
            while running.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: 0.5)
                let s = statistics.snapshot
                let elapsed = Date().timeIntervalSince(start)
                let line = String(
                    format: "\r\u{1B}[K%d inputs, %d contents, %.1f MB/s, %d failed",
                    s.inputs, s.contents, Double(s.bytes) / 1e6 / max(elapsed, 1e-9), s.failed)
                FileHandle.standardError.write(Data(line.utf8))
            }
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            done.signal()
        }
        thread.start()
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        done.wait()
    }
}
