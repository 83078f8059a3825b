#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Crypto
import WADUPCore

/// The folder streamed sub-contents too large for memory are written to, and what to tell the
/// user when it fails.
///
/// Files in it are unlinked the moment they are made, so none outlives the process, whatever ends
/// it (Ctrl-C, SIGKILL, a crash): the kernel frees the blocks when the last descriptor closes.
public struct TemporaryFolder: Sendable, Equatable, Codable {
    public let path: String
    /// What the user can do when the folder is full or failing (the command that knows its flag
    /// spelling says it), appended to the failure's detail.
    public let remedy: String
    /// The bytes of finished small streams one module-run keeps in memory before the rest are
    /// written here too (``StreamArena``); `nil`: the standard 64 MiB (tests set a small one).
    public var memoryBudget: Int?

    public init(path: String, remedy: String = "free space there or choose another temporary folder", memoryBudget: Int? = nil) {
        self.path = path
        self.remedy = remedy
        self.memoryBudget = memoryBudget
    }

    /// `$TMPDIR` when set and not empty, else `/tmp`.
    public static var standardPath: String {
        if let value = getenv("TMPDIR"), value.pointee != 0 { return String(cString: value) }
        return "/tmp"
    }

    /// The default folder, for callers without a setting (`wadup try`, tests).
    public static var standard: TemporaryFolder { TemporaryFolder(path: standardPath) }

