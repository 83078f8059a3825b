import Foundation
import Testing
import WADUPCore
import WADUPPipeline
import WADUPTestSupport

/// A module's read-only data folder (`NAME.d/`, `--module-data`): seen at `/data` through WASI on
/// both engines, nothing written, nothing else of the host visible, its digest recorded and checked.
///
/// The probe (`Guests/Probes/rust_data_probe`, Rust std) reads `/data/hello.txt`, lists `/data`,
/// tries to create, append, truncate, unlink, make a folder, rename, read `/data/../secret.txt`
/// and read the host path its content names; one row says what it managed.
struct ModuleDataTests {
    static let probe = "rust_data_probe"

    /// A modules folder with the probe, its default data folder (`hello.txt` = `text`), and
    /// `secret.txt` beside the data folder (what `/data/../secret.txt` would reach).
    static func modules(text: String = "hello, data") throws -> String {
        let dir = try BuiltModules.folder([probe])
        try FileManager.default.createDirectory(atPath: "\(dir)/\(probe).d", withIntermediateDirectories: false)
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(dir)/\(probe).d/hello.txt"))
        try Data("secret".utf8).write(to: URL(fileURLWithPath: "\(dir)/secret.txt"))
        return dir
    }

    /// The folder's digest as docs/guide/module-data.md defines it, computed by Python.
    static func pythonDigest(_ folder: String) throws -> String {
        try python(
            """
            import hashlib, os, sys
            root = sys.argv[1]
            files = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs]
            h = hashlib.sha256()
            for rel in sorted(files, key=lambda p: p.encode()):
                data = open(os.path.join(root, rel), "rb").read()
                h.update(rel.encode() + b"\\0" + len(data).to_bytes(8, "big") + data)
            print(h.hexdigest())
            """, [folder]
        ).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every file under `folder` with its bytes: to show nothing changed.
    static func snapshot(_ folder: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for path in FileManager.default.subpaths(atPath: folder) ?? [] {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: "\(folder)/\(path)", isDirectory: &isDirectory)
            out[path] = isDirectory.boolValue ? Data() : try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(path)"))
        }
        return out
    }

    /// The probe's row: size, text, entries, then the forbidden operations that succeeded.
    static func row(_ outcome: Harness.Outcome) throws -> String? {
        try outcome.strings(
            """
            SELECT size || ' ' || text || ' ' || entries || ' ' ||
                (created + appended + truncated + removed + made_dir + renamed + parent_read + host_read) FROM data_probe
            """
        ).first
    }

    @Test(arguments: EngineKind.allCases)
    func aModuleReadsItsDataFolderAtSlashDataAndCanChangeNothingNorSeeAnythingElse(engine: EngineKind) throws {
        let modules = try Self.modules()
        let before = try Self.snapshot(modules)
        // The content names a host file by absolute path: the module must not read it.
        let input = try Harness.inputs([("target", Array("\(modules)/secret.txt".utf8))])
        let outcome = try Harness.run(modulesDirectory: modules, input: input, engine: engine)
        #expect(try outcome.contents().map(\.status) == ["success"])
        #expect(try Self.row(outcome) == "11 hello, data 1 0")
        #expect(try Self.snapshot(modules) == before)
        let digest = try Self.pythonDigest("\(modules)/\(Self.probe).d")
        #expect(try outcome.strings("SELECT data_sha256 FROM __wadup_modules WHERE name = '\(Self.probe)'") == [digest])
        let settings = try #require(try outcome.strings("SELECT settings FROM __wadup_run").first)
        #expect(settings.contains("\"dataSha256\":\"\(digest)\""))
    }

    @Test(arguments: EngineKind.allCases)
    func moduleDataOverridesTheFolderBesideTheModuleAndAModuleWithoutDataSeesNoFiles(engine: EngineKind) throws {
        let modules = try Self.modules()
        let other = Harness.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: "\(other)/nested", withIntermediateDirectories: true)
        try Data("other data".utf8).write(to: URL(fileURLWithPath: "\(other)/hello.txt"))
        try Data([0, 1, 2]).write(to: URL(fileURLWithPath: "\(other)/nested/b.bin"))
        let input = try Harness.inputs([("target", Array("/etc/passwd".utf8))])
        let overridden = try Harness.outcome(
            of: try Harness.pipeline(modulesDirectory: modules, input: input, engine: engine, moduleData: [Self.probe: other]))
        #expect(try Self.row(overridden) == "10 other data 2 0")
        #expect(try overridden.strings("SELECT data_sha256 FROM __wadup_modules") == [try Self.pythonDigest(other)])

