import Foundation
import GRDB
import Testing
import WADUPTestSupport

/// The standard `hashes` module, run by the `wadup` command with only itself, against the native
/// tools run on the same files in the test: `md5sum`, `sha1sum`, `ssdeep -b`, Debian's `tlsh -f`
/// (3.4.4) and Python's `-sum(c/n * log2(c/n))` for the entropy. Needs `scripts/build-guests.sh`
/// (hashes.wasm) and the tools (scripts/install-deps.sh: ssdeep, tlsh-tools).
@Suite(.serialized)
struct HashesModuleTests {
    /// The native tools' answers for every file of a folder, by file name, as JSON
    /// `{name: [md5, sha1, ssdeep, tlsh or null, entropy]}`. Each tool is run once over all the files
    /// (`tlsh -f` once per file: it takes one); the entropy is counted in 1 MiB chunks (a chunk of
    /// zeros, as most of a sparse file, is counted without looking at each byte).
    static let natives = #"""
        import collections, json, math, os, re, subprocess, sys
        folder = sys.argv[1]
        names = sorted(os.listdir(folder))
        paths = [os.path.join(folder, n) for n in names]
        def out(command):
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, errors="surrogateescape")
            if done.returncode != 0: raise SystemExit(f"{command[0]} exited {done.returncode}: {done.stderr}")
            return done.stdout.splitlines()
        def digests(tool, width):
            return {os.path.basename(line[width + 2:]): line[:width] for line in out([tool, "--", *paths])}
        md5, sha1 = digests("md5sum", 32), digests("sha1sum", 40)
        ssdeep = {}
        for line in out(["ssdeep", "-b", *paths])[1:]:
            digest, name = line.rsplit(',"', 1)
            ssdeep[name[:-1]] = digest
        tlsh = {}
        for name, path in zip(names, paths):
            said = subprocess.run(["tlsh", "-f", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, errors="surrogateescape").stdout
            match = re.match(r"([0-9A-F]{70})\t", said)
            if match: tlsh[name] = match.group(1)
            elif said.endswith(("file too small\n", "cannot hash\n")): tlsh[name] = None
            else: raise SystemExit(f"tlsh -f {path}: {said!r}")
        zeros = bytes(1 << 20)
        def entropy(path):
            counts, n = collections.Counter(), 0
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    n += len(chunk)
                    if chunk == zeros: counts[0] += len(chunk)
                    else: counts.update(chunk)
            return -sum(c / n * math.log2(c / n) for _, c in sorted(counts.items())) if n else 0.0
        print(json.dumps({name: [md5[name], sha1[name], ssdeep[name], tlsh[name], entropy(path)] for name, path in zip(names, paths)}))
        """#

    /// One content's row: the module's, or the native tools' for the same file.
    struct Hashes: Equatable, CustomStringConvertible {
        var md5: String, sha1: String, ssdeep: String?, tlsh: String?, entropy: Double

        /// The same digests and an entropy within 1e-9 (the module's log2 is wasi-libc's, Python's glibc's).
        func matches(_ other: Hashes) -> Bool {
            md5 == other.md5 && sha1 == other.sha1 && ssdeep == other.ssdeep && tlsh == other.tlsh && abs(entropy - other.entropy) <= 1e-9
        }

        var description: String { "md5 \(md5) sha1 \(sha1) ssdeep \(ssdeep ?? "NULL") tlsh \(tlsh ?? "NULL") entropy \(entropy)" }
    }

    /// The native tools' answers for the files of `folder`, by name.
    static func expected(in folder: String) throws -> [String: Hashes] {
        let json = try python(natives, [folder])
        let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [Any]] ?? [:]
        return decoded.compactMapValues { v in
            guard v.count == 5, let md5 = v[0] as? String, let sha1 = v[1] as? String, let entropy = v[4] as? Double else { return nil }
            return Hashes(md5: md5, sha1: sha1, ssdeep: v[2] as? String, tlsh: v[3] as? String, entropy: entropy)
        }
    }

    /// Runs `wadup` with only the hashes module over `folder` (following its links, every content
    /// processed even when its bytes repeat); the rows by content name, and every content's status.
    static func run(_ folder: String, extra: [String] = []) throws -> (rows: [String: Hashes], statuses: [String]) {
        let output = Harness.temporaryDirectory() + "/out.db"
        let exit = try Command.wadup(["--modules", try BuiltModules.folder(["hashes"]), "--input", folder, "--output", output,
                                      "--follow-symlinks", "--no-dedup"] + extra).run()
        try #require(exit.status == 0, "\(exit)")
        return try DatabaseQueue(path: output).read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.filename, h.md5, h.sha1, h.ssdeep, h.tlsh, h.entropy FROM hashes h JOIN __wadup_content c ON c.uuid = h.content_uuid
                """)
            let byName = Dictionary(rows.map { row in
                (row["filename"] as String, Hashes(md5: row["md5"], sha1: row["sha1"], ssdeep: row["ssdeep"], tlsh: row["tlsh"], entropy: row["entropy"]))
            }) { first, _ in first }
            return (byName, try String.fetchAll(db, sql: "SELECT status FROM __wadup_content"))
        }
    }

    /// Regular readable files under `root` of at most `limit` bytes (links not followed), sorted.
    static func files(under root: String, limit: Int = 8 << 20) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let next = walker.nextObject() as? String {
            let path = "\(root)/\(next)"
            guard let attributes = walker.fileAttributes, attributes[.type] as? FileAttributeType == .typeRegular,
                  (attributes[.size] as? Int ?? 0) <= limit, FileManager.default.isReadableFile(atPath: path) else { continue }
            files.append(path)
        }
        return files.sorted()
    }

    /// A folder of links named 00000, 00001, … to `paths`.
    static func linkFolder(_ paths: [String]) throws -> String {
        let folder = Harness.temporaryDirectory()
        for (i, path) in paths.enumerated() {
            try FileManager.default.createSymbolicLink(atPath: "\(folder)/\(String(format: "%05d", i))", withDestinationPath: path)
        }
        return folder
    }

    /// Compares the module's rows with the native tools' answers, file by file.
    static func compare(_ got: [String: Hashes], _ expected: [String: Hashes], paths: [String: String]) {
        #expect(got.count == expected.count, "\(got.count) rows for \(expected.count) files")
        var differ = 0
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) where !(got[name].map { $0.matches(want) } ?? false) {
            differ += 1
            if differ <= 10 { Issue.record("\(paths[name] ?? name): hashes says \(got[name]?.description ?? "nothing"), the tools say \(want)") }
        }
        #expect(differ == 0, "\(differ) of \(expected.count) files differ")
    }

    @Test func hashesEqualMd5sumSha1sumSsdeepTlshAndPythonOnSixHundredRealFilesAndTheFormatCorpus() throws {
        let system = ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/share/doc"].flatMap { Self.files(under: $0) }
        let step = max(1, system.count / 600)
        // Every 600th of the machine's files, the format corpus, and small and degenerate contents:
        // empty, one byte, under TLSH's 256 bytes, exactly 256, and 4 KiB of one byte (no TLSH).
        let small = Harness.temporaryDirectory()
        let made: [(String, [UInt8])] = [
            ("empty", []), ("one", [0x61]), ("255", (0..<255).map { UInt8($0) }), ("256", (0..<256).map { UInt8(($0 * 37) & 0xFF) }),
            ("zeros", [UInt8](repeating: 0, count: 4096)), ("text", Array(String(repeating: "hashes ", count: 60).utf8)),
        ]
        for (name, bytes) in made { try Data(bytes).write(to: URL(fileURLWithPath: "\(small)/\(name)")) }
        let picked = stride(from: 0, to: system.count, by: step).map { system[$0] }
            + Self.files(under: try FormatCorpus.inputs()) + made.map { "\(small)/\($0.0)" }
        #expect(picked.count >= 600)
        let folder = try Self.linkFolder(picked)
        defer { try? FileManager.default.removeItem(atPath: folder); try? FileManager.default.removeItem(atPath: small) }
        let expected = try Self.expected(in: folder)
        // The test is only as good as its sample: it must hold contents with and without TLSH.
        #expect(expected.values.filter { $0.tlsh == nil }.count >= 10)
        #expect(expected.values.filter { $0.tlsh != nil }.count >= 400)
        let (got, statuses) = try Self.run(folder)
        #expect(statuses.allSatisfy { $0 == "success" })
        let names = Dictionary(uniqueKeysWithValues: picked.enumerated().map { (String(format: "%05d", $0.offset), $0.element) })
        Self.compare(got, expected, paths: names)
    }

    /// A sparse file just over 4 GiB: zeros with 512 pseudo-random bytes across the 4 GiB mark and
    /// at the end (none before, so that ssdeep's long run of zeros stays cheap for both sides). MD5,
    /// SHA-1, ssdeep and the entropy equal the tools' (64-bit lengths and offsets past 4 GiB); TLSH
    /// is NULL: TLSH counts the length in 32 bits, and Debian's `tlsh -f` on such a file digests only
    /// its first size mod 2^32 bytes, which describes another content (shown on a second sparse
    /// file of the same size with data at its start: `tlsh -f` gives its first 64 KiB's digest).
    @Test func aSparseFileOverFourGiBEqualsTheToolsAndHasNoTLSH() throws {
        let folder = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let size: UInt64 = (1 << 32) + (64 << 10)
        var seed: UInt32 = 0x2545F491
        let noise = Data((0..<512).map { _ -> UInt8 in seed = seed &* 1_664_525 &+ 1_013_904_223; return UInt8(seed >> 24) })
        /// A sparse file of `size` bytes with `noise` at each of `offsets`.
        func sparse(_ path: String, _ offsets: [UInt64]) throws {
            try #require(FileManager.default.createFile(atPath: path, contents: nil))
            let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try file.truncate(atOffset: size)
            for offset in offsets {
                try file.seek(toOffset: offset)
                try file.write(contentsOf: noise)
            }
            try file.close()
        }
        let path = "\(folder)/big"
        try sparse(path, [(1 << 32) - 256, size - 512])
        // The module runs (no time limit: 4 GiB takes longer than the default 60 s) while the tools do.
        let output = Harness.temporaryDirectory() + "/out.db"
        let wadup = try Command.wadup(["--modules", try BuiltModules.folder(["hashes"]), "--input", path, "--output", output, "--timeout", "0"]).start()
        let expected = try #require(try Self.expected(in: folder)["big"])
        #expect(try wadup.wait().status == 0)
        let got = try #require(try DatabaseQueue(path: output).read { db in
            try Row.fetchOne(db, sql: "SELECT md5, sha1, ssdeep, tlsh, entropy FROM hashes").map {
                Hashes(md5: $0["md5"], sha1: $0["sha1"], ssdeep: $0["ssdeep"], tlsh: $0["tlsh"], entropy: $0["entropy"])
            }
        })
        #expect(got.tlsh == nil)
        #expect(got.matches(Hashes(md5: expected.md5, sha1: expected.sha1, ssdeep: expected.ssdeep, tlsh: nil, entropy: expected.entropy)),
                "hashes says \(got), the tools say \(expected)")

        // Why no TLSH: what `tlsh -f` says of a file over 4 GiB is the digest of its first size mod 2^32 bytes.
        let other = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: other) }
        try sparse("\(other)/big", (0..<8).map { UInt64($0) * 512 })
        let cut = try FileHandle(forReadingFrom: URL(fileURLWithPath: "\(other)/big"))
        try cut.readData(ofLength: Int(size % (1 << 32))).write(to: URL(fileURLWithPath: "\(other)/head"))
        try cut.close()
        let tlsh = { (file: String) throws -> String? in
            try Command("/usr/bin/tlsh", ["-f", "\(other)/\(file)"]).output().split(separator: "\t").first.map(String.init)
        }
        let ofBig = try tlsh("big"), ofHead = try tlsh("head")
        #expect(ofBig?.count == 70 && ofBig == ofHead, "tlsh -f: \(ofBig ?? "nothing") for the 4 GiB file, \(ofHead ?? "nothing") for its first 64 KiB")
    }

    /// An empty content: the tools' digests of nothing, no TLSH, and entropy 0 (Python's sum over no
    /// byte values), not NULL.
    @Test func anEmptyContentHasTheToolsDigestsNoTLSHAndEntropyZero() throws {
        let folder = try Harness.inputs([("empty", []), ("a", [0x61])])
        let (got, _) = try Self.run(folder)
        let expected = try Self.expected(in: folder)
        for name in ["empty", "a"] {
            let row = try #require(got[name]), want = try #require(expected[name])
            #expect(row.matches(want), "\(name): hashes says \(row), the tools say \(want)")
            #expect(row.tlsh == nil && row.entropy == 0 && row.entropy.sign == .plus)
        }
    }
}
