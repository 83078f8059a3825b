import Foundation
import WADUPCore

/// Every path under a run's input, in a stable order, found lazily: regular files to process and
/// everything else as a record saying why it was not processed.
///
/// The walk holds a directory descriptor per level and opens entries relative to it (`openat`), by
/// the bytes of their names: neither the depth of a tree, nor a path longer than `PATH_MAX`, nor a
/// name that is not UTF-8 stops a file from being read. Entries are sorted by the bytes of their
/// names, so the order does not depend on the file system; memory holds only the folders on the
/// current path. Symbolic links are recorded, not followed, unless `followSymlinks` (then a link to
/// a folder above it, or a link that loops, is recorded as a loop).
public struct InputWalker: IteratorProtocol {
    /// One path under the input.
    public enum Input: Sendable {
        /// A regular file, already open.
        case file(InputFile)
        /// A path that is not processed: why, and its size when known.
        case record(name: InputName, reason: String, size: Int?)

        public var name: InputName {
            switch self {
            case .file(let file): file.name
            case .record(let name, _, _): name
            }
        }
    }

    /// Files a run must never read as input: the folder that holds them (device and inode) and their names.
    public struct Exclusion: Sendable {
        let device: UInt64
        let inode: UInt64
        let names: Set<[UInt8]>
        let reason: String

        /// The output database of a run and its SQLite companions, wherever they are; `nil` if its folder does not exist.
        public init?(files: [String], reason: String) {
            guard let first = files.first else { return nil }
            var st = stat()
            let folder = (first as NSString).deletingLastPathComponent
            guard stat(folder.isEmpty ? "." : folder, &st) == 0 else { return nil }
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            names = Set(files.map { Array(($0 as NSString).lastPathComponent.utf8) })
            self.reason = reason
        }
    }

    private struct Level {
        let fd: Int32
        let relative: [UInt8]
        let entries: [[UInt8]]
        var next = 0
        let excluded: Set<[UInt8]>
        let device: UInt64
        let inode: UInt64
    }

    private var stack: [Level] = []
    private var pending: [Input] = []
    private let root: String
    private let exclusion: Exclusion?
    private let followSymlinks: Bool
    /// Relative paths (bytes) not to yield again: the input trees a resumed run already completed.
    private let done: Set<[UInt8]>
    /// Only the inputs of this shard are yielded (`--shard K/N`); the others belong to other jobs.
    private let shard: Shard?
    /// Whether regular files are opened (`false` only lists them: the file of a ``Input/file`` is not open).
    private let opensFiles: Bool
    /// Files left out by the exclusion (the run's own output), with its reason.
    public private(set) var excluded: [(path: String, reason: String)] = []

    /// `root` itself is followed if it is a link (the user named it).
    public init(
        root: String, excluding exclusion: Exclusion? = nil, followSymlinks: Bool = false, skipping done: Set<[UInt8]> = [], shard: Shard? = nil,
        opensFiles: Bool = true
    ) {
        self.opensFiles = opensFiles
        self.root = root
        self.shard = shard
        self.exclusion = exclusion
        self.followSymlinks = followSymlinks
        self.done = done
        Self.raiseDescriptorLimit()
        var st = stat()
        guard stat(root, &st) == 0 else {
            record(InputName(bytes: Array((root as NSString).lastPathComponent.utf8)), "unreadable: \(Self.reason(errno))")
            return
        }
        if st.st_mode & S_IFMT == S_IFDIR {
            let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else {
                record(InputName(bytes: Array((root as NSString).lastPathComponent.utf8)), "unreadable folder: \(Self.reason(errno))")
                return
            }
            push(fd: fd, relative: [], st: st)
        } else {
            let name = InputName(bytes: Array((root as NSString).lastPathComponent.utf8))
            guard !skips(name.bytes) else { return }
            pending = [classify(at: AT_FDCWD, name: Array(root.utf8), recorded: name, st: st, followed: true)]
        }
    }

    /// Whether the input at `relative` is not this walk's: done by an earlier attempt, or in another shard.
    private func skips(_ relative: [UInt8]) -> Bool {
        done.contains(relative) || !(shard?.contains(relative) ?? true)
    }