        let bare = try BuiltModules.folder([Self.probe])
        let without = try Harness.run(modulesDirectory: bare, input: input, engine: engine)
        #expect(try Self.row(without) == "-1  -1 0")
        // A .wasm module has no runtime either: NULL, and left out of the settings.
        #expect(try without.ints("SELECT count(*) FROM __wadup_modules WHERE data_sha256 IS NULL AND runtime IS NULL") == [1])
        #expect(try without.strings("SELECT settings FROM __wadup_run").allSatisfy { !$0.contains("runtime") })
    }

    /// The error `pipeline` stops with before touching any input.
    static func refusal(_ modules: String, _ data: [String: String] = [:]) throws -> WADUPError? {
        let input = try Harness.inputs([("a", [1])])
        let pipeline = try Harness.pipeline(modulesDirectory: modules, input: input, engine: .wasmkit, moduleData: data)
        do {
            _ = try pipeline.run()
            return nil
        } catch {
            return error
        }
    }

    @Test func anUnknownModuleNameAMissingFolderALinkInsideOrTooMuchDataIsRefusedAtStart() throws {
        let modules = try Self.modules()
        let unknown = try #require(try Self.refusal(modules, ["nosuch": modules]))
        #expect(unknown.code == .usage)
        #expect(unknown.message.contains("module-data nosuch=") && unknown.message.contains("no module nosuch"))

        let missing = try #require(try Self.refusal(modules, [Self.probe: "/nonexistent/folder"]))
        #expect(missing.code == .usage)
        #expect(missing.message.contains("module-data \(Self.probe)=/nonexistent/folder"))

        let notFolder = try #require(try Self.refusal(modules, [Self.probe: "\(modules)/secret.txt"]))
        #expect(notFolder.message.contains("not a folder"))

        // A symbolic link inside the default folder: refused, whatever it points at.
        try FileManager.default.createSymbolicLink(atPath: "\(modules)/\(Self.probe).d/link", withDestinationPath: "hello.txt")
        let link = try #require(try Self.refusal(modules))
        #expect(link.code == .usage)
        #expect(link.message.contains("\(Self.probe).d/link is a symbolic link"))
        try FileManager.default.removeItem(atPath: "\(modules)/\(Self.probe).d/link")

        // Past 1 GiB in all (a sparse file: no disk used): refused before anything is read.
        let large = Harness.temporaryDirectory()
        _ = FileManager.default.createFile(atPath: large + "/big", contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: large + "/big"))
        try handle.truncate(atOffset: UInt64(ModuleData.maxBytes) + 1)
        try handle.close()
        let tooLarge = try #require(try Self.refusal(modules, [Self.probe: large]))
        #expect(tooLarge.code == .usage)
        #expect(tooLarge.message.contains("more than 1 GiB"))
    }

    @Test func aResumeWithChangedDataIsRefusedNamingTheModule() throws {
        let modules = try Self.modules()
        let input = try Harness.inputs([("a", [1])])
        let output = Harness.temporaryDirectory() + "/out.db"
        _ = try Harness.pipeline(modulesDirectory: modules, input: input, engine: .wasmkit, output: output).run()
        // The same data resumes (the run is complete: nothing to do).
        _ = try Harness.pipeline(modulesDirectory: modules, input: input, engine: .wasmkit, output: output, resume: true).run()
        try Data("changed".utf8).write(to: URL(fileURLWithPath: "\(modules)/\(Self.probe).d/hello.txt"))
        let changed = try Harness.pipeline(modulesDirectory: modules, input: input, engine: .wasmkit, output: output, resume: true)
        do {
            _ = try changed.run()
            Issue.record("a resume with other data ran")
        } catch {
            #expect(error.code == .resumeMismatch)
            #expect(error.message.contains("module-data \(Self.probe) "), "\(error.message)")
        }
    }
}
