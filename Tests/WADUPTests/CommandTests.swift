import Foundation
import GRDB
import Testing
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

    func run(_ modules: String, _ extra: [String] = [], output: String? = nil) -> (code: Int32, output: String) {
        let out = output ?? Harness.temporaryDirectory() + "/out.db"
        return (WadupCommand.execute(["--modules", modules, "--input", input, "--output", out] + extra), out)
    }

    static let validMemory = "(memory (export \"memory\") 1)"

    @Test(arguments: [
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
    func incompleteModulesAreRefusedWithExitCode2(wat: String, message: String) throws {
        let dir = try Harness.modules([("bad", wat)])
        let (code, output) = run(dir)
        #expect(code == 2)
        #expect(!FileManager.default.fileExists(atPath: output))
        _ = message  // the message text is checked through ModuleSet below
        let error = try #require(throws: (any Error).self) {
            _ = try Harness.run(modulesDirectory: dir, input: input)
        }
        #expect("\(error)".contains(dir + "/bad.wasm"))
        #expect("\(error)".contains(message))
    }

    @Test func corruptModuleIsRefused() throws {
        let dir = Harness.temporaryDirectory()
        try Data([0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x01, 0xFF]).write(to: URL(fileURLWithPath: dir + "/broken.wasm"))
        #expect(run(dir).code == 2)
        let error = try #require(throws: (any Error).self) { _ = try Harness.run(modulesDirectory: dir, input: input) }
        #expect("\(error)".hasPrefix("invalid module \(dir)/broken.wasm: not a valid WebAssembly module"))
    }

    @Test func initialMemoryOverTheLimitIsRefused() throws {
        let dir = try Harness.modules([("big", "(module (memory (export \"memory\") 4) (func (export \"process\") (result i32) (i32.const 0)))")])
        #expect(run(dir, ["--max-memory", "131072"]).code == 2)
    }

    @Test func anExistingOutputIsRefusedUnlessOverwriteAndOverwriteReplacesOnlyAWADUPDatabase() throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        let out = Harness.temporaryDirectory() + "/out.db"
        #expect(run(dir, output: out).code == 0)
        try DatabaseQueue(path: out).write { try $0.execute(sql: "INSERT INTO __wadup_content VALUES ('x', 'old', NULL, 0, 'success', NULL, 0, 0, '')") }
        #expect(run(dir, output: out).code == 2)
        #expect(try DatabaseQueue(path: out).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content") } == 2)
        #expect(run(dir, ["--overwrite"], output: out).code == 0)
        let names = try DatabaseQueue(path: out).read { try String.fetchAll($0, sql: "SELECT filename FROM __wadup_content") }
        #expect(names == ["a"])
    }

    /// Files that are not WADUP's own output: a text file, another program's SQLite database, a
    /// folder full of files, a link to a file. `--overwrite` must leave every one of them as it was.
    @Test(arguments: ["text", "sqlite", "folder", "link"])
    func overwriteNeverDestroysWhatIsNotAWADUPDatabase(kind: String) throws {
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
        let result = run(dir, ["--overwrite"], output: out)
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

    @Test func theOutputDatabaseInsideTheInputIsNeverReadAsInput() throws {
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

    @Test(arguments: [["--threads", "0"], ["--fuel", "0"], ["--bogus"], ["--max-memory", "12"]])
    func usageErrorsExitWith2(extra: [String]) throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        #expect(run(dir, extra).code == 2)
    }

    @Test func missingModulesFolderAndInputAreUsageErrors() throws {
        #expect(run("/nonexistent/modules").code == 2)
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        let out = Harness.temporaryDirectory() + "/o.db"
        #expect(WadupCommand.execute(["--modules", dir, "--input", "/nonexistent/in", "--output", out]) == 2)
    }

    @Test func anUnwritableOutputExitsWith1() throws {
        let dir = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        #expect(run(dir, output: "/nonexistent-dir/out.db").code == 1)
    }

    @Test func ctrlCStopsCleanlyWithExitCode130AndAValidDatabase() throws {
        let binary = Harness.wadupBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first (swift build -c release)")
        // Each content burns CPU and then inserts one row: a content is complete only with its row.
        let module = GuestModule(strings: ["t": "done", "c": #"[{"name":"v","data_type":"Int64"}]"#, "r": #"[{"Int64":1}]"#], body: """
            (local.set 0 (i32.const 3000000))
            (loop $l (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if $l (local.get 0)))
            (call $insert (call $define @t @c) @r)
            """)
        let text = module.text.replacingOccurrences(of: "(func (export \"process\") (result i32)", with: "(func (export \"process\") (result i32) (local i32)")
        let modules = try Harness.modules([("slow", text)])
        let inputs = try Harness.inputs((0..<2000).map { ("f\($0)", [UInt8($0 & 0xFF)]) })
        let out = Harness.temporaryDirectory() + "/out.db"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--modules", modules, "--input", inputs, "--output", out, "--threads", "2"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until some contents are committed, then interrupt.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            if let db = try? DatabaseQueue(path: out), let n = try? db.read({ try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content") }), n > 0 { break }
        }
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
}
