import Foundation
import Synchronization
import WADUP

/// The live progress line on a terminal: a bar of input bytes done of the total, inputs done of
/// the total, contents, MB/s, failures and an ETA, redrawn twice a second.
///
/// The totals are counted by a background walk of `--input` (file sizes only, nothing is read), so
/// the first content starts at once; until the walk ends the line says "counting".
public final class ProgressLine: Sendable {
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)
    private let totalFiles = Atomic<Int>(0)
    private let totalBytes = Atomic<Int>(0)
    private let counted = Atomic<Bool>(false)

    init(statistics: RunStatistics, input: String, followSymlinks: Bool) {
        let start = Date()
        Thread { [self] in
            count(input, followSymlinks: followSymlinks)
        }.start()
        let thread = Thread { [self] in
            while running.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: 0.5)
                let line = Self.line(
                    statistics.snapshot, elapsed: Date().timeIntervalSince(start),
                    total: counted.load(ordering: .acquiring) ? (totalFiles.load(ordering: .relaxed), totalBytes.load(ordering: .relaxed)) : nil)
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            }
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            done.signal()
        }
        thread.start()
    }

    /// Counts the paths under `input` that are inputs and the sizes of the regular files (stopping early if the run ends first).
    private func count(_ input: String, followSymlinks: Bool) {
        var files = 0
        var bytes = 0
        var st = stat()
        if stat(input, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
            files = 1
            bytes = Int(st.st_size)
        } else if let walker = FileManager.default.enumerator(atPath: input) {
            while running.load(ordering: .relaxed), let relative = walker.nextObject() as? String {
                let path = input + "/" + relative
                let found = followSymlinks ? stat(path, &st) : lstat(path, &st)
                // Every path but a folder is an input (links, FIFOs and the like are recorded as skipped).
                guard found == 0, (st.st_mode & S_IFMT) != S_IFDIR else { continue }
                files += 1
                if (st.st_mode & S_IFMT) == S_IFREG { bytes += Int(st.st_size) }
            }
        }
        totalFiles.store(files, ordering: .relaxed)
        totalBytes.store(bytes, ordering: .relaxed)
        counted.store(true, ordering: .releasing)
    }

    /// The line for `s` after `elapsed` seconds; `total` (files, bytes) once counted.
    public static func line(_ s: RunStatistics.Snapshot, elapsed: Double, total: (files: Int, bytes: Int)?, width: Int = 20) -> String {
        let rate = Double(s.bytes) / 1e6 / max(elapsed, 1e-9)
        let tail = String(format: "%d contents, %.1f MB/s, %d failed", s.contents, rate, s.failed)
        guard let total else { return "\(s.inputs) inputs (counting…), " + tail }
        let fraction = total.bytes > 0 ? min(Double(s.inputBytes) / Double(total.bytes), 1) : (total.files > 0 ? min(Double(s.inputs) / Double(total.files), 1) : 1)
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
        var eta = "--:--"
        if fraction > 0.001, elapsed > 1 {
            let remaining = Int((elapsed / fraction - elapsed).rounded())
            eta = remaining >= 3600 ? String(format: "%d:%02d:%02d", remaining / 3600, remaining / 60 % 60, remaining % 60) : String(format: "%d:%02d", remaining / 60, remaining % 60)
        }
        return String(format: "%@ %3.0f%% %d/%d inputs, %@/%@, ", bar, fraction * 100, min(s.inputs, total.files), total.files, mb(s.inputBytes), mb(total.bytes))
            + tail + ", ETA " + eta
    }

    private static func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

    func stop() {
        running.store(false, ordering: .relaxed)
        done.wait()
    }
}
