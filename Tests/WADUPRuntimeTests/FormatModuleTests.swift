import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPTestSupport

/// The format modules (`archive` on libarchive, `file_type` on libmagic) on archives made by the
/// real tools, against those tools' own listings and extractions (Tests/Support/format_corpus.py)
/// and against Debian's `file`. Needs `scripts/build-guests.sh` (which runs build-formats.sh).
@Suite(.serialized)
struct FormatModuleTests {
    struct Entry: Hashable, CustomStringConvertible {
        let path: String
        let type: String
        let size: Int?
        var description: String { "\(path) \(type) \(size.map(String.init) ?? "-")" }
    }

    struct Expected: Decodable {
        let entries: [[Value]]
        let files: [String: String]
        let nested: [String: Expected]?
        let chain: [String]?

        enum Value: Decodable {
            case text(String), number(Int), none
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if c.decodeNil() { self = .none } else if let n = try? c.decode(Int.self) { self = .number(n) } else { self = .text(try c.decode(String.self)) }
            }
            var text: String? { if case .text(let s) = self { s } else { nil } }
            var number: Int? { if case .number(let n) = self { n } else { nil } }
        }

        var entrySet: Set<Entry> {
            Set(entries.map { Entry(path: FormatModuleTests.normalized($0[0].text ?? ""), type: $0[1].text ?? "", size: $0[2].number) })
        }
        var fileMap: [String: String] { Dictionary(uniqueKeysWithValues: files.map { (FormatModuleTests.normalized($0.key), $0.value) }) }
    }

    /// Paths as listed without a leading "./" or a trailing "/" (tools differ only in that).
    static func normalized(_ path: String) -> String {
        var p = path
        if p.hasPrefix("./") && p.count > 2 { p.removeFirst(2) }
        while p.hasSuffix("/") && p.count > 1 { p.removeLast() }
        return p
    }

    /// The corpus (made once for the test process: its tests only read it) and what its tools say.
    static func corpus() throws -> (inputs: String, expected: [String: Expected]) {
        (try FormatCorpus.inputs(), try JSONDecoder().decode([String: Expected].self, from: try FormatCorpus.expected()))
    }

    /// The archive_entries rows of one content, as entries (size only for files, as the tools list).
    static func entries(of uuid: String, in db: DatabaseQueue) throws -> Set<Entry> {
        try db.read { db in
            Set(try Row.fetchAll(db, sql: "SELECT path, type, size FROM archive_entries WHERE content_uuid = ?", arguments: [uuid]).map { row in
                let type: String = row["type"]
                return Entry(path: normalized(row["path"]), type: type, size: type == "file" ? row["size"] : nil)
            })
        }
    }

    static func children(of uuid: String, in contents: [Harness.Content]) -> [String: String] {
        var map: [String: String] = [:]
        for c in contents where c.parentUUID == uuid { map[normalized(c.filename)] = c.sha256 }
        return map
    }

    @Test(arguments: EngineKind.allCases)
    func everyFormatListsAndExtractsExactlyAsItsOwnToolDoes(engine: EngineKind) throws {
        let (inputs, expected) = try Self.corpus()
        let modules = try BuiltModules.folder(["archive", "zip_parser"])
        let outcome = try Harness.run(modulesDirectory: modules, input: inputs, engine: engine)
        let contents = try outcome.contents()
        let roots = Dictionary(uniqueKeysWithValues: contents.filter { $0.parentUUID == nil }.map { ($0.filename, $0) })
        #expect(Set(roots.keys) == Set(expected.keys))
        #expect(contents.allSatisfy { $0.status == "success" || $0.status == "duplicate" }, "\(contents.filter { $0.status == "failed" })")
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            let root = try #require(roots[name])
            #expect(try Self.entries(of: root.uuid, in: outcome.db) == want.entrySet, "\(name): archive_entries")
            #expect(Self.children(of: root.uuid, in: contents) == want.fileMap, "\(name): emitted files")
            for (member, inner) in want.nested ?? [:] {
                let child = try #require(contents.first { $0.parentUUID == root.uuid && $0.filename == member })
                #expect(try Self.entries(of: child.uuid, in: outcome.db) == inner.entrySet, "\(name)/\(member)")
                #expect(Self.children(of: child.uuid, in: contents) == inner.fileMap, "\(name)/\(member): emitted files")
            }
            if let chain = want.chain {
                // tar → ZIP (zip_parser) → .tar.gz (archive) → file: the same bytes at the bottom.
                var parent = root
                for name in chain.dropLast() {
                    parent = try #require(contents.first { $0.parentUUID == parent.uuid && Self.normalized($0.filename) == name }, "\(name) under \(parent.filename)")
                }
                #expect(parent.sha256 == chain.last)
                #expect(parent.depth == 3)
            }
        }
        let errors = try outcome.db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM archive_errors") }
        #expect(errors == 0)
    }

    /// Runs `archive` alone over one file made by `make(dir)`; returns the outcome and the root.
    static func runArchive(limits: RunLimits = RunLimits(), engine: EngineKind = .wasmtime, _ make: (String) throws -> String) throws -> (Harness.Outcome, [Harness.Content]) {
        let input = Harness.temporaryDirectory()
        _ = try make(input)
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["archive"]), input: input, limits: limits, engine: engine)
        return (outcome, try outcome.contents())
    }

    @Test func aTruncatedArchiveKeepsTheEntriesBeforeTheDamageAndRecordsWhereItStopped() throws {
        let (inputs, expected) = try Self.corpus()
        let full = try Data(contentsOf: URL(fileURLWithPath: "\(inputs)/gnutar.tar.gz"))
        let want = try #require(expected["gnutar.tar.gz"]).fileMap
        let (outcome, contents) = try Self.runArchive { dir in
            try full.prefix(full.count * 2 / 3).write(to: URL(fileURLWithPath: "\(dir)/cut.tar.gz"))
            return "cut.tar.gz"
        }
        let root = try #require(contents.first { $0.parentUUID == nil })
        #expect(root.status == "success")
        let got = Self.children(of: root.uuid, in: contents)
        // Every emitted file is whole and exact; the damage is one archive_errors row.
        #expect(!got.isEmpty && got.count < want.count)
        for (path, sha) in got { #expect(want[path] == sha, "\(path)") }
        let errors = try outcome.db.read { db in try Row.fetchAll(db, sql: "SELECT format, filter, entries, message FROM archive_errors") }
        #expect(errors.count == 1)
        #expect(errors.first?["filter"] as String? == "gzip")
        let listed = try outcome.db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM archive_entries") }
        #expect(errors.first?["entries"] as Int? == listed)
    }

    @Test func encryptedEntriesAreRecordedWithTheReasonAndNotEmitted() throws {
        let (outcome, contents) = try Self.runArchive { dir in
            try "secret text\n".write(toFile: "\(dir)/plain.txt", atomically: true, encoding: .utf8)
            let made = try shell("7z a -bd -pSECRET secret.7z plain.txt && 7z a -bd -pSECRET -mhe=on hidden.7z plain.txt && rm plain.txt", in: dir)
            try #require(made.succeeded, "7z failed: \(made.output)")
            return ""
        }
        let rows = try outcome.db.read { db in
            try Row.fetchAll(db, sql: "SELECT c.filename, e.path, e.emitted, e.reason FROM archive_entries e JOIN __wadup_content c ON c.uuid = e.content_uuid")
        }
        #expect(rows.count == 1)
        #expect(rows.first?["filename"] as String? == "secret.7z")
        #expect(rows.first?["path"] as String? == "plain.txt")
        #expect(rows.first?["emitted"] as Int? == 0)
        #expect(rows.first?["reason"] as String? == "encrypted")
        #expect(contents.count == 2)
        // Encrypted headers: the archive is recognised, nothing can be listed, the reason is kept.
        let errors = try outcome.db.read { db in
            try Row.fetchAll(db, sql: "SELECT c.filename, e.format, e.entries FROM archive_errors e JOIN __wadup_content c ON c.uuid = e.content_uuid")
        }
        #expect(errors.count == 1)
        #expect(errors.first?["filename"] as String? == "hidden.7z")
        #expect(errors.first?["format"] as String? == "7-Zip")
        #expect(errors.first?["entries"] as Int? == 0)
    }

    /// A decompression bomb no longer needs the module's memory: `archive` streams the entry to the
    /// host (so a small `--max-memory` does not stop it, and `--max-subcontent-bytes`, which bounds
    /// copies, does not apply); the per-input budget `--max-input-bytes` stops it.
    @Test(arguments: ["memory", "subcontent", "input"])
    func aDecompressionBombIsStreamedAndStoppedByTheInputBudget(limit: String) throws {
        var limits = RunLimits(maxRecursionDepth: 1)
        switch limit {
        case "memory": limits.maxMemory = 64 << 20
        case "subcontent": limits.maxSubcontentBytes = 16 << 20
        default: limits.maxInputBytes = 16 << 20
        }
        let (outcome, contents) = try Self.runArchive(limits: limits) { dir in
            let made = try shell("head -c 300000000 /dev/zero | gzip -1 > zeros.gz", in: dir)
            try #require(made.succeeded, "gzip failed: \(made.output)")
            return "zeros.gz"
        }
        #expect(contents.first?.status == "success")
        let row = try #require(try outcome.db.read { db in try Row.fetchOne(db, sql: "SELECT path, emitted, size, reason FROM archive_entries") })
        #expect(row["path"] as String? == "zeros")
        if limit == "input" {
            #expect(contents.count == 1)
            #expect(row["emitted"] as Int? == 0)
            #expect(row["reason"] as String? == "not emitted: the host's sub-content limit was reached")
        } else {
            #expect(contents.count == 2)
            #expect(row["emitted"] as Int? == 1)
            #expect(row["size"] as Int? == 300_000_000)
            #expect(contents.last?.size == 300_000_000)
            #expect(contents.last?.sha256 == Self.zerosDigest)
        }
    }

    /// sha256 of 300,000,000 zero bytes (computed by Python).
    static let zerosDigest: String = {
        (try? python("import hashlib; print(hashlib.sha256(bytes(300000000)).hexdigest())").trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
    }()

    /// A few hundred real files of this machine (programs, libraries, compressed manuals, scripts,
    /// Python bytecode, images, configuration) and the archives of the corpus: `file_type`'s two
    /// columns must be exactly `file --mime-type -b` and `file -b` (Debian's file 5.44).
    @Test func fileTypeSaysExactlyWhatDebiansFileSaysOnHundredsOfRealFiles() throws {
        let (corpus, _) = try Self.corpus()
        let input = Harness.temporaryDirectory()
        let roots = ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/share/doc", "/usr/share/man/man1", "/usr/lib/python3.11", "/etc",
                     "/usr/share/icons", "/usr/share/pixmaps", "/usr/include", corpus,
                     Harness.path("Tests/Fixtures")]
        var picked: [String] = []
        for root in roots {
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            var files: [String] = []
            while let next = walker.nextObject() as? String {
                let path = "\(root)/\(next)"
                var isDirectory: ObjCBool = false
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType == .typeRegular,
                      FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                      (attributes[.size] as? Int ?? 0) < 32 << 20, FileManager.default.isReadableFile(atPath: path) else { continue }
                files.append(path)
            }
            files.sort()
            let step = max(1, files.count / 40)
            picked += stride(from: 0, to: files.count, by: step).map { files[$0] }
        }
        #expect(picked.count >= 300)
        for (i, path) in picked.enumerated() {
            let copy = "\(input)/\(String(format: "%04d", i))"
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            // `file` reports a setuid/setgid/sticky mode it finds on the copy; a content has none.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: copy)
        }
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["file_type"]), input: input, dedup: false, engine: .wasmtime)
        let got = try outcome.db.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT c.filename, f.mime, f.description FROM file_types f JOIN __wadup_content c ON c.uuid = f.content_uuid").map {
                ($0["filename"] as String, "\($0["mime"] as String)\n\($0["description"] as String)")
            })
        }
        let names = picked.indices.map { String(format: "%04d", $0) }
        let mime = try Self.file(["--mime-type"], names, in: input)
        let description = try Self.file([], names, in: input)
        var differ = 0
        for (i, name) in names.enumerated() where got[name] != "\(mime[i])\n\(description[i])" {
            differ += 1
            Issue.record("\(picked[i]): file_type says \(got[name] ?? "nothing"), file says \(mime[i]) / \(description[i])")
        }
        #expect(differ == 0 && got.count == names.count)
    }

    /// Debian's `file -b` (one line per file, in order), in UTC as the module is.
    static func file(_ options: [String], _ names: [String], in dir: String) throws -> [String] {
        let output = try Command(
            "/usr/bin/file", ["-b"] + options + ["--"] + names, environment: ["TZ": "UTC", "LC_ALL": "C", "PATH": "/usr/bin:/bin"], directory: dir
        ).output()
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        try #require(lines.count == names.count, "file printed \(lines.count) lines for \(names.count) files")
        return lines
    }
}
