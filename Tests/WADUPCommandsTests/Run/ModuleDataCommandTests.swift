import Foundation
import GRDB
import Testing
import WADUPTestSupport

/// `--module-data` and `NAME.d/` on the real binary: `run` (exit 2 naming the module or folder,
/// a resume with changed data refused as resume_mismatch), `try` and `check`; and the Python
/// runtime recorded beside the data digest (`__wadup_modules.runtime`, the settings' `runtime`).
struct ModuleDataCommandTests {
    static let probe = "rust_data_probe"

    /// A modules folder with the probe and its `NAME.d/hello.txt`; an input naming a host file.
    static func setUp() throws -> (modules: String, input: String) {
        let modules = try BuiltModules.folder([probe])
        try FileManager.default.createDirectory(atPath: "\(modules)/\(probe).d", withIntermediateDirectories: false)
        try Data("hello, data".utf8).write(to: URL(fileURLWithPath: "\(modules)/\(probe).d/hello.txt"))
        let input = try Harness.inputs([("target", Array("/etc/hostname".utf8))])
        return (modules, input)
    }

    @Test func anUnknownModuleNameOrAMissingFolderIsExit2NamingIt() throws {
        let (modules, input) = try Self.setUp()
        let base = ["--modules", modules, "--input", input, "--output", Harness.temporaryDirectory() + "/out.db"]
        let unknown = try Command.wadup(base + ["--module-data", "nosuch=\(modules)"]).run()
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("--module-data nosuch=\(modules): no module nosuch"), "\(unknown.stderr)")
        let missing = try Command.wadup(base + ["--module-data", "\(Self.probe)=\(modules)/absent"]).run()
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("--module-data \(Self.probe)=\(modules)/absent"), "\(missing.stderr)")
    }

    @Test func aResumeWithChangedDataIsResumeMismatchNamingTheModule() throws {
        let (modules, input) = try Self.setUp()
        let output = Harness.temporaryDirectory() + "/out.db"
        let arguments = ["--modules", modules, "--input", input, "--output", output]
        let first = try Command.wadup(arguments).run()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Command.wadup(arguments + ["--resume"]).run().status == 0)
        let other = Harness.temporaryDirectory()
        try Data("other".utf8).write(to: URL(fileURLWithPath: "\(other)/hello.txt"))
        let refused = try Command.wadup(arguments + ["--resume", "--module-data", "\(Self.probe)=\(other)"]).run()
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("cannot resume") && refused.stderr.contains("module-data \(Self.probe) "), "\(refused.stderr)")
    }

    /// A runtime as `PythonRuntime.provenance` spells it, the interpreter's digest made of `digit`.
    static func python(_ digit: Character) -> String {
        "CPython 3.11.2 (Debian python3.11 3.11.2-6); python.wasm sha256 \(String(repeating: digit, count: 64))"
    }

    /// Makes the run at `path` one whose probe ran on `runtime`, as a Python module's run records it
    /// (no Python runtime here): in the first attempt's settings and in `__wadup_modules`.
    static func record(runtime: String, in path: String, outcome: String? = nil) throws {
        let db = try DatabaseQueue(path: path)
        try db.write { db in
            try db.execute(
                sql: "UPDATE __wadup_run SET settings = replace(settings, ?, ?)",
                arguments: ["\"name\":\"\(probe)\",", "\"name\":\"\(probe)\",\"runtime\":\"\(runtime)\","])
            try db.execute(sql: "UPDATE __wadup_modules SET runtime = ?", arguments: [runtime])
            if let outcome { try db.execute(sql: "UPDATE __wadup_run SET outcome = ?", arguments: [outcome]) }
        }
        try db.close()
    }

    @Test func aResumeWhoseModuleHasAnotherRuntimeIsResumeMismatchNamingTheModuleAndBothRuntimes() throws {
        let (modules, input) = try Self.setUp()
        let output = Harness.temporaryDirectory() + "/out.db"
        let arguments = ["--modules", modules, "--input", input, "--output", output]
        let first = try Command.wadup(arguments).run()
        #expect(first.status == 0, "\(first.stderr)")
        try Self.record(runtime: Self.python("1"), in: output, outcome: "interrupted")
        let before = try Data(contentsOf: URL(fileURLWithPath: output))
        let refused = try Command.wadup(arguments + ["--resume"]).run()
        #expect(refused.status == 2)
        #expect(
            refused.stderr.contains("cannot resume") && refused.stderr.contains("runtime \(Self.probe) none (the run has \(Self.probe) \(Self.python("1")))"),
            "\(refused.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == before, "the database is left untouched")
    }

    @Test func tryAndCheckUseTheFolderBesideTheModuleOrTheOneGiven() throws {
        let (modules, input) = try Self.setUp()
        let module = "\(modules)/\(Self.probe).wasm"
        let tried = try Command.wadup(["try", module, input + "/target"]).run()
        #expect(tried.status == 0, "\(tried.stderr)")
        #expect(tried.stdout.contains("data \(modules)/\(Self.probe).d at /data: 1 files, 11 bytes"), "\(tried.stdout)")
        #expect(tried.stdout.contains("hello, data"))
        let other = Harness.temporaryDirectory()
        try Data("other".utf8).write(to: URL(fileURLWithPath: "\(other)/hello.txt"))
        let overridden = try Command.wadup(["try", module, input + "/target", "--module-data", other]).run()
        #expect(overridden.status == 0 && overridden.stdout.contains("data \(other) at /data: 1 files, 5 bytes"), "\(overridden.stdout)")
        #expect(!overridden.stdout.contains("hello, data"))
        let checked = try Command.wadup(["check", module]).run()
        #expect(checked.status == 0 && checked.stdout.contains("data: \(modules)/\(Self.probe).d, read-only at /data (1 files, 11 bytes"), "\(checked.stdout)")
        let missing = try Command.wadup(["check", module, "--module-data", other + "/absent"]).run()
        #expect(missing.status == 2 && missing.stdout.contains("--module-data \(Self.probe)=\(other)/absent"), "\(missing.stdout)")
    }

    /// The first run in its own process (its lock ends with it), then one resume.
    @Test func aDatabaseWrittenBeforeDataFoldersAndPythonModulesIsReadAndResumedAndGainsTheColumns() throws {
        let modules = try BuiltModules.folder([Self.probe])
        let input = try Harness.inputs([("a", [1]), ("b", [2])])
        let output = Harness.temporaryDirectory() + "/out.db"
        let arguments = ["--modules", modules, "--input", input, "--output", output]
        let first = try Command.wadup(arguments).run()
        #expect(first.status == 0, "\(first.stderr)")
        // As an earlier version left it: no data_sha256 nor runtime, and the run not finished.
        let old = try DatabaseQueue(path: output)
        try old.write { db in
            try db.execute(sql: "ALTER TABLE __wadup_modules DROP COLUMN data_sha256")
            try db.execute(sql: "ALTER TABLE __wadup_modules DROP COLUMN runtime")
            try db.execute(sql: "UPDATE __wadup_run SET outcome = 'interrupted'")
        }
        try old.close()
        let read = try Command.wadup(["stats", output]).run()
        #expect(read.status == 0 && read.stdout.contains(Self.probe) && !read.stdout.contains("runtime"), "\(read.stderr)")
        let resumed = try Command.wadup(arguments + ["--resume"]).run()
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let rows = try DatabaseQueue(path: output).read {
            try String.fetchAll(
                $0, sql: "SELECT name || ' ' || runs || ' ' || coalesce(data_sha256, 'NULL') || ' ' || coalesce(runtime, 'NULL') FROM __wadup_modules")
        }
        #expect(rows == ["\(Self.probe) 2 NULL NULL"])
        let stats = try Command.wadup(["stats", output]).run()
        #expect(stats.status == 0, "\(stats.stderr)")
    }

    @Test func mergedShardsKeepTheDigestAndRuntimeAndPartsWithOtherDataOrRuntimeAreRefused() throws {
        let (modules, _) = try Self.setUp()
        let input = try Harness.inputs((0..<8).map { ("f\($0)", Array("/etc/hostname".utf8)) })
        let dir = Harness.temporaryDirectory()
        var parts: [String] = []
        for k in 0..<2 {
            let part = "\(dir)/part\(k).db"
            let run = try Command.wadup(["--modules", modules, "--input", input, "--output", part, "--shard", "\(k)/2"]).run()
            #expect(run.status == 0, "\(run.stderr)")
            parts.append(part)
        }
        // A wasm-only run shows no runtime column.
        let plain = try Command.wadup(["stats", parts[0]]).run()
        #expect(plain.status == 0 && !plain.stdout.contains("runtime"), "\(plain.stdout)")
        // Both parts as a run of a Python module on one runtime.
        for part in parts { try Self.record(runtime: Self.python("1"), in: part) }
        let merged = try Command.wadup(["merge"] + parts + ["--output", dir + "/merged.db"]).run()
        #expect(merged.status == 0, "\(merged.stderr)")
        let digest = { (path: String) in
            try DatabaseQueue(path: path).read { try String.fetchAll($0, sql: "SELECT data_sha256 || ' ' || runtime FROM __wadup_modules") }
        }
        #expect(try digest(dir + "/merged.db") == digest(parts[0]))
        let recorded = try #require(try digest(parts[0]).first)
        #expect(recorded.prefix(64).allSatisfy(\.isHexDigit) && recorded.dropFirst(64) == " " + Self.python("1"))
        // The views show it: stats with the interpreter's digest cut to 16 digits, the report whole.
        let stats = try Command.wadup(["stats", dir + "/merged.db"]).run()
        #expect(stats.status == 0 && stats.stdout.contains("runtime"), "\(stats.stderr)")
        #expect(stats.stdout.contains("CPython 3.11.2 (Debian python3.11 3.11.2-6); python.wasm sha256 1111111111111111"), "\(stats.stdout)")
        #expect(!stats.stdout.contains(String(repeating: "1", count: 17)), "\(stats.stdout)")
        let report = try Command.wadup(["report", dir + "/merged.db", "--output", dir + "/report.html"]).run()
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try String(contentsOfFile: dir + "/report.html", encoding: .utf8).contains(",\"\(Self.python("1"))\"]"))
        // A part on another runtime is refused, naming the module and both runtimes.
        let otherRuntime = "\(dir)/other-runtime.db"
        try FileManager.default.copyItem(atPath: parts[1], toPath: otherRuntime)
        let db = try DatabaseQueue(path: otherRuntime)
        try db.write { try $0.execute(sql: "UPDATE __wadup_run SET settings = replace(settings, ?, ?)", arguments: [Self.python("1"), Self.python("2")]) }
        try db.close()
        let refused = try Command.wadup(["merge", parts[0], otherRuntime, "--output", dir + "/refused.db"]).run()
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(
            refused.stderr.contains("was run with other runtime than \(parts[0]): \(Self.probe) \(Self.python("2")) against \(Self.probe) \(Self.python("1"))"),
            "\(refused.stderr)")

        let other = Harness.temporaryDirectory()
        try Data("other".utf8).write(to: URL(fileURLWithPath: "\(other)/hello.txt"))
        let otherPart = "\(dir)/other.db"
        let run = try Command.wadup(["--modules", modules, "--input", input, "--output", otherPart, "--shard", "1/2", "--module-data", "\(Self.probe)=\(other)"]).run()
        #expect(run.status == 0, "\(run.stderr)")
        let mixed = try Command.wadup(["merge", parts[0], otherPart, "--output", dir + "/mixed.db"]).run()
        #expect(mixed.status == 2 && mixed.stderr.contains("module-data"), "\(mixed.stderr)")
    }
}
