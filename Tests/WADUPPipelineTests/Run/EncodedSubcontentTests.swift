import Foundation
import Testing
import WADUPCore
import WADUPTestSupport

/// Encoded sub-contents (`emit_subcontent_encoded`, `get_encoding`), on both engines: the range
/// is decoded by a run of the module that emitted it, on whichever worker takes it; users see only
/// what that run emits, and its rows belong to the content that emitted the range.
struct EncodedSubcontentTests {
    /// Where `get_encoding` writes `{i64 encoding; i64 decoded_size}`.
    static let encodingAt = 8192

    /// An ordinary run of the 5-byte input emits its bytes 1..<4 undecoded, as `child`, declaring 10 decoded
    /// bytes and the token 7 (`emit` replaces that call). A decoding run checks what `get_encoding`
    /// hands back (returning 90 or 91 if it is wrong), records it in table `decoded` (a row of the
    /// parent), then runs `decode`, whose default emits the 10 bytes `ABCDEFGHIJ`.
    static func module(
        emit: String = "(call $emit_encoded (i64.const 1) (i64.const 3) (i64.const 10) (i64.const 7) @n)",
        decode: String = "(call $emit_bytes @decoded @n)"
    ) -> String {
        GuestModule(
            strings: [
                "n": "child", "decoded": "ABCDEFGHIJ", "short": "ABC", "table": "decoded",
                "columns": #"[{"name":"token","data_type":"Int64"},{"name":"size","data_type":"Int64"},{"name":"encoded","data_type":"Int64"}]"#,
                "row": #"[{"Int64":7},{"Int64":10},{"Int64":3}]"#,
            ],
            body: """
                (if (i32.eq (call $get_encoding (i32.const \(encodingAt))) (i32.const 1)) (then
                  (if (i64.ne (i64.load (i32.const \(encodingAt))) (i64.const 7)) (then (return (i32.const 90))))
                  (if (i64.ne (i64.load (i32.const \(encodingAt + 8))) (i64.const 10)) (then (return (i32.const 91))))
                  (if (i32.ne (call $size) (i32.const 3)) (then (return (i32.const 92))))
                  (drop (call $insert (call $define @table @columns) @row))
                  (return \(decode))))
                (if (i32.ne (call $size) (i32.const 5)) (then (return (i32.const 0))))  ;; only the input, not what it decodes to
                \(emit)
                """
        ).text
    }

    static let input: [(name: String, bytes: [UInt8])] = [("a.bin", Array("hello".utf8))]

    @Test(arguments: EngineKind.allCases)
    func theDecodedBytesAreTheSubContentAndTheRowsAreTheParents(engine: EngineKind) throws {
        let outcome = try Harness.run(modules: [("m", Self.module())], inputs: Self.input, engine: engine)
        let contents = try outcome.contents()
        #expect(contents.map(\.filename) == ["a.bin", "child"])
        #expect(contents.map(\.status) == ["success", "success"])
        #expect(contents[1].parentUUID == contents[0].uuid)
        #expect(contents[1].depth == 1)
        #expect(contents[1].size == 10)
        #expect(contents[1].sha256 == sha256Hex(Array("ABCDEFGHIJ".utf8)))
        // The decoding run's row is the archive's, never the entry's.
        #expect(try outcome.strings("SELECT content_uuid || ' ' || token || ' ' || size || ' ' || encoded FROM decoded") == ["\(contents[0].uuid) 7 10 3"])
    }

    @Test(arguments: EngineKind.allCases)
    func entriesOfOneContentAreDecodedOnBothWorkersWithTheSameResult(engine: EngineKind) throws {
        // 200 entries on 2 threads: each is decoded once, its row written once, under the parent.
        let emit = """
            (local.set $i (i32.const 200))
            (loop $l (drop (call $emit_encoded (i64.const 1) (i64.const 3) (i64.const 10) (i64.const 7) @n))
              (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $l (local.get $i)))
            (i32.const 0)
            """
        let text = Self.module(emit: emit).replacingOccurrences(of: "(func (export \"process\") (result i32)", with: "(func (export \"process\") (result i32) (local $i i32)")
        let outcome = try Harness.run(modules: [("m", text)], inputs: Self.input, threads: 2, engine: engine)
        let contents = try outcome.contents()
        #expect(contents.count == 201)
        #expect(contents.dropFirst().allSatisfy { $0.size == 10 && $0.status != "failed" && $0.parentUUID == contents[0].uuid })
        #expect(try outcome.ints("SELECT count(*) FROM decoded WHERE content_uuid = '\(contents[0].uuid)'") == [200])
    }

    @Test(arguments: EngineKind.allCases)
    func aDecodingRunThatEmitsNothingLeavesItsRowsAndNoContent(engine: EngineKind) throws {
        let outcome = try Harness.run(modules: [("m", Self.module(decode: "(i32.const 0)"))], inputs: Self.input, engine: engine)
        let contents = try outcome.contents()
        #expect(contents.map(\.filename) == ["a.bin"])
        #expect(try outcome.strings("SELECT content_uuid FROM decoded") == [contents[0].uuid])
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_input") == [1])
    }