    /// Why the folder cannot hold temporary files (not a folder, not writable), or `nil` if it can:
    /// checked at start, so a run does not find out at its first large stream.
    public func problem() -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return String(cString: strerror(errno)).lowercased() }
        guard st.st_mode & S_IFMT == S_IFDIR else { return "not a folder" }
        do {
            let fd = try Self.makeFile(in: path)
            close(fd)
        } catch {
            return String(cString: strerror(error.code)).lowercased()
        }
        return nil
    }

    struct CreationError: Error { let code: Int32 }

    /// An unlinked file open for reading and writing in `folder`: `O_TMPFILE` where the file system
    /// has it, else `mkstemp` and `unlink` at once.
    static func makeFile(in folder: String) throws(CreationError) -> Int32 {
        #if os(Linux)
            // O_TMPFILE (__O_TMPFILE | O_DIRECTORY) is a macro Swift does not import.
            let tmpfile: Int32 = 0o20_000_000 | O_DIRECTORY
            let unnamed = open(folder, tmpfile | O_RDWR | O_CLOEXEC, 0o600)
            if unnamed >= 0 { return unnamed }
            guard errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL else { throw CreationError(code: errno) }
        #endif
        var template = Array("\(folder)/wadup-stream-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw CreationError(code: errno) }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }
}

/// A sub-content a module writes piece by piece (`emit_stream_*`): kept in memory while small,
/// then in an unlinked temporary file, hashed as it is written.
///
/// Runs of zeros (`emit_stream_skip`, and whole written blocks of zeros once in the file) become
/// holes of the file: a sparse 1.5 GB disk image costs neither disk nor copies.
final class SubcontentStream {
    /// A stream up to this size stays in memory; past it, it moves to the temporary file (the size
    /// of ``ContentBuffer/readThreshold``, so a spilled stream is read on demand like a large input).
    static let memoryLimit = ContentBuffer.readThreshold
    /// The block size at which written zeros are left as holes.
    static let holeBlock = 64 << 10

    let name: String
    let folder: TemporaryFolder
    private(set) var count = 0
    /// The bytes while in memory (`nil` once in the file), and the room it has (grown by doubling
    /// up to ``memoryLimit``).
    private var memory: UnsafeMutableRawPointer?
    private var capacity = 64 << 10
    private var fd: Int32 = -1
    /// The SHA-256 of the bytes in the file so far (bytes kept in memory are hashed only when they
    /// move to the file: a small stream is hashed like any small sub-content, when first needed).
    private var hasher = SHA256()

    init(name: String, folder: TemporaryFolder) {
        self.name = name
        self.folder = folder
        memory = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        memory?.deallocate()
        if fd >= 0 { close(fd) }
    }

    /// Why the temporary file failed: the detail of the module-run's failure.
    struct StorageFault: Error, CustomStringConvertible {
        let folder: TemporaryFolder
        let code: Int32
        var description: String {
            "cannot write a streamed sub-content to the temporary folder \(folder.path): \(String(cString: strerror(code)).lowercased()) (\(folder.remedy))"
        }
    }

    /// Appends `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(StorageFault) {
        guard bytes.count > 0 else { return }
        if memory != nil, count + bytes.count <= Self.memoryLimit {
            let memory = room(for: bytes.count)
            (memory + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            count += bytes.count
            return
        }
        try spill()
        hasher.update(bufferPointer: bytes)
        // Whole blocks of zeros are left as holes of the file; the bytes between them are written
        // with one call.
        var done = 0
        var pending = 0
        while done < bytes.count {
            let n = min(Self.holeBlock - (count + done) % Self.holeBlock, bytes.count - done)
            if n == Self.holeBlock && Self.isZero(UnsafeRawBufferPointer(rebasing: bytes[done..<done + n])) {
                if pending < done { try writeFile(UnsafeRawBufferPointer(rebasing: bytes[pending..<done]), at: count + pending) }
                pending = done + n
            }
            done += n
        }
        if pending < done { try writeFile(UnsafeRawBufferPointer(rebasing: bytes[pending..<done]), at: count + pending) }
        count += bytes.count
    }

    /// Appends `length` zeros, as a hole of the file once there.
    func skip(_ length: Int) throws(StorageFault) {
        guard length > 0 else { return }
        if memory != nil, count + length <= Self.memoryLimit {
            let memory = room(for: length)
            (memory + count).initializeMemory(as: UInt8.self, repeating: 0, count: length)
            count += length
            return
        }
        try spill()
        var left = length
        Self.zeros.withUnsafeBytes { zeros in
            while left > 0 {
                let n = min(left, zeros.count)
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: zeros[0..<n]))
                left -= n
            }
        }
        count += length
    }

    /// The bytes of a stream still in memory (`nil` once in the file).
    var heldBytes: UnsafeRawBufferPointer? { memory.map { UnsafeRawBufferPointer(start: $0, count: count) } }

    /// The finished sub-content and its SHA-256 (`nil` for one still in memory: hashed like any
    /// small sub-content).
    func finish() throws(StorageFault) -> (data: ContentBuffer, digest: [UInt8]?) {
        if let memory {
            return (ContentBuffer(copying: UnsafeRawBufferPointer(start: memory, count: count)), nil)
        }
        // A trailing hole: the file's size is the stream's.
        guard ftruncate(fd, off_t(count)) == 0 else { throw StorageFault(folder: folder, code: errno) }
        let label = "\(folder.path)/(temporary file of \(name))"
        let data: ContentBuffer
        do {
            data = try ContentBuffer.read(fd: fd, path: label)
        } catch {
            throw StorageFault(folder: folder, code: EIO)
        }
        close(fd)
        fd = -1
        return (data, Array(hasher.finalize()))
    }

    /// The memory, grown to hold `more` bytes past ``count`` (within ``memoryLimit``).
    private func room(for more: Int) -> UnsafeMutableRawPointer {
        guard count + more > capacity else { return memory! }
        var grown = capacity
        while grown < count + more { grown *= 2 }
        grown = min(grown, Self.memoryLimit)
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        bigger.copyMemory(from: memory!, byteCount: count)
        memory!.deallocate()
        memory = bigger
        capacity = grown
        return bigger
    }

    /// Moves the bytes kept in memory to a new temporary file, hashing them.
    private func spill() throws(StorageFault) {
        guard let memory else { return }
        do {
            fd = try TemporaryFolder.makeFile(in: folder.path)
        } catch {
            throw StorageFault(folder: folder, code: error.code)
        }
        let held = UnsafeRawBufferPointer(start: memory, count: count)
        hasher.update(bufferPointer: held)
        try writeFile(held, at: 0)
        memory.deallocate()
        self.memory = nil
    }

    private func writeFile(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageFault) {
        try Self.write(bytes, to: fd, at: offset, in: folder)
    }

    /// Writes all of `bytes` at `offset` of the temporary file `fd` (shared with ``StreamArena``).
    static func write(_ bytes: UnsafeRawBufferPointer, to fd: Int32, at offset: Int, in folder: TemporaryFolder) throws(StorageFault) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                throw StorageFault(folder: folder, code: n < 0 ? errno : ENOSPC)
            }
        }
    }

    /// 1 MiB of zeros, hashed for a skip.
    private static let zeros = [UInt8](repeating: 0, count: 1 << 20)

    /// Whether every byte is zero (8 bytes at a time).
    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i + 32 <= n {
            let a = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) | bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
            let b = bytes.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self) | bytes.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)
            if a | b != 0 { return false }
            i += 32
        }
        while i < n {
            if bytes[i] != 0 { return false }
            i += 1
        }
        return true
    }
}
