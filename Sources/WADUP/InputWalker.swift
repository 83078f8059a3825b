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

    /// Files a run must never read as input: the folder that holds them (device and inode) and their names.
    public struct Exclusion: Sendable {
        let device: UInt64
        let inode: UInt64
        let names: Set<String>
        let reason: String

        /// The output database of a run and its SQLite companions, wherever they are; `nil` if its folder does not exist.
        public init?(files: [String], reason: String) {
            guard let first = files.first else { return nil }
            var st = stat()
            guard stat((first as NSString).deletingLastPathComponent.isEmpty ? "." : (first as NSString).deletingLastPathComponent, &st) == 0 else { return nil }
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            names = Set(files.map { ($0 as NSString).lastPathComponent })
            self.reason = reason
        }
    }

    private var stack: [(dir: String, relative: String, entries: [String], next: Int, excluded: Set<String>)] = []
    private var single: Input?
    private let exclusion: Exclusion?
    /// Entries that could not be listed or are not regular files, with the reason.
    public private(set) var skipped: [(path: String, reason: String)] = []
    /// Files left out by the exclusion (the run's own output), with its reason.
    public private(set) var excluded: [(path: String, reason: String)] = []

    /// `root` itself is followed if it is a link (the user named it); links below it are not.
    public init(root: String, excluding exclusion: Exclusion? = nil) {
        self.exclusion = exclusion
        var st = stat()
        if stat(root, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
            single = Input(path: root, relativePath: (root as NSString).lastPathComponent)
        } else {
            stack = [(root, "", list(root), 0, excludedNames(st))]
        }
    }

    /// The names to leave out of the folder whose `stat` is `st`.
    private func excludedNames(_ st: stat) -> Set<String> {
        guard let exclusion, UInt64(st.st_dev) == exclusion.device, UInt64(st.st_ino) == exclusion.inode else { return [] }
        return exclusion.names
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
            if stack[top].excluded.contains(name) {
                excluded.append((path, exclusion?.reason ?? ""))
                continue
            }
            let relative = stack[top].relative.isEmpty ? name : stack[top].relative + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else {
                skipped.append((path, String(cString: strerror(errno))))
                continue
            }
            switch st.st_mode & S_IFMT {
            case S_IFREG: return Input(path: path, relativePath: relative)
            case S_IFDIR: stack.append((path, relative, list(path), 0, excludedNames(st)))
            default: skipped.append((path, "not a regular file"))
            }
        }
        return nil
    }
}
