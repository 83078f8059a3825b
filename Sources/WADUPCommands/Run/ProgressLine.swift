import Foundation
import Synchronization
import WADUPPipeline

/// The live progress line on a terminal: a bar of input bytes done of the total (an input in
/// progress counting the bytes its modules have read), inputs done of the total, contents, MB/s,
/// failures and an ETA, redrawn twice a second.
///
/// The totals are the pipeline's ``Pipeline/progressTotals``: counted in the background by a walk
/// with the run's own rules (this shard, what a resume has left), so the first content starts at
/// once; until the walk ends the line says "counting". A process sharing a run through a server has
/// no total of its own: its line says so and points at `wadup status`.
package final class ProgressLine: Sendable {
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)

    init(pipeline: Pipeline) {
        let start = Date()
        let thread = Thread { [self] in
            while running.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: 0.5)
                let line = Self.line(pipeline.statistics.snapshot, elapsed: Date().timeIntervalSince(start), total: pipeline.progressTotals)
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            }
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            done.signal()
        }
        thread.start()
    }

    /// The line for `s` after `elapsed` seconds, measured against `totals`.
    package static func line(_ s: RunStatistics.Snapshot, elapsed: Double, total totals: ProgressTotals, width: Int = 20) -> String {
        let rate = Double(s.bytes) / 1e6 / max(elapsed, 1e-9)
        let tail = String(format: "%d contents, %.1f MB/s, %d failed", s.contents, rate, s.failed)
        let total: (files: Int, bytes: Int)
        switch totals {
        case .counting: return "\(s.inputs) inputs (counting…), " + tail
        case .shared: return "\(s.inputs) inputs by this process (shared run: wadup status shows all), " + tail
        case .counted(let files, let bytes): total = (files, bytes)
        }
        // An input counts as far as its modules have read it (a disk image walked for minutes).
        let read = max(s.inputBytes - s.inputBytesUnread, 0)
        let fraction = total.bytes > 0 ? min(Double(read) / Double(total.bytes), 1) : (total.files > 0 ? min(Double(s.inputs) / Double(total.files), 1) : 1)
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
        var eta = "--:--"
        if fraction > 0.001, elapsed > 1 {
            let remaining = Int((elapsed / fraction - elapsed).rounded())
            eta = remaining >= 3600 ? String(format: "%d:%02d:%02d", remaining / 3600, remaining / 60 % 60, remaining % 60) : String(format: "%d:%02d", remaining / 60, remaining % 60)
        }
        return String(format: "%@ %3.0f%% %d/%d inputs, %@/%@, ", bar, fraction * 100, min(s.inputs, total.files), total.files, mb(read), mb(total.bytes))
            + tail + ", ETA " + eta
    }

    private static func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

    func stop() {
        running.store(false, ordering: .relaxed)
        done.wait()
    }
}
