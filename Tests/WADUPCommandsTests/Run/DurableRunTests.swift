import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPTestSupport

/// Durable runs: every path under the input accounted for, repeats processed once, per-input
/// budgets, and resume after `kill -9` or a full disk giving the result of one clean run.
@Suite(.serialized)
struct DurableRunTests {
    /// A folder holding every kind of path an evidence folder has: regular files (one with a name
    /// that is not UTF-8, one deeper than PATH_MAX), a FIFO, links (to a file, dangling, to a folder above).
    static func mixedFolder() throws -> String {
        let dir = Harness.temporaryDirectory() + "/evidence"
        _ = try python(
            """
            import os, sys
            root = sys.argv[1].encode()
            os.makedirs(root + b"/sub")
            open(root + b"/plain.txt", "wb").write(b"plain text\\n")
            open(root + b"/name\\xff\\xfe-\\xe2\\x82.txt", "wb").write(b"a name from another code page\\n")
            os.mkfifo(root + b"/fifo")
            os.symlink(b"plain.txt", root + b"/link.txt")
            os.symlink(b"missing", root + b"/dangling")
            os.symlink(b"..", root + b"/sub/up")
            """, [dir])
        try Fixtures.makePathPastPathMax(under: dir)
        return dir
    }

    /// What the database must hold for every path under `root`, read by Python's `os.fwalk` and
    /// `os.lstat` (descriptor-relative, so the deep file is reachable): one line per path.
    static func expectedRecords(_ root: String) throws -> [String] {
        try python(
            """
            import hashlib, os, stat, sys
            root = sys.argv[1].encode()
            lines = []
            for dirpath, dirs, files, dirfd in os.fwalk(root):
                rel = os.path.relpath(dirpath, root)
                for name in sorted(dirs + files):
                    st = os.lstat(name, dir_fd=dirfd)
                    path = name if rel == b"." else rel + b"/" + name
                    text = path.decode("utf-8", "backslashreplace")
                    raw = "" if text.encode() == path else path.hex().upper()
                    if stat.S_ISDIR(st.st_mode):
                        continue
                    if stat.S_ISREG(st.st_mode):
                        fd = os.open(name, os.O_RDONLY, dir_fd=dirfd)
                        data = b""
                        while chunk := os.read(fd, 1 << 20):
                            data += chunk
                        os.close(fd)
                        lines.append(f"{text}|success||{len(data)}|{hashlib.sha256(data).hexdigest()}|{raw}")
                    elif stat.S_ISLNK(st.st_mode):
                        target = os.readlink(name, dir_fd=dirfd).decode("utf-8", "backslashreplace")
                        lines.append(f"{text}|skipped|symbolic link to {target} (not followed)|{st.st_size}||{raw}")
                    elif stat.S_ISFIFO(st.st_mode):
                        lines.append(f"{text}|skipped|not a regular file: fifo|||{raw}")
            print("\\n".join(sorted(lines)))
            """, [root]
        ).split(separator: "\n").map(String.init)
    }

