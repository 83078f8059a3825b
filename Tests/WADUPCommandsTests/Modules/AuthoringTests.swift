import Foundation
import GRDB
import Testing
import WADUPCommands
import WADUPCore
import WADUPTestSupport

/// Module authoring and CLI polish: a size with a unit reaching the engine, `wadup check`, `wadup try`,
/// `wadup new` for each language built and run, `--version` (the units themselves: `WADUPCoreTests/UnitsTests`).
@Suite(.serialized)
struct AuthoringTests {
    /// Runs the real `wadup` binary; returns (exit status, stdout, stderr).
    static func wadup(_ arguments: [String], directory: String? = nil) throws -> (Int32, String, String) {
        let exit = try Command.wadup(arguments, directory: directory).run()
        return (exit.status, exit.stdout, exit.stderr)
    }

    /// `--max-memory` with a unit reaches the engine: a module growing to 2 pages fails at 64KiB, runs at 128KiB.
    @Test func aMemoryLimitWithAUnitIsTheLimitApplied() throws {
        let grow = """
            (module (memory (export "memory") 1)
              (func (export "process") (result i32)
                (if (i32.lt_s (memory.grow (i32.const 1)) (i32.const 0)) (then unreachable))
                (i32.const 0)))
            """
        let modules = try Harness.modules([("grow", grow)])
        let input = try Harness.inputs([("a", [1])])
        for (limit, status) in [("64KiB", "failed"), ("128KiB", "success")] {
            let out = Harness.temporaryDirectory() + "/out.db"
            #expect(WadupCommand.execute(["--modules", modules, "--input", input, "--output", out, "--max-memory", limit, "--timeout", "1m"]) == 0)
            let got = try DatabaseQueue(path: out).read { try String.fetchOne($0, sql: "SELECT status FROM __wadup_content") }
            #expect(got == status, "\(limit)")
        }
        #expect(WadupCommand.execute(["--modules", modules, "--input", input, "--output", Harness.temporaryDirectory() + "/x.db", "--max-memory", "lots"]) == 2)
    }

    @Test func versionNamesTheABIAndBothEngines() throws {
        let (code, out, _) = try Self.wadup(["--version"])
        #expect(code == 0)
        #expect(out.hasPrefix("wadup "))
        #expect(out.contains("guest ABI \(ABI.version): \(ABI.hostFunctions.count) host functions"))
        #expect(out.contains("wasmkit ") && out.contains("wasmtime "))
    }

    @Test(arguments: [
        ("(module (func (export \"_start\")) (memory (export \"memory\") 1))", "exports _start but not process"),
        ("(module (import \"env\" \"nope\" (func)) (memory (export \"memory\") 1) (func (export \"process\") (result i32) (i32.const 0)))", "imports env.nope, which is not a WADUP host function"),
        ("(module (import \"env\" \"read_content\" (func (param i32) (result i32))) (memory (export \"memory\") 1) (func (export \"process\") (result i32) (i32.const 0)))", "imports env.read_content with type (i32) -> i32; the ABI's is (i32, i32, i32) -> i32"),
        ("(module (func (export \"process\") (result i32) (i32.const 0)))", "does not export its memory"),
        ("(module (memory (export \"memory\") 1) (func (export \"process\") (param i32) (result i32) (i32.const 0)))", "exports process with type (i32) -> i32"),
    ])
    func checkNamesEveryProblemWithARemedyAndExits2(wat: String, problem: String) throws {
        let dir = try Harness.modules([("m", wat)])
        let (code, out, _) = try Self.wadup(["check", dir + "/m.wasm"])
        #expect(code == 2)
        #expect(out.contains(problem), "\(out)")
        #expect(out.contains("remedy: "))
    }

    @Test func checkPassesAStandardModuleAndRefusesAFileThatIsNotOne() throws {
        let modules = try BuiltModules.folder(["zip_parser"])
        let (code, out, _) = try Self.wadup(["check", modules + "/zip_parser.wasm"])
        #expect(code == 0)
        #expect(out.contains("ok: "))
        let (bad, _, err) = try Self.wadup(["check", "/etc/hostname"])
        #expect(bad == 2)
        #expect(err.contains("is not a WebAssembly module"))
    }

    /// `wadup try` on a ZIP made by Python: the rows and sub-contents it prints are zipfile's listing and hashlib's digests.
    @Test func tryPrintsRowsAndSubContentsAsIndependentReadersSeeThem() throws {
        let dir = Harness.temporaryDirectory()
        let listing = try python("""
            import hashlib, sys, zipfile
            with zipfile.ZipFile(sys.argv[1] + "/t.zip", "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("a.txt", "alpha " * 100)
                z.writestr("dir/b.bin", bytes(range(256)) * 3)
            z = zipfile.ZipFile(sys.argv[1] + "/t.zip")
            for i in z.infolist():
                print(i.filename, i.file_size, hashlib.sha256(z.read(i)).hexdigest())
            """, [dir])
        let modules = try BuiltModules.folder(["zip_parser"])
        let (code, out, _) = try Self.wadup(["try", modules + "/zip_parser.wasm", dir + "/t.zip"])
        #expect(code == 0)
        #expect(out.contains("zip_entries: 2 rows"))
        let lines = out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        for entry in listing.split(separator: "\n") {
            let want = entry.split(separator: " ").map(String.init)
            #expect(lines.contains { $0 == want }, "sub-content \(want)")
            #expect(lines.contains { $0.first == want[0] && $0.contains(want[1]) && $0.count == 6 }, "row of \(want[0])")
        }
        let (bad, _, err) = try Self.wadup(["try", modules + "/zip_parser.wasm", dir + "/missing"])
        #expect(bad == 2)
        #expect(err.contains("missing"))
    }

