import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPPipeline
import WADUPRuntime
import WADUPTestSupport

/// Identification first, then each module on the contents its manifest accepts.
struct DispatchTests {
    /// Identifies by the first byte: `T` text, `F` fails after reporting (its type is dropped),
    /// anything else "application/x-other". Named to sort last: identifiers run first anyway.
    static let identifier = GuestModule(
        strings: ["text": "text/x-test", "textd": "a test file", "other": "application/x-other", "otherd": "something else"],
        body: """
            (drop (call $read (i32.const 0) (i32.const 1) (i32.const 0)))
            (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 84)) (then (return (call $set_type @text @textd))))
            (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 70)) (then (drop (call $set_type @text @textd)) (return (i32.const 1))))
            (call $set_type @other @otherd)
            """, manifest: #"{"version": 1, "role": "identify"}"#)

    /// Writes a row into `typed_text` when the type it reads is "text/x-test", else into `other`.
    static let texts = GuestModule(
        strings: ["t1": "typed_text", "t2": "other", "cols": #"[{"name":"v","data_type":"Int64"}]"#, "row": "[null]"],
        body: """
            (if (i32.eq (call $get_type (i32.const 0) (i32.const 64)) (i32.const 11))
              (then (drop (call $insert (call $define @t1 @cols) @row)))
              (else (drop (call $insert (call $define @t2 @cols) @row))))
            (i32.const 0)
            """, manifest: #"{"accepts": {"mime": ["text/*"]}}"#)

    static func rowWriter(_ table: String, manifest: String?) -> GuestModule {
        GuestModule(
            strings: ["t": table, "cols": #"[{"name":"v","data_type":"Int64"}]"#, "row": "[null]"],
            body: "(drop (call $insert (call $define @t @cols) @row)) (i32.const 0)", manifest: manifest)
    }

    static let inputs: [(name: String, bytes: [UInt8])] = [
        ("a.txt", Array("T hello".utf8)), ("b.exe", Array("MZ\u{0}\u{0}".utf8)), ("c.bin", Array("x".utf8)), ("d.bad", Array("F fail".utf8)),
    ]

    static func run(dispatch: Bool, engine: EngineKind) throws -> Harness.Outcome {
        let modules = try Harness.modules([
            ("z_ident", identifier.text), ("texts", texts.text),
            ("mz", rowWriter("mz_rows", manifest: #"{"accepts": {"magic": [{"offset": 0, "hex": "4d5a"}]}}"#).text),
            ("all", rowWriter("all_rows", manifest: nil).text),
            ("small", rowWriter("small_rows", manifest: #"{"accepts": {"max_size": 1}}"#).text),
        ])
        let output = Harness.temporaryDirectory() + "/out.db"
        let pipeline = Pipeline(
            configuration: RunConfiguration(
                modulesDirectory: modules, input: try Harness.inputs(inputs), output: output, threads: 1, dispatch: dispatch),
            engine: try Harness.engine(engine, limits: RunLimits()), logger: Harness.quietLogger)
        return try Harness.outcome(of: pipeline)
    }

    static func rows(_ outcome: Harness.Outcome, _ table: String) throws -> [String] {
        try outcome.strings("SELECT c.filename FROM \(table) t JOIN __wadup_content c ON c.uuid = t.content_uuid ORDER BY c.filename")
    }

    @Test(arguments: EngineKind.allCases)
    func aModuleRunsOnlyOnTheContentsItsManifestAccepts(engine: EngineKind) throws {
        let outcome = try Self.run(dispatch: true, engine: engine)
        #expect(try outcome.strings("SELECT filename || '=' || coalesce(mime, 'NULL') || '/' || coalesce(description, 'NULL') FROM __wadup_content ORDER BY filename") == [
            "a.txt=text/x-test/a test file", "b.exe=application/x-other/something else", "c.bin=application/x-other/something else", "d.bad=NULL/NULL",
        ])
        // `texts` accepts text/*: the text, and the content whose identifier failed (no type rules nothing out).
        #expect(try Self.rows(outcome, "typed_text") == ["a.txt"])
        #expect(try Self.rows(outcome, "other") == ["d.bad"])
        #expect(try Self.rows(outcome, "mz_rows") == ["b.exe"])
        #expect(try Self.rows(outcome, "all_rows") == ["a.txt", "b.exe", "c.bin", "d.bad"])
        #expect(try Self.rows(outcome, "small_rows") == ["c.bin"])
        #expect(try outcome.strings("SELECT name || ' ' || offered || ' ' || accepted || ' ' || runs FROM __wadup_modules ORDER BY name") == [
            "all 4 4 4", "mz 4 1 1", "small 4 1 1", "texts 4 2 2", "z_ident 4 4 4",
        ])
        #expect(try outcome.strings("SELECT status FROM __wadup_content WHERE filename = 'd.bad'") == ["failed"])
    }

    @Test(arguments: EngineKind.allCases)
    func withoutDispatchEveryModuleRunsOnEveryContent(engine: EngineKind) throws {
        let outcome = try Self.run(dispatch: false, engine: engine)
        #expect(try Self.rows(outcome, "typed_text") == ["a.txt"])
        #expect(try Self.rows(outcome, "other") == ["b.exe", "c.bin", "d.bad"])
        #expect(try Self.rows(outcome, "mz_rows") == ["a.txt", "b.exe", "c.bin", "d.bad"])
        #expect(try outcome.strings("SELECT name || ' ' || offered || ' ' || accepted FROM __wadup_modules ORDER BY name") == [
            "all 4 4", "mz 4 4", "small 4 4", "texts 4 4", "z_ident 4 4",
        ])
        #expect(try outcome.strings("SELECT coalesce(mime, 'NULL') FROM __wadup_content ORDER BY filename") == [
            "text/x-test", "application/x-other", "application/x-other", "NULL",
        ])
    }

