import Foundation
import GRDB
import Testing
import WADUPTestSupport

/// PostgreSQL runs through what happens around them: repeats at several depths copied into SQLite,
/// a server restarted, stopped or ending a worker's connection, and a second `--overwrite` of a run
/// in use. Each run is compared with a single-process SQLite run of the same inputs by its distinct
/// contents (sha256 and input roots). These tests stop and restart the test server, so they belong
/// to the serialized `PostgresTests` suite: nothing else uses the server while they run.
extension PostgresTests {
    /// What two runs of the same inputs must agree on whatever dedup linked or redid: every
    /// distinct sha256, the distinct sha256 processed (success or failed), and the input roots.
    struct Distinct: Equatable, CustomStringConvertible {
        var contents: Set<String>
        var processed: Set<String>
        var roots: Set<String>

        var description: String { "\(contents.count) distinct contents, \(processed.count) processed, \(roots.count) roots" }

        static let queries = (
            contents: "SELECT DISTINCT sha256 FROM __wadup_content WHERE sha256 IS NOT NULL",
            processed: "SELECT DISTINCT sha256 FROM __wadup_content WHERE sha256 IS NOT NULL AND status IN ('success', 'failed')",
            roots: "SELECT filename FROM __wadup_content WHERE parent_uuid IS NULL")

        static func sqlite(_ path: String) throws -> Distinct {
            try DatabaseQueue(path: path).read { db in
                Distinct(
                    contents: Set(try String.fetchAll(db, sql: queries.contents)), processed: Set(try String.fetchAll(db, sql: queries.processed)),
                    roots: Set(try String.fetchAll(db, sql: queries.roots)))
            }
        }

        static func postgres(_ server: Server, _ database: String) throws -> Distinct {
            func set(_ sql: String) throws -> Set<String> { Set(try server.psql(database, sql).split(separator: "\n").map(String.init)) }
            return Distinct(contents: try set(queries.contents), processed: try set(queries.processed), roots: try set(queries.roots))
        }
    }

    /// Inputs whose repeats sit at several depths, met in this walk order: `a-archive.zip` holds
    /// copies of 60 loose files (depth 1) and `inner.zip` with 60 more (depth 2); the loose files
    /// come later (depth 0, repeats of those members), then `z-copies/` repeats 100 of them and the
    /// whole archive again. The standard archive and ZIP modules and byte_counter, and a module
    /// that burns `milliseconds` (about) per content: trees are committed while the run goes on (so
    /// repeats are linked), and a run lasts long enough to disturb.
    static func duplicateWorkload(milliseconds: Int) throws -> (inputs: String, modules: String) {
        let inputs = Harness.temporaryDirectory()
        _ = try python("""
            import io, os, shutil, sys, zipfile
            root = sys.argv[1]
            def data(i): return bytes((j * 31 + i) % 253 for j in range(80 + i))
            for i in range(300):
                d = f"{root}/files/{i % 6}"
                os.makedirs(d, exist_ok=True)
                open(f"{d}/file-{i}.bin", "wb").write(data(i))
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, "w") as z:
                for i in range(60, 120): z.writestr(f"deep-{i}.bin", data(i))
            with zipfile.ZipFile(f"{root}/a-archive.zip", "w") as z:
                for i in range(60): z.writestr(f"member-{i}.bin", data(i))
                z.writestr("inner.zip", inner.getvalue())
            os.makedirs(f"{root}/z-copies", exist_ok=True)
            for i in range(0, 200, 2): open(f"{root}/z-copies/copy-{i}.bin", "wb").write(data(i))
            shutil.copy(f"{root}/a-archive.zip", f"{root}/z-copies/archive-again.zip")
            """, [inputs])
        let modules = try BuiltModules.folder(["archive", "zip_parser", "byte_counter"])
        // About 3,000,000 iterations per ms here.
        let wat = slowModule.replacingOccurrences(of: "(i32.const 8000000)", with: "(i32.const \(milliseconds * 3_000_000))")
        try GuestModule.write(wat, to: modules + "/zz_slow.wasm")
        return (inputs, modules)
    }

    /// A single-process SQLite run of `arguments`: its distinct contents.
    static func reference(_ server: Server, _ arguments: [String]) throws -> Distinct {
        let path = Harness.temporaryDirectory() + "/single.db"
        let single = try Self.wadup(arguments + ["--output", path], environment: server.environment)
        #expect(try single.wait().status == 0, "\(single.stderr)")
        return try Distinct.sqlite(path)
    }

