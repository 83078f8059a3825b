import Foundation
import GRDB
import Testing
import WADUPTestSupport

/// `--resume` on the real binary: killed with SIGKILL at many moments (between inputs, inside a
/// 20,000-entry archive's tree, while its writer commits), resumed (and killed again), the result
/// compared with one clean run content by content and row by row (``RunDump``).
///
/// These run on wasmtime only: what they test (the store, the walker, the bookkeeping) is the same
/// code on both engines, and a SIGKILL does not ask the engine anything.
@Suite(.serialized)
struct ResumeTests {
    /// 3,000 small files, a 20,000-entry archive, a copy of it (processed once), an SQLite database.
    static let evidence: String = {
        let dir = Harness.temporaryDirectory() + "/evidence"
        _ = try? python(
            """
            import os, random, shutil, sqlite3, sys, zipfile
            root = sys.argv[1]
            random.seed(7)
            os.makedirs(root + "/a")
            os.makedirs(root + "/b")
            for i in range(3000):
                open(f"{root}/a/f{i:04d}.txt", "wb").write(random.randbytes(random.randint(100, 3000)))
            with zipfile.ZipFile(root + "/b/archive.zip", "w", zipfile.ZIP_DEFLATED) as z:
                for i in range(20000):
                    z.writestr(f"e/{i:05d}.txt", (f"entry {i} " * random.randint(10, 300)).encode())
            shutil.copy(root + "/b/archive.zip", root + "/copy.zip")
            db = sqlite3.connect(root + "/b/x.db")
            db.execute("create table t(a)")
            db.executemany("insert into t values (?)", [(i,) for i in range(1000)])
            db.commit()
            db.close()
            """, [dir])
        return dir
    }()

    /// The run's dump: `exact` every content and row; otherwise what two runs share whichever
    /// occurrence of repeated bytes dedup chose (on several threads, timing chooses).
    static func dump(_ database: String, exact: Bool = true) throws -> [String] {
        try RunDump.sqlite(database).lines(exact ? .exact : .invariant)
    }

    static let cleanDatabase: String = {
        let out = Harness.temporaryDirectory() + "/clean.db"
        _ = try? wadup(["--input", evidence, "--output", out, "--threads", "1"])
        return out
    }()

    static let clean: [String] = (try? dump(cleanDatabase)) ?? []

    /// The modules of these runs unless a test names others: ZIP, SQLite and byte counts make the
    /// 23,000-content trees whose bookkeeping is tested; the format modules would only add time.
    static let modules: String = (try? BuiltModules.folder(["byte_counter", "sqlite_parser", "zip_parser"])) ?? "missing-modules"

    static func withModules(_ arguments: [String]) -> [String] {
        arguments.contains("--modules") ? arguments : arguments + ["--modules", modules]
    }

    /// Runs the real binary to its end; returns its exit code and stderr.
    @discardableResult
    static func wadup(_ arguments: [String], environment: [String: String] = [:]) throws -> (code: Int32, stderr: String) {
        let exit = try Command.wadup(withModules(arguments), adding: environment).run()
        return (exit.status, exit.stderr)
    }

    /// Starts a run (or a resume), waits until `committed` contents are in the database (or the
    /// process ends first), and kills it.
    static func kill(_ arguments: [String], output: String, afterCommitted committed: Int) throws {
        let wadup = try Command.wadup(withModules(arguments)).start()
        while wadup.isRunning {
            if let count = LiveDatabase.integer("SELECT count(*) FROM __wadup_content", in: output), count >= committed { break }
            Thread.sleep(forTimeInterval: 0.005)
        }
        wadup.send(SIGKILL)
        let exit = try wadup.wait()
        // Killed, or done (a resume with little left): a run that failed first would make every later check moot.
        #expect(exit.signalled || exit.status == 0, "wadup ended before the kill: \(exit)")
    }

    @Test(arguments: [1, 1500, 3200, 9000, 16000, 22500])
    func aRunKilledAtAnyMomentAndResumedEqualsOneCleanRun(committed: Int) throws {
        let clean = Self.clean
        #expect(clean.count > 60_000)
        let out = Harness.temporaryDirectory() + "/killed.db"
        let arguments = ["--input", Self.evidence, "--output", out, "--threads", "1"]
        try Self.kill(arguments, output: out, afterCommitted: committed)
        // The resume itself is killed once, then resumed to the end.
        try Self.kill(arguments + ["--resume"], output: out, afterCommitted: committed + 800)
        let finished = try Self.wadup(arguments + ["--resume"])
        #expect(finished.code == 0, "\(finished.stderr)")
        #expect(try Self.dump(out) == clean)
        let attempts = try DatabaseQueue(path: out).read { db in
            try Row.fetchAll(db, sql: "SELECT id, outcome, resumed_from FROM __wadup_run ORDER BY id").map { "\($0["id"] as Int) \($0["outcome"] as String) \(($0["resumed_from"] as Int?).map(String.init) ?? "-")" }
        }
        // One row per attempt; a killed attempt says so once a later one has started.
        #expect(attempts.count >= 2 && attempts.count <= 3)
        #expect(attempts.last?.hasSuffix(" complete \(attempts.count - 1)") == true)
        #expect(attempts.dropLast().allSatisfy { $0.contains(" killed ") || $0.contains(" complete ") })
    }

