import Foundation
import GRDB
import Testing
import WADUPCommands
import WADUPCore
import WADUPRuntime
import WADUPTestSupport

/// A module's optional `init` export (docs/modules/ABI.md, "Initialization"): 0 runs the module,
/// 1 leaves it out of the run with one info line, anything else stops the run before any content
/// is read (exit code 2) with what the module logged at error level; `wadup check` and `wadup try`
/// say the same; every worker's instance calls it again.
@Suite(.serialized)
struct ModuleInitTests {
    /// A module whose `init` logs `message` at `level` and returns `code`; its `process` inserts the
    /// row `[1]` into `seen(n)`, defined by `init`.
    static func module(code: Int32, level: Int32 = 1, message: String = "", initBody: String? = nil) -> String {
        var module = GuestModule(
            strings: ["table": "seen", "columns": #"[{"name":"n","data_type":"Int64"}]"#, "row": #"[{"Int64":1}]"#, "message": message],
            body: "(drop (call $insert (global.get $table) @row)) (i32.const 0)")
        module.globals = "(global $table (mut i32) (i32.const -1))"
        module.functions = initBody.map { "(func (export \"init\") (result i32) \($0))" } ?? """
            (func (export "init") (result i32)
              (global.set $table (call $define @table @columns))
              \(message.isEmpty ? "" : "(drop (call $log (i32.const \(level)) @message))")
              (i32.const \(code)))
            """
        return module.text
    }

    /// Another module, always ready, so that a run has something to do when one declines.
    static let other = GuestModule(body: "(i32.const 0)").text

    func files() throws -> String { try Harness.inputs([("a", [1, 2, 3]), ("b", [4, 5])]) }

    @Test(arguments: EngineKind.allCases) func aModuleWhoseInitReturns0RunsOnEveryContent(engine: EngineKind) throws {
        let dir = try Harness.modules([("ready", Self.module(code: 0))])
        let outcome = try Harness.run(modulesDirectory: dir, input: try files(), threads: 2, engine: engine)
        #expect(try outcome.ints("SELECT COUNT(*) FROM seen") == [2])
        #expect(try outcome.strings("SELECT name FROM __wadup_modules") == ["ready"])
    }

    @Test(arguments: EngineKind.allCases) func aModuleWhoseInitDeclinesIsNotLoadedAndTheRunSaysSoInOneLine(engine: EngineKind) throws {
        let dir = try Harness.modules([
            ("other", Self.other),
            ("scanner", Self.module(code: 1, message: "no rules in scanner.d/ (give rules with --module-data scanner=DIR)")),
        ])
        let out = Harness.temporaryDirectory() + "/out.db"
        let exit = try Command.wadup(["--modules", dir, "--input", try files(), "--output", out, "--engine", engine.rawValue]).run()
        #expect(exit.succeeded, "\(exit)")
        let lines = exit.output.split(separator: "\n").filter { $0.contains("scanner") }
        #expect(lines.count == 1, "\(exit.output)")
        #expect(lines.first?.contains("scanner: no rules in scanner.d/ (give rules with --module-data scanner=DIR); not loaded") == true)
        let db = try DatabaseQueue(path: out)
        #expect(try db.read { try String.fetchAll($0, sql: "SELECT name FROM __wadup_modules") } == ["other"])
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM __wadup_content") } == 2)
    }

    @Test(arguments: EngineKind.allCases) func anInitErrorStopsTheRunBeforeAnyContentWithExitCode2AndTheModulesMessage(engine: EngineKind) throws {
        let message = "rules/bad.yar(3): error: syntax error, unexpected identifier"
        let dir = try Harness.modules([("other", Self.other), ("scanner", Self.module(code: 2, level: 3, message: message))])
        let out = Harness.temporaryDirectory() + "/out.db"
        let exit = try Command.wadup(["--modules", dir, "--input", try files(), "--output", out, "--engine", engine.rawValue]).run()
        #expect(exit.status == 2, "\(exit)")
        #expect(exit.stderr.contains("scanner: \(message)"), "\(exit)")
        #expect(!FileManager.default.fileExists(atPath: out))

        let error = try #require(throws: (any Error).self) { _ = try Harness.run(modulesDirectory: dir, input: try files(), engine: engine) }
        #expect("\(error)" == "scanner: \(message)")
    }

    @Test(arguments: EngineKind.allCases) func anInitErrorWithoutAnErrorLineNamesTheReturnedCode(engine: EngineKind) throws {
        let dir = try Harness.modules([("scanner", Self.module(code: 7))])
        let error = try #require(throws: (any Error).self) { _ = try Harness.run(modulesDirectory: dir, input: try files(), engine: engine) }
        #expect("\(error)" == "scanner: init returned 7")
    }

    @Test(arguments: EngineKind.allCases) func checkAndTryReportAnInitErrorAndADeclineAsARunDoes(engine: EngineKind) throws {
        let message = "bad.yar(1): error: syntax error"
        let dir = try Harness.modules([("failing", Self.module(code: 2, level: 3, message: message)), ("declining", Self.module(code: 1, message: "nothing to do"))])
        let file = try files() + "/a"

        let check = try Command.wadup(["check", dir + "/failing.wasm", "--engine", engine.rawValue]).run()
        #expect(check.status == 2)
        #expect(check.stdout.contains("init: failing: \(message)"), "\(check)")
        let tried = try Command.wadup(["try", dir + "/failing.wasm", file, "--engine", engine.rawValue]).run()
        #expect(tried.status == 2)
        #expect(tried.output.contains("failing: \(message)"), "\(tried)")

        let checkDeclining = try Command.wadup(["check", dir + "/declining.wasm", "--engine", engine.rawValue]).run()
        #expect(checkDeclining.succeeded, "\(checkDeclining)")
        #expect(checkDeclining.stdout.contains("declining: nothing to do; not loaded"), "\(checkDeclining)")
        let tryDeclining = try Command.wadup(["try", dir + "/declining.wasm", file, "--engine", engine.rawValue]).run()
        #expect(tryDeclining.succeeded, "\(tryDeclining)")
        #expect(tryDeclining.stdout.contains("declining: nothing to do; not loaded"), "\(tryDeclining)")
    }

    /// `init` gets 10 times `--fuel`: an init that needs more than one content's fuel but less
    /// than ten loads; one that never ends is refused as fuel exhausted, before any content.
    @Test(arguments: EngineKind.allCases) func initRunsUnderTheLargerInitBudgetAndAnEndlessInitIsRefused(engine: EngineKind) throws {
        let count = { (iterations: Int) in
            """
            (local $i i32)
            (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const \(iterations)))))
            (global.set $table (call $define @table @columns))
            (i32.const 0)
            """
        }
        let limits = RunLimits(fuel: 100_000)
        let heavy = try Harness.modules([("heavy", Self.module(code: 0, initBody: count(50_000)))])
        let outcome = try Harness.run(modulesDirectory: heavy, input: try files(), limits: limits, engine: engine)
        #expect(try outcome.ints("SELECT COUNT(*) FROM seen") == [2])

        let endless = try Harness.modules([("endless", Self.module(code: 0, initBody: "(loop $l (br $l)) (i32.const 0)"))])
        let error = try #require(throws: (any Error).self) { _ = try Harness.run(modulesDirectory: endless, input: try files(), limits: limits, engine: engine) }
        #expect("\(error)".contains("init failed: all 1000000 fuel consumed"), "\(error)")
    }

    @Test func theABIDocumentTheHeaderAndTheHostNameTheSameInitExport() throws {
        let document = try String(contentsOfFile: Harness.path("docs/modules/ABI.md"), encoding: .utf8)
        let header = try String(contentsOfFile: Harness.path("Guests/C/wadup.h"), encoding: .utf8)
        #expect(ABI.initExport == "init")
        #expect(document.contains("`init: () -> i32`"))
        #expect(header.contains("#define WADUP_INIT __attribute__((export_name(\"\(ABI.initExport)\")))"))
        #expect(header.contains("#define WADUP_INIT_READY   \(ModuleInitialization.readyCode)"))
        #expect(header.contains("#define WADUP_INIT_DECLINE \(ModuleInitialization.declinedCode)"))
    }
}
