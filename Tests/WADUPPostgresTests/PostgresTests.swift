import Foundation
import GRDB
import Testing
import WADUPTestSupport

/// The PostgreSQL output, on the private server `scripts/pg-test-server.sh` starts (the test command
/// starts it): real `wadup` processes, one of them killed, against a single-process SQLite run.
@Suite(.serialized)
struct PostgresTests {
    /// The test server: its port and the `wadup` role's password, from `.build/pgtest.env`.
    struct Server {
        let port: String
        let password: String
        /// The folder of the server's Unix socket (local connections are trusted, without a password).
        let folder: String

        static func load() throws -> Server {
            let file = Harness.path(".build/pgtest.env")
            let text = try #require(try? String(contentsOfFile: file, encoding: .utf8), "no test server: run scripts/pg-test-server.sh start (the test command does)")
            var values: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { values[parts[0]] = parts[1] }
            }
            return Server(
                port: try #require(values["WADUP_TEST_PG_PORT"]), password: try #require(values["WADUP_TEST_PG_PASSWORD"]),
                folder: try #require(values["WADUP_TEST_PG_DIR"]))
        }

        func url(_ database: String) -> String { "postgres://wadup@127.0.0.1:\(port)/\(database)?sslmode=disable" }

        var environment: [String: String] {
            var env = ProcessInfo.processInfo.environment
            env["PGPASSWORD"] = password
            env["PGPASSFILE"] = "/nonexistent"
            return env
        }

        /// A new empty database.
        func createDatabase() throws -> String {
            let name = "wadup_test_" + UUID().uuidString.prefix(8).lowercased()
            _ = try psql("postgres", "CREATE DATABASE \(name)")
            return name
        }

        /// `sql`'s output from psql (libpq: an independent reader), unaligned, tuples only.
        func psql(_ database: String, _ sql: String, user: String = "wadup") throws -> String {
            // Other roles than wadup through the socket, where local users are trusted.
            let host = user == "wadup" ? "127.0.0.1" : folder
            let arguments = ["-h", host, "-p", port, "-U", user, "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]
            return try Command("/usr/bin/psql", arguments, environment: environment).output().trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func json(_ database: String, _ sql: String) throws -> [Any] {
            let text = try psql(database, "SELECT coalesce(json_agg(x), '[]') FROM (\(sql)) x")
            return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any])
        }

        func count(_ database: String, _ sql: String) throws -> Int { try #require(Int(try psql(database, sql))) }
    }

    /// Starts a `wadup` process with `environment` (the server's, by default).
    static func wadup(_ arguments: [String], environment: [String: String]) throws -> RunningProcess {
        try Command.wadup(arguments, environment: environment).start()
    }

    /// Burns CPU on every content (a few ms), so that a run lasts long enough to kill a process in it.
    static let slowModule = """
        (module
          (memory (export "memory") 1)
          (func (export "process") (result i32)
            (local $i i32)
            (local.set $i (i32.const 8000000))
            (block $done (loop $again
              (br_if $done (i32.eqz (local.get $i)))
              (local.set $i (i32.sub (local.get $i) (i32.const 1)))
              (br $again)))
            (i32.const 0)))
        """

    /// The format corpus (nested archives), ten ZIPs of 40 files and 400 small files; the standard archive and ZIP modules,
    /// byte_counter and the slow module.
    static func workload() throws -> (inputs: String, modules: String) {
        let corpus = try FormatCorpus.inputs()
        let inputs = Harness.temporaryDirectory()
        try FileManager.default.copyItem(atPath: corpus, toPath: inputs + "/corpus")
        for i in 0..<400 {
            let bytes = (0..<(64 + i)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            let dir = "\(inputs)/files/\(i % 10)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/file-\(i).bin"))
        }
        // Ten ZIPs of 40 files, one in each folder of small files (spread over the walk): trees large
        // enough to be written in parts, one of them by the process the test kills.
        _ = try python("""
            import sys, zipfile
            for k in range(10):
                with zipfile.ZipFile(f"{sys.argv[1]}/files/{k}/big-{k}.zip", "w") as z:
                    for i in range(40):
                        z.writestr(f"member-{i}.bin", bytes((j * 7 + i + 40 * k) % 251 for j in range(100 + i)))
            """, [inputs])
        let modules = try BuiltModules.folder(["archive", "zip_parser", "byte_counter"])
        try GuestModule.write(slowModule, to: modules + "/zz_slow.wasm")
        return (inputs, modules)
    }

