#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Dispatch

/// Immutable bytes of one content: bytes in memory (a small file read at once, or bytes a module
/// emitted), a large regular file read on demand, or a range of another buffer's storage (a
/// zero-copy slice).
///
/// A large input is never mapped into memory: a mapped page that its file no longer backs (the file
/// was truncated, or the disk failed under it) raises SIGBUS and kills the whole process. It is read
/// with `pread` instead, so a file that shrinks, grows or fails while it is read is an error value
/// (``ContentReadError``) naming the path and the offset, recorded as the content's failure.
/// `docs/guide/inputs.md` gives the reasons, `docs/performance.md` (reading inputs) the measurements.
public struct ContentBuffer: Sendable {
    /// The owner of the bytes. Immutable after creation.
    public final class Storage: @unchecked Sendable {  // Safe: the bytes are never written after init; `file` is itself Sendable.
        /// The bytes in memory; `nil` for an empty content or a file read on demand.
        let base: UnsafeRawPointer?
        /// The regular file the bytes are read from, on demand.
        public let file: InputFileSource?
        public let count: Int
        private let release: () -> Void

        init(base: UnsafeRawPointer?, count: Int, release: @escaping () -> Void) {
            self.base = base
            self.file = nil
            self.count = count
            self.release = release
            self.extents = nil
        }

        init(file: InputFileSource) {
            self.base = nil
            self.file = file
            self.count = file.size
            self.release = {}
            self.extents = nil
        }

        /// The pieces of a content made of extents, in order, with the offset each starts at
        /// (`nil` otherwise).
        let extents: [Extent]?

        init(extents: [Extent], count: Int) {
            self.base = nil
            self.file = nil
            self.count = count
            self.release = {}
            self.extents = extents
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

    /// The file these bytes are read from on demand, if any (an input of at least ``readThreshold``
    /// bytes, or a slice of one; for a content made of extents, the file of its first range, so
    /// that a change of the input it was cut from is found).
    public var file: InputFileSource? { storage.file ?? storage.extents?.lazy.compactMap { $0.source?.file }.first }

    /// One piece of a content made of extents: `count` bytes of `source`, or of zeros (a hole).
    public struct Extent: Sendable {
        /// The bytes, or `nil` for a hole that reads as zeros.
        public let source: ContentBuffer?
        public let count: Int
        /// Where the piece starts in the content it is part of (set when the content is made).
        var start = 0

        /// `count` bytes of `buffer` from `offset`.
        public static func range(of buffer: ContentBuffer, offset: Int, count: Int) -> Extent {
            Extent(source: buffer.slice(offset: offset, count: count), count: count)
        }

        /// `count` zero bytes.
        public static func hole(count: Int) -> Extent { Extent(source: nil, count: count) }

        private init(source: ContentBuffer?, count: Int) {
            precondition(count >= 0)
            self.source = source
            self.count = count
        }
    }

    /// A content made of `extents` one after the other, sharing their storage (nothing is copied;
    /// holes take no memory): a fragmented file in a disk image, a sparse archive entry. The
    /// caller checks the total fits in `Int`.
    public init(extents: [Extent]) {
        var pieces: [Extent] = []
        pieces.reserveCapacity(extents.count)
        var total = 0
        for var extent in extents where extent.count > 0 {
            extent.start = total
            total += extent.count
            pieces.append(extent)
        }
        self.init(storage: Storage(extents: pieces, count: total), offset: 0, count: total)
    }

    /// Copies `count` bytes at `offset` (an offset of the storage) of a content made of extents.
    private static func copy(extents: [Extent], from offset: Int, count: Int, to target: UnsafeMutableRawPointer) throws(ContentReadError) {
        // The last extent starting at or before `offset`.
        var low = 0
        var high = extents.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if extents[middle].start <= offset { low = middle } else { high = middle - 1 }
        }
        var done = 0
        var index = low
        while done < count {
            let extent = extents[index]
            let within = offset + done - extent.start
            let n = min(extent.count - within, count - done)
            if let source = extent.source {
                try source.copy(from: within, count: n, to: target + done)
            } else {
                (target + done).initializeMemory(as: UInt8.self, repeating: 0, count: n)
            }
            done += n
            index += 1
        }
    }

