import Foundation
import GRDB
import Testing
import WADUPCommands
import WADUPTestSupport

/// The `wadup` command: module validation, exit codes, the output rule, and Ctrl-C on the real binary.
@Suite(.serialized)
struct CommandTests {
    let input: String
    init() throws { input = try Harness.inputs([("a", [1, 2, 3])]) }

    func run(_ modules: String, _ extra: [String] = [], output: String? = nil, engine: EngineKind = .wasmtime) -> (code: Int32, output: String) {
        let out = output ?? Harness.temporaryDirectory() + "/out.db"
        return (WadupCommand.execute(["--modules", modules, "--input", input, "--output", out, "--engine", engine.rawValue] + extra), out)
    }

    static let validMemory = "(memory (export \"memory\") 1)"

    @Test(arguments: EngineKind.allCases, [
        ("(module)", "missing export \"process\""),
        ("(module \(validMemory))", "missing export \"process\""),
        ("(module (func (export \"process\") (result i32) (i32.const 0)))", "missing export \"memory\""),
        ("(module \(validMemory) (func (export \"process\") (param i32) (result i32) (i32.const 0)))", "export \"process\" has type"),
        ("(module (import \"env\" \"nope\" (func (result i32))) \(validMemory) (func (export \"process\") (result i32) (i32.const 0)))", "imports unknown host function env.nope"),
        ("(module (import \"env\" \"read_content\" (func (param i32) (result i32))) \(validMemory) (func (export \"process\") (result i32) (i32.const 0)))", "imports env.read_content with type"),
        ("(module (import \"os\" \"exec\" (func)) \(validMemory) (func (export \"process\") (result i32) (i32.const 0)))", "imports os.exec; only"),
        ("(module (import \"env\" \"mem\" (memory 1)) (func (export \"process\") (result i32) (i32.const 0)))", "imports env.mem, which is not a function"),
        ("(module (import \"wasi_snapshot_preview1\" \"no_such_call\" (func)) \(validMemory) (func (export \"process\") (result i32) (i32.const 0)))", "instantiation failed"),
    ])
    func incompleteModulesAreRefusedWithExitCode2(engine: EngineKind, module: (wat: String, message: String)) throws {
        let (wat, message) = module
        let dir = try Harness.modules([("bad", wat)])
        let (code, output) = run(dir, engine: engine)
        #expect(code == 2)
        #expect(!FileManager.default.fileExists(atPath: output))
        _ = message  // the message text is checked through ModuleSet below
        let error = try #require(throws: (any Error).self) {
            _ = try Harness.run(modulesDirectory: dir, input: input, engine: engine)
        }
        #expect("\(error)".contains(dir + "/bad.wasm"))
        #expect("\(error)".contains(message))
    }

    @Test(arguments: EngineKind.allCases) func corruptModuleIsRefused(engine: EngineKind) throws {
        let dir = Harness.temporaryDirectory()
        try Data([0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x01, 0xFF]).write(to: URL(fileURLWithPath: dir + "/broken.wasm"))
        #expect(run(dir, engine: engine).code == 2)
        let error = try #require(throws: (any Error).self) { _ = try Harness.run(modulesDirectory: dir, input: input, engine: engine) }
        #expect("\(error)".hasPrefix("invalid module \(dir)/broken.wasm: not a valid WebAssembly module"))
    }

    /// `_initialize` runs when the module is loaded, before any input: with a stack limit larger than
    /// the loading thread's default stack, a runaway recursion there is a refused module, not a crash.
    @Test(arguments: EngineKind.allCases) func aRunawayInitializerWithALargeStackLimitIsRefused(engine: EngineKind) throws {
        let dir = try Harness.modules([("r", """
            (module (memory (export "memory") 1)
              (func $r (param i32) (result i32) (call $r (i32.add (local.get 0) (i32.const 1))))
              (func (export "_initialize") (drop (call $r (i32.const 0))))
              (func (export "process") (result i32) (i32.const 0)))
            """)])
        #expect(run(dir, ["--max-stack", "\(100 << 20)"], engine: engine).code == 2)
    }

    @Test(arguments: EngineKind.allCases) func initialMemoryOverTheLimitIsRefused(engine: EngineKind) throws {
        let dir = try Harness.modules([("big", "(module (memory (export \"memory\") 4) (func (export \"process\") (result i32) (i32.const 0)))")])
        #expect(run(dir, ["--max-memory", "131072"], engine: engine).code == 2)
    }

    @Test(arguments: EngineKind.allCases) func anExistingOutputIsRefusedUnlessOverwriteAndOverwriteReplacesOnlyAWADUPDatabase(engine: EngineKind) throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        let out = Harness.temporaryDirectory() + "/out.db"
        #expect(run(dir, output: out, engine: engine).code == 0)
        try DatabaseQueue(path: out).write { try $0.execute(sql: "INSERT INTO __wadup_content (uuid, filename, processed_at, status, depth, size, sha256) VALUES ('x', 'old', 0, 'success', 0, 0, '')") }
        #expect(run(dir, output: out, engine: engine).code == 2)
        #expect(try DatabaseQueue(path: out).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content") } == 2)
        #expect(run(dir, ["--overwrite"], output: out, engine: engine).code == 0)
        let names = try DatabaseQueue(path: out).read { try String.fetchAll($0, sql: "SELECT filename FROM __wadup_content") }
        #expect(names == ["a"])
    }

    /// Files that are not WADUP's own output: a text file, another program's SQLite database, a
    /// folder full of files, a link to a file. `--overwrite` must leave every one of them as it was.
    @Test(arguments: EngineKind.allCases, ["text", "sqlite", "folder", "link"])
    func overwriteNeverDestroysWhatIsNotAWADUPDatabase(engine: EngineKind, kind: String) throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        let scratch = Harness.temporaryDirectory()
        let out = scratch + "/target"
        let evidence = scratch + "/evidence.bin"
        try Data("evidence".utf8).write(to: URL(fileURLWithPath: evidence))
        switch kind {
        case "text": try Data("keep me".utf8).write(to: URL(fileURLWithPath: out))
        case "sqlite": try DatabaseQueue(path: out).write { try $0.execute(sql: "CREATE TABLE cases(id INTEGER); INSERT INTO cases VALUES (7)") }
        case "folder":
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
            try Data("inside".utf8).write(to: URL(fileURLWithPath: out + "/note.txt"))
        default: try FileManager.default.createSymbolicLink(atPath: out, withDestinationPath: evidence)
        }
        let before = try Self.snapshot(scratch)
        let result = run(dir, ["--overwrite"], output: out, engine: engine)
        #expect(result.code == 2)
        #expect(try Self.snapshot(scratch) == before)
    }

    /// Every path under `root` with its bytes (files) or its target (links).
    static func snapshot(_ root: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for path in try FileManager.default.subpathsOfDirectory(atPath: root) {
            let full = root + "/" + path
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full) {
                result[path] = Data(("link:" + target).utf8)
            } else {
                result[path] = FileManager.default.contents(atPath: full) ?? Data("dir".utf8)
            }
        }
        return result
    }

    @Test(arguments: EngineKind.allCases) func theOutputDatabaseInsideTheInputIsNeverReadAsInput(engine: EngineKind) throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        let folder = try Harness.inputs([("a.txt", [1]), ("sub/b.txt", [2])])
        let out = folder + "/out.db"
        for extra in [[], ["--overwrite"]] {
            #expect(WadupCommand.execute(["--modules", dir, "--input", folder, "--output", out] + extra) == 0)
            let names = try DatabaseQueue(path: out).read { try String.fetchAll($0, sql: "SELECT filename FROM __wadup_content ORDER BY filename") }
            #expect(names == ["a.txt", "sub/b.txt"])
        }
        #expect(WadupCommand.execute(["--modules", dir, "--input", out, "--output", out, "--overwrite"]) == 2)
        #expect(LiveDatabase.isRunDatabase(out))
    }

    @Test(arguments: EngineKind.allCases, [["--threads", "0"], ["--fuel", "0"], ["--bogus"], ["--max-memory", "12"]])
    func usageErrorsExitWith2(engine: EngineKind, extra: [String]) throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        #expect(run(dir, extra, engine: engine).code == 2)
    }

    @Test(arguments: EngineKind.allCases) func missingModulesFolderAndInputAreUsageErrors(engine: EngineKind) throws {
        #expect(run("/nonexistent/modules").code == 2)
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        let out = Harness.temporaryDirectory() + "/o.db"
        #expect(WadupCommand.execute(["--modules", dir, "--input", "/nonexistent/in", "--output", out]) == 2)
    }

    @Test(arguments: EngineKind.allCases) func anUnwritableOutputExitsWith1(engine: EngineKind) throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        #expect(run(dir, output: "/nonexistent-dir/out.db", engine: engine).code == 1)
    }

    static let infiniteLoop = "(module (memory (export \"memory\") 1) (func (export \"process\") (result i32) (loop $l (br $l)) (i32.const 0)))"

    @Test(arguments: EngineKind.allCases) func ctrlCStopsCleanlyWithExitCode130AndAValidDatabase(engine: EngineKind) throws {
        // Each content burns CPU and then inserts one row: a content is recorded only with its row.
        let iterations = engine == .wasmtime ? 100_000_000 : 3_000_000
        let module = GuestModule(strings: ["t": "done", "c": #"[{"name":"v","data_type":"Int64"}]"#, "r": #"[{"Int64":1}]"#], body: """
            (local.set 0 (i32.const \(iterations)))
            (loop $l (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if $l (local.get 0)))
            (call $insert (call $define @t @c) @r)
            """)
        let modules = try Harness.modules([("slow", module.text(locals: "(local i32)"))])
        let inputs = try Harness.inputs((0..<2000).map { ("f\($0)", [UInt8($0 & 0xFF)]) })
        let out = Harness.temporaryDirectory() + "/out.db"
        let wadup = try Command.wadup(["--modules", modules, "--input", inputs, "--output", out, "--threads", "2", "--engine", engine.rawValue]).start()
        LiveDatabase.waitFor("SELECT count(*) FROM __wadup_content", in: out)
        wadup.send(SIGINT)
        #expect(try wadup.wait().status == 130)
        let db = try DatabaseQueue(path: out)
        try db.read { db in
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            #expect(try String.fetchOne(db, sql: "SELECT outcome FROM __wadup_run") == "interrupted")
            let contents = try Int.fetchOne(db, sql: "SELECT count(*) FROM __wadup_content") ?? 0
            #expect(contents > 0 && contents < 2000)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM done") == contents)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM __wadup_content WHERE status != 'success'") == 0)
        }
    }

    /// A module that never returns, with the default flags (no --fuel): on wasmtime one Ctrl-C ends
    /// the run within a second, recorded as interrupted, with the looping contents not recorded.
    @Test func oneCtrlCStopsALoopingModuleWithinASecondOnWasmtime() throws {
        let modules = try Harness.modules([("loop", Self.infiniteLoop)])
        let inputs = try Harness.inputs([("a", [1]), ("b", [2]), ("c", [3])])
        let out = Harness.temporaryDirectory() + "/out.db"
        let wadup = try Command.wadup(["--modules", modules, "--input", inputs, "--output", out, "--threads", "2", "--engine", "wasmtime"]).start()
        LiveDatabase.waitFor("SELECT count(*) FROM __wadup_run", in: out)
        Thread.sleep(forTimeInterval: 0.3)
        let start = Date()
        wadup.send(SIGINT)
        #expect(wadup.waitForExit(seconds: 1))
        let elapsed = Date().timeIntervalSince(start)
        if wadup.isRunning { wadup.send(SIGKILL) }
        let exit = try wadup.wait()
        #expect(elapsed < 1)
        #expect(exit.status == 130 && !exit.signalled, "\(exit)")
        try DatabaseQueue(path: out).read { db throws in
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            #expect(try String.fetchOne(db, sql: "SELECT outcome FROM __wadup_run") == "interrupted")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM __wadup_content") == 0)
        }
    }

    /// WasmKit cannot interrupt a looping module, so the first Ctrl-C waits for it; the second exits
    /// at once on both engines (with 128 + the signal: 130, 143), SIGTERM counting as Ctrl-C, and
    /// the database stays valid.
    @Test(arguments: EngineKind.allCases, [SIGINT, SIGTERM])
    func aSecondSignalExitsAtOnceWhateverTheModulesAreDoing(engine: EngineKind, signal: Int32) throws {
        let modules = try Harness.modules([("loop", Self.infiniteLoop)])
        let inputs = try Harness.inputs([("a", [1]), ("b", [2])])
        let out = Harness.temporaryDirectory() + "/out.db"
        let wadup = try Command.wadup(["--modules", modules, "--input", inputs, "--output", out, "--threads", "2", "--engine", engine.rawValue, "--timeout", "0"]).start()
        LiveDatabase.waitFor("SELECT count(*) FROM __wadup_run", in: out)
        Thread.sleep(forTimeInterval: 0.2)
        wadup.send(signal)
        if engine == .wasmkit {
            Thread.sleep(forTimeInterval: 0.3)
            #expect(wadup.isRunning)  // still inside the loop: WasmKit cannot stop it
            wadup.send(signal)
        }
        #expect(wadup.waitForExit(seconds: 1))
        if wadup.isRunning { wadup.send(SIGKILL) }
        let exit = try wadup.wait()
        #expect(exit.status == 128 + signal && !exit.signalled, "\(exit)")
        #expect(try DatabaseQueue(path: out).read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
    }

    /// A signal while the standard modules compile (no compile cache: the format modules take a
    /// while) ends the run as interrupted with 128 + the signal; it does not blame a module.
    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalWhileModulesCompileEndsTheRunAsInterruptedNotAsAnInvalidModule(signal: Int32) throws {
        let out = Harness.temporaryDirectory() + "/out.db"
        let wadup = try Command.wadup(["--input", input, "--output", out, "--no-cache"]).start()
        Thread.sleep(forTimeInterval: 0.3)
        wadup.send(signal)
        let exit = try wadup.wait()
        let log = exit.stderr
        #expect(exit.status == 128 + signal, "\(log)")
        #expect(!log.contains("invalid module") && !log.contains("error:"), "\(log)")
    }

    @Test func theDefaultEngineIsWasmtimeAndIsRecordedWithItsVersion() throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        let out = Harness.temporaryDirectory() + "/out.db"
        #expect(WadupCommand.execute(["--modules", dir, "--input", input, "--output", out]) == 0)
        let version = try String(contentsOfFile: Harness.path(".build/wasmtime/libwasmtime.so.version"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try DatabaseQueue(path: out).read { try String.fetchOne($0, sql: "SELECT engine FROM __wadup_run") } == "wasmtime \(version)")
    }

    /// Without wasmtime's library the default falls back to WasmKit with one warning naming the
    /// path tried; asking for wasmtime explicitly is then a usage error.
    @Test func withoutTheLibraryTheDefaultFallsBackToWasmKitAndAnExplicitWasmtimeExitsWith2() throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        let missing = Harness.temporaryDirectory() + "/nowhere/libwasmtime.so"
        let out = Harness.temporaryDirectory() + "/out.db"
        let fallback = try Command.wadup(["--modules", dir, "--input", input, "--output", out], adding: ["WADUP_WASMTIME_LIB": missing]).run()
        #expect(fallback.status == 0)
        let warnings = fallback.stderr.split(separator: "\n").filter { $0.contains("warning") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains(missing) == true)
        #expect(try DatabaseQueue(path: out).read { try String.fetchOne($0, sql: "SELECT engine FROM __wadup_run") } == "wasmkit 0.4.2")
        let explicit = try Command.wadup(
            ["--modules", dir, "--input", input, "--output", out + "2", "--engine", "wasmtime"], adding: ["WADUP_WASMTIME_LIB": missing]).run()
        #expect(explicit.status == 2)
        #expect(!FileManager.default.fileExists(atPath: out + "2"))
    }

    @Test(arguments: [(["--timeout", "5"], Int32(2)), (["--timeout", "0"], Int32(0)), ([], Int32(0))])
    func wasmKitRefusesAWallClockLimitItCannotApply(extra: [String], code: Int32) throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        #expect(run(dir, extra, engine: .wasmkit).code == code)
    }
}
