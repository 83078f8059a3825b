#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Immutable bytes of one content: a file mapped into memory, bytes a module emitted, or a range
/// of another buffer's storage (a zero-copy slice).
///
/// Slices keep their storage alive; nothing is copied when a module emits a slice of its content.
public struct ContentBuffer: Sendable {
    /// The owner of the bytes. Immutable after creation.
    public final class Storage: @unchecked Sendable {  // Safe: the bytes are never written after init.
        public let base: UnsafeRawPointer?
        public let count: Int
        /// A read-only file mapping: pages already used can be given back (the page cache keeps them).
        public let isMapped: Bool
        private let release: () -> Void

        init(base: UnsafeRawPointer?, count: Int, isMapped: Bool = false, release: @escaping () -> Void) {
            self.base = base
            self.count = count
            self.isMapped = isMapped
            self.release = release
        }

        deinit { release() }
    }

    public let storage: Storage
    public let offset: Int
    public let count: Int

    /// Takes ownership of a copy of `bytes`.
    public init(copying bytes: UnsafeRawBufferPointer) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        if let src = bytes.baseAddress, bytes.count > 0 { memory.copyMemory(from: src, byteCount: bytes.count) }
        storage = Storage(base: UnsafeRawPointer(memory), count: bytes.count, release: { memory.deallocate() })
        offset = 0
        count = bytes.count
    }

    public init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { ContentBuffer(copying: $0) }
    }

    private init(storage: Storage, offset: Int, count: Int) {
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    /// A view of `range` (relative to this buffer) sharing the same storage.
    public func slice(offset: Int, count: Int) -> ContentBuffer {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count)
        return ContentBuffer(storage: storage, offset: self.offset + offset, count: count)
    }

    /// The bytes, valid for the duration of `body`.
    @inlinable
    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(start: storage.base.map { $0 + offset }, count: count))
    }

    /// Copies `count` bytes from `offset` to `target`; a large copy out of a file mapping then gives
    /// back the pages it read, so that reading a file of many GB keeps little of it resident.
    public func copy(from offset: Int, count: Int, to target: UnsafeMutableRawPointer) {
        withBytes { target.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        if storage.isMapped && count >= Self.releaseThreshold { releasePages(offset: offset, count: count) }
    }

    /// Runs `body` on consecutive windows of at most `size` bytes; the pages of a file mapping are
    /// given back after each window (hashing a 5 GB input keeps one window resident, not 5 GB).
    public func forEachWindow(size: Int = 16 << 20, _ body: (UnsafeRawBufferPointer) -> Void) {
        var done = 0
        repeat {
            let n = min(size, count - done)
            withBytes { body(UnsafeRawBufferPointer(rebasing: $0[done..<done + n])) }
            if storage.isMapped && n > 0 { releasePages(offset: done, count: n) }
            done += n
        } while done < count
    }

    /// Copies of at least this many bytes out of a mapping release the pages they read.
    public static let releaseThreshold = 1 << 20

    /// `madvise(MADV_DONTNEED)` on the whole pages inside `offset..<offset+count` of a read-only
    /// private file mapping: they are dropped from this process and read again from the page cache
    /// if touched later, so the bytes never change.
    private func releasePages(offset: Int, count: Int) {
        guard let base = storage.base else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + self.offset + offset + page - 1) / page * page
        let end = (Int(bitPattern: base) + self.offset + offset + count) / page * page
        if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
    }

    /// Files up to this size are read into memory; larger ones are mapped.
    public static let mapThreshold = 1 << 20

    /// Reads or maps the regular file at `path`.
    public static func open(path: String) throws(ContentFileError) -> ContentBuffer {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ContentFileError(path: path, errno: errno) }
        defer { close(fd) }
        return try read(fd: fd, path: path)
    }

    /// Reads or maps the regular file open as `fd` (left open); `path` names it in errors.
    public static func read(fd: Int32, path: String) throws(ContentFileError) -> ContentBuffer {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ContentFileError(path: path, errno: errno) }
        let size = Int(st.st_size)
        if size == 0 { return ContentBuffer(copying: UnsafeRawBufferPointer(start: nil, count: 0)) }
        if size >= mapThreshold {
            guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
                throw ContentFileError(path: path, errno: errno)
            }
            _ = madvise(map, size, MADV_SEQUENTIAL)
            let storage = Storage(base: UnsafeRawPointer(map), count: size, isMapped: true, release: { munmap(map, size) })
            return ContentBuffer(storage: storage, offset: 0, count: size)
        }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        var done = 0
        while done < size {
            let n = pread(fd, memory + done, size - done, off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let code = n == 0 ? EIO : errno
                memory.deallocate()
                throw ContentFileError(path: path, errno: code)
            }
            done += n
        }
        let storage = Storage(base: UnsafeRawPointer(memory), count: size, release: { memory.deallocate() })
        return ContentBuffer(storage: storage, offset: 0, count: size)
    }
}

/// A file that could not be read, with the path and the system's reason.
public struct ContentFileError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
}
