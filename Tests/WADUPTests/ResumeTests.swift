import Foundation
import GRDB
import Testing
import WADUPPipeline
import WADUPCore

/// `--resume` on the real binary: killed with SIGKILL at many moments (between inputs, inside a
/// 20,000-entry archive's tree, while its writer commits), resumed (and killed again), the result
/// compared with one clean run content by content and row by row, by a reader of our own in Python.
///
/// These run on wasmtime only: what they test (the store, the walker, the bookkeeping) is the same
/// code on both engines, and a SIGKILL does not ask the engine anything.
@Suite(.serialized)
struct ResumeTests {
    /// 3,000 small files, a 20,000-entry archive, a copy of it (processed once), an SQLite database.
    static let evidence: String = {
        let dir = Harness.temporaryDirectory() + "/evidence"
        _ = try? GuestModuleTests.python(
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

    /// Every content as its path chain from its input (names as hex), sha256, size, status, depth,
    /// error and the path of the content it repeats; every module row with its content's path.
    /// Sorted: two databases holding the same results give the same lines, a content or row twice shows twice.
    ///
    /// `exact: false` gives what two runs share whichever occurrence of repeated bytes dedup chose
    /// (on several threads, timing chooses): every input with its sha256, size and whether it was
    /// processed or linked; how many times each sha256 was processed; every row with its content's sha256.
    static func dump(_ database: String, exact: Bool = true) throws -> [String] {
        try GuestModuleTests.python(
            """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            paths = dict(db.execute('''
                WITH RECURSIVE p(uuid, path) AS (
                    SELECT uuid, hex(coalesce(filename_bytes, CAST(filename AS BLOB))) FROM __wadup_content WHERE parent_uuid IS NULL
                    UNION ALL
                    SELECT c.uuid, p.path || '/' || hex(CAST(c.filename AS BLOB)) FROM __wadup_content c JOIN p ON c.parent_uuid = p.uuid)
                SELECT uuid, path FROM p''').fetchall())
            out = []
            for uuid, sha, size, status, depth, dup, err in db.execute(
                    "SELECT uuid, sha256, size, status, depth, duplicate_of, error_message FROM __wadup_content"):
                out.append(f"content {paths.get(uuid, 'ORPHAN')} {sha} {size} {status} {depth} {paths.get(dup, 'DANGLING') if dup else '-'} {err}")
            tables = [r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\\\_\\\\_wadup%' ESCAPE '\\\\' AND name NOT LIKE 'sqlite\\\\_%' ESCAPE '\\\\'")]
            for t in tables:
                for row in db.execute(f'SELECT * FROM "{t}"'):
                    out.append(f"row {t} {paths.get(row[0], 'ORPHAN')} {row[1:]!r}")
            if sys.argv[2] == "invariant":
                sha = dict(db.execute("SELECT uuid, sha256 FROM __wadup_content").fetchall())
                out = [f"input {paths.get(u)} {h} {n} {'processed' if s in ('success', 'duplicate') else s} {'DANGLING' if d and d not in sha else ''}"
                       for u, h, n, s, d in db.execute("SELECT uuid, sha256, size, status, duplicate_of FROM __wadup_content WHERE parent_uuid IS NULL")]
                out += [f"processed {h} {c}" for h, c in db.execute(
                    "SELECT sha256, count(*) FROM __wadup_content WHERE status IN ('success', 'failed') GROUP BY sha256")]
                for t in tables:
                    for row in db.execute(f'SELECT * FROM "{t}"'):
                        out.append(f"row {t} {sha.get(row[0], 'ORPHAN')} {row[1:]!r}")
            print("\\n".join(sorted(out)))
            """, [database, exact ? "exact" : "invariant"]
        ).split(separator: "\n").map(String.init)
    }

    static let cleanDatabase: String = {
        let out = Harness.temporaryDirectory() + "/clean.db"
        _ = wadup(["--input", evidence, "--output", out, "--threads", "1"])
        return out
    }()

    static let clean: [String] = (try? dump(cleanDatabase)) ?? []

    /// The modules of these runs unless a test names others: ZIP, SQLite and byte counts make the
    /// 23,000-content trees whose bookkeeping is tested; the format modules would only add time.
    static let modules: String = (try? GuestModuleTests.modules(["byte_counter", "sqlite_parser", "zip_parser"])) ?? "missing-modules"

    static func withModules(_ arguments: [String]) -> [String] {
        arguments.contains("--modules") ? arguments : arguments + ["--modules", modules]
    }

    /// Runs the real binary to its end; returns its exit code and stderr.
    @discardableResult
    static func wadup(_ arguments: [String], environment: [String: String] = [:]) -> (code: Int32, stderr: String) {
        guard let (process, stderr) = try? CommandTests.launch(withModules(arguments), environment: environment) else { return (-1, "") }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "")
    }

    /// Starts a run (or a resume), waits until `committed` contents are in the database (or the
    /// process ends first), and kills it.
    static func kill(_ arguments: [String], output: String, afterCommitted committed: Int) throws {
        let (process, stderr) = try CommandTests.launch(withModules(arguments))
        var configuration = Configuration()
        configuration.readonly = true
        while process.isRunning {
            if FileManager.default.fileExists(atPath: output), let db = try? DatabaseQueue(path: output, configuration: configuration),
                let count = try? db.read({ try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content") }), count ?? 0 >= committed
            {
                break
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        // Killed, or done (a resume with little left): a run that failed first would make every later check moot.
        #expect(process.terminationReason == .uncaughtSignal || process.terminationStatus == 0, "wadup ended before the kill: \((try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "")")
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
        let finished = Self.wadup(arguments + ["--resume"])
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
        let (process, stderr) = try CommandTests.launch(Self.withModules(arguments))
        CommandTests.waitFor("SELECT count(*) FROM __wadup_run", in: out)
        Thread.sleep(forTimeInterval: Double.random(in: 0...0.6))
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let log = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
        if process.terminationStatus != 0 {
            #expect(process.terminationReason == .exit && process.terminationStatus == 128 + signal, "\(log)")
            #expect(try DatabaseQueue(path: out).read { try String.fetchOne($0, sql: "SELECT outcome FROM __wadup_run") } == "interrupted")
            let finished = Self.wadup(arguments + ["--resume"])
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
        let finished = Self.wadup(["--input", Self.evidence, "--output", out, "--threads", "1", "--resume"])
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
        let otherModules = try GuestModuleTests.modules(["byte_counter"])
        let refused = Self.wadup(arguments + ["--resume", "--modules", otherModules])
        #expect(refused.code == 2)
        #expect(refused.stderr.contains("cannot resume") && refused.stderr.contains("modules [byte_counter"))
        let otherLimits = Self.wadup(arguments + ["--resume", "--max-recursion-depth", "3"])
        #expect(otherLimits.code == 2)
        #expect(otherLimits.stderr.contains("limits"))
        let otherInput = Self.wadup(["--input", Self.evidence + "/a", "--output", out, "--resume"])
        #expect(otherInput.code == 2)
        #expect(otherInput.stderr.contains("input \(Self.evidence)/a"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
        // A resume of a complete run changes nothing.
        #expect(Self.wadup(arguments + ["--resume"]).code == 0)
        let complete = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(Self.wadup(arguments + ["--resume"]).code == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == complete)
    }

    @Test func aFullDiskStopsTheRunWithExit1AndTheRunResumesAfterSpaceIsFreed() throws {
        let out = Harness.temporaryDirectory() + "/full.db"
        let arguments = ["--input", Self.evidence, "--output", out, "--threads", "1"]
        // SQLite's page limit stands in for a full disk: the database cannot grow past 4 MiB.
        let full = Self.wadup(arguments + ["--tuning", "max-page-count=1024"])
        #expect(full.code == 1)
        #expect(full.stderr.contains("database or disk is full") && full.stderr.contains("free space") && full.stderr.contains("--resume"))
        #expect(try DatabaseQueue(path: out).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_input") ?? 0 } > 0)
        let resumed = Self.wadup(arguments + ["--resume"])
        #expect(resumed.code == 0, "\(resumed.stderr)")
        #expect(try Self.dump(out) == Self.clean)
    }
}