    /// Runs `pg_ctl` on the test server's cluster (as the `postgres` user when the tests run as
    /// root). Through Python's `subprocess`, which closes every other descriptor in the child: the
    /// server that `pg_ctl` leaves running must not inherit the pipes by which Foundation sees
    /// this test's other processes (the `wadup` workers, pg_ctl itself) end.
    static func pgCtl(_ server: Server, _ arguments: [String]) throws {
        let versions = try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }
        let pgCtl = "/usr/lib/postgresql/\(try #require(versions.last))/bin/pg_ctl"
        var command = [pgCtl, "-D", server.folder + "/data", "-l", server.folder + "/server.log", "-w"] + arguments
        if getuid() == 0 { command = ["runuser", "-u", "postgres", "--"] + command }
        let code = try python("""
            import subprocess, sys
            print(subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True).returncode)
            """, command)
        #expect(code.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "pg_ctl \(arguments)")
    }

    /// Waits (up to a minute) until the processes of `database` committed `trees` input trees in all.
    static func waitForTrees(_ server: Server, _ database: String, _ trees: Int, while processes: [RunningProcess]) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && processes.allSatisfy({ $0.isRunning }) {
            if ((try? server.count(database, "SELECT coalesce(sum(trees), 0) FROM __wadup_workers")) ?? 0) >= trees { return true }
            usleep(20_000)
        }
        return false
    }

    /// Copies the run into SQLite with `wadup merge`; the copy's distinct contents, after checking
    /// that every reference in it holds and that the analyst's views read it.
    static func mergedCopy(_ server: Server, _ database: String) throws -> Distinct {
        let copy = Harness.temporaryDirectory() + "/copy.db"
        let merge = try Self.wadup(["merge", server.url(database), "--output", copy], environment: server.environment)
        #expect(try merge.wait().status == 0, "\(merge.stderr)")
        let dangling = try DatabaseQueue(path: copy).read { try Row.fetchAll($0, sql: "PRAGMA foreign_key_check").count }
        #expect(dangling == 0)
        let stats = try Self.wadup(["stats", copy], environment: server.environment)
        #expect(try stats.wait().status == 0, "\(stats.stderr)")
        return try Distinct.sqlite(copy)
    }

    @Test(arguments: [1, 2])
    func aRunWithRepeatsAtSeveralDepthsIsCopiedIntoSQLite(workers: Int) throws {
        let server = try Server.load()
        let (inputs, modules) = try Self.duplicateWorkload(milliseconds: 1)
        let arguments = ["--modules", modules, "--input", inputs, "--threads", "1"]
        let expected = try Self.reference(server, arguments)
        #expect(expected.roots.count > 400)
        let database = try server.createDatabase()
        let processes = try (0..<workers).map { _ in try Self.wadup(arguments + ["--output", server.url(database)], environment: server.environment) }
        for p in processes { #expect(try p.wait().status == 0, "\(p.stderr)") }
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_content WHERE status = 'duplicate'") > 50)
        // A repeat at depth 0 links to the same bytes met first inside the archive: the order a
        // copy by depth would break.
        #expect(try server.count(database, """
            SELECT count(*) FROM __wadup_content d JOIN __wadup_content o ON o.uuid = d.duplicate_of WHERE o.depth > d.depth
            """) > 0)
        #expect(try Distinct.postgres(server, database) == expected)
        #expect(try Self.mergedCopy(server, database) == expected)
    }

    @Test func aServerRestartUnderLoadIsRiddenOutByBothWorkers() throws {
        let server = try Server.load()
        let (inputs, modules) = try Self.duplicateWorkload(milliseconds: 8)
        let arguments = ["--modules", modules, "--input", inputs, "--threads", "1"]
        let expected = try Self.reference(server, arguments)
        let database = try server.createDatabase()
        let shared = arguments + ["--output", server.url(database), "--lease-timeout", "5s", "--reconnect-timeout", "30s"]
        let processes = try (0..<2).map { _ in try Self.wadup(shared, environment: server.environment) }
        #expect(Self.waitForTrees(server, database, 20, while: processes))
        try Self.pgCtl(server, ["-m", "fast", "restart"])
        for p in processes { #expect(try p.wait().status == 0, "\(p.stderr)") }
        let logs = processes.map(\.stderr).joined()
        #expect(logs.contains("lost the connection to PostgreSQL at 127.0.0.1:\(server.port)"), "\(logs)")
        #expect(logs.contains("reconnected"), "\(logs)")
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_chunks WHERE state <> 'done'") == 0)
        #expect(try Distinct.postgres(server, database) == expected)
        #expect(try Self.mergedCopy(server, database) == expected)
    }

    @Test func aServerAwayLongerThanTheReconnectTimeoutEndsTheWorkerAndTheSameCommandFinishes() throws {
        let server = try Server.load()
        let (inputs, modules) = try Self.duplicateWorkload(milliseconds: 8)
        let arguments = ["--modules", modules, "--input", inputs, "--threads", "1"]
        let expected = try Self.reference(server, arguments)
        let database = try server.createDatabase()
        let shared = arguments + ["--output", server.url(database), "--lease-timeout", "2s", "--reconnect-timeout", "3s"]
        let worker = try Self.wadup(shared, environment: server.environment)
        #expect(Self.waitForTrees(server, database, 20, while: [worker]))
        try Self.pgCtl(server, ["-m", "fast", "stop"])
        let stopped = Date()
        let exit = try worker.wait()
        let waited = Date().timeIntervalSince(stopped)
        try Self.pgCtl(server, ["start"])
        #expect(exit.status != 0 && exit.status != 130)
        #expect(!exit.signalled, "\(worker.stderr)")
        #expect(waited < 20, "gave up after the reconnect timeout, not later: \(waited) s")
        #expect(worker.stderr.contains("lost PostgreSQL at 127.0.0.1:\(server.port)"), "\(worker.stderr)")
        #expect(worker.stderr.contains("run the same command again"), "\(worker.stderr)")
        // The same command carries on once the server is back (after the leases expire).
        let again = try Self.wadup(shared, environment: server.environment)
        #expect(try again.wait().status == 0, "\(again.stderr)")
        #expect(try Distinct.postgres(server, database) == expected)
        #expect(try Self.mergedCopy(server, database) == expected)
    }

    @Test func ctrlCEndsAWorkerWhoseServerIsGoneWithinSeconds() throws {
        let server = try Server.load()
        let (inputs, modules) = try Self.duplicateWorkload(milliseconds: 8)
        let database = try server.createDatabase()
        let shared = ["--modules", modules, "--input", inputs, "--threads", "1", "--output", server.url(database), "--reconnect-timeout", "60s"]
        let worker = try Self.wadup(shared, environment: server.environment)
        #expect(Self.waitForTrees(server, database, 10, while: [worker]))
        try Self.pgCtl(server, ["-m", "immediate", "stop"])
        usleep(500_000)
        worker.send(SIGINT)
        let sent = Date()
        let exit = try worker.wait()
        let waited = Date().timeIntervalSince(sent)
        try Self.pgCtl(server, ["start"])
        #expect(exit.status != 0)
        #expect(!exit.signalled, "\(worker.stderr)")
        #expect(waited < 8, "one Ctrl-C ended it in \(waited) s: \(worker.stderr)")
        #expect(worker.stderr.contains("127.0.0.1:\(server.port)"), "\(worker.stderr)")
    }

    /// How often a test ends the workers' sessions.
    enum Terminations: String, CaseIterable, Sendable {
        /// Once, after 20 trees.
        case once
        /// Every quarter second from the fifth tree to the end, so that some end mid-insert
        /// (PostgresNIO's COPY trapped there; rows now travel as ordinary statements, which fail
        /// as lost connections and run again).
        case everyQuarterSecond
    }

    /// Ends every session of the run's database but the caller's: the workers' writers, claimers
    /// and lease renewers; returns how many.
    @discardableResult
    static func endSessions(_ server: Server, _ database: String) throws -> Int {
        try server.count(database, """
            SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend') t
            """)
    }

    @Test(arguments: Terminations.allCases)
    func workersWhoseConnectionsAreTerminatedReconnectAndFinish(_ terminations: Terminations) throws {
        let server = try Server.load()
        let (inputs, modules) = try Self.duplicateWorkload(milliseconds: 8)
        let arguments = ["--modules", modules, "--input", inputs, "--threads", "1"]
        let expected = try Self.reference(server, arguments)
        let database = try server.createDatabase()
        let shared = arguments + ["--output", server.url(database), "--reconnect-timeout", "20s"]
        let processes = try (0..<2).map { _ in try Self.wadup(shared, environment: server.environment) }
        switch terminations {
        case .once:
            #expect(Self.waitForTrees(server, database, 20, while: processes))
            #expect(try Self.endSessions(server, database) >= 6)
        case .everyQuarterSecond:
            #expect(Self.waitForTrees(server, database, 5, while: processes))
            var rounds = 0
            while processes.contains(where: \.isRunning) {
                _ = try? Self.endSessions(server, database)
                rounds += 1
                usleep(250_000)
            }
            #expect(rounds >= 4)
        }
        for p in processes {
            let exit = try p.wait()
            #expect(!exit.signalled && exit.status == 0, "\(p.stderr)")
        }
        let logs = processes.map(\.stderr).joined()
        #expect(logs.contains("reconnected"), "\(logs)")
        #expect(try Distinct.postgres(server, database) == expected)
        #expect(try Self.mergedCopy(server, database) == expected)
    }

    @Test func aSecondOverwriteOfARunInUseIsRefused() throws {
        let server = try Server.load()
        let (inputs, modules) = try Self.duplicateWorkload(milliseconds: 8)
        let arguments = ["--modules", modules, "--input", inputs, "--threads", "1"]
        let expected = try Self.reference(server, arguments)
        let database = try server.createDatabase()
        let shared = arguments + ["--output", server.url(database)]
        let first = try Self.wadup(shared, environment: server.environment)
        #expect(Self.waitForTrees(server, database, 5, while: [first]))
        let second = try Self.wadup(shared + ["--overwrite"], environment: server.environment)
        #expect(try second.wait().status == 2)
        #expect(second.stderr.contains(server.url(database).replacingOccurrences(of: "?sslmode=disable", with: "")), "\(second.stderr)")
        #expect(second.stderr.contains("in use by a live run") && second.stderr.contains("wait for it or stop it"), "\(second.stderr)")
        #expect(try first.wait().status == 0, "\(first.stderr)")
        #expect(try server.count(database, "SELECT count(*) FROM __wadup_run") == 1)
        #expect(try Distinct.postgres(server, database) == expected)
    }
}
