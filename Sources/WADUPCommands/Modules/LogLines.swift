import ArgumentParser
import Foundation
import Logging
import Synchronization
import WADUPPipeline
import WADUPCore
import WADUPInspect
import WADUPRuntime

/// Log lines collected for `wadup try` (module log lines, stdout and stderr, trap frames).
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// The lines so far, emptied.
    func take() -> [String] { lines.withLock { l in defer { l.removeAll() }; return l } }
}

struct CollectingLogHandler: LogHandler {
    let lines: LogLines
    var logLevel: Logger.Level = .debug
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lines.append("[\(level)] \(message)")
    }
}
