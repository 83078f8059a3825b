import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPTestSupport
import ZIPFoundation

/// The standard modules and the SDK examples on real files, checked against independent readers
/// (SQLite through GRDB, ZIPFoundation, Python's zipfile), and the test probes (`Guests/Probes/`).
/// Needs `scripts/build-guests.sh`.
@Suite(.serialized)
struct GuestModuleTests {
    /// `(name, count(*))` of every table with a b-tree, as SQLite itself counts.
    static func sqliteCounts(_ path: String) throws -> [String] {
        let db = try DatabaseQueue(path: path)
        return try db.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table' AND rootpage > 0 ORDER BY rowid").map { name in
                "\(name) \(try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"") ?? -1)"
            }
        }
    }

    static func makeDatabase(_ path: String, pageSize: Int = 4096, autoVacuum: Bool = false, _ body: (Database) throws -> Void) throws {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA page_size = \(pageSize)")
            if autoVacuum { try db.execute(sql: "PRAGMA auto_vacuum = FULL") }
        }
        let db = try DatabaseQueue(path: path, configuration: config)
        try db.write(body)
        try db.close()
    }

    // MARK: The seed's integration tests, made exact

    @Test(arguments: EngineKind.allCases) func test1SQLiteDatabaseWithThreeTables(engine: EngineKind) throws {
        let input = Harness.temporaryDirectory()
        try Self.makeDatabase(input + "/test.db") { db in
            try db.execute(sql: "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE posts(id, body); CREATE TABLE tags(t)")
            for i in 0..<10 { try db.execute(sql: "INSERT INTO users(name) VALUES (?)", arguments: ["u\(i)"]) }
            for i in 0..<7 { try db.execute(sql: "INSERT INTO posts VALUES (?, ?)", arguments: [i, "p"]) }
        }
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["sqlite_parser"]), input: input, engine: engine)
        #expect(try outcome.strings("SELECT table_name || ' ' || row_count FROM db_table_stats ORDER BY rowid") == ["users 10", "posts 7", "tags 0"])
        #expect(try outcome.strings("SELECT table_name || ' ' || row_count FROM db_table_stats ORDER BY rowid") == Self.sqliteCounts(input + "/test.db"))
    }

    static func twoFileZip(_ path: String) throws -> [(String, [UInt8])] {
        let files: [(String, [UInt8])] = [("a.txt", Array(String(repeating: "alpha ", count: 100).utf8)), ("b/c.bin", (0..<3000).map { UInt8($0 % 251) })]
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (name, bytes) in files {
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) { position, size in
                Data(bytes[Int(position)..<Int(position) + size])
            }
        }
        return files
    }

    @Test(arguments: EngineKind.allCases) func test2ZipOfTwoFiles(engine: EngineKind) throws {
        let input = Harness.temporaryDirectory()
        let files = try Self.twoFileZip(input + "/two.zip")
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["zip_parser", "byte_counter"]), input: input, threads: 2, engine: engine)
        let contents = try outcome.contents()
        #expect(contents.count == 3)
        let zip = try #require(contents.first { $0.filename == "two.zip" })
        let children = contents.filter { $0.parentUUID == zip.uuid }
        #expect(children.map(\.filename).sorted() == ["a.txt", "b/c.bin"])
        for (name, bytes) in files {
            let child = try #require(children.first { $0.filename == name })
            #expect(child.sha256 == sha256Hex(bytes))
            #expect(child.size == bytes.count)
        }
        let zipSize = try FileManager.default.attributesOfItem(atPath: input + "/two.zip")[.size] as! Int
        #expect(try outcome.strings("SELECT filename || ' ' || size FROM file_sizes ORDER BY filename") == ["a.txt 600", "b/c.bin 3000", "two.zip \(zipSize)"])
        #expect(try outcome.ints("SELECT crc32_ok FROM zip_entries") == [1, 1])
    }

    @Test(arguments: EngineKind.allCases) func test3BothInputsAllModulesFourThreads(engine: EngineKind) throws {
        let input = Harness.temporaryDirectory()
        _ = try Self.twoFileZip(input + "/two.zip")
        try Self.makeDatabase(input + "/test.db") { db in
            try db.execute(sql: "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE posts(id, body); CREATE TABLE tags(t)")
            for i in 0..<10 { try db.execute(sql: "INSERT INTO users(name) VALUES (?)", arguments: ["u\(i)"]) }
        }
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["byte_counter", "sqlite_parser", "zip_parser"]), input: input, threads: 4, engine: engine)
        // 1 database + 1 archive + its 2 entries.
        #expect(outcome.summary.statistics.contents == 4)
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_content WHERE status = 'success'") == [4])
        #expect(try outcome.ints("SELECT count(*) FROM file_sizes") == [4])
        #expect(try outcome.ints("SELECT count(*) FROM db_table_stats") == [3])
        #expect(try outcome.ints("SELECT count(*) FROM zip_entries") == [2])
    }

    // MARK: Real ZIP writers

    @Test(arguments: EngineKind.allCases) func archivesFromPythonZipfileAreReadExactly(engine: EngineKind) throws {
        let input = Harness.temporaryDirectory()
        _ = try python(
            """
            import sys, zipfile, random, io
            r = random.Random(7)
            d = sys.argv[1]
            files = {f"dir/f{i}.txt": (b"line %d\\n" % i) * r.randint(0, 4000) for i in range(20)}
            files["random.bin"] = r.randbytes(300000)
            files["empty"] = b""
            with zipfile.ZipFile(d + "/stored.zip", "w", zipfile.ZIP_STORED) as z:
                for k, v in files.items(): z.writestr(k, v)
            with zipfile.ZipFile(d + "/deflated.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
                for k, v in files.items(): z.writestr(k, v)
                z.writestr("dir/", b"")
            # Writing to an unseekable stream makes data descriptors (flag bit 3).
            class Unseekable(io.RawIOBase):
                def __init__(self, f): self.f = f
                def writable(self): return True
                def write(self, b): return self.f.write(b)
            with open(d + "/descriptors.zip", "wb") as raw:
                with zipfile.ZipFile(Unseekable(raw), "w", zipfile.ZIP_DEFLATED) as z:
                    for k, v in list(files.items())[:5]:
                        with z.open(k, "w") as f: f.write(v)
            with zipfile.ZipFile(d + "/zip64.zip", "w", zipfile.ZIP_DEFLATED) as z:
                for k, v in list(files.items())[:5]:
                    with z.open(k, "w", force_zip64=True) as f: f.write(v)
            # CP437 names: no UTF-8 flag.
            orig = zipfile.ZipInfo._encodeFilenameFlags
            zipfile.ZipInfo._encodeFilenameFlags = lambda self: (self.filename.encode("cp437"), self.flag_bits & ~0x800)
            with zipfile.ZipFile(d + "/cp437.zip", "w") as z:
                z.writestr("caf\\u00e9 \\u2591.txt", b"cp437 name")
            zipfile.ZipInfo._encodeFilenameFlags = orig
            """, [input])
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["zip_parser"]), input: input, threads: 2, limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        let contents = try outcome.contents()
        for archive in ["stored.zip", "deflated.zip", "descriptors.zip", "zip64.zip", "cp437.zip"] {
            let root = try #require(contents.first { $0.filename == archive && $0.parentUUID == nil })
            #expect(Fixtures.children(of: root, in: contents) == (try Fixtures.zipfileEntries(input + "/" + archive)).sorted(), "\(archive)")
            #expect(root.status == "success")
        }
        #expect(contents.contains { $0.filename == "café ░.txt" })
        #expect(try outcome.ints("SELECT count(*) FROM zip_entries WHERE crc32_ok != 1 OR emitted != 1") == [0])
        #expect(try outcome.ints("SELECT count(*) FROM zip_entries WHERE path = 'dir/'") == [0])
    }

    /// Streams made with zlib's strategies to reach every path of the decoder: fixed and stored
    /// blocks inside deflate, codes longer than the fast tables, runs (distance 1), short periods
    /// (distances 2 to 7), long non-overlapping matches, and the farthest distances (32 KiB).
    @Test(arguments: EngineKind.allCases) func everyDeflateCodePathDecodesExactly(engine: EngineKind) throws {
        let input = Harness.temporaryDirectory()
        _ = try python(
            """
            import sys, zipfile, zlib, random, types
            r = random.Random(5)
            shim = types.SimpleNamespace(**zlib.__dict__)
            zipfile.zlib = shim
            def add(z, name, data, level=6, strategy=zlib.Z_DEFAULT_STRATEGY):
                shim.compressobj = lambda *a, **k: zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
                z.writestr(name, data, zipfile.ZIP_DEFLATED)
            text = b" ".join(r.choice([b"alpha", b"beta", b"gamma", b"delta"]) + b"%d" % r.randint(0, 999) for _ in range(40000))
            # Byte values with geometric frequencies: Huffman codes up to 15 bits.
            skewed = bytes(min(int(r.expovariate(0.35)), 255) for _ in range(300000))
            block = r.randbytes(1000)
            far = r.randbytes(32768)
            with zipfile.ZipFile(sys.argv[1] + "/paths.zip", "w") as z:
                add(z, "fixed.txt", text, strategy=zlib.Z_FIXED)
                add(z, "stored-blocks.bin", r.randbytes(200000), level=0)
                add(z, "huffman-only.bin", skewed, strategy=zlib.Z_HUFFMAN_ONLY)
                add(z, "skewed.bin", skewed, level=9)
                add(z, "runs.bin", b"".join(bytes([r.randrange(256)]) * r.randint(1, 600) for _ in range(2000)), strategy=zlib.Z_RLE)
                add(z, "periods.bin", b"".join(r.randbytes(p) * r.randint(2, 90) for p in [2, 3, 4, 5, 6, 7] * 300))
                add(z, "long-matches.bin", block * 300, level=9)
                add(z, "far.bin", far + r.randbytes(100) + far[:20000] + far[-3000:], level=9)
                add(z, "text.txt", text, level=9)
            """, [input])
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["zip_parser"]), input: input, threads: 1, limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        let contents = try outcome.contents()
        let root = try #require(contents.first { $0.filename == "paths.zip" })
        let children = Fixtures.children(of: root, in: contents)
        #expect(children.count == 9)
        #expect(children == (try Fixtures.zipfileEntries(input + "/paths.zip")).sorted())
        #expect(try outcome.ints("SELECT count(*) FROM zip_entries WHERE crc32_ok = 1 AND emitted = 1 AND method = 8") == [9])
    }

    /// The benchmark's decoder-only probe: framed raw streams are all inflated to their sizes, and
    /// a stream that lies about its size fails the content.
    @Test(arguments: EngineKind.allCases) func theInflateProbeDecodesFramedStreamsExactly(engine: EngineKind) throws {
        let input = Harness.temporaryDirectory()
        let sizes = try python(
            """
            import sys, zlib, random, struct
            r = random.Random(3)
            good, bad = open(sys.argv[1] + "/good", "wb"), open(sys.argv[1] + "/bad", "wb")
            total = 0
            for i in range(40):
                data = b"".join(r.choice([b"alpha ", b"beta ", b"%d " % r.randint(0, 9999)]) for _ in range(r.randint(0, 3000)))
                c = zlib.compressobj(r.choice([0, 1, 6, 9]), zlib.DEFLATED, -15)
                raw = c.compress(data) + c.flush()
                good.write(struct.pack("<II", len(raw), len(data)) + raw)
                if i < 3: bad.write(struct.pack("<II", len(raw), len(data) + (i == 2)) + raw)
                total += len(data)
            print(total)
            """, [input])
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["inflate_probe"]), input: input, engine: engine)
        let total = try #require(Int(sizes.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try outcome.strings("SELECT streams || ' ' || bytes FROM inflate_probe") == ["40 \(total)"])
        #expect(try outcome.strings("SELECT filename || ' ' || status FROM __wadup_content ORDER BY filename") == ["bad failed", "good success"])
    }

    @Test(arguments: EngineKind.allCases) func archivesFromInfoZIPAndNestedArchivesAreReadExactly(engine: EngineKind) throws {
        let input = Harness.temporaryDirectory()
        let source = Harness.temporaryDirectory()
        for i in 0..<12 { try Data((0..<(i * 997)).map { UInt8(($0 * i) & 0xFF) }).write(to: URL(fileURLWithPath: "\(source)/file\(i).dat")) }
        try Data(String(repeating: "text ", count: 5000).utf8).write(to: URL(fileURLWithPath: "\(source)/text.txt"))
        func zip(_ arguments: [String], in directory: String) throws {
            let exit = try Command("/usr/bin/zip", ["-q"] + arguments, directory: directory).run()
            try #require(exit.succeeded, "zip failed (install Debian's zip: scripts/install-deps.sh): \(exit)")
        }
        try zip(["-r", "\(input)/infozip.zip", "."], in: source)
        try zip(["-0", "\(source)/inner.zip", "text.txt"], in: source)
        try zip(["\(source)/middle.zip", "inner.zip", "file3.dat"], in: source)
        try zip(["\(input)/outer.zip", "middle.zip"], in: source)
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["zip_parser"]), input: input, engine: engine)
        let contents = try outcome.contents()
        let infozip = try #require(contents.first { $0.filename == "infozip.zip" })
        #expect(Fixtures.children(of: infozip, in: contents) == (try Fixtures.zipfileEntries(input + "/infozip.zip")).sorted())
        // outer.zip > middle.zip > inner.zip > text.txt, each level's parent the one above.
        let outer = try #require(contents.first { $0.filename == "outer.zip" })
        let middle = try #require(contents.first { $0.filename == "middle.zip" && $0.parentUUID == outer.uuid })
        let inner = try #require(contents.first { $0.filename == "inner.zip" && $0.parentUUID == middle.uuid })
        let text = try #require(contents.first { $0.filename == "text.txt" && $0.parentUUID == inner.uuid })
        #expect(text.depth == 3)
        #expect(text.sha256 == sha256Hex(Array(String(repeating: "text ", count: 5000).utf8)))
        // text.txt and file3.dat are in infozip.zip too: each set of equal bytes is processed once,
        // every other occurrence links to it.
        let byUUID = Dictionary(uniqueKeysWithValues: contents.map { ($0.uuid, $0) })
        let bySHA = Dictionary(grouping: contents, by: \.sha256)
        #expect(Set(contents.filter { $0.status == "duplicate" }.map(\.sha256)) == Set(bySHA.filter { $0.value.count > 1 }.keys))
        #expect(bySHA.values.allSatisfy { $0.filter { $0.status == "success" }.count == 1 })
        #expect(contents.allSatisfy { $0.status == "success" || ($0.status == "duplicate" && byUUID[$0.duplicateOf ?? ""]?.sha256 == $0.sha256) })
    }

    @Test(arguments: EngineKind.allCases) func hostileArchivesFailCleanlyOrAreBounded(engine: EngineKind) throws {
        let input = Harness.temporaryDirectory()
        _ = try python(
            """
            import sys, zipfile, struct, zlib
            d = sys.argv[1]
            data = bytes(range(256)) * 400
            with zipfile.ZipFile(d + "/good.zip", "w", zipfile.ZIP_DEFLATED) as z: z.writestr("x", data)
            raw = open(d + "/good.zip", "rb").read()
            open(d + "/truncated.zip", "wb").write(raw[: len(raw) // 2])
            # Corrupt deflate data: flip bytes in the middle of the compressed stream.
            bad = bytearray(raw); bad[45:60] = b"\\xff" * 15; open(d + "/corrupt.zip", "wb").write(bytes(bad))
            # Sizes that lie: the central directory claims 10 bytes uncompressed.
            cd = raw.rfind(b"PK\\x01\\x02")
            lie = bytearray(raw); lie[cd + 24: cd + 28] = struct.pack("<I", 10); open(d + "/lying.zip", "wb").write(bytes(lie))
            # An overlapping bomb: 2000 central directory entries pointing at the same local data.
            with zipfile.ZipFile(d + "/one.zip", "w", zipfile.ZIP_STORED) as z: z.writestr("a", b"A" * 1000)
            one = open(d + "/one.zip", "rb").read()
            cd = one.rfind(b"PK\\x01\\x02"); eocd = one.rfind(b"PK\\x05\\x06")
            entry = one[cd:eocd]
            n = 2000
            body = one[:cd] + entry * n
            open(d + "/bomb.zip", "wb").write(body + struct.pack("<4sHHHHIIH", b"PK\\x05\\x06", 0, 0, n, n, len(entry) * n, cd, 0))
            """, [input])
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["zip_parser"]), input: input, limits: RunLimits(maxRecursionDepth: 1, maxSubcontent: 500), engine: engine)
        let contents = try outcome.contents()
        func root(_ name: String) throws -> Harness.Content { try #require(contents.first { $0.filename == name && $0.parentUUID == nil }) }
        #expect(try root("good.zip").status == "success")
        // A truncated archive has no end record: not recognised as a ZIP, no output.
        #expect(try root("truncated.zip").status == "success")
        #expect(contents.filter { $0.parentUUID == (try? root("truncated.zip").uuid) }.isEmpty)
        // Corrupt and lying entries are recorded, not emitted.
        for name in ["corrupt.zip", "lying.zip"] {
            let r = try root(name)
            #expect(contents.filter { $0.parentUUID == r.uuid }.isEmpty, "\(name)")
            #expect(try outcome.ints("SELECT emitted FROM zip_entries WHERE content_uuid = '\(r.uuid)'") == [0], "\(name)")
        }
        // The bomb is bounded by --max-subcontent: 500 emitted, the rest recorded as not emitted.
        let bomb = try root("bomb.zip")
        #expect(contents.filter { $0.parentUUID == bomb.uuid }.count == 500)
        #expect(try outcome.ints("SELECT sum(emitted) FROM zip_entries WHERE content_uuid = '\(bomb.uuid)'") == [500])
        #expect(try outcome.ints("SELECT count(*) FROM zip_entries WHERE content_uuid = '\(bomb.uuid)'") == [2000])
    }

    @Test(arguments: EngineKind.allCases) func randomlyCorruptedDeflateStreamsNeverTrapAndNeverPassOffWrongBytes(engine: EngineKind) throws {
        // 150 copies of one archive, each with a few bytes of its compressed data overwritten.
        let input = Harness.temporaryDirectory()
        let original = Array(String(repeating: "The quick brown fox jumps over the lazy dog 0123456789. ", count: 400).utf8)
        let originalPath = try Fixtures.temporaryFile(original)
        _ = try python(
            """
            import sys, zipfile, random
            d, body = sys.argv[1], open(sys.argv[2], "rb").read()
            with zipfile.ZipFile(d + "/base.zip", "w", zipfile.ZIP_DEFLATED) as z: z.writestr("fox.txt", body)
            raw = open(d + "/base.zip", "rb").read()
            start = 30 + len("fox.txt")
            end = raw.find(b"PK\\x01\\x02")
            r = random.Random(5)
            for i in range(150):
                b = bytearray(raw)
                for _ in range(r.randint(1, 4)): b[r.randrange(start, end)] = r.randrange(256)
                open(f"{d}/c{i:03d}.zip", "wb").write(bytes(b))
            """, [input, originalPath])
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["zip_parser"]), input: input, threads: 2, limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        let contents = try outcome.contents()
        #expect(contents.filter { $0.parentUUID == nil }.count == 151)
        #expect(contents.allSatisfy { $0.status == "success" }, "a corrupt stream must be recorded, never trap")
        // Whatever was emitted with a matching CRC is the original text.
        let good = try outcome.strings("SELECT content_uuid FROM zip_entries WHERE emitted = 1 AND crc32_ok = 1")
        for parent in good {
            let child = try #require(contents.first { $0.parentUUID == parent })
            #expect(child.sha256 == sha256Hex(original))
        }
        #expect(try outcome.ints("SELECT count(*) FROM zip_entries WHERE emitted = 0") != [0])
    }

    // MARK: SQLite files

    @Test(arguments: EngineKind.allCases, [512, 4096, 65536])
    func sqliteFilesAreCountedExactly(engine: EngineKind, pageSize: Int) throws {
        let input = Harness.temporaryDirectory()
        for autoVacuum in [false, true] {
            try Self.makeDatabase(input + "/db-\(autoVacuum).sqlite", pageSize: pageSize, autoVacuum: autoVacuum) { db in
                try db.execute(sql: """
                    CREATE TABLE items(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, payload BLOB);
                    CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID;
                    CREATE TABLE big(b);
                    CREATE TABLE "we""ird name"(x);
                    CREATE INDEX items_name ON items(name);
                    CREATE VIEW v AS SELECT * FROM items;
                    CREATE VIRTUAL TABLE fts USING fts5(body);
                    """)
                for i in 0..<30000 {
                    try db.execute(sql: "INSERT INTO items(name, payload) VALUES (?, ?)", arguments: ["name \(i)", Data(repeating: UInt8(i & 0xFF), count: i % 200)])
                    if i < 20000 { try db.execute(sql: "INSERT INTO kv VALUES (?, ?)", arguments: ["key \(i) " + String(repeating: "k", count: i % 50), i]) }
                }
                try db.execute(sql: "INSERT INTO big VALUES (?)", arguments: [Data((0..<300_000).map { UInt8($0 & 0xFF) })])
                try db.execute(sql: "INSERT INTO fts VALUES ('hello world')")
                try db.execute(sql: "DELETE FROM items WHERE id % 3 = 0")
                try db.execute(sql: "ANALYZE")
            }
        }
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["sqlite_parser"]), input: input, threads: 2, engine: engine)
        for autoVacuum in [false, true] {
            let name = "db-\(autoVacuum).sqlite"
            let uuid = try #require(try outcome.contents().first { $0.filename == name }).uuid
            let counted = try outcome.strings("SELECT table_name || ' ' || row_count FROM db_table_stats WHERE content_uuid = '\(uuid)' ORDER BY rowid")
            let expected = try Self.sqliteCounts(input + "/" + name)
            #expect(counted == expected)
            #expect(expected.contains("items 20000"))
            #expect(expected.contains("sqlite_stat1 \(try DatabaseQueue(path: input + "/" + name).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM sqlite_stat1") } ?? -1)"))
        }
    }

    @Test(arguments: EngineKind.allCases) func aCorruptDatabaseFailsAndOtherContentIsUntouched(engine: EngineKind) throws {
        let input = Harness.temporaryDirectory()
        try Self.makeDatabase(input + "/ok.db") { db in
            try db.execute(sql: "CREATE TABLE t(x)")
            for i in 0..<5000 { try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [String(repeating: "x", count: i % 300)]) }
        }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: input + "/ok.db")))
        for i in 4096..<bytes.count where i % 4096 < 16 { bytes[i] = 0xEE }  // smash every b-tree page header
        try Data(bytes).write(to: URL(fileURLWithPath: input + "/smashed.db"))
        try Data("not a database at all, but long enough to look at".utf8).write(to: URL(fileURLWithPath: input + "/text.txt"))
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["sqlite_parser"]), input: input, engine: engine)
        let contents = try outcome.contents()
        #expect(contents.first { $0.filename == "smashed.db" }?.errorMessage == "sqlite_parser: nonzero_return: process returned 1")
        #expect(contents.first { $0.filename == "text.txt" }?.status == "success")
        #expect(try outcome.strings("SELECT table_name || ' ' || row_count FROM db_table_stats") == ["t 5000"])
    }

    // MARK: The SDK examples and the default module set

    @Test(arguments: EngineKind.allCases) func theSwiftCAndRustExamplesRunThroughWadup(engine: EngineKind) throws {
        let input = try Harness.inputs([("a.txt", Array("one\ntwo\nthree and more\n".utf8)), ("b.bin", [0xCA, 0xFE, 0xBA, 0xBE, 1, 2, 3, 4, 5, 6])])
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["c_line_counter", "rust_byte_counter", "swift_example"]), input: input, engine: engine)
        #expect(try outcome.strings("SELECT magic || ' ' || size FROM magic_bytes ORDER BY size") == ["cafebabe01020304 10", "6f6e650a74776f0a 23"])
        #expect(try outcome.strings("SELECT lines || ' ' || longest FROM c_line_counts ORDER BY lines") == ["0 10", "3 14"])
        #expect(try outcome.strings("SELECT filename || ' ' || size FROM rust_file_sizes ORDER BY filename") == ["a.txt 23", "b.bin 10"])
        #expect(try outcome.contents().allSatisfy { $0.status == "success" })
    }

    @Test(arguments: EngineKind.allCases) func theSwiftSDKEncodesEveryValueExactly(engine: EngineKind) throws {
        let input = try Harness.inputs([("a", [1])])
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["sdk_probe"]), input: input, engine: engine)
        #expect(try outcome.contents().allSatisfy { $0.status == "success" })
        // Strings as bytes; doubles compared with SQLite's own (correctly rounded) parse of the literal.
        #expect(
            try outcome.strings("SELECT quote(i) || ' ' || ifnull(hex(CAST(s AS BLOB)), 'NULL') FROM sdk_values ORDER BY rowid") == [
                "-9223372036854775808 " + Self.hex("quote \" backslash \\ tab \t soh \u{1}"),
                "9223372036854775807 " + Self.hex("caf\u{E9} \u{2591} \u{1F600}"),
                "-1 " + String(repeating: "78", count: 5000),
                "0 ",
                "NULL ",
                "42 " + Self.hex("by name"),
            ])
        let doubles = "SELECT count(*) FROM sdk_values WHERE rowid = 1 AND f = 0.1 OR rowid = 2 AND f = -2.5e-300"
            + " OR rowid = 3 AND f = 1.7976931348623157e308 OR rowid = 4 AND f = 123456.789 OR rowid = 5 AND f = -3.0 OR rowid = 6 AND f IS NULL"
        #expect(try outcome.ints(doubles) == [6])
        // Its stream and extents, through the SDK's wrappers; the aborted stream leaves nothing.
        #expect(try outcome.strings("SELECT filename || ' ' || sha256 FROM __wadup_content WHERE depth = 1 ORDER BY filename") == [
            "sdk_extents " + sha256Hex([1, 0, 0, 0]), "sdk_stream " + sha256Hex([1, 1, 2, 0, 0, 3]),
        ])
    }

    static func hex(_ s: String) -> String { s.utf8.map { String(format: "%02X", $0) }.joined() }

    @Test(arguments: EngineKind.allCases) func aRustWASIModuleRunsWithStdioCapturedAndNoFileAccess(engine: EngineKind) throws {
        let input = try Harness.inputs([("a", [1]), ("b", [2])])
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["rust_wasi_probe"]), input: input, threads: 2, engine: engine)
        #expect(try outcome.strings("SELECT file_denied || ' ' || clock_ok FROM wasi_probe") == ["1 1", "1 1"])
        // The crate's stream and extents (a dropped stream is aborted: nothing).
        #expect(try outcome.strings("SELECT filename || ' ' || sha256 FROM __wadup_content WHERE depth = 1 ORDER BY filename, sha256") == [
            "rust_extents " + sha256Hex([1, 0, 0, 0]), "rust_extents " + sha256Hex([2, 0, 0, 0]),
            "rust_stream " + sha256Hex([1, 9, 9, 0, 0, 7]), "rust_stream " + sha256Hex([2, 9, 9, 0, 0, 7]),
        ].sorted())
        #expect(try outcome.contents().allSatisfy { $0.status == "success" })
    }

    @Test(arguments: EngineKind.allCases) func theSwiftSDKHeapDoesNotGrowFromOneContentToTheNext(engine: EngineKind) throws {
        // 24 archives each inflating a 2 MB entry under a 16 MiB memory limit on one instance:
        // a heap that kept each content's buffers would pass the limit within a few contents.
        let input = Harness.temporaryDirectory()
        _ = try python(
            """
            import sys, zipfile
            for i in range(24):
                with zipfile.ZipFile(f"{sys.argv[1]}/a{i:02d}.zip", "w", zipfile.ZIP_DEFLATED) as z:
                    z.writestr("big.txt", (b"%d " % i) * 700000)
            """, [input])
        let outcome = try Harness.run(
            modulesDirectory: try BuiltModules.folder(["zip_parser"]), input: input, threads: 1,
            limits: RunLimits(maxMemory: 16 << 20, maxRecursionDepth: 0), engine: engine)
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_content WHERE depth = 0 AND status = 'success'") == [24])
        #expect(try outcome.ints("SELECT sum(emitted) FROM zip_entries") == [24])
    }

    @Test(arguments: EngineKind.allCases) func wadupWithoutModulesRunsTheStandardSet(engine: EngineKind) throws {
        let fixtures = Fixtures.peerWadup2
        let out = Harness.temporaryDirectory() + "/out.db"
        let run = try Command.wadup(["--input", fixtures, "--output", out, "--engine", engine.rawValue]).run()
        #expect(run.succeeded, "\(run)")
        // Independent readers: the file system for the inputs, Python's zipfile for test.zip's entries
        // (name, size, method), SQLite itself for sample.db's tables.
        let files = try FileManager.default.contentsOfDirectory(atPath: fixtures).sorted()
        var expectedContents = try files.map { name -> String in
            let size = try FileManager.default.attributesOfItem(atPath: fixtures + "/" + name)[.size] as? Int ?? -1
            return "\(name) \(size)"
        }
        let entries = try python(
            """
            import sys, zipfile
            for i in zipfile.ZipFile(sys.argv[1]).infolist():
                if not i.is_dir(): print(i.filename, i.compress_type, i.file_size)
            """, [fixtures + "/test.zip"]
        ).split(separator: "\n").map(String.init).sorted()
        expectedContents += entries.map { $0.split(separator: " ") }.map { "\($0[0]) \($0[2])" }
        let expectedTables = try Self.sqliteCounts(fixtures + "/sample.db").filter { !$0.hasPrefix("sqlite_") }.sorted()
        #expect(entries.count == 2 && expectedTables.count == 2)  // the fixture's documented shape
        let db = try DatabaseQueue(path: out)
        try db.read { (db: Database) throws in
            #expect(try String.fetchAll(db, sql: "SELECT filename || ' ' || size FROM __wadup_content ORDER BY filename") == expectedContents.sorted())
            #expect(try String.fetchAll(db, sql: "SELECT table_name || ' ' || row_count FROM db_table_stats WHERE table_name NOT LIKE 'sqlite_%' ORDER BY table_name") == expectedTables)
            #expect(try String.fetchAll(db, sql: "SELECT path || ' ' || method || ' ' || size FROM zip_entries ORDER BY path") == entries)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM file_sizes") == expectedContents.count)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM file_types") == expectedContents.count)
            #expect(try String.fetchAll(db, sql: "SELECT name FROM __wadup_modules ORDER BY name") == ["archive", "byte_counter", "disk", "executable", "file_type", "hashes", "indicators", "mail", "office", "pdf", "sqlite_parser", "zip_parser"])  // yara: no rules, not loaded
        }
    }
}
