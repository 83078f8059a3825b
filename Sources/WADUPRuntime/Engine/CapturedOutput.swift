import Foundation
import Logging
import WADUPCore

/// A WASI module's stdout and stderr: kept line by line and logged at debug level with the module
/// and the content, never written to the terminal. Reads (stdin) see end of file.
final class CapturedOutput: @unchecked Sendable {  // Safe: used only by its instance's thread.
    static let maxBytesPerRun = 64 << 10
    /// A sink for stdin, and for stdout/stderr when debug logging is off.
    static let discard = CapturedOutput(stream: "", abi: nil, logger: nil)

    let stream: String
    weak var abi: HostABI?
    let logger: Logger?
    private var pending: [UInt8] = []
    private var dropped = 0

    init(stream: String, abi: HostABI?, logger: Logger?) {
        self.stream = stream
        self.abi = abi
        self.logger = logger
    }

    /// Keeps what the guest wrote (up to ``maxBytesPerRun`` per run) if debug logging is on.
    func append(_ buffer: UnsafeRawBufferPointer) {
        guard logger != nil else { return }
        let room = max(0, Self.maxBytesPerRun - pending.count)
        pending.append(contentsOf: buffer.prefix(room))
        dropped += buffer.count - min(room, buffer.count)
    }

    /// Logs what the run wrote, one entry per line.
    func flush() {
        guard let logger, !pending.isEmpty || dropped > 0 else { return }
        var metadata: Logger.Metadata = ["module": "\(abi?.moduleName ?? "?")"]
        if let uuid = abi?.context?.uuid { metadata["content"] = "\(uuid.uuidString.lowercased())" }
        for line in pending.split(separator: UInt8(ascii: "\n")) {
            logger.debug("\(stream): \(String(decoding: line, as: UTF8.self))", metadata: metadata)
        }
        if dropped > 0 { logger.debug("\(stream): \(dropped) more bytes dropped (\(Self.maxBytesPerRun) kept per run)", metadata: metadata) }
        pending.removeAll(keepingCapacity: true)
        dropped = 0
    }
}