    public mutating func next() -> Input? {
        while true {
            if !pending.isEmpty { return pending.removeFirst() }
            guard !stack.isEmpty else { return nil }
            let top = stack.count - 1
            guard stack[top].next < stack[top].entries.count else {
                close(stack.removeLast().fd)
                continue
            }
            let entry = stack[top].entries[stack[top].next]
            stack[top].next += 1
            let level = stack[top]
            let relative = level.relative.isEmpty ? entry : level.relative + [UInt8(ascii: "/")] + entry
            if level.excluded.contains(entry) {
                excluded.append((rootPath(relative), exclusion?.reason ?? ""))
                continue
            }
            var st = stat()
            guard fstatat(level.fd, cString(entry), &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                if skips(relative) { continue }
                return .record(name: InputName(bytes: relative), reason: "unreadable: \(Self.reason(errno))", size: nil)
            }
            if st.st_mode & S_IFMT == S_IFDIR {
                descend(level.fd, entry, relative, st)
                continue
            }
            if skips(relative) { continue }
            if st.st_mode & S_IFMT == S_IFLNK {
                if let input = link(level.fd, entry, relative, st) { return input }
                continue
            }
            return classify(at: level.fd, name: entry, recorded: InputName(bytes: relative), st: st, followed: false)
        }
    }

    /// Opens a folder and puts it on the stack, or queues the record of why it cannot be listed.
    private mutating func descend(_ dirfd: Int32, _ name: [UInt8], _ relative: [UInt8], _ st: stat) {
        let fd = openat(dirfd, cString(name), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            record(InputName(bytes: relative), "unreadable folder: \(Self.reason(errno))")
            return
        }
        push(fd: fd, relative: relative, st: st)
    }

    private mutating func push(fd: Int32, relative: [UInt8], st: stat) {
        let device = UInt64(st.st_dev)
        let inode = UInt64(st.st_ino)
        var excludedNames: Set<[UInt8]> = []
        if let exclusion, device == exclusion.device, inode == exclusion.inode { excludedNames = exclusion.names }
        switch Self.list(fd) {
        case .success(let entries):
            stack.append(Level(fd: fd, relative: relative, entries: entries, excluded: excludedNames, device: device, inode: inode))
        case .failure(let error):
            close(fd)
            record(InputName(bytes: relative.isEmpty ? Array((root as NSString).lastPathComponent.utf8) : relative), "unreadable folder: \(Self.reason(error.code))")
        }
    }

    /// Queues the record of a path that cannot be walked, unless an earlier attempt recorded it.
    private mutating func record(_ name: InputName, _ reason: String) {
        if !skips(name.bytes) { pending.append(.record(name: name, reason: reason, size: nil)) }
    }

    /// A symbolic link: a record, or (following) its target under the link's own path.
    private mutating func link(_ dirfd: Int32, _ name: [UInt8], _ relative: [UInt8], _ linkStat: stat) -> Input? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let length = buffer.withUnsafeMutableBytes { readlinkat(dirfd, cString(name), $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        let target = length >= 0 ? InputName(bytes: Array(buffer[0..<length])).text : "?"
        let recorded = InputName(bytes: relative)
        guard followSymlinks else {
            return .record(name: recorded, reason: "symbolic link to \(target) (not followed)", size: Int(linkStat.st_size))
        }
        var st = stat()
        guard fstatat(dirfd, cString(name), &st, 0) == 0 else {
            let code = errno
            if code == ELOOP { return .record(name: recorded, reason: "symbolic link loop: \(target)", size: nil) }
            if code == ENOENT { return .record(name: recorded, reason: "dangling symbolic link to \(target)", size: nil) }
            return .record(name: recorded, reason: "unreadable symbolic link to \(target): \(Self.reason(code))", size: nil)
        }
        if st.st_mode & S_IFMT == S_IFDIR {
            if stack.contains(where: { $0.device == UInt64(st.st_dev) && $0.inode == UInt64(st.st_ino) }) {
                return .record(name: recorded, reason: "symbolic link loop: \(target) is a folder above it", size: nil)
            }
            descend(dirfd, name, relative, st)
            return nil
        }
        return classify(at: dirfd, name: name, recorded: recorded, st: st, followed: true)
    }

    /// A regular file opened (or the record of why not), or the record of another kind of file.
    private func classify(at dirfd: Int32, name: [UInt8], recorded: InputName, st: stat, followed: Bool) -> Input {
        let kind: String
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            let path = dirfd == AT_FDCWD ? root : rootPath(recorded.bytes)
            guard opensFiles else { return .file(InputFile(fd: -1, name: recorded, size: Int(st.st_size), path: path)) }
            // O_NONBLOCK: a path replaced by a fifo since it was listed must not block the walk
            // (opening a fifo waits for a writer). The worker's read checks the type again on the
            // descriptor (ContentBuffer.read), and records such a path as skipped.
            let fd = openat(dirfd, cString(name), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (followed ? 0 : O_NOFOLLOW))
            guard fd >= 0 else { return .record(name: recorded, reason: "unreadable: \(Self.reason(errno))", size: Int(st.st_size)) }
            return .file(InputFile(fd: fd, name: recorded, size: Int(st.st_size), path: path))
        case S_IFIFO: kind = "fifo"
        case S_IFSOCK: kind = "socket"
        case S_IFCHR: kind = "character device"
        case S_IFBLK: kind = "block device"
        case S_IFDIR: kind = "folder"
        default: kind = "unknown file type"
        }
        return .record(name: recorded, reason: "not a regular file: \(kind)", size: nil)
    }