    /// The SQLite database at `path` as its dump's lines.
    static func sqliteDump(_ path: String) throws -> [String] { try RunDump.sqlite(path).lines() }

    /// The run in `database` as its dump's lines, read by psql (libpq: a reader independent of WADUP's PostgresNIO).
    static func postgresDump(_ server: Server, _ database: String) throws -> [String] {
        let contents = try server.json(
            database, "SELECT uuid, filename, encode(filename_bytes, 'hex') AS bytes, parent_uuid, sha256, size, status, depth, duplicate_of, error_message FROM __wadup_content"
        ).map { item in
            let o = try #require(item as? [String: Any])
            return RunDump.Content(
                uuid: try #require(o["uuid"] as? String), filename: try #require(o["filename"] as? String),
                filenameBytes: (o["bytes"] as? String).map(Self.bytes), parent: o["parent_uuid"] as? String, sha256: o["sha256"] as? String,
                size: (o["size"] as? NSNumber)?.intValue, status: try #require(o["status"] as? String), depth: try #require((o["depth"] as? NSNumber)?.intValue),
                duplicateOf: o["duplicate_of"] as? String, error: o["error_message"] as? String)
        }
        var rows: [RunDump.Row] = []
        let tables = try server.psql(database, "SELECT name FROM __wadup_tables ORDER BY name").split(separator: "\n").map(String.init)
        for table in tables {
            let columns = try server.psql(database, "SELECT column_name FROM information_schema.columns WHERE table_name = '\(table)' ORDER BY ordinal_position")
                .split(separator: "\n").map(String.init).filter { $0 != "content_uuid" }
            for item in try server.json(database, "SELECT * FROM \"\(table)\"") {
                let o = try #require(item as? [String: Any])
                rows.append(RunDump.Row(table: table, content: try #require(o["content_uuid"] as? String), values: columns.map { RunDump.canonical(o[$0]) }))
            }
        }
        return RunDump(contents: contents, rows: rows).lines()
    }

    /// The bytes of lowercase hex text.
    static func bytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    @Test func threeProcessesOneKilledEqualOneSQLiteRun() throws {
        let server = try Server.load()
        let (inputs, modules) = try Self.workload()
        let dir = Harness.temporaryDirectory()
        let common = ["--modules", modules, "--input", inputs, "--no-dedup"]
        let single = try Self.wadup(common + ["--output", dir + "/single.db"], environment: server.environment)
        #expect(try single.wait().status == 0, "\(single.stderr)")
        let expected = try Self.sqliteDump(dir + "/single.db")
        #expect(expected.count > 600)

        let database = try server.createDatabase()
        let shared = common + ["--output", server.url(database), "--lease-timeout", "2s", "--threads", "1"]
        // Trees of more than 3 contents are written in parts, so the victim leaves a partial tree behind.
        let processes = try (0..<3).map { _ in try Self.wadup(shared + Self.smallSpills, environment: server.environment) }
        // Kill the second process with SIGKILL once it has committed trees and holds a partly written one.
        let victim = processes[1]
        let pid = victim.pid
        var heldAtKill = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && victim.isRunning {
            let held = (try? server.count(database, Self.partialTreesHeld(by: pid) + " AND w.trees > 0")) ?? 0
            if held > 0 {
                // Frozen first, so that what it holds is what the check sees: then killed, or let go on.
                victim.send(SIGSTOP)
                let still = (try? server.count(database, Self.partialTreesHeld(by: pid))) ?? 0
                if still > 0 {
                    heldAtKill = still
                    victim.send(SIGKILL)
                    break
                }
                victim.send(SIGCONT)
            }
            usleep(20_000)
        }
        for (i, p) in processes.enumerated() where i != 1 { #expect(try p.wait().status == 0, "\(p.stderr)") }
        #expect(try victim.wait().signalled, "the victim was killed mid-run")
        #expect(heldAtKill > 0)
        let rolledBack = processes.filter { $0 !== victim }.map(\.stderr).joined()
        #expect(rolledBack.contains("rolled back"), "a survivor deleted the partial tree before redoing it: \(rolledBack)")

        // Every content and row exactly once, the same as one process's SQLite run.
        #expect(try Self.postgresDump(server, database) == expected)
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_chunks WHERE state <> 'done'") == 0)
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_partial") == 0)
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_chunks WHERE attempts > 1") >= 1, "the killed process's inputs were claimed again")
        #expect(try server.count(database, "SELECT count(*) FROM (SELECT uuid FROM __wadup_content GROUP BY uuid HAVING count(*) > 1) d") == 0)
        let inputCount = try server.count(database, "SELECT count(*) FROM __wadup_queue")
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_input") == inputCount)
        #expect(try server.count(database, "SELECT count(DISTINCT path) FROM __wadup_input") == inputCount)
        // The module runs of the three processes add up; the killed one recorded nothing.
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_run") == 3)
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_run WHERE outcome = 'complete'") == 2)
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_run WHERE outcome = 'running'") == 1)

        // The complete run got its indexes once: contents by parent, and one per module table.
        let tables = try server.count(database, "SELECT count(*) FROM __wadup_tables")
        #expect(tables >= 3)
        #expect(try server.count(database, "SELECT count(*) FROM pg_indexes WHERE indexname LIKE '\\_\\_wadup\\_idx\\_%'") == tables)
        #expect(try server.count(database, "SELECT count(*) FROM pg_indexes WHERE indexname = '__wadup_content_parent'") == 1)

        // wadup status: the counts the queue and contents tables hold.
        let text = try Self.statusText(server, database)
        let contents = try server.count(database, "SELECT count(*) FROM __wadup_content")
        #expect(text.contains("Run complete"))
        #expect(text.contains("contents: \(contents) ("))
        #expect(text.contains("(0 live of 3)"), "the two that finished ended, the killed one is lost: \(text)")
        let lost = text.split(separator: "\n").filter { $0.contains(" \(pid) ") }
        #expect(lost.count == 1 && lost[0].contains("lost"), "the killed process shows as lost: \(text)")

        // The same command once more: the run is complete, so it is refused (exit 2), nothing written.
        let again = try Self.wadup(shared, environment: server.environment)
        #expect(try again.wait().status == 2)
        #expect(again.stderr.contains("complete"), "\(again.stderr)")
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_run") == 3)

        // Copied into SQLite (wadup merge URL), the run reads as the single-process run does, with
        // its three attempts; the analyst's views read the copy, and point from the URL to it.
        let copy = dir + "/copy.db"
        let merged = try Self.wadup(["merge", server.url(database), "--output", copy], environment: server.environment)
        #expect(try merged.wait().status == 0, "\(merged.stderr)")
        #expect(try Self.sqliteDump(copy) == expected)
        #expect(try DatabaseQueue(path: copy).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_run") } == 3)
        let stats = try Self.wadup(["stats", copy], environment: server.environment)
        #expect(try stats.wait().status == 0, "\(stats.stderr)")
        let pointed = try Self.wadup(["stats", server.url(database)], environment: server.environment)
        #expect(try pointed.wait().status == 2)
        #expect(pointed.stderr.contains("wadup merge \(server.url(database)) --output"), "\(pointed.stderr)")
    }

    /// The hidden option that makes a tree of more than 3 buffered contents be written in parts
    /// (`Tuning.postgresSpillLimit`), so that runs leave partial trees to roll back.
    static let smallSpills = ["--tuning", "pg-spill-limit=3"]

    /// Counts the partly written trees in chunks the process `pid` holds.
    static func partialTreesHeld(by pid: Int32) -> String {
        """
        SELECT count(*) FROM __wadup_partial p JOIN __wadup_chunks c ON p.seq BETWEEN c.first_seq AND c.last_seq
        JOIN __wadup_workers w ON c.lease_owner = w.run_id WHERE w.pid = \(pid) AND c.state = 'claimed'
        """
    }

    /// `wadup status`'s stdout.
    static func statusText(_ server: Server, _ database: String) throws -> String {
        let status = try Command.wadup(["status", "--output", server.url(database)], environment: server.environment).run()
        #expect(status.status == 0, "\(status)")
        return status.stdout
    }

    @Test func anInterruptedProcessGivesItsInputsBackAndAnotherFinishesTheRun() throws {
        let server = try Server.load()
        let (inputs, modules) = try Self.workload()
        let dir = Harness.temporaryDirectory()
        let common = ["--modules", modules, "--input", inputs, "--no-dedup", "--threads", "1"]
        let single = try Self.wadup(common + ["--output", dir + "/single.db"], environment: server.environment)
        #expect(try single.wait().status == 0, "\(single.stderr)")
        let database = try server.createDatabase()
        let shared = common + ["--output", server.url(database)] + Self.smallSpills
        let first = try Self.wadup(shared, environment: server.environment)
        let pid = first.pid
        let deadline = Date().addingTimeInterval(60)
        var sent = false
        while Date() < deadline && first.isRunning {
            let trees = (try? server.count(database, "SELECT coalesce(sum(trees), 0) FROM __wadup_workers WHERE pid = \(pid)")) ?? 0
            if trees >= 20 {
                first.send(SIGINT)
                sent = true
                break
            }
            usleep(20_000)
        }
        #expect(sent)
        #expect(try first.wait().status == 130, "\(first.stderr)")
        // Nothing stays claimed: what it had not finished is pending again, at once (no lease to wait for).
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_chunks WHERE state = 'claimed'") == 0)
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_chunks WHERE state = 'pending'") > 0)
        #expect(try server.psql(database, "SELECT outcome FROM __wadup_run") == "interrupted")
        // An incomplete run is not copied into SQLite, and no file is left behind.
        let copy = dir + "/copy.db"
        let early = try Self.wadup(["merge", server.url(database), "--output", copy], environment: server.environment)
        #expect(try early.wait().status == 2)
        #expect(early.stderr.contains("not complete"), "\(early.stderr)")
        #expect(!FileManager.default.fileExists(atPath: copy) && !FileManager.default.fileExists(atPath: copy + ".partial"))
        // As a WADUP before Python modules registered it: no runtime column, which the second process adds.
        _ = try server.psql(database, "ALTER TABLE __wadup_modules DROP COLUMN runtime")
        let second = try Self.wadup(shared, environment: server.environment)
        #expect(try second.wait().status == 0, "\(second.stderr)")
        #expect(try Self.postgresDump(server, database) == (try Self.sqliteDump(dir + "/single.db")))
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_modules WHERE runtime IS NULL") == 4, ".wasm modules have no runtime")
        // The copy carries a module's runtime (as a Python module's run records it).
        let runtime = "CPython 3.11.2 (Debian python3.11 3.11.2-6); python.wasm sha256 \(String(repeating: "1", count: 64))"
        _ = try server.psql(database, "UPDATE __wadup_modules SET runtime = '\(runtime)' WHERE name = 'byte_counter'")
        let copied = try Self.wadup(["merge", server.url(database), "--output", copy], environment: server.environment)
        #expect(try copied.wait().status == 0, "\(copied.stderr)")
        let runtimes = try DatabaseQueue(path: copy).read { try String.fetchAll($0, sql: "SELECT name || ' ' || coalesce(runtime, 'NULL') FROM __wadup_modules ORDER BY name") }
        #expect(runtimes == ["archive NULL", "byte_counter \(runtime)", "zip_parser NULL", "zz_slow NULL"])
    }

    @Test func repeatsAreLinkedOnlyToCommittedContents() throws {
        let server = try Server.load()
        let (inputs, modules) = try Self.workload()
        // Every file twice: repeats within and across processes.
        try FileManager.default.copyItem(atPath: inputs + "/files", toPath: inputs + "/files-again")
        let database = try server.createDatabase()
        let shared = ["--modules", modules, "--input", inputs, "--output", server.url(database), "--threads", "1"]
        let processes = try (0..<2).map { _ in try Self.wadup(shared, environment: server.environment) }
        for p in processes { #expect(try p.wait().status == 0, "\(p.stderr)") }
        // No link dangles, and each points at the same bytes, processed.
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_content WHERE status = 'duplicate'") > 100)
        #expect(try server.count(database, """
            SELECT count(*) FROM __wadup_content d LEFT JOIN __wadup_content o ON o.uuid = d.duplicate_of
            WHERE d.status = 'duplicate' AND (o.uuid IS NULL OR o.sha256 <> d.sha256 OR o.status NOT IN ('success', 'failed'))
            """) == 0)
        // Every distinct content's rows are there once per processed occurrence: each path's bytes have rows.
        #expect(try server.count(database, """
            SELECT count(*) FROM __wadup_content c WHERE c.status = 'success' AND c.size > 0
              AND NOT EXISTS (SELECT 1 FROM file_sizes b WHERE b.content_uuid = c.uuid)
            """) == 0)
    }

    @Test func badServersAndOtherRunsExitTwoAndWriteNothing() throws {
        let server = try Server.load()
        let (inputs, modules) = try Self.workload()
        let database = try server.createDatabase()
        func run(_ output: String, _ extra: [String] = [], environment: [String: String]? = nil) throws -> (Int32, String) {
            let p = try Self.wadup(["--modules", modules, "--input", inputs + "/files/0", "--output", output] + extra, environment: environment ?? server.environment)
            return (try p.wait().status, p.stderr)
        }
        // Nothing listens on a closed port.
        let closed = try #require(Int(try python("import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])").trimmingCharacters(in: .whitespacesAndNewlines)))
        let (unreachable, unreachableText) = try run("postgres://wadup@127.0.0.1:\(closed)/\(database)?sslmode=disable")
        #expect(unreachable == 2)
        #expect(unreachableText.contains("cannot reach PostgreSQL at 127.0.0.1:\(closed)"), "\(unreachableText)")
        var wrong = server.environment
        wrong["PGPASSWORD"] = "not-the-password"
        let (refused, refusedText) = try run(server.url(database), environment: wrong)
        #expect(refused == 2)
        #expect(refusedText.contains("refused user wadup"), "\(refusedText)")
        #expect(!refusedText.contains("not-the-password"))
        let (withPassword, withPasswordText) = try run("postgres://wadup:secret@127.0.0.1:\(server.port)/\(database)")
        #expect(withPassword == 2)
        #expect(withPasswordText.contains("PGPASSWORD"))
        #expect(try server.count(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0, "nothing was written")

        // A run, then another run's settings against it: refused, naming the difference; nothing written.
        let (first, firstText) = try run(server.url(database))
        #expect(first == 0, "\(firstText)")
        let runs = try server.count(database, "SELECT count(*) FROM __wadup_run")
        let (other, otherText) = try run(server.url(database), ["--max-input-contents", "5"])
        #expect(other == 2)
        #expect(otherText.contains("limits"), "\(otherText)")
        #expect(otherText.split(separator: "\n").count == 1, "one line: \(otherText)")
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_run") == runs)

        // A database holding someone else's tables is never written to, nor replaced.
        let foreign = try server.createDatabase()
        _ = try server.psql(foreign, "CREATE TABLE evidence (id int); INSERT INTO evidence VALUES (1)")
        let (mixed, mixedText) = try run(server.url(foreign), ["--overwrite"])
        #expect(mixed == 2)
        #expect(mixedText.contains("evidence"), "\(mixedText)")
        #expect(try server.count(foreign, "SELECT count(*) FROM evidence") == 1)
        #expect(try server.count(foreign, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 1)

        // --overwrite replaces a finished run (with the other settings).
        let (replaced, replacedText) = try run(server.url(database), ["--overwrite", "--max-input-contents", "5"])
        #expect(replaced == 0, "\(replacedText)")
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_run") == 1)
    }

    /// The arguments of a small run (one folder of the workload), and its single-process SQLite
    /// run: the database and its dump, which a PostgreSQL run of the same arguments must equal.
    static func smallRun(_ server: Server) throws -> (arguments: [String], reference: String, expected: [String]) {
        let (inputs, modules) = try workload()
        let arguments = ["--modules", modules, "--input", inputs + "/files/0", "--no-dedup"]
        let reference = Harness.temporaryDirectory() + "/single.db"
        let single = try Self.wadup(arguments + ["--output", reference], environment: server.environment)
        #expect(try single.wait().status == 0, "\(single.stderr)")
        let expected = try sqliteDump(reference)
        #expect(expected.count > 5)
        return (arguments, reference, expected)
    }

    /// A server on this machine is reached through its Unix socket, named as libpq names it (a host
    /// that is a folder, percent-encoded in the URL, or `host=` in the query), with no password where
    /// the server trusts local users: the same results as an SQLite run. TLS asked for on a socket,
    /// and a socket nobody listens on, exit 2 naming the socket.
    @Test func aLocalServerIsReachedThroughItsUnixSocket() throws {
        let server = try Server.load()
        let (common, _, expected) = try Self.smallRun(server)
        var noPassword = ProcessInfo.processInfo.environment
        noPassword["PGPASSWORD"] = nil
        noPassword["PGPASSFILE"] = "/nonexistent"
        // RFC 3986: every character but the unreserved ones percent-encoded, as messages show it.
        let encoded = try #require(server.folder.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))))
        for url in ["postgres://wadup@\(encoded):\(server.port)/DB", "postgres://wadup@:\(server.port)/DB?host=\(server.folder)"] {
            let database = try server.createDatabase()
            let run = try Self.wadup(common + ["--output", url.replacingOccurrences(of: "DB", with: database)], environment: noPassword)
            #expect(try run.wait().status == 0, "\(url): \(run.stderr)")
            #expect(run.stderr.contains("postgres://wadup@\(encoded):\(server.port)/\(database)"), "\(run.stderr)")
            #expect(try Self.postgresDump(server, database) == expected)
        }
        let database = try server.createDatabase()
        let tls = try Self.wadup(common + ["--output", "postgres://wadup@:\(server.port)/\(database)?host=\(server.folder)&sslmode=require"], environment: noPassword)
        #expect(try tls.wait().status == 2)
        #expect(tls.stderr.contains("sslmode=require cannot apply to the Unix socket \(server.folder)/.s.PGSQL.\(server.port)"), "\(tls.stderr)")
        let missing = Harness.temporaryDirectory()
        let nobody = try Self.wadup(common + ["--output", "postgres://wadup@:\(server.port)/\(database)?host=\(missing)"], environment: noPassword)
        #expect(try nobody.wait().status == 2)
        #expect(nobody.stderr.contains("cannot reach PostgreSQL at \(missing)/.s.PGSQL.\(server.port)"), "\(nobody.stderr)")
        #expect(try server.count(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0, "nothing was written")
    }

    /// TLS as libpq does it, against the test server's private CA (its certificate names only
    /// `wadup-test-server`): verify-full to 127.0.0.1 fails on the name, without the CA on the chain,
    /// each with its remedy; verify-ca with the CA passes; a role the server logs in by certificate
    /// runs with sslcert/sslkey and no password, and is refused without them. Results equal an
    /// SQLite run's.
    @Test func tlsChecksTheServersCertificateAndLogsInByClientCertificate() throws {
        let server = try Server.load()
        let tls = server.folder + "/tls"
        let (common, reference, expected) = try Self.smallRun(server)
        // No ~/.postgresql of this machine's user: only what the URL gives.
        var environment = server.environment
        environment["HOME"] = Harness.temporaryDirectory()
        func run(_ url: String, _ environment: [String: String], _ extra: [String] = []) throws -> (code: Int32, stderr: String) {
            let p = try Self.wadup(common + ["--output", url] + extra, environment: environment)
            return (try p.wait().status, p.stderr)
        }
        let database = try server.createDatabase()
        let base = "postgres://wadup@127.0.0.1:\(server.port)/\(database)"
        let name = try run(base + "?sslmode=verify-full&sslrootcert=\(tls)/ca.crt", environment)
        #expect(name.code == 2)
        #expect(name.stderr.contains("does not name 127.0.0.1 (sslmode=verify-full)") && name.stderr.contains("sslmode=verify-ca"), "\(name.stderr)")
        let roots = try run(base + "?sslmode=verify-full", environment)
        #expect(roots.code == 2)
        #expect(roots.stderr.contains("the system's roots do not sign") && roots.stderr.contains("sslrootcert=FILE"), "\(roots.stderr)")
        #expect(try server.count(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0, "nothing was written")
        let chain = try run(base + "?sslmode=verify-ca&sslrootcert=\(tls)/ca.crt", environment)
        #expect(chain.code == 0, "\(chain.stderr)")
        #expect(try Self.postgresDump(server, database) == expected)

        var noPassword = environment
        noPassword["PGPASSWORD"] = nil
        let certificate = "postgres://wadupcert@127.0.0.1:\(server.port)/certdb?sslmode=verify-ca&sslrootcert=\(tls)/ca.crt"
        let refused = try run(certificate, noPassword)
        #expect(refused.code == 2)
        #expect(refused.stderr.contains("refused user wadupcert") && refused.stderr.contains("sslcert=FILE and sslkey=FILE"), "\(refused.stderr)")
        // certdb is the role's own database, the same for every run on this server: replaced.
        let loggedIn = try run(certificate + "&sslcert=\(tls)/client.crt&sslkey=\(tls)/client.key", noPassword, ["--overwrite"])
        #expect(loggedIn.code == 0, "\(loggedIn.stderr)")
        let contents = try DatabaseQueue(path: reference).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content") ?? -1 }
        #expect(contents > 5)
        #expect(try server.psql("certdb", "SELECT count(*) FROM __wadup_content", user: "wadupcert") == String(contents))
        let half = try run(certificate + "&sslcert=\(tls)/client.crt", noPassword)
        #expect(half.code == 2)
        #expect(half.stderr.contains("give both sslcert and sslkey"), "\(half.stderr)")
    }
}
