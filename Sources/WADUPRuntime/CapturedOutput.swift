import Foundation
import Logging
import WADUPCore
@_spi(WASIPlatform) import WASI

/// A WASI module's stdout and stderr: kept line by line and logged at debug level with the module
/// and the content, never written to the terminal. Reads (stdin) see end of file.
final class CapturedOutput: WASIFile, @unchecked Sendable {  // Safe: used only by its instance's thread.
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

    func write(vectored buffers: GuestBuffers) throws -> WASIAbi.Size {
        var total = 0
        for i in 0..<buffers.count {
            total += try buffers.withHostBuffer(at: i) { buffer in
                if logger != nil {
                    let room = max(0, Self.maxBytesPerRun - pending.count)
                    pending.append(contentsOf: buffer.prefix(room))
                    dropped += buffer.count - min(room, buffer.count)
                }
                return buffer.count
            }
        }
        return WASIAbi.Size(truncatingIfNeeded: total)
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

    func pwrite(vectored buffers: GuestBuffers, offset: WASIAbi.FileSize) throws -> WASIAbi.Size { throw WASIAbi.Errno.ESPIPE }
    func read(into buffers: GuestBuffers) throws -> WASIAbi.Size { 0 }
    func pread(into buffers: GuestBuffers, offset: WASIAbi.FileSize) throws -> WASIAbi.Size { throw WASIAbi.Errno.ESPIPE }
    func fdStat() throws -> WASIAbi.FdStat {
        WASIAbi.FdStat(fsFileType: .CHARACTER_DEVICE, fsFlags: [], fsRightsBase: [.FD_READ, .FD_WRITE], fsRightsInheriting: [])
    }
    func setFdStatFlags(_ flags: WASIAbi.Fdflags) throws {}
    func setFilestatSize(_ size: WASIAbi.FileSize) throws { throw WASIAbi.Errno.EINVAL }
    func sync() throws {}
    func datasync() throws {}
    func tell() throws -> WASIAbi.FileSize { throw WASIAbi.Errno.ESPIPE }
    func seek(offset: WASIAbi.FileDelta, whence: WASIAbi.Whence) throws -> WASIAbi.FileSize { throw WASIAbi.Errno.ESPIPE }
    var isBorrowed: Bool { true }
    func attributes() throws -> WASIAbi.Filestat { throw WASIAbi.Errno.ENOTSUP }
    func fileType() throws -> WASIAbi.FileType { .CHARACTER_DEVICE }
    func status() throws -> WASIAbi.Fdflags { [] }
    func setTimes(atim: WASIAbi.Timestamp, mtim: WASIAbi.Timestamp, fstFlags: WASIAbi.FstFlags) throws { throw WASIAbi.Errno.ENOTSUP }
    func advise(offset: WASIAbi.FileSize, length: WASIAbi.FileSize, advice: WASIAbi.Advice) throws {}
    func close() throws {}
}