    /// The bytes themselves when they are in memory (valid while this buffer lives), else `nil`
    /// (a file read on demand, or extents): a reader can look without copying them.
    public var bytesInMemory: UnsafeRawBufferPointer? {
        guard storage.file == nil, storage.extents == nil else { return nil }
        return UnsafeRawBufferPointer(start: storage.base.map { $0 + offset }, count: count)
    }

    /// Copies `count` bytes from `offset` to `target`.
    public func copy(from offset: Int, count: Int, to target: UnsafeMutableRawPointer) throws(ContentReadError) {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count)
        if let file = storage.file {
            try file.read(into: target, count: count, at: self.offset + offset)
        } else if let extents = storage.extents {
            if count > 0 { try Self.copy(extents: extents, from: self.offset + offset, count: count, to: target) }
        } else if count > 0 {
            target.copyMemory(from: storage.base! + self.offset + offset, byteCount: count)
        }
    }

    /// Runs `body` on consecutive windows of at most `size` bytes (one window for an empty
    /// content). A file is read into one reused buffer of that size: hashing a 5 GB input keeps one
    /// window resident, not 5 GB.
    public func forEachWindow(size: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) -> Void) throws(ContentReadError) {
        if storage.extents != nil {
            // Made of extents: each window is assembled from its pieces (holes are zeros).
            let window = min(size, max(count, 1))
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: window, alignment: 64)
            defer { buffer.deallocate() }
            var done = 0
            repeat {
                let n = min(window, count - done)
                try copy(from: done, count: n, to: buffer)
                body(UnsafeRawBufferPointer(start: buffer, count: n))
                done += n
            } while done < count
            return
        }
        guard let file = storage.file else {
            var done = 0
            repeat {
                let n = min(size, count - done)
                body(UnsafeRawBufferPointer(start: storage.base.map { $0 + offset + done }, count: n))
                done += n
            } while done < count
            return
        }
        let window = min(size, max(count, 1))
        guard count > window else {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: window, alignment: 64)
            defer { buffer.deallocate() }
            try file.read(into: buffer, count: count, at: offset)
            body(UnsafeRawBufferPointer(start: buffer, count: count))
            return
        }
        // Two buffers: the next window is read on another thread while `body` works on this one,
        // so the copy out of the page cache costs no time on a core that has room for it.
        let ahead = ReadAhead(file: file, window: window)
        defer { ahead.deallocate() }
        var current = 0
        var n = window
        try file.read(into: ahead.buffers[0], count: n, at: offset)
        var done = 0
        while true {
            let following = done + n
            let m = min(window, count - following)
            let group = DispatchGroup()
            if m > 0 { ahead.start(buffer: 1 - current, count: m, at: offset + following, group: group) }
            body(UnsafeRawBufferPointer(start: ahead.buffers[current], count: n))
            done = following
            guard m > 0 else { return }
            group.wait()
            if let error = ahead.error { throw error }
            current = 1 - current
            n = m
        }
    }

    /// Files smaller than this are read into memory at once; larger ones are read on demand.
    public static let readThreshold = 1 << 20

    /// Reads (or opens for reading on demand) the regular file at `path`.
    public static func open(path: String, reader: FileReader = .system) throws(ContentReadError) -> ContentBuffer {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw ContentReadError(path: path, size: 0, offset: nil, cause: .unopenable(errno: errno)) }
        defer { close(fd) }
        return try read(fd: fd, path: path, reader: reader)
    }

    /// The regular file open as `fd` (left open; a file read on demand keeps a duplicate of it):
    /// read at once when smaller than ``readThreshold``, else read on demand. `path` names it in errors.
    public static func read(fd: Int32, path: String, reader: FileReader = .system) throws(ContentReadError) -> ContentBuffer {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ContentReadError(path: path, size: 0, offset: nil, cause: .unopenable(errno: errno)) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw ContentReadError(path: path, size: 0, offset: nil, cause: .notRegular(kind: InputFileSource.kind(of: st.st_mode)))
        }
        let size = Int(st.st_size)
        if size >= readThreshold {
            let copy = dup(fd)
            guard copy >= 0 else { throw ContentReadError(path: path, size: size, offset: nil, cause: .unopenable(errno: errno)) }
            return ContentBuffer(storage: Storage(file: InputFileSource(fd: copy, path: path, stat: st, reader: reader)), offset: 0, count: size)
        }
        return try readAtOnce(fd: fd, path: path, size: size, reader: reader)
    }

    /// Reads the `size` bytes of a small file into memory: the bytes are a snapshot, so only a
    /// change during the read matters. It asks for one byte more than `size`, so a file that grew
    /// is seen without another system call (a short read is the end of the file).
    private static func readAtOnce(fd: Int32, path: String, size: Int, reader: FileReader) throws(ContentReadError) -> ContentBuffer {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: size + 1, alignment: 16)
        var done = 0
        while true {
            let n = reader.read(fd, path, memory + done, size + 1 - done, done)
            if n < 0 && errno == EINTR { continue }
            let failure: ContentReadError
            if n < 0 {
                failure = ContentReadError(path: path, size: size, offset: done, cause: .failed(errno: errno))
            } else if done + n > size {
                failure = ContentReadError(path: path, size: size, offset: nil, cause: .grew(now: InputFileSource.currentSize(fd) ?? done + n))
            } else if n == 0 && done < size {
                failure = ContentReadError(path: path, size: size, offset: done, cause: .shrank(now: InputFileSource.currentSize(fd) ?? done))
            } else {
                done += n
                // Less than asked for, ending at `size`: the end of the file, where it was.
                if done < size { continue }
                break
            }
            memory.deallocate()
            throw failure
        }
        let storage = Storage(base: UnsafeRawPointer(memory), count: size, release: { memory.deallocate() })
        return ContentBuffer(storage: storage, offset: 0, count: size)
    }
}