    /// SIGTERM (docker stop, systemd, Kubernetes, Slurm) and SIGHUP end a run like Ctrl-C, at a
    /// random moment: exit 128 + the signal, the run recorded as interrupted, and `--resume`
    /// finishes it with the results of a clean run.
    @Test(arguments: [SIGTERM, SIGHUP, SIGTERM, SIGHUP])
    func aRunEndedBySIGTERMOrSIGHUPExitsWithItsStatusAndResumesToACleanRunsResults(signal: Int32) throws {
        let out = Harness.temporaryDirectory() + "/signalled.db"
        let arguments = ["--input", Self.evidence, "--output", out, "--threads", "1"]
        let wadup = try Command.wadup(Self.withModules(arguments)).start()
        LiveDatabase.waitFor("SELECT count(*) FROM __wadup_run", in: out)
        Thread.sleep(forTimeInterval: Double.random(in: 0...0.6))
        wadup.send(signal)
        let exit = try wadup.wait()
        let log = exit.stderr
        if exit.status != 0 {
            #expect(!exit.signalled && exit.status == 128 + signal, "\(log)")
            #expect(try DatabaseQueue(path: out).read { try String.fetchOne($0, sql: "SELECT outcome FROM __wadup_run") } == "interrupted")
            let finished = try Self.wadup(arguments + ["--resume"])
            #expect(finished.code == 0, "\(finished.stderr)")
        }
        #expect(try Self.dump(out) == Self.clean)
    }

    /// On two threads (and a resume on another thread count) the same results, whichever
    /// occurrence of the repeated archive was processed.
    @Test(arguments: [2500, 12000])
    func aRunOnTwoThreadsKilledAndResumedOnOneHasTheResultsOfACleanRun(committed: Int) throws {
        let out = Harness.temporaryDirectory() + "/killed.db"
        try Self.kill(["--input", Self.evidence, "--output", out, "--threads", "2"], output: out, afterCommitted: committed)
        let finished = try Self.wadup(["--input", Self.evidence, "--output", out, "--threads", "1", "--resume"])
        #expect(finished.code == 0, "\(finished.stderr)")
        let expected = try Self.dump(Self.cleanDatabase, exact: false)
        #expect(expected.count > 40_000)
        #expect(try Self.dump(out, exact: false) == expected)
    }

    @Test func aResumeWithOtherModulesOrLimitsIsRefusedAndLeavesTheDatabaseUntouched() throws {
        let out = Harness.temporaryDirectory() + "/partial.db"
        let arguments = ["--input", Self.evidence, "--output", out, "--threads", "1"]
        try Self.kill(arguments, output: out, afterCommitted: 2000)
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let otherModules = try BuiltModules.folder(["byte_counter"])
        let refused = try Self.wadup(arguments + ["--resume", "--modules", otherModules])
        #expect(refused.code == 2)
        #expect(refused.stderr.contains("cannot resume") && refused.stderr.contains("modules [byte_counter"))
        let otherLimits = try Self.wadup(arguments + ["--resume", "--max-recursion-depth", "3"])
        #expect(otherLimits.code == 2)
        #expect(otherLimits.stderr.contains("limits"))
        let otherInput = try Self.wadup(["--input", Self.evidence + "/a", "--output", out, "--resume"])
        #expect(otherInput.code == 2)
        #expect(otherInput.stderr.contains("input \(Self.evidence)/a"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
        // A resume of a complete run changes nothing.
        #expect(try Self.wadup(arguments + ["--resume"]).code == 0)
        let complete = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(try Self.wadup(arguments + ["--resume"]).code == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == complete)
    }

    @Test func aFullDiskStopsTheRunWithExit1AndTheRunResumesAfterSpaceIsFreed() throws {
        let out = Harness.temporaryDirectory() + "/full.db"
        let arguments = ["--input", Self.evidence, "--output", out, "--threads", "1"]
        // SQLite's page limit stands in for a full disk: the database cannot grow past 4 MiB.
        let full = try Self.wadup(arguments + ["--tuning", "max-page-count=1024"])
        #expect(full.code == 1)
        #expect(full.stderr.contains("database or disk is full") && full.stderr.contains("free space") && full.stderr.contains("--resume"))
        #expect(try DatabaseQueue(path: out).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_input") ?? 0 } > 0)
        let resumed = try Self.wadup(arguments + ["--resume"])
        #expect(resumed.code == 0, "\(resumed.stderr)")
        #expect(try Self.dump(out) == Self.clean)
    }
}
