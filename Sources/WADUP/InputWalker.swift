import Foundation

/// The input files of a run: every regular file under a folder, in a stable order, found lazily.
///
/// Directories are read one at a time and their entries sorted by byte order, so the order does not
/// depend on the file system and memory holds only the directories on the current path.
/// Symbolic links are not followed (a link could leave the input or loop).
public struct InputWalker: Sequence, IteratorProtocol {
    public struct Input: Sendable, Equatable {
        /// The path to open.
        public let path: String
        /// The name recorded for the content: the path relative to `--input`.
        public let relativePath: String
    }

    private var stack: [(dir: String, relative: String, entries: [String], next: Int)] = []
    private var single: Input?
    /// Entries that could not be listed or are not regular files, with the reason.
    public private(set) var skipped: [(path: String, reason: String)] = []

    /// `root` itself is followed if it is a link (the user named it); links below it are not.
    public init(root: String) {
        var st = stat()
        if stat(root, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
            single = Input(path: root, relativePath: (root as NSString).lastPathComponent)
        } else {
            stack = [(root, "", list(root), 0)]
        }
    }

    /// The entries of `dir` in byte order; a folder that cannot be read is reported, not fatal.
    private mutating func list(_ dir: String) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: dir).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        } catch {
            skipped.append((dir, "cannot list the folder: \(error.localizedDescription)"))
            return []
        }
    }

    public mutating func next() -> Input? {
        if let input = single {
            single = nil
            return input
        }
        while !stack.isEmpty {
            let top = stack.count - 1
            guard stack[top].next < stack[top].entries.count else {
                stack.removeLast()
                continue
            }
            let name = stack[top].entries[stack[top].next]
            stack[top].next += 1
            let path = stack[top].dir + "/" + name
            let relative = stack[top].relative.isEmpty ? name : stack[top].relative + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else {
                skipped.append((path, String(cString: strerror(errno))))
                continue
            }
            switch st.st_mode & S_IFMT {
            case S_IFREG: return Input(path: path, relativePath: relative)
            case S_IFDIR: stack.append((path, relative, list(path), 0))
            default: skipped.append((path, "not a regular file"))
            }
        }
        return nil
    }
}