    @Test(arguments: EngineKind.allCases)
    func aDecodingRunThatFailsOrLiesAboutTheSizeIsOneFailedContent(engine: EngineKind) throws {
        for (decode, kind) in [("(unreachable)", "trap"), ("(drop (call $emit_bytes @short @n)) (i32.const 0)", "abi_error"), ("(i32.const 3)", "nonzero_return")] {
            let outcome = try Harness.run(modules: [("m", Self.module(decode: decode))], inputs: Self.input, engine: engine)
            let contents = try outcome.contents()
            #expect(contents.map(\.status) == ["success", "failed"], "\(decode)")
            #expect(contents[1].filename == "child")
            #expect(contents[1].errorMessage?.hasPrefix("m: \(kind): ") == true, "\(contents[1].errorMessage ?? "")")
            #expect(contents[1].sha256 == "")
            #expect(try outcome.ints("SELECT count(*) FROM decoded") == [0], "a failed run's rows are dropped")
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let emit: String
        var decode = "(call $emit_bytes @decoded @n)"
        let expected: Int32
        var limits = RunLimits()
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a negative decoded size is invalid_argument", emit: "(call $emit_encoded (i64.const 0) (i64.const 1) (i64.const -1) (i64.const 0) @n)", expected: -10),
        Case(name: "a range past the content's end is out_of_bounds", emit: "(call $emit_encoded (i64.const 3) (i64.const 3) (i64.const 1) (i64.const 0) @n)", expected: -1),
        Case(name: "a negative offset is out_of_bounds", emit: "(call $emit_encoded (i64.const -1) (i64.const 1) (i64.const 1) (i64.const 0) @n)", expected: -1),
        Case(
            name: "the decoded size counts toward --max-input-bytes", emit: "(call $emit_encoded (i64.const 0) (i64.const 1) (i64.const 1001) (i64.const 0) @n)",
            expected: -9, limits: RunLimits(maxInputBytes: 1000)),
        Case(
            name: "the decoded size counts toward --max-subcontent-bytes", emit: "(call $emit_encoded (i64.const 0) (i64.const 1) (i64.const 11) (i64.const 0) @n)",
            expected: -9, limits: RunLimits(maxSubcontentBytes: 10)),
        Case(
            name: "it counts toward --max-subcontent", emit: "(drop (call $emit_slice (i32.const 0) (i32.const 1) @n)) (call $emit_encoded (i64.const 0) (i64.const 1) (i64.const 1) (i64.const 0) @n)",
            expected: -9, limits: RunLimits(maxSubcontent: 1)),
        Case(name: "a name with a NUL is invalid_argument", emit: "(call $emit_encoded (i64.const 0) (i64.const 1) (i64.const 1) (i64.const 0) @nul)", expected: -10),
    ]

    @Test(arguments: EngineKind.allCases, cases)
    func emitSubcontentEncodedReturnsItsDocumentedCode(engine: EngineKind, _ c: Case) throws {
        var module = GuestModule(strings: ["n": "child", "nul": "a\u{0}b"], body: c.emit)
        module.memoryPages = 1
        let outcome = try Harness.run(modules: [("m", module.text)], inputs: Self.input, limits: c.limits, engine: engine)
        let root = try #require(try outcome.contents().first)
        #expect(root.errorMessage?.hasPrefix("m: nonzero_return: process returned \(c.expected)") == true, "\(root.errorMessage ?? "")")
    }

    @Test(arguments: EngineKind.allCases)
    func aDecodingRunMayEmitOneSubContentAndNoEncodedOne(engine: EngineKind) throws {
        // The second emit's code (limit_reached), or the nested encoded emit's (invalid_argument),
        // is what the decoding run returns: a nonzero return, so the entry is a failed content.
        let second = "(drop (call $emit_bytes @decoded @n)) (call $emit_bytes @decoded @n)"
        let nested = "(call $emit_encoded (i64.const 0) (i64.const 1) (i64.const 1) (i64.const 0) @n)"
        for (decode, code) in [(second, -9), (nested, -10)] {
            let outcome = try Harness.run(modules: [("m", Self.module(decode: decode))], inputs: Self.input, engine: engine)
            let contents = try outcome.contents()
            #expect(contents.map(\.status) == ["success", "failed"])
            #expect(contents.last?.errorMessage == "m: nonzero_return: process returned \(code)")
        }
    }

    @Test(arguments: EngineKind.allCases)
    func anEncodedSubContentPastTheDepthLimitIsDecodedForItsRecord(engine: EngineKind) throws {
        let outcome = try Harness.run(modules: [("m", Self.module())], inputs: Self.input, limits: RunLimits(maxRecursionDepth: 0), engine: engine)
        let contents = try outcome.contents()
        #expect(contents.map(\.status) == ["success", "skipped"])
        #expect(contents[1].size == 10)
        #expect(contents[1].sha256 == sha256Hex(Array("ABCDEFGHIJ".utf8)))
        #expect(try outcome.ints("SELECT count(*) FROM decoded") == [1])
        // One its module does not emit is no content there either; its rows stand.
        let nothing = try Harness.run(
            modules: [("m", Self.module(decode: "(i32.const 0)"))], inputs: Self.input, limits: RunLimits(maxRecursionDepth: 0), engine: engine)
        #expect(try nothing.contents().map(\.filename) == ["a.bin"])
        #expect(try nothing.ints("SELECT count(*) FROM decoded") == [1])
    }
}
