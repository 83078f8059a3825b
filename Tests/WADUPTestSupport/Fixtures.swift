import Foundation

/// Inputs shared by several suites, and independent readers of what WADUP reads.
public enum Fixtures {
    /// Makes `leaf.txt` under 60 nested folders of 95-byte names below `root` (a path past
    /// PATH_MAX, which only a walk by file descriptors reaches), with `openat`/`mkdirat`.
    public static func makePathPastPathMax(under root: String) throws {
        _ = try python(
            """
            import os, sys
            fd = os.open(sys.argv[1], os.O_RDONLY)
            for i in range(60):
                os.mkdir(b"d" * 95, dir_fd=fd)
                child = os.open(b"d" * 95, os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = child
            leaf = os.open(b"leaf.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd)
            os.write(leaf, b"a file past PATH_MAX\\n")
            os.close(leaf)
            """, [root])
    }

    /// The seed's sample evidence: two text files, a ZIP of two entries, an SQLite database of two tables.
    public static let peerWadup2 = Harness.path("Tests/Fixtures/peer-wadup2")

    /// `(name, sha256)` of every file entry of a ZIP as `"name sha256"`, read by Python's zipfile.
    public static func zipfileEntries(_ path: String) throws -> [String] {
        try python(
            """
            import sys, zipfile, hashlib
            z = zipfile.ZipFile(sys.argv[1])
            for i in z.infolist():
                if not i.is_dir(): print(i.filename + " " + hashlib.sha256(z.read(i)).hexdigest())
            """, [path]
        ).split(separator: "\n").map(String.init)
    }

    /// The children of `parent` as `"name sha256"`, sorted: the form of ``zipfileEntries(_:)``.
    public static func children(of parent: Harness.Content, in contents: [Harness.Content]) -> [String] {
        contents.filter { $0.parentUUID == parent.uuid }.map { "\($0.filename) \($0.sha256)" }.sorted()
    }

    /// Writes `bytes` to a new file; its path.
    public static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = Harness.temporaryDirectory() + "/data.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// The format corpus (`Tests/Support/format_corpus.py`): 27 archives made by seven real tools
/// (nested ones among them), and each tool's own listing and extraction of them as JSON. Made once
/// per test process; suites only read it.
public enum FormatCorpus {
    private static let made = Result { () throws -> (inputs: String, expected: Data) in
        let dir = Harness.temporaryDirectory()
        _ = try pythonFile(Harness.path("Tests/Support/format_corpus.py"), [dir])
        return ("\(dir)/inputs", try Data(contentsOf: URL(fileURLWithPath: "\(dir)/expected.json")))
    }

    /// The folder of archives.
    public static func inputs() throws -> String { try made.get().inputs }

    /// The tools' listings (`expected.json`): per archive, its entries, files and nested archives.
    public static func expected() throws -> Data { try made.get().expected }
}
