import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPPipeline
import WADUPRuntime
import WADUPTestSupport

/// `.py` modules on the CPython runtime (`scripts/formats/python.sh`), through a whole run on
/// wasmtime: the API, failures as data, the sandbox's walls, dispatch by `ACCEPTS`, the data folder,
/// pefile and email against native Python. (WasmKit runs the same interpreter, too slowly for the
/// suite's debug build: scripts/test-package.sh runs Python modules on both engines with the
/// release binary and compares their answers.)
@Suite(.serialized)
struct PythonModuleTests {
    /// A modules folder holding `NAME.py` for each script (and `NAME.d/` trees, by relative path).
    static func modules(_ scripts: [(name: String, source: String)], data: [String: [(path: String, text: String)]] = [:]) throws -> String {
        let dir = Harness.temporaryDirectory()
        for (name, source) in scripts { try source.write(toFile: "\(dir)/\(name).py", atomically: true, encoding: .utf8) }
        for (name, files) in data {
            for (path, text) in files {
                let file = "\(dir)/\(name).d/\(path)"
                try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: file, atomically: true, encoding: .utf8)
            }
        }
        return dir
    }

    static func run(
        _ scripts: [(name: String, source: String)], inputs: [(name: String, bytes: [UInt8])], engine: EngineKind,
        limits: RunLimits = RunLimits(), data: [String: [(path: String, text: String)]] = [:], threads: Int = 1
    ) throws -> Harness.Outcome {
        let pipeline = try Harness.pipeline(
            modulesDirectory: try modules(scripts, data: data), input: try Harness.inputs(inputs), threads: threads, limits: limits,
            dedup: false, engine: engine, python: try BuiltModules.python)
        return try Harness.outcome(of: pipeline)
    }

    static let trivial = """
        import wadup

        sizes = wadup.table("sizes", {"name": str, "size": int, "head": str, "ratio": float})

        def process(content):
            head = content[0:4]
            sizes.insert((content.filename, content.size, head.hex(), content.size / 2))
            if head == b"EMIT":
                wadup.emit("copy.bin", content.read(4, 3))
                wadup.emit_slice("slice.bin", 1, 2)
                with wadup.emit_stream("stream.bin") as s:
                    s.write(b"ab")
                    s.write(b"cd")
            wadup.log.info("saw %s" % content.filename)
        """

    @Test(arguments: [EngineKind.wasmtime])
    func aScriptWritesRowsAndEmitsSubcontentsThroughTheAPI(engine: EngineKind) throws {
        let outcome = try Self.run([("trivial", Self.trivial)], inputs: [("a.txt", Array("hello".utf8)), ("e.bin", Array("EMITxyz".utf8))], engine: engine)
        #expect(try outcome.strings("SELECT name || '|' || size || '|' || head || '|' || ratio FROM sizes ORDER BY name") == [
            "a.txt|5|68656c6c|2.5", "copy.bin|3|78797a|1.5", "e.bin|7|454d4954|3.5", "slice.bin|2|4d49|1.0", "stream.bin|4|61626364|2.0",
        ])
        #expect(try outcome.contents().allSatisfy { $0.status == "success" })
        #expect(try outcome.strings("SELECT sha256 FROM __wadup_modules WHERE name = 'trivial'") == [sha256Hex(Array(Self.trivial.utf8))])
    }

    @Test(arguments: [EngineKind.wasmtime])
    func anExceptionFailsThatContentWithItsTypeAndMessageAndTheNextRuns(engine: EngineKind) throws {
        let script = """
            import wadup
            seen = wadup.table("seen", {"name": str})
            def process(content):
                if content[0:1] == b"X":
                    raise ValueError("bad header in %s" % content.filename)
                seen.insert((content.filename,))
            """
        let outcome = try Self.run([("strict", script)], inputs: [("a", Array("X1".utf8)), ("b", Array("ok".utf8)), ("c", Array("X2".utf8))], engine: engine)
        let messages = try outcome.contents().map(\.errorMessage)
        #expect(messages.count == 3 && messages[1] == nil, "\(messages)")
        #expect(messages[0]?.hasPrefix("strict: nonzero_return: process returned 1: ValueError: bad header in a (/module/strict.py:5)") == true, "\(messages)")
        #expect(messages[2]?.hasPrefix("strict: nonzero_return: process returned 1: ValueError: bad header in c") == true, "\(messages)")
        #expect(try outcome.strings("SELECT name FROM seen") == ["b"])
    }

    @Test func aLoopingScriptIsARecordedTimeoutAndAGreedyOneAMemoryLimit() throws {
        let loop = "def process(content):\n    while True:\n        pass\n"
        let timed = try Self.run([("loop", loop)], inputs: [("a", [1])], engine: .wasmtime, limits: RunLimits(timeout: 1))
        #expect(try timed.contents().map(\.errorMessage).first??.hasPrefix("loop: timeout:") == true)
        let fueled = try Self.run([("loop", loop)], inputs: [("a", [1])], engine: .wasmtime, limits: RunLimits(fuel: 2_000_000_000))
        #expect(try fueled.contents().map(\.errorMessage).first??.hasPrefix("loop: fuel_exhausted:") == true)
        let greedy = "def process(content):\n    global kept\n    kept = bytearray(512 << 20)\n"
        let limited = try Self.run([("greedy", greedy)], inputs: [("a", [1])], engine: .wasmtime, limits: RunLimits(maxMemory: 128 << 20))
        let message = try limited.contents().first?.errorMessage ?? ""
        #expect(message.hasPrefix("greedy: memory_limit:"), "\(message)")
    }

    @Test(arguments: [EngineKind.wasmtime])
    func theSandboxHasNoSocketsNoProcessesAndNoFilesButItsOwn(engine: EngineKind) throws {
        let script = """
            import wadup
            out = wadup.table("walls", {"attempt": str, "result": str})
            def attempt(name, action):
                try:
                    action()
                    out.insert((name, "allowed"))
                except BaseException as e:
                    out.insert((name, type(e).__name__))
            def process(content):
                attempt("passwd", lambda: open("/etc/passwd").read())
                attempt("data-write", lambda: open("/data/new.txt", "w").write("x"))
                attempt("socket", lambda: __import__("socket").socket().connect(("127.0.0.1", 22)))
                attempt("subprocess", lambda: __import__("subprocess").run(["/bin/true"]))
                attempt("os.system", lambda: __import__("os").system("true"))
                out.insert(("data-read", open("/data/note.txt").read()))
            """
        let outcome = try Self.run([("walls", script)], inputs: [("a", [1])], engine: engine, data: ["walls": [("note.txt", "mine")]])
        let results = Dictionary(uniqueKeysWithValues: try outcome.strings("SELECT attempt || '=' || result FROM walls").map {
            let parts = $0.split(separator: "=", maxSplits: 1); return (String(parts[0]), String(parts[1]))
        })
        #expect(results["data-read"] == "mine")
        for attempt in ["passwd", "data-write", "socket", "subprocess", "os.system"] {
            #expect(results[attempt] != nil && results[attempt] != "allowed", "\(attempt): \(results[attempt] ?? "no row")")
        }
    }

    @Test(arguments: [EngineKind.wasmtime])
    func acceptsIsTheManifestAndASyntaxErrorRefusesTheModuleAtLoad(engine: EngineKind) throws {
        let picky = """
            import wadup
            ACCEPTS = {"magic": [{"offset": 0, "hex": "4d5a"}]}
            rows = wadup.table("mz_seen", {"name": str})
            def process(content):
                rows.insert((content.filename,))
            """
        let outcome = try Self.run([("picky", picky)], inputs: [("a.exe", Array("MZ..".utf8)), ("b.txt", Array("text".utf8))], engine: engine)
        #expect(try outcome.strings("SELECT name FROM mz_seen") == ["a.exe"])
        #expect(try outcome.strings("SELECT offered || ' ' || accepted FROM __wadup_modules") == ["2 1"])
        let broken = try Self.modules([("broken", "import wadup\ndef process(content)\n    pass\n")])
        do {
            _ = try ModuleSet.load(directory: broken, engine: try Harness.engine(engine, limits: RunLimits(), cacheDirectory: Harness.pythonCompileCache), python: try BuiltModules.python)
            Issue.record("a module with a syntax error loaded")
        } catch {
            #expect("\(error)".contains("broken: broken.py: import failed: SyntaxError: expected ':' (/module/broken.py:2)"), "\(error)")
        }
    }

    @Test(arguments: [EngineKind.wasmtime])
    func vendoredPackagesInTheDataFolderImport(engine: EngineKind) throws {
        let script = """
            import wadup, helper
            t = wadup.table("vendored", {"answer": int})
            def process(content):
                t.insert((helper.answer(),))
            """
        let outcome = try Self.run([("uses", script)], inputs: [("a", [1])], engine: engine,
                                   data: ["uses": [("site-packages/helper/__init__.py", "def answer():\n    return 42\n")]])
        #expect(try outcome.ints("SELECT answer FROM vendored") == [42])
    }

    /// A folder holding Debian's pure-Python `pefile` (python3-pefile), as `build.sh` would vendor it.
    static func vendoredPefile() throws -> String {
        let dir = Harness.temporaryDirectory() + "/site-packages"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for item in ["pefile.py", "ordlookup"] {
            try FileManager.default.copyItem(atPath: "/usr/lib/python3/dist-packages/\(item)", toPath: "\(dir)/\(item)")
        }
        return dir
    }

    /// pefile inside WADUP answers as native pefile (Debian's CPython 3.11 and python3-pefile) on the
    /// Windows PE files of this machine and the test's own: imphash, machine, every section.
    @Test(arguments: [EngineKind.wasmtime])
    func pefileInsideWadupAnswersAsNativePefile(engine: EngineKind) throws {
        let reader = """
            import json, sys, pefile
            out = {}
            for path in sys.argv[1:]:
                try:
                    pe = pefile.PE(path)
                except pefile.PEFormatError:
                    continue
                out[path.rsplit("/", 1)[-1]] = [pe.get_imphash(), pe.FILE_HEADER.Machine] + sorted(
                    "%s:%d:%d:%.6f" % (s.Name.rstrip(b"\\0").decode("latin-1"), s.VirtualAddress, s.SizeOfRawData, s.get_entropy()) for s in pe.sections)
            print(json.dumps(out))
            """
        let script = """
            import wadup, pefile
            ACCEPTS = {"magic": [{"offset": 0, "hex": "4d5a"}]}
            info = wadup.table("pe_seen", {"name": str, "imphash": str, "machine": int})
            sections = wadup.table("pe_sections", {"name": str, "section": str})
            def process(content):
                pe = pefile.PE(data=bytes(content))
                name = content.filename.rsplit("/", 1)[-1]
                info.insert((name, pe.get_imphash(), pe.FILE_HEADER.Machine))
                for s in pe.sections:
                    sections.insert((name, "%s:%d:%d:%.6f" % (s.Name.rstrip(b"\\0").decode("latin-1"), s.VirtualAddress, s.SizeOfRawData, s.get_entropy())))
            """
        let samples = Harness.temporaryDirectory() + "/in"
        _ = try Command("/usr/bin/python3", [Harness.path("Tests/Support/executable_expected.py"), "--make", samples]).output()
        let files = try FileManager.default.contentsOfDirectory(atPath: samples).sorted().filter { $0.lowercased().hasSuffix(".exe") || $0.lowercased().hasSuffix(".dll") }
        try #require(files.count >= 3, "\(files)")
        let native = try JSONSerialization.jsonObject(with: Data(try Command("/usr/bin/python3", ["-c", reader] + files.map { "\(samples)/\($0)" }).output().utf8)) as! [String: [Any]]
        let modules = try Self.modules([("pe_info", script)])
        try FileManager.default.createDirectory(atPath: modules + "/pe_info.d", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try Self.vendoredPefile(), toPath: modules + "/pe_info.d/site-packages")
        let pipeline = try Harness.pipeline(
            modulesDirectory: modules, input: samples, dedup: false, engine: engine, python: try BuiltModules.python)
        let outcome = try Harness.outcome(of: pipeline)
        #expect(native.count >= 3)
        for (name, want) in native {
            let got = try outcome.strings("SELECT imphash || '|' || machine FROM pe_seen WHERE name = '\(name)'")
            #expect(got == ["\(want[0])|\(want[1])"], "\(name)")
            let sections = try outcome.strings("SELECT section FROM pe_sections WHERE name = '\(name)' ORDER BY section")
            #expect(sections == want.dropFirst(2).map { "\($0)" }, "\(name)")
        }
    }

    /// The standard library's `email` inside WADUP: every attachment of a real multipart message
    /// (made by Python's own `email` natively) emitted, byte for byte what native `email` decodes.
    @Test(arguments: [EngineKind.wasmtime])
    func anEmailModuleEmitsTheAttachmentsNativeEmailDecodes(engine: EngineKind) throws {
        let maker = """
            import sys, os
            from email.message import EmailMessage
            m = EmailMessage()
            m["From"] = "a@example.org"; m["To"] = "b@example.org"; m["Subject"] = "Résumé"
            m.set_content("Body text\\n")
            m.add_attachment(os.urandom(5000), maintype="application", subtype="octet-stream", filename="blob.bin")
            m.add_attachment("ünïcode text\\n" * 50, subtype="plain", filename="notes.txt")
            open(sys.argv[1], "wb").write(bytes(m))
            """
        let input = Harness.temporaryDirectory()
        _ = try Command("/usr/bin/python3", ["-c", maker, input + "/mail.eml"]).output()
        let native = try Command("/usr/bin/python3", ["-c", """
            import sys, hashlib, email, email.policy
            m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
            for part in m.iter_attachments():
                print(part.get_filename(), hashlib.sha256(part.get_payload(decode=True)).hexdigest())
            """, input + "/mail.eml"]).output().split(separator: "\n").map(String.init).sorted()
        let script = """
            import wadup, email, email.policy
            ACCEPTS = {"names": ["*.eml"]}
            headers = wadup.table("mail_subjects", {"subject": str})
            def process(content):
                m = email.message_from_binary_file(content.open(), policy=email.policy.default)
                headers.insert((str(m["Subject"]),))
                for part in m.iter_attachments():
                    wadup.emit(part.get_filename(), part.get_payload(decode=True))
            """
        let pipeline = try Harness.pipeline(
            modulesDirectory: try Self.modules([("mail", script)]), input: input, dedup: false, engine: engine, python: try BuiltModules.python)
        let outcome = try Harness.outcome(of: pipeline)
        #expect(try outcome.strings("SELECT subject FROM mail_subjects") == ["Résumé"])
        #expect(try outcome.strings("SELECT filename || ' ' || sha256 FROM __wadup_content WHERE parent_uuid IS NOT NULL ORDER BY filename") == native)
        #expect(native.count == 2)
    }
}
