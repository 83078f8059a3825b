import Foundation

/// Inputs shared by several suites, and independent readers of what WADUP reads.
public enum Fixtures {
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
