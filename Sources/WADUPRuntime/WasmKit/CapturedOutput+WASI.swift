@_spi(WASIPlatform) import WASI

/// WasmKit's WASI sees a ``CapturedOutput`` as a character device: writes are kept, reads are end of file.
extension CapturedOutput: WASIFile {
    func write(vectored buffers: GuestBuffers) throws -> WASIAbi.Size {
        var total = 0
        for i in 0..<buffers.count {
            total += try buffers.withHostBuffer(at: i) { buffer in
                append(UnsafeRawBufferPointer(buffer))
                return buffer.count
            }
        }
        return WASIAbi.Size(truncatingIfNeeded: total)
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
