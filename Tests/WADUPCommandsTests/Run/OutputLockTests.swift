import Foundation
import GRDB
import Testing
import WADUPTestSupport

/// Two processes on one output: while a run lives, a second run (plain, `--overwrite` or
/// `--resume`) or a merge into its path is refused with exit 2 naming the path and the holder's
/// PID; a `kill -9`ed run leaves no stale lock; an output replaced under a live run fails it loudly.
@Suite(.serialized)
struct OutputLockTests {
    /// Burns about 10 ms of CPU per content on wasmtime, then inserts one row.
    static let slowModule: String = {
        let module = GuestModule(strings: ["t": "done", "c": #"[{"name":"v","data_type":"Int64"}]"#, "r": #"[{"Int64":1}]"#], body: """
            (local.set 0 (i32.const 20000000))
            (loop $l (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if $l (local.get 0)))
            (call $insert (call $define @t @c) @r)
            """)
        return module.text(locals: "(local i32)")
    }()

    /// Starts a run of ``slowModule`` over `files` one-byte files into a new `out.db`; returns once
    /// it has committed its first content.
    static func liveRun(files: Int = 300) throws -> (process: RunningProcess, modules: String, input: String, output: String) {
        let modules = try Harness.modules([("slow", slowModule)])
        let input = try Harness.inputs((0..<files).map { ("f\($0)", [UInt8($0 & 0xFF), UInt8($0 >> 8)]) })
        let output = Harness.temporaryDirectory() + "/out.db"
        let process = try Command.wadup(["--modules", modules, "--input", input, "--output", output, "--threads", "1"]).start()
        LiveDatabase.waitFor("SELECT count(*) FROM __wadup_content", in: output)
        try #require(process.isRunning, "the first run ended too early")
        return (process, modules, input, output)
    }

    @Test func whileARunLivesASecondRunOrMergeOnItsOutputIsRefusedAndTheFirstCompletes() throws {
        let live = try Self.liveRun()
        let other = try Harness.inputs([("x", [1])])
        for extra in [["--overwrite"], ["--resume"], []] {
            let second = try Command.wadup(["--modules", live.modules, "--input", extra == ["--resume"] ? live.input : other, "--output", live.output] + extra).run()
            #expect(second.status == 2, "\(extra)")
            let message = second.stderr
            #expect(message.contains("--output \(live.output) is in use by a live run or merge (PID \(live.process.pid) holds \(live.output)-lock)"), "\(extra): \(message)")
        }
        let merge = try Command.wadup(["merge", live.output, "--output", live.output]).run()
        #expect(merge.status == 2)
        #expect(merge.stderr.contains("is in use by a live run or merge"))
        let first = try live.process.wait()
        #expect(first.status == 0, "\(first)")
        try DatabaseQueue(path: live.output).read { db throws in
            #expect(try String.fetchOne(db, sql: "SELECT outcome FROM __wadup_run") == "complete")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM __wadup_content") == 300)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM done") == 300)
        }
        #expect(!FileManager.default.fileExists(atPath: live.output + "-lock"))
    }

    @Test func aRunKilledWithSIGKILLLeavesNoStaleLock() throws {
        let live = try Self.liveRun()
        live.process.send(SIGKILL)
        try live.process.wait()
        // The lock file may remain; its lock went with the process.
        let resumed = try Command.wadup(["--modules", live.modules, "--input", live.input, "--output", live.output, "--resume"]).run()
        #expect(resumed.status == 0, "\(resumed)")
        try DatabaseQueue(path: live.output).read { db throws in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM __wadup_content") == 300)
            #expect(try String.fetchOne(db, sql: "SELECT outcome FROM __wadup_run ORDER BY id DESC LIMIT 1") == "complete")
        }
        let replaced = try Command.wadup(["--modules", live.modules, "--input", live.input, "--output", live.output, "--overwrite"]).run()
        #expect(replaced.status == 0, "\(replaced)")
    }

    @Test func anOutputReplacedUnderALiveRunFailsItLoudly() throws {
        let live = try Self.liveRun(files: 150)
        try FileManager.default.moveItem(atPath: live.output, toPath: live.output + ".moved")
        try Data("not the run's".utf8).write(to: URL(fileURLWithPath: live.output))
        let exit = try live.process.wait()
        #expect(exit.status == 1)
        #expect(exit.stderr.contains("--output \(live.output) was removed or replaced while the run wrote it"))
    }
}