    @Test func newRefusesAnExistingFolderAndAnInvalidName() throws {
        let dir = Harness.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/taken", withIntermediateDirectories: false)
        try #require(FileManager.default.createFile(atPath: dir + "/taken/keep.txt", contents: Data("mine".utf8)))
        let (code, _, err) = try Self.wadup(["new", "taken", "--language", "c"], directory: dir)
        #expect(code == 2)
        #expect(err.contains("exists"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/taken") == ["keep.txt"])
        let (invalid, _, _) = try Self.wadup(["new", "1-bad", "--language", "c"], directory: dir)
        #expect(invalid == 2)
    }

    /// From nothing to a running module in each language: `wadup new`, `build.sh`, `wadup try`; the
    /// row is the file's first 8 bytes in hex and its size, computed here from the file.
    @Test(arguments: ["c", "rust", "swift"])
    func aNewModuleBuildsAndRunsUnderTry(language: String) throws {
        let dir = Harness.temporaryDirectory()
        let name = "first_\(language)"
        let (created, _, err) = try Self.wadup(["new", name, "--language", language], directory: dir)
        #expect(created == 0, "\(err)")
        let built = try shell("./\(name)/build.sh", in: dir)
        try #require(built.succeeded, "\(built.output)")
        let sample: [UInt8] = Array("%PDF-1.7 sample content for the new module".utf8)
        try Data(sample).write(to: URL(fileURLWithPath: dir + "/sample.pdf"))
        let (code, out, _) = try Self.wadup(["try", "\(dir)/\(name)/\(name).wasm", dir + "/sample.pdf"])
        #expect(code == 0, "\(out)")
        let hex = sample.prefix(8).map { String(format: "%02x", $0) }.joined()
        #expect(out.contains("\(name): 1 row"))
        #expect(out.split(separator: "\n").contains { $0.split(separator: " ") == [Substring(hex), Substring(String(sample.count))] }, "\(out)")
        // Every language's template carries its manifest (Swift's in a C target beside the module).
        let (checked, report, _) = try Self.wadup(["check", "\(dir)/\(name)/\(name).wasm"])
        #expect(checked == 0)
        #expect(report.contains("manifest: role analyze"), "\(report)")
    }
}

extension AuthoringTests {
    /// The Python template: `wadup new --language python`, `build.sh` vendoring a pure-Python
    /// package from PyPI into `NAME.d/site-packages`, the script importing it under `wadup try`, and
    /// a package that needs a compiled extension refused by name.
    @Test func aNewPythonModuleVendorsItsPackagesAndRunsUnderTry() throws {
        let dir = Harness.temporaryDirectory()
        let name = "first_python"
        let (created, out, err) = try Self.wadup(["new", name, "--language", "python"], directory: dir)
        #expect(created == 0, "\(err)")
        #expect(out.contains("wadup try \(name)/\(name).py"), "\(out)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/\(name)/wadup.pyi"), "the API's stubs are copied for editors")
        try "pefile\n".write(toFile: "\(dir)/\(name)/requirements.txt", atomically: true, encoding: .utf8)
        let script = "\(dir)/\(name)/\(name).py"
        try (String(contentsOfFile: script, encoding: .utf8) + "\nimport pefile  # vendored by build.sh\n").write(toFile: script, atomically: true, encoding: .utf8)
        let built = try shell("./\(name)/build.sh", in: dir)
        try #require(built.succeeded, "\(built.output)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/\(name)/\(name).d/site-packages/pefile.py"))
        let sample: [UInt8] = Array("%PDF-1.7 sample content for the new module".utf8)
        try Data(sample).write(to: URL(fileURLWithPath: dir + "/sample.pdf"))
        let (code, tried, _) = try Self.wadup(["try", script, dir + "/sample.pdf"])
        #expect(code == 0, "\(tried)")
        let hex = sample.prefix(8).map { String(format: "%02x", $0) }.joined()
        #expect(tried.contains("\(name): 1 row"), "\(tried)")
        #expect(tried.split(separator: "\n").contains { $0.split(separator: " ") == [Substring(hex), Substring(String(sample.count))] }, "\(tried)")
        let (checked, report, _) = try Self.wadup(["check", script])
        #expect(checked == 0, "\(report)")
        #expect(report.contains("ok: \(script) can run under wadup"), "\(report)")

        try "lxml\n".write(toFile: "\(dir)/\(name)/requirements.txt", atomically: true, encoding: .utf8)
        let refused = try shell("./\(name)/build.sh", in: dir)
        #expect(!refused.succeeded)
        #expect(refused.output.contains("lxml has no pure-Python wheel"), "\(refused.output)")
    }
}