    @Test(arguments: EngineKind.allCases)
    func onlyIdentifiersMayReportATypeAndTheyMustReportAMIMEType(engine: EngineKind) throws {
        let analyzer = GuestModule(strings: ["m": "text/plain", "d": "x"], body: "(call $set_type @m @d)")
        let bad = GuestModule(strings: ["m": "text plain", "d": "x"], body: "(call $set_type @m @d)", manifest: #"{"role":"identify"}"#)
        let outside = GuestModule(strings: ["m": "text/plain"], body: "(call $set_type @m (i32.const 65535) (i32.const 2))", manifest: #"{"role":"identify"}"#)
        for (module, code) in [(analyzer, "-10"), (bad, "-10"), (outside, "-1")] {
            let outcome = try Harness.run(modules: [("m", module.text)], inputs: [("a", [1])], engine: engine)
            let content = try #require(try outcome.contents().first)
            #expect(content.errorMessage == "m: nonzero_return: process returned \(code)")
            #expect(try outcome.strings("SELECT coalesce(mime, 'NULL') FROM __wadup_content") == ["NULL"])
        }
    }

    @Test func aMalformedManifestRefusesTheModuleAtLoadNamingTheFault() throws {
        let modules = try Harness.modules([("m", GuestModule(body: "(i32.const 0)", manifest: #"{"accepts":{"mime":["pdf"]}}"#).text)])
        #expect(throws: WADUPError.self) { _ = try ModuleSet.load(directory: modules, engine: try Harness.engine(.wasmkit, limits: RunLimits())) }
        do {
            _ = try ModuleSet.load(directory: modules, engine: try Harness.engine(.wasmkit, limits: RunLimits()))
        } catch let error as WADUPError {
            #expect(error.code == .invalidModule)
            #expect("\(error)".contains("m.wasm: malformed manifest (wadup.manifest section): accepts.mime: \"pdf\" is not a MIME pattern"))
        }
    }

    /// A module whose `wadup_accepts` export returns `json` (NUL-terminated in its memory) after `init`.
    static func exporting(_ json: String, table: String) -> GuestModule {
        var module = rowWriter(table, manifest: nil)
        module.add("accepts", bytes: Array(json.utf8) + [0])
        module.functions = #"(func (export "wadup_accepts") (result i32) @accepts drop)"#
        return module
    }

    @Test(arguments: EngineKind.allCases)
    func aManifestFromTheWadupAcceptsExportDispatchesLikeASection(engine: EngineKind) throws {
        let mz = Self.exporting(#"{"accepts": {"magic": [{"offset": 0, "hex": "4d5a"}]}}"#, table: "mz_rows")
        let set = try ModuleSet.load(directory: try Harness.modules([("mz", mz.text)]), engine: try Harness.engine(engine, limits: RunLimits()))
        #expect(set.entries.map(\.manifest) == [ModuleManifest(accepts: .init(magic: [.init(offset: 0, bytes: [0x4d, 0x5a])]))])
        let outcome = try Harness.run(modules: [("mz", mz.text)], inputs: Self.inputs, engine: engine)
        #expect(try Self.rows(outcome, "mz_rows") == ["b.exe"])
        // A section wins over the export.
        var both = mz
        both.manifest = #"{"accepts": {"names": ["*.txt"]}}"#
        let sectionFirst = try ModuleSet.load(directory: try Harness.modules([("m", both.text)]), engine: try Harness.engine(engine, limits: RunLimits()))
        #expect(sectionFirst.entries.map(\.manifest) == [ModuleManifest(accepts: .init(names: ["*.txt"]))])
    }

    @Test(arguments: EngineKind.allCases)
    func aMalformedOrUnterminatedManifestFromTheExportRefusesTheModule(engine: EngineKind) throws {
        var unterminated = Self.rowWriter("t", manifest: nil)
        // Every byte of its one page non-zero: no NUL anywhere.
        unterminated.functions = #"(func (export "wadup_accepts") (result i32) (memory.fill (i32.const 0) (i32.const 65) (i32.const 65536)) (i32.const 16))"#
        for (module, fault) in [
            (Self.exporting(#"{"accepts":{"mime":["pdf"]}}"#, table: "t"), #"malformed manifest (from wadup_accepts): accepts.mime: "pdf" is not a MIME pattern"#),
            (unterminated, "wadup_accepts returned text without a NUL"),
        ] {
            let modules = try Harness.modules([("m", module.text)])
            do {
                _ = try ModuleSet.load(directory: modules, engine: try Harness.engine(engine, limits: RunLimits()))
                Issue.record("loaded")
            } catch {
                #expect((error as? WADUPError)?.code == .invalidModule)
                #expect("\(error)".contains(fault), "\(error)")
            }
        }
    }

    @Test func aPythonModuleAndAWasmModuleOfOneNameAreRefused() throws {
        let modules = try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)])
        try "def process(content):\n    pass\n".write(toFile: modules + "/m.py", atomically: true, encoding: .utf8)
        do {
            _ = try ModuleSet.load(directory: modules, engine: try Harness.engine(.wasmkit, limits: RunLimits()))
            Issue.record("loaded")
        } catch {
            #expect("\(error)".contains("m.wasm and m.py are both there"), "\(error)")
        }
    }

    @Test func aPythonModuleWithoutTheRuntimeSaysWhereItLookedAndHowToGetIt() throws {
        let modules = Harness.temporaryDirectory()
        try "def process(content):\n    pass\n".write(toFile: modules + "/p.py", atomically: true, encoding: .utf8)
        do {
            _ = try ModuleSet.load(
                directory: modules, engine: try Harness.engine(.wasmkit, limits: RunLimits()), python: PythonRuntime(directory: modules + "/nowhere"))
            Issue.record("loaded")
        } catch {
            #expect("\(error)".contains("p.py: a Python module needs the Python runtime, and \(modules)/nowhere/python.wasm does not exist"), "\(error)")
            #expect("\(error)".contains("WADUP_PYTHON"))
        }
    }

    @Test func aManifestWrittenIntoAModuleFileIsReadBackAndReplaced() throws {
        let bytes = try GuestModule.compile(GuestModule(body: "(i32.const 0)").text)
        #expect(try ManifestReader.manifest(bytes: bytes, path: "m.wasm") == .everything)
        let once = try ManifestReader.replacingManifest(in: bytes, with: Array(#"{"role":"identify"}"#.utf8))
        let twice = try ManifestReader.replacingManifest(in: once, with: Array(#"{"accepts":{"names":["*.x"]}}"#.utf8))
        #expect(try ManifestReader.manifest(bytes: once, path: "m.wasm").role == .identify)
        #expect(try ManifestReader.manifest(bytes: twice, path: "m.wasm") == ModuleManifest(accepts: .init(names: ["*.x"])))
        #expect(twice.count < once.count + 40, "the first manifest was replaced, not kept")
    }
}