    /// The input open as `fd`, if it is (still) a regular file; else (closed) the record of what it is now.
    static func opened(fd: Int32, name: InputName, path: String) -> Input {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            return .record(name: name, reason: "unreadable: \(reason(code))", size: nil)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            // The same words as when the worker's own check finds it (``ContentReadError``).
            let changed = ContentReadError(path: path, size: 0, offset: nil, cause: .notRegular(kind: InputFileSource.kind(of: st.st_mode)))
            return .record(name: name, reason: changed.detail, size: nil)
        }
        return .file(InputFile(fd: fd, name: name, size: Int(st.st_size), path: path))
    }

    /// The path of `relative` under the root, for messages.
    private func rootPath(_ relative: [UInt8]) -> String { root + "/" + InputName(bytes: relative).text }

    /// The entries of the folder open as `fd`, in byte order of their names.
    private static func list(_ fd: Int32) -> Result<[[UInt8]], SystemError> {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            let code = errno
            if copy >= 0 { close(copy) }
            return .failure(SystemError(code: code))
        }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        errno = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name != [46] && name != [46, 46] { names.append(name) }
            errno = 0
        }
        if errno != 0 { return .failure(SystemError(code: errno)) }
        return .success(names.sorted { $0.lexicographicallyPrecedes($1) })
    }

    /// `strerror` in lowercase, as recorded (`permission denied`).
    static func reason(_ code: Int32) -> String { String(cString: strerror(code)).lowercased() }

    /// A deep tree holds a descriptor per level: allow as many as the system does.
    private static func raiseDescriptorLimit() {
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
    }
}

/// An `errno` value as an error.
struct SystemError: Error {
    let code: Int32
}

/// A regular input file, open; closed when the last reference goes.
public final class InputFile: Sendable {
    public let fd: Int32
    public let name: InputName
    /// Its size when it was found.
    public let size: Int
    /// Its path (the root and the name), for messages.
    public let path: String

    init(fd: Int32, name: InputName, size: Int, path: String) {
        self.fd = fd
        self.path = path
        self.name = name
        self.size = size
    }

    deinit { if fd >= 0 { close(fd) } }
}

/// A path under the input as its exact bytes, and the text recorded for it.
///
/// A name that is valid UTF-8 is recorded as it is. Any other name (old archives, other code
/// pages, malware) is recorded with each byte that is not part of valid UTF-8 written as `\xHH`,
/// and its exact bytes are kept beside it (`__wadup_content.filename_bytes`).
public struct InputName: Sendable, Hashable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var isUTF8: Bool { String(validating: bytes, as: UTF8.self) != nil }

    public var text: String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var out = ""
        var i = 0
        while i < bytes.count {
            let length = Self.validSequenceLength(bytes, at: i)
            if length > 0 {
                out += String(decoding: bytes[i..<(i + length)], as: UTF8.self)
                i += length
            } else {
                out += "\\x" + String(bytes[i], radix: 16).leftPadded(2)
                i += 1
            }
        }
        return out
    }

    /// The length of the well-formed UTF-8 sequence at `i` (RFC 3629), or 0.
    static func validSequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let lead = b[i]
        func cont(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool { i + k < b.count && b[i + k] >= low && b[i + k] <= high }
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return cont(1) ? 2 : 0
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : 0
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0
        default: return 0
        }
    }
}

/// `bytes` as a NUL-terminated C string (a file name never contains NUL).
private func cString(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
