import Foundation
import GRDB
import Testing
import WADUPPipeline
import WADUPCommands

enum SQLiteFileCheck {
    static func isDatabase(_ path: String) -> Bool {
        (try? DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content") }) != nil
    }
}

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
        #expect(SQLiteFileCheck.isDatabase(out))
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

    /// Starts the real `wadup` with `arguments`; stderr goes to the returned file.
    static func launch(_ arguments: [String], environment: [String: String] = [:]) throws -> (process: Process, stderr: String) {
        let binary = Harness.wadupBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first (swift build -c release)")
        let stderr = Harness.temporaryDirectory() + "/stderr.txt"
        try #require(FileManager.default.createFile(atPath: stderr, contents: nil))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, stderr)
    }

    /// Waits until `sql` on the database at `path` gives a value above 0 (or 60 s pass).
    static func waitFor(_ sql: String, in path: String) {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            // Read-only: opening the path must never create the database before wadup does.
            var configuration = Configuration()
            configuration.readonly = true
            guard FileManager.default.fileExists(atPath: path), let db = try? DatabaseQueue(path: path, configuration: configuration) else { continue }
            if let n = try? db.read({ try Int.fetchOne($0, sql: sql) }), n > 0 { return }
        }
    }

    /// Waits up to `seconds` for `process` to end; returns whether it did.
    static func waitForExit(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return !process.isRunning
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
        let text = module.text.replacingOccurrences(of: "(func (export \"process\") (result i32)", with: "(func (export \"process\") (result i32) (local i32)")
        let modules = try Harness.modules([("slow", text)])
        let inputs = try Harness.inputs((0..<2000).map { ("f\($0)", [UInt8($0 & 0xFF)]) })
        let out = Harness.temporaryDirectory() + "/out.db"
        let (process, _) = try Self.launch(["--modules", modules, "--input", inputs, "--output", out, "--threads", "2", "--engine", engine.rawValue])
        Self.waitFor("SELECT count(*) FROM __wadup_content", in: out)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
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
        let (process, _) = try Self.launch(["--modules", modules, "--input", inputs, "--output", out, "--threads", "2", "--engine", "wasmtime"])
        Self.waitFor("SELECT count(*) FROM __wadup_run", in: out)
        Thread.sleep(forTimeInterval: 0.3)
        let start = Date()
        kill(process.processIdentifier, SIGINT)
        #expect(Self.waitForExit(process, seconds: 1))
        let elapsed = Date().timeIntervalSince(start)
        if process.isRunning { process.terminate(); kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(elapsed < 1)
        #expect(process.terminationStatus == 130)
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
        let (process, _) = try Self.launch(["--modules", modules, "--input", inputs, "--output", out, "--threads", "2", "--engine", engine.rawValue, "--timeout", "0"])
        Self.waitFor("SELECT count(*) FROM __wadup_run", in: out)
        Thread.sleep(forTimeInterval: 0.2)
        kill(process.processIdentifier, signal)
        if engine == .wasmkit {
            Thread.sleep(forTimeInterval: 0.3)
            #expect(process.isRunning)  // still inside the loop: WasmKit cannot stop it
            kill(process.processIdentifier, signal)
        }
        #expect(Self.waitForExit(process, seconds: 1))
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + signal)
        #expect(try DatabaseQueue(path: out).read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
    }

    /// A signal while the standard modules compile (no compile cache: the format modules take a
    /// while) ends the run as interrupted with 128 + the signal; it does not blame a module.
    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalWhileModulesCompileEndsTheRunAsInterruptedNotAsAnInvalidModule(signal: Int32) throws {
        let out = Harness.temporaryDirectory() + "/out.db"
        let (process, stderr) = try Self.launch(["--input", input, "--output", out, "--no-cache"])
        Thread.sleep(forTimeInterval: 0.3)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let log = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 128 + signal, "\(log)")
        #expect(!log.contains("invalid module") && !log.contains("error:"), "\(log)")
    }

    @Test func theDefaultEngineIsWasmtimeAndIsRecordedWithItsVersion() throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        let out = Harness.temporaryDirectory() + "/out.db"
        #expect(WadupCommand.execute(["--modules", dir, "--input", input, "--output", out]) == 0)
        let version = try String(contentsOfFile: Harness.packageRoot.path + "/.build/wasmtime/libwasmtime.so.version", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try DatabaseQueue(path: out).read { try String.fetchOne($0, sql: "SELECT engine FROM __wadup_run") } == "wasmtime \(version)")
    }

    /// Without wasmtime's library the default falls back to WasmKit with one warning naming the
    /// path tried; asking for wasmtime explicitly is then a usage error.
    @Test func withoutTheLibraryTheDefaultFallsBackToWasmKitAndAnExplicitWasmtimeExitsWith2() throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        let missing = Harness.temporaryDirectory() + "/nowhere/libwasmtime.so"
        let out = Harness.temporaryDirectory() + "/out.db"
        let (fallback, stderr) = try Self.launch(["--modules", dir, "--input", input, "--output", out], environment: ["WADUP_WASMTIME_LIB": missing])
        fallback.waitUntilExit()
        #expect(fallback.terminationStatus == 0)
        let warnings = try String(contentsOfFile: stderr, encoding: .utf8).split(separator: "\n").filter { $0.contains("warning") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains(missing) == true)
        #expect(try DatabaseQueue(path: out).read { try String.fetchOne($0, sql: "SELECT engine FROM __wadup_run") } == "wasmkit 0.4.2")
        let (explicit, _) = try Self.launch(
            ["--modules", dir, "--input", input, "--output", out + "2", "--engine", "wasmtime"], environment: ["WADUP_WASMTIME_LIB": missing])
        explicit.waitUntilExit()
        #expect(explicit.terminationStatus == 2)
        #expect(!FileManager.default.fileExists(atPath: out + "2"))
    }

    @Test(arguments: [(["--timeout", "5"], Int32(2)), (["--timeout", "0"], Int32(0)), ([], Int32(0))])
    func wasmKitRefusesAWallClockLimitItCannotApply(extra: [String], code: Int32) throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        #expect(run(dir, extra, engine: .wasmkit).code == code)
    }
}