/// The two buffers of a read-ahead: one is read into on another thread while the other is used.
private final class ReadAhead: @unchecked Sendable {  // Safe: a buffer is read into by one thread at a time; `error` is written before the group is left and read after waiting on it.
    let file: InputFileSource
    let buffers: [UnsafeMutableRawPointer]
    private(set) var error: ContentReadError?

    init(file: InputFileSource, window: Int) {
        self.file = file
        buffers = [0, 1].map { _ in UnsafeMutableRawPointer.allocate(byteCount: window, alignment: 64) }
    }

    func start(buffer: Int, count: Int, at offset: Int, group: DispatchGroup) {
        DispatchQueue.global(qos: .userInitiated).async(group: group) {
            do throws(ContentReadError) {
                try self.file.read(into: self.buffers[buffer], count: count, at: offset)
            } catch {
                self.error = error
            }
        }
    }

    func deallocate() { buffers.forEach { $0.deallocate() } }
}

/// How input files are read: `pread`, or, in tests, a stand-in that truncates or fails a file at a
/// chosen moment (the injected seam behind `InputFaultTests`).
public struct FileReader: Sendable {
    /// Reads up to `count` bytes at `offset` of the file open as `fd` (named `path`) into `buffer`,
    /// as `pread` does: the bytes read, 0 at the end of the file, or -1 with `errno` set.
    public let read: @Sendable (_ fd: Int32, _ path: String, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: Int) -> Int

    public init(read: @escaping @Sendable (_ fd: Int32, _ path: String, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: Int) -> Int) {
        self.read = read
    }

    /// `pread(2)`.
    public static let system = FileReader { fd, _, buffer, count, offset in pread(fd, buffer, count, off_t(offset)) }
}

/// A regular input file whose bytes are read on demand, with what it was when it was opened, so
/// that a change while it is read is found.
public final class InputFileSource: Sendable {
    /// A duplicate of the descriptor the input was opened with, closed with this object.
    let fd: Int32
    public let path: String
    /// Its size when it was opened: the content's size.
    public let size: Int
    /// Its modification time when it was opened, in nanoseconds.
    let modified: Int
    let reader: FileReader

    init(fd: Int32, path: String, stat st: stat, reader: FileReader) {
        self.fd = fd
        self.path = path
        self.size = Int(st.st_size)
        self.modified = Self.nanoseconds(st.st_mtim)
        self.reader = reader
    }

    deinit { close(fd) }

