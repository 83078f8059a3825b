import Foundation
import Testing
import WADUPCore
import WADUPTestSupport

/// Every host function and every error code, through a real module run.
///
/// Each case's `process` returns what one host call returned, so the result shows up in
/// `__wadup_content` as success (0) or `m: nonzero_return: process returned N`.
struct HostABITests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let strings: [String: String]
        let body: String
        let expected: Int32
        var limits = RunLimits()
        var testDescription: String { name }
    }

    static let columns = #"[{"name":"v","data_type":"Int64"},{"name":"s","data_type":"String"}]"#
    static let define = "(call $define @t @cols)"

    static func withTable(_ name: String, row: String, expected: Int32) -> Case {
        Case(name: name, strings: ["t": "tab", "cols": columns, "row": row], body: "(drop \(define)) (call $insert (i32.const 0) @row)", expected: expected)
    }

    static let cases: [Case] = [
        Case(name: "get_content_size returns the size", strings: [:], body: "(call $size)", expected: 5),
        Case(name: "read_content inside both ranges succeeds", strings: [:], body: "(call $read (i32.const 0) (i32.const 5) (i32.const 0))", expected: 0),
        Case(name: "read_content past the content end is out_of_bounds", strings: [:], body: "(call $read (i32.const 1) (i32.const 5) (i32.const 0))", expected: -1),
        Case(name: "read_content past memory end is out_of_bounds", strings: [:], body: "(call $read (i32.const 0) (i32.const 5) (i32.const 65533))", expected: -1),
        Case(name: "read_content with a huge length is out_of_bounds", strings: [:], body: "(call $read (i32.const 0) (i32.const -1) (i32.const 0))", expected: -1),
        Case(name: "read_content with a huge offset is out_of_bounds", strings: [:], body: "(call $read (i32.const -1) (i32.const 1) (i32.const 0))", expected: -1),
        Case(name: "get_content_uuid writes 16 bytes", strings: [:], body: "(call $uuid (i32.const 0))", expected: 0),
        Case(name: "get_content_uuid at the memory end is out_of_bounds", strings: [:], body: "(call $uuid (i32.const 65521))", expected: -1),
        Case(name: "get_content_filename returns the full length", strings: [:], body: "(call $filename (i32.const 0) (i32.const 2))", expected: 9),
        Case(name: "get_content_filename outside memory is out_of_bounds", strings: [:], body: "(call $filename (i32.const 65535) (i32.const 2))", expected: -1),
        Case(name: "define_table returns id 0 for the first table", strings: ["t": "tab", "cols": columns], body: define, expected: 0),
        Case(name: "define_table twice with the same columns returns the same id", strings: ["t": "tab", "cols": columns], body: "(drop \(define)) \(define)", expected: 0),
        Case(name: "define_table with a digit first is invalid_identifier", strings: ["t": "1tab", "cols": columns], body: define, expected: -4),
        Case(name: "define_table with sqlite_ prefix is invalid_identifier", strings: ["t": "SQLite_x", "cols": columns], body: define, expected: -4),
        Case(name: "define_table with __wadup prefix is invalid_identifier", strings: ["t": "__wadup_content", "cols": columns], body: define, expected: -4),
        Case(name: "define_table with a quote in the name is invalid_identifier", strings: ["t": "a\"b", "cols": columns], body: define, expected: -4),
        Case(name: "define_table with a 64-byte name is invalid_identifier", strings: ["t": String(repeating: "a", count: 64), "cols": columns], body: define, expected: -4),
        Case(name: "define_table with a 63-byte name succeeds", strings: ["t": String(repeating: "a", count: 63), "cols": columns], body: define, expected: 0),
        Case(name: "define_table with a column named content_uuid is invalid_identifier", strings: ["t": "tab", "cols": #"[{"name":"content_uuid","data_type":"String"}]"#], body: define, expected: -4),
        Case(name: "define_table with a repeated column is invalid_identifier", strings: ["t": "tab", "cols": #"[{"name":"a","data_type":"String"},{"name":"A","data_type":"Int64"}]"#], body: define, expected: -4),
        Case(name: "define_table with unparsable JSON is invalid_json", strings: ["t": "tab", "cols": #"[{"name":"a","#], body: define, expected: -3),
        Case(name: "define_table with an unknown type is invalid_json", strings: ["t": "tab", "cols": #"[{"name":"a","data_type":"Blob"}]"#], body: define, expected: -3),
        Case(name: "define_table with an extra key is invalid_json", strings: ["t": "tab", "cols": #"[{"name":"a","data_type":"Int64","x":1}]"#], body: define, expected: -3),
        Case(name: "define_table with no columns is invalid_json", strings: ["t": "tab", "cols": "[]"], body: define, expected: -3),
        Case(name: "define_table with a trailing comma is invalid_json", strings: ["t": "tab", "cols": #"[{"name":"a","data_type":"Int64"},]"#], body: define, expected: -3),
        Case(name: "define_table with a name outside memory is out_of_bounds", strings: ["cols": columns], body: "(call $define (i32.const 65530) (i32.const 10) @cols)", expected: -1),
        Case(name: "insert_row of a well-typed row succeeds", strings: ["t": "tab", "cols": columns, "row": #"[{"Int64":-9223372036854775808},{"String":"x\u00e9\n"}]"#], body: "(drop \(define)) (call $insert (i32.const 0) @row)", expected: 0),
        withTable("insert_row with nulls succeeds", row: "[null,null]", expected: 0),
        withTable("insert_row with one value too few is arity_mismatch", row: #"[{"Int64":1}]"#, expected: -7),
        withTable("insert_row with a string in an Int64 column is type_mismatch", row: #"[{"String":"1"},null]"#, expected: -8),
        withTable("insert_row with a Float64 in an Int64 column is type_mismatch", row: #"[{"Float64":1.5},null]"#, expected: -8),
        withTable("insert_row with an Int64 out of range is type_mismatch", row: #"[{"Int64":9223372036854775808},null]"#, expected: -8),
        withTable("insert_row with a fractional Int64 is type_mismatch", row: #"[{"Int64":1.5},null]"#, expected: -8),
        withTable("insert_row with an unknown tag is invalid_json", row: #"[{"Bytes":1},null]"#, expected: -3),
        withTable("insert_row with a lone surrogate is invalid_json", row: #"[null,{"String":"\ud800"}]"#, expected: -3),
        Case(name: "insert_row into a table never defined is unknown_table", strings: ["row": "[null]"], body: "(call $insert (i32.const 0) @row)", expected: -6),
        Case(name: "emit_subcontent_slice inside the content succeeds", strings: ["n": "child"], body: "(call $emit_slice (i32.const 1) (i32.const 3) @n)", expected: 0),
        Case(name: "emit_subcontent_slice past the content end is out_of_bounds", strings: ["n": "child"], body: "(call $emit_slice (i32.const 4) (i32.const 2) @n)", expected: -1),
        Case(name: "emit_subcontent_bytes outside memory is out_of_bounds", strings: ["n": "child"], body: "(call $emit_bytes (i32.const 65000) (i32.const 1000) @n)", expected: -1),
        Case(name: "emit_subcontent_bytes with a NUL in the name is invalid_argument", strings: ["n": "a\u{0}b"], body: "(call $emit_bytes (i32.const 0) (i32.const 4) @n)", expected: -10),
        Case(name: "emit_subcontent_bytes past --max-subcontent-bytes is limit_reached", strings: ["n": "c"], body: "(call $emit_bytes (i32.const 0) (i32.const 4) @n)", expected: -9, limits: RunLimits(maxSubcontentBytes: 3)),
        Case(name: "the second emit past --max-subcontent 1 is limit_reached", strings: ["n": "c"], body: "(drop (call $emit_slice (i32.const 0) (i32.const 1) @n)) (call $emit_bytes (i32.const 0) (i32.const 1) @n)", expected: -9, limits: RunLimits(maxSubcontent: 1)),
        Case(name: "log_message at info succeeds", strings: ["m": "hello"], body: "(call $log (i32.const 1) @m)", expected: 0),
        Case(name: "log_message with an unknown level is invalid_argument", strings: ["m": "hello"], body: "(call $log (i32.const 7) @m)", expected: -10),
        Case(name: "log_message outside memory is out_of_bounds", strings: [:], body: "(call $log (i32.const 1) (i32.const 65535) (i32.const 2))", expected: -1),
    ]

    @Test(arguments: EngineKind.allCases, cases)
    func hostCallReturnsItsDocumentedCode(engine: EngineKind, _ c: Case) throws {
        let module = GuestModule(strings: c.strings, body: c.body)
        let outcome = try Harness.run(modules: [("m", module.text)], inputs: [("dir/a.bin", Array("hello".utf8))], limits: c.limits, engine: engine)
        let root = try #require(try outcome.contents().first)
        if c.expected == 0 {
            #expect(root.status == "success")
            #expect(root.errorMessage == nil)
        } else {
            #expect(root.status == "failed")
            #expect(root.errorMessage == "m: nonzero_return: process returned \(c.expected)")
        }
    }

    @Test(arguments: EngineKind.allCases) func invalidUTF8InNamesJSONAndLogsIsReported(engine: EngineKind) throws {
        for body in ["(call $define @bad @cols)", "(call $define @t @bad)", "(call $log (i32.const 0) @bad)", "(call $emit_slice (i32.const 0) (i32.const 1) @bad)"] {
            var module = GuestModule(strings: ["t": "tab", "cols": Self.columns], body: body)
            module.add("bad", bytes: [0x61, 0xFF, 0x62])
            let outcome = try Harness.run(modules: [("m", module.text)], inputs: [("a", [1])], engine: engine)
            #expect(try outcome.contents().map(\.errorMessage) == ["m: nonzero_return: process returned -2"], "\(body)")
        }
    }

    @Test(arguments: EngineKind.allCases) func contentFunctionsCalledFromAStartFunctionReturnNoContent(engine: EngineKind) throws {
        var module = GuestModule(body: "(global.get $code)")
        module.globals = "(global $code (mut i32) (i32.const 99))"
        module.functions = "(func $start (global.set $code (call $read (i32.const 0) (i32.const 1) (i32.const 0)))) (start $start)"
        let outcome = try Harness.run(modules: [("m", module.text)], inputs: [("a", [1])], engine: engine)
        #expect(try outcome.contents().map(\.errorMessage) == ["m: nonzero_return: process returned -11"])
    }

    @Test(arguments: EngineKind.allCases) func uuidAndFilenameAreTheContentsOwn(engine: EngineKind) throws {
        // Stores the uuid bytes and the filename as sub-contents, so the test can read them back; any
        // call that does not return 0, or a size other than the content's, fails the run.
        let module = GuestModule(strings: ["u": "uuid", "f": "name"], body: """
            (i32.or
              (i32.or (call $uuid (i32.const 0)) (call $emit_bytes (i32.const 0) (i32.const 16) @u))
              (i32.or (call $emit_bytes (i32.const 100) (call $filename (i32.const 100) (i32.const 200)) @f)
                      (i32.ne (call $size) (i32.const \("hello".utf8.count)))))
            """)
        let outcome = try Harness.run(modules: [("m", module.text)], inputs: [("x/héllo.txt", Array("hello".utf8))], limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        let contents = try outcome.contents()
        let root = contents[0]
        #expect(root.filename == "x/héllo.txt")
        #expect(root.status == "success")
        let uuidChild = try #require(contents.first { $0.filename == "uuid" && $0.parentUUID == root.uuid })
        let nameChild = try #require(contents.first { $0.filename == "name" && $0.parentUUID == root.uuid })
        let uuid = try #require(UUID(uuidString: root.uuid))
        #expect(uuidChild.sha256 == sha256Hex(withUnsafeBytes(of: uuid.uuid) { Array($0) }))
        #expect(nameChild.sha256 == sha256Hex(Array("x/héllo.txt".utf8)))
        #expect(root.uuid == root.uuid.lowercased())
    }

    @Test(arguments: EngineKind.allCases) func aTableDefinedByTwoModulesIsSharedAndAConflictIsRefused(engine: EngineKind) throws {
        let same = GuestModule(strings: ["t": "shared", "cols": Self.columns, "row": "[{\"Int64\":1},null]"], body: "(call $insert (call $define @t @cols) @row)")
        let other = GuestModule(strings: ["t": "SHARED", "cols": #"[{"name":"v","data_type":"Int64"}]"#], body: "(call $define @t @cols)")
        let outcome = try Harness.run(modules: [("a", same.text), ("b", same.text), ("c", other.text)], inputs: [("f", [1, 2])], engine: engine)
        let root = try #require(try outcome.contents().first)
        #expect(root.errorMessage == "c: nonzero_return: process returned -5")
        // Rows of the failed module are dropped; those of the two successful ones are kept.
        #expect(try outcome.ints("SELECT v FROM shared") == [1, 1])
        #expect(try outcome.strings("SELECT content_uuid FROM shared") == [root.uuid, root.uuid])
    }
}
