import Testing
import WADUPCore

/// What a manifest may say, what is refused, and which contents it accepts.
struct ModuleManifestTests {
    static func parse(_ text: String) throws(ModuleManifest.Fault) -> ModuleManifest { try ModuleManifest.parse(Array(text.utf8)) }

    final class Bytes: ContentBytes {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        func withBytes(at offset: Int64, count: Int, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
            bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<Int(offset) + count])) }
        }
    }

    static func candidate(_ bytes: [UInt8], name: String = "dir/file.bin", mime: String? = nil) -> ModuleManifest.Candidate {
        ModuleManifest.Candidate(size: Int64(bytes.count), filename: name, mime: mime, bytes: Bytes(bytes))
    }

    @Test func aFullManifestParsesIntoItsParts() throws {
        let m = try Self.parse("""
            {"version": 1, "role": "analyze", "accepts": {"mime": ["application/pdf", "text/*"], "names": ["*.pdf"],
             "magic": [{"offset": 0, "hex": "25504446"}, {"offset": -22, "range": 10, "hex": "504B"}], "min_size": 4, "max_size": null}}
            """)
        #expect(m.role == .analyze)
        #expect(m.accepts?.mime == ["application/pdf", "text/*"])
        #expect(m.accepts?.names == ["*.pdf"])
        #expect(m.accepts?.magic == [.init(offset: 0, bytes: [0x25, 0x50, 0x44, 0x46]), .init(offset: -22, bytes: [0x50, 0x4B], range: 10)])
        #expect(m.accepts?.minSize == 4 && m.accepts?.maxSize == nil)
        #expect(try Self.parse(#"{"role":"identify"}"#) == ModuleManifest(role: .identify, accepts: nil))
    }

    @Test(arguments: [
        ("[]", "not a JSON object"),
        (#"{"mimes":[]}"#, "mimes: unknown field"),
        (#"{"role":"scan"}"#, "role: must be one of"),
        (#"{"version":2}"#, "version: unknown version"),
        (#"{"role":"identify","role":"analyze"}"#, "role: given twice"),
        (#"{"accepts":{"mime":["pdf"]}}"#, "accepts.mime: \"pdf\" is not a MIME pattern"),
        (#"{"accepts":{"mime":"application/pdf"}}"#, "accepts.mime: must be an array of strings"),
        (#"{"accepts":{"magic":[{"hex":"abc"}]}}"#, "accepts.magic[0].hex: must be 1 to 256 bytes"),
        (#"{"accepts":{"magic":[{"offset":0}]}}"#, "accepts.magic[0]: missing \"hex\""),
        (#"{"accepts":{"magic":[{"offset":2000000,"hex":"00"}]}}"#, "accepts.magic[0]: reaches past"),
        (#"{"accepts":{"names":["a/b"]}}"#, "accepts.names: \"a/b\" is not a file-name glob"),
        (#"{"accepts":{"min_size":10,"max_size":5}}"#, "accepts: min_size 10 is greater than max_size 5"),
        (#"{"accepts":{"min_size":-1}}"#, "accepts.min_size: must not be negative"),
        ("{\"role\":\"identify\"", "not valid JSON"),
    ])
    func aMalformedManifestIsRefusedNamingTheField(text: String, message: String) {
        #expect(throws: ModuleManifest.Fault.self) { try Self.parse(text) }
        do {
            _ = try Self.parse(text)
        } catch {
            #expect(error.description.hasPrefix(message), "\(error)")
        }
    }

    @Test func withoutAcceptsEveryContentIsAccepted() {
        #expect(ModuleManifest.everything.accepts(Self.candidate([])))
        #expect(ModuleManifest(role: .identify).accepts(Self.candidate([1, 2, 3], mime: "x/y")))
    }

    @Test func mimePatternsMatchWithoutCaseAndWithWildcards() throws {
        let m = try Self.parse(#"{"accepts":{"mime":["application/x-*executable","text/*"]}}"#)
        #expect(m.accepts(Self.candidate([0], mime: "application/x-pie-executable")))
        #expect(m.accepts(Self.candidate([0], mime: "Text/Plain")))
        #expect(!m.accepts(Self.candidate([0], mime: "application/zip")))
        // A content without a type matches every MIME pattern: dispatch never skips what it cannot rule out.
        #expect(m.accepts(Self.candidate([0], mime: nil)))
    }

    @Test func magicMatchesAtItsOffsetFromTheStartOrTheEndOrWithinARange() throws {
        let m = try Self.parse(#"{"accepts":{"magic":[{"offset":2,"hex":"abcd"}]}}"#)
        #expect(m.accepts(Self.candidate([0, 0, 0xAB, 0xCD])))
        #expect(!m.accepts(Self.candidate([0, 0xAB, 0xCD, 0])))
        #expect(!m.accepts(Self.candidate([0, 0, 0xAB])), "too short")
        let end = try Self.parse(#"{"accepts":{"magic":[{"offset":-3,"hex":"0102"}]}}"#)
        #expect(end.accepts(Self.candidate([9, 9, 1, 2, 9])))
        #expect(!end.accepts(Self.candidate([1, 2])), "starts before the content")
        let search = try Self.parse(#"{"accepts":{"magic":[{"offset":-10,"range":10,"hex":"504b0506"}]}}"#)
        #expect(search.accepts(Self.candidate([0, 0, 0x50, 0x4B, 0x05, 0x06, 0, 0])))
        #expect(search.accepts(Self.candidate([0x50, 0x4B, 0x05, 0x06])), "a window clipped at the start still finds it")
        #expect(!search.accepts(Self.candidate([0x50, 0x4B, 0x05, 0x07, 0, 0])))
        #expect(!search.accepts(Self.candidate([0x50, 0x4B, 0x05, 0x06] + [UInt8](repeating: 0, count: 20))), "outside the last 10 bytes")
    }

    @Test func namesAreGlobsOnTheLastPathComponent() throws {
        let m = try Self.parse(#"{"accepts":{"names":["*.tar.*","report-??.txt"]}}"#)
        #expect(m.accepts(Self.candidate([0], name: "in/a.TAR.gz")))
        #expect(m.accepts(Self.candidate([0], name: "report-01.txt")))
        #expect(!m.accepts(Self.candidate([0], name: "x.tar/readme")))
        #expect(!m.accepts(Self.candidate([0], name: "report-1.txt")))
    }

    @Test func sizeBoundsApplyToEveryContent() throws {
        let m = try Self.parse(#"{"accepts":{"min_size":2,"max_size":3,"names":["*"]}}"#)
        #expect(!m.accepts(Self.candidate([1])))
        #expect(m.accepts(Self.candidate([1, 2])))
        #expect(!m.accepts(Self.candidate([1, 2, 3, 4])))
    }

    @Test func contentTypesMustBeTypeSlashSubtype() {
        #expect(ContentType.isValidMIME("application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
        #expect(ContentType.isValidMIME("text/x-c++"))
        #expect(!ContentType.isValidMIME("text"))
        #expect(!ContentType.isValidMIME("text/plain; charset=us-ascii"))
        #expect(!ContentType.isValidMIME("text/*"))
        #expect(!ContentType.isValidMIME(String(repeating: "a", count: 200) + "/" + String(repeating: "b", count: 60)))
    }
}