    static func nanoseconds(_ t: timespec) -> Int { t.tv_sec * 1_000_000_000 + t.tv_nsec }

    /// Reads exactly `count` bytes at `offset` (a file offset) into `target`.
    func read(into target: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(ContentReadError) {
        var done = 0
        while done < count {
            let n = reader.read(fd, path, target + done, count - done, offset + done)
            if n > 0 {
                done += n
            } else if n == 0 {
                // The end came early: the file is shorter than when it was opened.
                throw ContentReadError(path: path, size: size, offset: offset + done, cause: .shrank(now: currentSize() ?? offset + done))
            } else if errno != EINTR {
                throw ContentReadError(path: path, size: size, offset: offset + done, cause: .failed(errno: errno))
            }
        }
    }

    /// Throws if the file is not what it was when it was opened: another size or modification time.
    public func checkUnchanged() throws(ContentReadError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ContentReadError(path: path, size: size, offset: nil, cause: .failed(errno: errno)) }
        let now = Int(st.st_size)
        if now < size { throw ContentReadError(path: path, size: size, offset: nil, cause: .shrank(now: now)) }
        if now > size { throw ContentReadError(path: path, size: size, offset: nil, cause: .grew(now: now)) }
        if Self.nanoseconds(st.st_mtim) != modified { throw ContentReadError(path: path, size: size, offset: nil, cause: .modified) }
    }

    private func currentSize() -> Int? { Self.currentSize(fd) }

    /// The size of the file open as `fd` now, for messages.
    static func currentSize(_ fd: Int32) -> Int? {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_size) : nil
    }

    /// What a file type is called in messages (`fifo`, `socket`, ...).
    public static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "regular file"
        case S_IFIFO: "fifo"
        case S_IFSOCK: "socket"
        case S_IFCHR: "character device"
        case S_IFBLK: "block device"
        case S_IFDIR: "folder"
        case S_IFLNK: "symbolic link"
        default: "unknown file type"
        }
    }
}

/// An input file that could not be read, or that changed while it was read: the path, what
/// happened and where.
public struct ContentReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Cause: Sendable, Equatable {
        /// It could not be opened or examined (`errno`): nothing of it was read.
        case unopenable(errno: Int32)
        /// It is no longer a regular file (replaced after the walk found it).
        case notRegular(kind: String)
        /// It is shorter than when it was opened: `now` bytes.
        case shrank(now: Int)
        /// It is longer than when it was opened: `now` bytes.
        case grew(now: Int)
        /// Same size, another modification time: written to while it was read.
        case modified
        /// A read failed with `errno` (EIO: a failing disk, a device gone, a network file system).
        case failed(errno: Int32)
    }

    /// The input's path, as recorded.
    public let path: String
    /// Its size when it was opened (the content's size).
    public let size: Int
    /// The file offset of the read that failed; `nil` when the change was found otherwise.
    public let offset: Int?
    public let cause: Cause

    public init(path: String, size: Int, offset: Int?, cause: Cause) {
        self.path = path
        self.size = size
        self.offset = offset
        self.cause = cause
    }

    /// The failure kind a content that met this error is recorded with; `nil` for an input that
    /// was never read (recorded as skipped).
    public var kind: FailureKind? {
        switch cause {
        case .unopenable, .notRegular: nil
        case .shrank, .grew, .modified: .inputChanged
        case .failed: .readError
        }
    }

    private var at: String { offset.map { " (reading at offset \($0))" } ?? "" }

    /// What happened, without the path (the record names its content already).
    public var detail: String {
        switch cause {
        case .unopenable(let code): "cannot read: \(String(cString: strerror(code)).lowercased())"
        case .notRegular(let kind): "not a regular file: \(kind) (it changed type after the walk found it)"
        case .shrank(let now): "changed while it was read: now \(now) bytes, \(size) when opened\(at)"
        case .grew(let now): "changed while it was read: now \(now) bytes, \(size) when opened"
        case .modified: "changed while it was read: modified (size \(size) unchanged)"
        case .failed(let code): "read error: \(String(cString: strerror(code)).lowercased())\(at)"
        }
    }

    public var description: String { "\(path): \(detail)" }
}