    @Test(arguments: EngineKind.allCases)
    func everyPathUnderTheInputIsRecordedWithItsReason(engine: EngineKind) throws {
        let root = try Self.mixedFolder()
        let expected = try Self.expectedRecords(root)
        #expect(expected.count == 7)
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["byte_counter"]), input: root, engine: engine)
        let recorded = try outcome.strings(
            """
            SELECT filename || '|' || status || '|' || coalesce(error_message, '') || '|' || coalesce(size, '') || '|'
                || coalesce(sha256, '') || '|' || coalesce(hex(filename_bytes), '')
            FROM __wadup_content WHERE depth = 0
            """
        ).sorted()
        #expect(recorded == expected)
        // The deep file and the file with a non-UTF-8 name were processed, not only recorded.
        #expect(try outcome.ints("SELECT count(*) FROM file_sizes") == [3])
        #expect(try outcome.ints("SELECT max(length(filename)) FROM __wadup_content").first ?? 0 > Int(PATH_MAX))
        // The raw bytes of the name are exact.
        let raw = try outcome.db.read { try Data.fetchOne($0, sql: "SELECT filename_bytes FROM __wadup_content WHERE filename_bytes IS NOT NULL") }
        #expect(raw.map { Array($0) } == Array("name".utf8) + [0xFF, 0xFE, 0x2D, 0xE2, 0x82] + Array(".txt".utf8))
    }

    /// An analyst's reader (the `sqlite3` shell, `wadup stats`) may open the database at any moment
    /// of a run, also while wadup creates it, switches it to WAL or commits: the run waits out the
    /// reader's lock and never fails with "database is locked". Before the writer waited, more
    /// than half of such runs failed.
    @Test func readersOpeningTheDatabaseDuringARunNeverFailIt() throws {
        let input = Fixtures.peerWadup2
        let modules = try BuiltModules.folder(["byte_counter", "zip_parser", "sqlite_parser"])
        let listing = "SELECT filename || '|' || sha256 || '|' || status FROM __wadup_content ORDER BY 1"
        func run(_ out: String, reading: Bool) throws -> (code: Int32, stderr: String, reads: Int) {
            let wadup = try Command.wadup(["--input", input, "--output", out, "--modules", modules, "--threads", "2"]).start()
            var reads = 0
            while reading && wadup.isRunning {
                // Like the sqlite3 shell: read-only, and failing at once on a lock rather than waiting.
                var configuration = Configuration()
                configuration.readonly = true
                guard FileManager.default.fileExists(atPath: out), let db = try? DatabaseQueue(path: out, configuration: configuration) else { continue }
                if (try? db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content") }) != nil { reads += 1 }
                try? db.close()
            }
            let exit = try wadup.wait()
            return (exit.status, exit.stderr, reads)
        }
        let reference = Harness.temporaryDirectory() + "/alone.db"
        #expect(try run(reference, reading: false).code == 0)
        let expected = try DatabaseQueue(path: reference).read { try String.fetchAll($0, sql: listing) }
        #expect(expected.count > 5)
        var reads = 0
        for attempt in 0..<25 {
            let out = Harness.temporaryDirectory() + "/read-\(attempt).db"
            let outcome = try run(out, reading: true)
            reads += outcome.reads
            #expect(outcome.code == 0, "attempt \(attempt): \(outcome.stderr)")
            #expect(try DatabaseQueue(path: out).read { try String.fetchAll($0, sql: listing) } == expected)
        }
        // The readers did read while runs were going on.
        #expect(reads > 0)
    }

    @Test func followedLinksAreProcessedUnderTheirOwnPathAndLoopsAreRecorded() throws {
        let root = try Self.mixedFolder()
        let outcome = try Harness.run(
            modulesDirectory: try BuiltModules.folder(["byte_counter"]), input: root, followSymlinks: true, engine: .wasmtime)
        let rows = try outcome.strings("SELECT filename || '|' || status || '|' || coalesce(error_message, '') FROM __wadup_content WHERE filename IN ('link.txt', 'dangling', 'sub/up', 'plain.txt') ORDER BY filename")
        #expect(rows == [
            "dangling|skipped|dangling symbolic link to missing",
            "link.txt|success|",  // followed: its target's bytes, processed under the link's path
            "plain.txt|duplicate|",  // the same bytes, met after the link (names in byte order)
            "sub/up|skipped|symbolic link loop: .. is a folder above it",
        ])
    }

    /// A file and a folder the user may not read are recorded with the system's reason. Root reads
    /// everything, so as root the real binary runs as `nobody` (util-linux's setpriv).
    @Test func unreadableFilesAndFoldersAreRecordedWithTheReason() throws {
        let dir = Harness.temporaryDirectory()
        let input = dir + "/in", out = dir + "/out"
        for folder in [input + "/locked", out] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try Data("readable\n".utf8).write(to: URL(fileURLWithPath: input + "/ok.txt"))
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: input + "/secret.txt"))
        chmod(input + "/secret.txt", 0)
        chmod(input + "/locked", 0)
        chmod(out, 0o777)
        for folder in [dir, input] { chmod(folder, 0o755) }
        let modules = try BuiltModules.folder(["byte_counter"])
        chmod(modules, 0o755)
        var arguments = [Harness.wadupBinary, "--modules", modules, "--input", input, "--output", out + "/o.db", "--no-cache"]
        if getuid() == 0 { arguments = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + arguments }
        let run = try Command(arguments[0], Array(arguments.dropFirst())).run()
        #expect(run.succeeded, "\(run)")
        let rows = try DatabaseQueue(path: out + "/o.db").read { db in
            try String.fetchAll(db, sql: "SELECT filename || '|' || status || '|' || coalesce(error_message, '') || '|' || coalesce(size, '') FROM __wadup_content ORDER BY filename")
        }
        #expect(rows == [
            "locked|skipped|unreadable folder: \(String(cString: strerror(EACCES)).lowercased())|",
            "ok.txt|success||9",
            "secret.txt|skipped|unreadable: \(String(cString: strerror(EACCES)).lowercased())|7",
        ])
    }

    /// Three inputs with the same bytes, and an archive holding the same bytes as an input.
    static func repeats() throws -> (dir: String, zipSHA: String, entries: [String]) {
        let dir = Harness.temporaryDirectory() + "/repeats"
        try FileManager.default.createDirectory(atPath: dir + "/b/c", withIntermediateDirectories: true)
        let zip = Fixtures.peerWadup2 + "/test.zip"
        for copy in ["a.zip", "b/a-copy.zip", "b/c/again.zip"] { try FileManager.default.copyItem(atPath: zip, toPath: dir + "/" + copy) }
        let entries = try Fixtures.zipfileEntries(zip).filter { !$0.isEmpty }
        let zipSHA = sha256Hex(Array(try Data(contentsOf: URL(fileURLWithPath: zip))))
        return (dir, zipSHA, entries)
    }

    @Test(arguments: EngineKind.allCases)
    func aRepeatIsLinkedToTheProcessedContentAndNotExpandedAgain(engine: EngineKind) throws {
        let (dir, zipSHA, entries) = try Self.repeats()
        let modules = try BuiltModules.folder(["byte_counter", "zip_parser"])
        let outcome = try Harness.run(modulesDirectory: modules, input: dir, engine: engine)
        let contents = try outcome.contents()
        let copies = contents.filter { $0.sha256 == zipSHA }
        let processed = try #require(copies.first { $0.status == "success" })
        #expect(copies.count == 3)
        #expect(processed.filename == "a.zip")
        #expect(copies.filter { $0.status == "duplicate" }.allSatisfy { $0.duplicateOf == processed.uuid })
        // Only the processed occurrence has sub-contents and rows; each repeat is one record.
        #expect(Fixtures.children(of: processed, in: contents) == entries.sorted())
        #expect(contents.count == 3 + entries.count)
        #expect(try outcome.ints("SELECT count(*) FROM zip_entries") == [entries.count])
        #expect(try outcome.ints("SELECT count(*) FROM file_sizes") == [1 + entries.count])
        // The view resolves every content to the content whose rows stand for it.
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_processed p JOIN file_sizes f ON f.content_uuid = p.processed_uuid") == [3 + entries.count])
        #expect(try outcome.ints("SELECT duplicates FROM __wadup_run") == [2])

        let everyCopy = try Harness.run(modulesDirectory: modules, input: dir, dedup: false, engine: engine)
        #expect(try everyCopy.ints("SELECT count(*) FROM zip_entries") == [3 * entries.count])
        #expect(try everyCopy.ints("SELECT count(*) FROM __wadup_content WHERE duplicate_of IS NOT NULL") == [0])
    }

    @Test(arguments: EngineKind.allCases)
    func twoWorkersMeetingTheSameBytesProcessThemOnce(engine: EngineKind) throws {
        let dir = Harness.temporaryDirectory() + "/same"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let bytes = Data((0..<5000).map { UInt8($0 % 251) })
        for i in 0..<200 { try bytes.write(to: URL(fileURLWithPath: dir + String(format: "/%03d", i))) }
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["byte_counter"]), input: dir, threads: 2, engine: engine)
        #expect(try outcome.ints("SELECT count(*) FROM file_sizes") == [1])
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_content WHERE status = 'duplicate'") == [199])
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_content c LEFT JOIN __wadup_content o ON o.uuid = c.duplicate_of WHERE c.duplicate_of IS NOT NULL AND o.status != 'success'") == [0])
    }

    /// A ZIP of 10 entries written by Python's zipfile; returns its folder and the entries' sizes.
    static func tenEntryZip() throws -> (dir: String, sizes: [Int]) {
        let dir = Harness.temporaryDirectory() + "/budget"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let sizes = try python(
            """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
                for i in range(10):
                    z.writestr(f"e{i}.txt", bytes([65 + i]) * (1000 * (i + 1)))
            print("\\n".join(str(i.file_size) for i in zipfile.ZipFile(sys.argv[1]).infolist()))
            """, [dir + "/ten.zip"]
        ).split(separator: "\n").compactMap { Int($0) }
        return (dir, sizes)
    }

    @Test(arguments: EngineKind.allCases)
    func anInputsBudgetRefusesFurtherSubContentsAndSaysSoOnItsRecord(engine: EngineKind) throws {
        let (dir, sizes) = try Self.tenEntryZip()
        #expect(sizes.count == 10)
        let modules = try BuiltModules.folder(["zip_parser"])

        let byCount = try Harness.run(modulesDirectory: modules, input: dir, limits: RunLimits(maxInputContents: 4), engine: engine)
        #expect(try byCount.ints("SELECT count(*) FROM __wadup_content WHERE depth = 1") == [4])
        #expect(try byCount.ints("SELECT sum(emitted) FROM zip_entries") == [4])
        #expect(try byCount.strings("SELECT error_message FROM __wadup_content WHERE depth = 0") == [
            RunLimits(maxInputContents: 4).inputBudgetDetail(bytesHit: false, contentsHit: true, refused: 6)
        ])
        #expect(try byCount.ints("SELECT refused FROM __wadup_run") == [6])
        #expect(byCount.summary.statistics.refused == 6)

        // Bytes: exactly the first three entries fit.
        let budget = sizes[0] + sizes[1] + sizes[2]
        let byBytes = try Harness.run(modulesDirectory: modules, input: dir, limits: RunLimits(maxInputBytes: budget), engine: engine)
        #expect(try byBytes.ints("SELECT size FROM __wadup_content WHERE depth = 1 ORDER BY rowid") == Array(sizes.prefix(3)))
        #expect(try byBytes.ints("SELECT refused FROM __wadup_run") == [7])
    }
}
