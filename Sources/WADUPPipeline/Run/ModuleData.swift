import Crypto
import Foundation
import WADUPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A module's read-only data folder (`NAME.d/` beside `NAME.wasm`, or `--module-data NAME=DIR`),
/// checked and digested once when the run starts.
///
/// The digest is what a run records (`__wadup_modules.data_sha256`, the run's settings), so that a
/// resumed run or a merged part with other data is refused. It is SHA-256 over every regular file
/// of the folder, in the byte order of their UTF-8 relative paths (`/` between folders), each as:
/// the relative path's UTF-8 bytes, one 0 byte, the file's size as 8 bytes big-endian, the file's
/// bytes. Folders themselves (and so empty folders) do not count. In Python:
///
/// ```python
/// h = hashlib.sha256()
/// for rel in sorted(files, key=lambda p: p.encode()):
///     data = open(os.path.join(root, rel), "rb").read()
///     h.update(rel.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
/// ```
///
/// Refused at start (so a module never sees a surprise): a folder that is missing or unreadable,
/// anything in it other than regular files and folders (symbolic links included: a link could
/// lead out of the folder, and the digest would not cover what it points at), a name that is not
/// UTF-8, and more than ``maxBytes`` in all.
public struct ModuleData: Sendable, Equatable {
    /// The folder, as an absolute path with symbolic links resolved (the folder named may itself
    /// be a link; nothing inside it may).
    public let directory: String
    /// Lowercase hexadecimal SHA-256, framed as above.
    public let sha256: String
    /// Regular files in the folder.
    public let files: Int
    /// Their total size.
    public let bytes: Int

    /// The largest total size of a data folder: 1 GiB. Every instance of the module maps what it
    /// reads through the page cache, but a folder this large is read once in full at start to
    /// digest it; larger data belongs in a module that streams it from the inputs.
    public static let maxBytes = 1 << 30

    /// The folder `NAME.d` beside a module file `NAME.wasm` in `modulesDirectory`.
    public static func defaultDirectory(module name: String, in modulesDirectory: String) -> String {
        modulesDirectory + "/" + name + ".d"
    }

    /// Checks and digests `directory`, the data folder of `module`.
    public static func load(directory: String, module: String) throws(WADUPError) -> ModuleData {
        func refuse(_ reason: String) -> WADUPError {
            WADUPError(.usage, "\(WADUPError.Setting.moduleData) \(module)=\(directory): \(reason)")
        }
        guard let resolved = realpath(directory, nil) else {
            throw refuse("\(String(cString: strerror(errno))); give an existing folder the module may read")
        }
        let root = String(cString: resolved)
        free(resolved)
        var status = stat()
        guard stat(root, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else { throw refuse("not a folder") }
        let tooLarge = "more than 1 GiB (\(maxBytes) bytes) of data, the most a data folder may hold; keep only what the module needs"
        var files: [(relative: String, size: Int)] = []
        var total = 0
        // Depth-first over the folder; every entry is examined without following links.
        var pending = [""]
        while let relative = pending.popLast() {
            let path = relative.isEmpty ? root : root + "/" + relative
            guard let dir = opendir(path) else {
                throw refuse("cannot read folder \(path): \(String(cString: strerror(errno)))")
            }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(validatingCString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                guard let name else { throw refuse("\(path) holds a file name that is not UTF-8; rename it") }
                if name == "." || name == ".." { continue }
                let child = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(root + "/" + child, &info) == 0 else {
                    throw refuse("cannot examine \(root)/\(child): \(String(cString: strerror(errno)))")
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: pending.append(child)
                case S_IFREG:
                    files.append((child, Int(info.st_size)))
                    total += Int(info.st_size)
                    guard total <= maxBytes else {
                        throw refuse(tooLarge)
                    }
                case S_IFLNK:
                    throw refuse("\(root)/\(child) is a symbolic link; data folders hold regular files and folders only (copy the file in)")
                default:
                    throw refuse("\(root)/\(child) is neither a regular file nor a folder")
                }
            }
        }
        files.sort { $0.relative.utf8.lexicographicallyPrecedes($1.relative.utf8) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        for file in files {
            let path = root + "/" + file.relative
            let fd = open(path, O_RDONLY | O_NOFOLLOW)
            guard fd >= 0 else { throw refuse("cannot read \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) == file.size else {
                throw refuse("\(path) changed while the folder was read; run again once it is settled")
            }
            hasher.update(data: Array(file.relative.utf8) + [0])
            hasher.update(data: withUnsafeBytes(of: UInt64(file.size).bigEndian) { Array($0) })
            var left = file.size
            while left > 0 {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, left)) }
                if count < 0 { throw refuse("cannot read \(path): \(String(cString: strerror(errno)))") }
                if count == 0 { throw refuse("\(path) changed while the folder was read; run again once it is settled") }
                buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                left -= count
            }
        }
        return ModuleData(directory: root, sha256: hasher.finalize().hex, files: files.count, bytes: total)
    }
}
