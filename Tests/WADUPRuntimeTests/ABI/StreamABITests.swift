import Foundation
import Testing
import WADUPCore
import WADUPRuntime
import WADUPTestSupport

/// Streamed and extent sub-contents (`emit_stream_*`, `emit_subcontent_extents`) on both engines:
/// every error code, the bytes of what they emit (in memory and spilled to the temporary file),
/// and what is discarded.
struct StreamABITests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let body: String
        let expected: Int32
        var extents: [(Int64, Int64)] = []
        var limits = RunLimits()
        var testDescription: String { name }
    }

    /// The extents array lives at this offset of guest memory.
    static let extentsAt = 4096

    /// `{i64 offset, i64 length}` little-endian, as the ABI reads them.
    static func encode(_ extents: [(Int64, Int64)]) -> [UInt8] {
        extents.flatMap { offset, length in withUnsafeBytes(of: offset.littleEndian, Array.init) + withUnsafeBytes(of: length.littleEndian, Array.init) }
    }

    static func module(_ body: String, extents: [(Int64, Int64)] = []) -> GuestModule {
        var module = GuestModule(strings: ["n": "child", "nul": "a\u{0}b"], body: body)
        if !extents.isEmpty {
            let bytes = encode(extents).map { String(format: "\\%02x", $0) }.joined()
            module.globals = "(data (i32.const \(extentsAt)) \"\(bytes)\")"
        }
        return module
    }

    static let begin = "(call $stream_begin @n)"

    static let cases: [Case] = [
        Case(name: "emit_stream_begin returns handle 0, then 1", body: "(drop \(begin)) \(begin)", expected: 1),
        Case(name: "emit_stream_begin with a NUL in the name is invalid_argument", body: "(call $stream_begin @nul)", expected: -10),
        Case(name: "emit_stream_begin with a name outside memory is out_of_bounds", body: "(call $stream_begin (i32.const 65530) (i32.const 10))", expected: -1),
        Case(name: "the 17th open stream is limit_reached", body: "(local.set $i (i32.const 16)) (loop $l (drop \(begin)) (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $l (local.get $i))) \(begin)", expected: -9),
        Case(name: "a stream past --max-subcontent is limit_reached", body: "(drop (call $emit_slice (i32.const 0) (i32.const 1) @n)) \(begin)", expected: -9, limits: RunLimits(maxSubcontent: 1)),
        Case(name: "emit_stream_write to a handle never begun is unknown_stream", body: "(call $stream_write (i32.const 0) (i32.const 0) (i32.const 1))", expected: -13),
        Case(name: "emit_stream_write to a negative handle is unknown_stream", body: "(call $stream_write (i32.const -1) (i32.const 0) (i32.const 1))", expected: -13),
        Case(name: "emit_stream_write after emit_stream_end is unknown_stream", body: "(local.set $i \(begin)) (drop (call $stream_end (local.get $i))) (call $stream_write (local.get $i) (i32.const 0) (i32.const 1))", expected: -13),
        Case(name: "emit_stream_write after emit_stream_abort is unknown_stream", body: "(local.set $i \(begin)) (drop (call $stream_abort (local.get $i))) (call $stream_write (local.get $i) (i32.const 0) (i32.const 1))", expected: -13),
        Case(name: "emit_stream_end twice is unknown_stream", body: "(local.set $i \(begin)) (drop (call $stream_end (local.get $i))) (call $stream_end (local.get $i))", expected: -13),
        Case(name: "emit_stream_abort of a handle never begun is unknown_stream", body: "(call $stream_abort (i32.const 3))", expected: -13),
        Case(name: "emit_stream_write outside memory is out_of_bounds", body: "(call $stream_write \(begin) (i32.const 65000) (i32.const 1000))", expected: -1),
        Case(name: "emit_stream_skip with a negative length is invalid_argument", body: "(call $stream_skip \(begin) (i64.const -1))", expected: -10),
        Case(name: "emit_stream_skip past --max-input-bytes is limit_reached", body: "(call $stream_skip \(begin) (i64.const 1001))", expected: -9, limits: RunLimits(maxInputBytes: 1000)),
        Case(name: "emit_stream_write past --max-input-bytes is limit_reached", body: "(local.set $i \(begin)) (drop (call $stream_write (local.get $i) (i32.const 0) (i32.const 600))) (call $stream_write (local.get $i) (i32.const 0) (i32.const 600))", expected: -9, limits: RunLimits(maxInputBytes: 1000)),
        Case(name: "streamed bytes do not count toward --max-subcontent-bytes", body: "(local.set $i \(begin)) (drop (call $stream_write (local.get $i) (i32.const 0) (i32.const 600))) (call $stream_end (local.get $i))", expected: 0, limits: RunLimits(maxSubcontentBytes: 10)),
        Case(name: "emit_subcontent_extents of ranges and holes succeeds", body: "(call $emit_extents (i32.const \(extentsAt)) (i32.const 3) @n)", expected: 0, extents: [(1, 3), (-1, 10), (0, 5)]),
        Case(name: "emit_subcontent_extents with no extents succeeds (an empty content)", body: "(call $emit_extents (i32.const \(extentsAt)) (i32.const 0) @n)", expected: 0),
        Case(name: "emit_subcontent_extents past the content end is out_of_bounds", body: "(call $emit_extents (i32.const \(extentsAt)) (i32.const 1) @n)", expected: -1, extents: [(3, 3)]),
        Case(name: "emit_subcontent_extents with a negative length is out_of_bounds", body: "(call $emit_extents (i32.const \(extentsAt)) (i32.const 1) @n)", expected: -1, extents: [(0, -1)]),
        Case(name: "emit_subcontent_extents with offset -2 is out_of_bounds", body: "(call $emit_extents (i32.const \(extentsAt)) (i32.const 1) @n)", expected: -1, extents: [(-2, 1)]),
        Case(name: "emit_subcontent_extents whose total overflows is out_of_bounds", body: "(call $emit_extents (i32.const \(extentsAt)) (i32.const 2) @n)", expected: -1, extents: [(-1, Int64.max), (-1, 1)]),
        Case(name: "emit_subcontent_extents past --max-input-bytes is limit_reached", body: "(call $emit_extents (i32.const \(extentsAt)) (i32.const 1) @n)", expected: -9, extents: [(-1, 1001)], limits: RunLimits(maxInputBytes: 1000)),
        Case(name: "emit_subcontent_extents with more than 65536 extents is invalid_argument", body: "(call $emit_extents (i32.const 0) (i32.const 65537) @n)", expected: -10),
        Case(name: "emit_subcontent_extents with the array outside memory is out_of_bounds", body: "(call $emit_extents (i32.const 65000) (i32.const 100) @n)", expected: -1),
    ]

    @Test(arguments: EngineKind.allCases, cases)
    func streamAndExtentCallsReturnTheirDocumentedCode(engine: EngineKind, _ c: Case) throws {
        let module = Self.module(c.body, extents: c.extents)
        let outcome = try Harness.run(
            modules: [("m", module.text(locals: "(local $i i32)"))], inputs: [("a.bin", Array("hello".utf8))], limits: c.limits, engine: engine)
        let root = try #require(try outcome.contents().first)
        if c.expected == 0 {
            #expect(root.status == "success", "\(root.errorMessage ?? "")")
        } else {
            // A budget refusal is also noted on the input's record, after the module's failure.
            #expect(root.errorMessage?.hasPrefix("m: nonzero_return: process returned \(c.expected)") == true, "\(root.errorMessage ?? "")")
        }
    }

    /// Writes "hel", skips `gap` bytes, writes "lo" from the content: in memory for a small gap,
    /// spilled to the temporary file (a hole) for a large one.
    @Test(arguments: EngineKind.allCases, [3, 3 << 20])
    func aStreamIsTheBytesWrittenWithZerosForSkips(engine: EngineKind, gap: Int) throws {
        let body = """
            (drop (call $read (i32.const 0) (i32.const 5) (i32.const 0)))
            (local.set $i \(Self.begin))
            (drop (call $stream_write (local.get $i) (i32.const 0) (i32.const 3)))
            (drop (call $stream_skip (local.get $i) (i64.const \(gap))))
            (drop (call $stream_write (local.get $i) (i32.const 3) (i32.const 2)))
            (call $stream_end (local.get $i))
            """
        let outcome = try Harness.run(
            modules: [("m", Self.module(body).text(locals: "(local $i i32)"))], inputs: [("a.bin", Array("hello".utf8))],
            limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        // (The module runs on the child too: what it emits there is past the depth limit.)
        let contents = try outcome.contents()
        #expect(contents.first?.status == "success")
        let expected = Array("hel".utf8) + [UInt8](repeating: 0, count: gap) + Array("lo".utf8)
        let child = try #require(contents.first { $0.depth == 1 })
        #expect(child.status == "success")
        #expect(child.filename == "child")
        #expect(child.size == expected.count)
        #expect(child.sha256 == sha256Hex(expected))
    }

    /// A large stream of real bytes (40 writes of 64 KiB, past the 1 MiB kept in memory, every
    /// other one all zeros, so left as a hole): the child's size and digest are those of the bytes,
    /// and a slice of the child (read back from the temporary file) has the bytes written there.
    @Test(arguments: EngineKind.allCases)
    func aLargeStreamIsReadBackFromTheTemporaryFile(engine: EngineKind) throws {
        let body = """
            (if (i32.eq (call $size) (i32.const 5)) (then
              (drop (call $read (i32.const 0) (i32.const 5) (i32.const 65536)))
              (local.set $i \(Self.begin))
              (local.set $n (i32.const 40))
              (loop $l
                (drop (call $stream_write (local.get $i)
                  (i32.add (i32.const 65536) (i32.mul (i32.and (local.get $n) (i32.const 1)) (i32.const 65536))) (i32.const 65536)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br_if $l (local.get $n)))
              (return (call $stream_end (local.get $i)))))
            (if (i32.eq (call $size) (i32.const \(40 * 65536))) (then
              (return (call $emit_slice (i32.const \(2 * 65536)) (i32.const 5) @b))))
            (i32.const 0)
            """
        var module = Self.module(body)
        module.memoryPages = 3
        module.add("b", bytes: Array("back".utf8))
        let outcome = try Harness.run(
            modules: [("m", module.text(locals: "(local $i i32) (local $n i32)"))], inputs: [("a.bin", Array("hello".utf8))],
            limits: RunLimits(maxRecursionDepth: 2), engine: engine)
        let contents = try outcome.contents()
        #expect(contents.filter { $0.depth < 2 }.map(\.status) == ["success", "success"], "\(contents.map(\.errorMessage))")
        var page = [UInt8](repeating: 0, count: 65536)
        page.replaceSubrange(0..<5, with: Array("hello".utf8))
        var expected: [UInt8] = []
        for n in stride(from: 40, to: 0, by: -1) { expected += n & 1 == 1 ? [UInt8](repeating: 0, count: 65536) : page }
        let child = try #require(contents.first { $0.filename == "child" })
        #expect(child.size == expected.count)
        #expect(child.sha256 == sha256Hex(expected))
        #expect(contents.first { $0.filename == "back" }?.sha256 == sha256Hex(Array("hello".utf8)))
    }

    /// Past the temporary folder's memory budget (100 bytes here; 64 MiB in a user's run), a run's
    /// finished small streams go to one temporary file, each a range of it: the bytes are the same.
    @Test(arguments: EngineKind.allCases)
    func smallStreamsPastTheMemoryBudgetAreRangesOfOneTemporaryFile(engine: EngineKind) throws {
        let input = (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
        let body = """
            (if (i32.eq (call $size) (i32.const 300)) (then
              (drop (call $read (i32.const 0) (i32.const 300) (i32.const 0)))
              (local.set $n (i32.const 0))
              (loop $l
                (local.set $i \(Self.begin))
                (drop (call $stream_write (local.get $i) (i32.mul (local.get $n) (i32.const 50)) (i32.const 50)))
                (drop (call $stream_end (local.get $i)))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get $n) (i32.const 6))))))
            (i32.const 0)
            """
        let folder = TemporaryFolder(path: TemporaryFolder.standardPath, memoryBudget: 100)
        let pipeline = try Harness.pipeline(
            modulesDirectory: try Harness.modules([("m", Self.module(body).text(locals: "(local $i i32) (local $n i32)"))]),
            input: try Harness.inputs([("a.bin", input)]), limits: RunLimits(maxRecursionDepth: 1), engine: engine, temporaryFolder: folder)
        let contents = try Harness.outcome(of: pipeline).contents()
        #expect(contents.map(\.status).allSatisfy { $0 == "success" || $0 == "duplicate" }, "\(contents.map(\.errorMessage))")
        let children = contents.filter { $0.depth == 1 }
        #expect(children.count == 6)
        #expect(Set(children.compactMap(\.sha256)) == Set((0..<6).map { sha256Hex(Array(input[$0 * 50..<($0 + 1) * 50])) }))
        #expect(children.allSatisfy { $0.size == 50 })
    }

    @Test(arguments: EngineKind.allCases)
    func extentsAreRangesOfTheContentAndHolesOfZeros(engine: EngineKind) throws {
        let body = "(call $emit_extents (i32.const \(Self.extentsAt)) (i32.const 4) @n)"
        let outcome = try Harness.run(
            modules: [("m", Self.module(body, extents: [(6, 5), (-1, 2), (0, 5), (6, 0)]).text)], inputs: [("a.bin", Array("hello world".utf8))],
            limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        let contents = try outcome.contents()
        #expect(contents.first?.status == "success")
        let expected = Array("world".utf8) + [0, 0] + Array("hello".utf8)
        let child = try #require(contents.first { $0.depth == 1 })
        #expect(child.status == "success")
        #expect(child.size == expected.count)
        #expect(child.sha256 == sha256Hex(expected))
    }

    /// A stream left open when `process` returns, and every stream of a run that fails, leave nothing.
    @Test(arguments: EngineKind.allCases, ["(drop (call $stream_write \(begin) (i32.const 0) (i32.const 5))) (i32.const 0)",
                                            "(drop (call $stream_end \(begin))) (i32.const 1)",
                                            "(drop (call $stream_skip \(begin) (i64.const 5000000))) (i32.const 0)"])
    func unfinishedStreamsAndTheStreamsOfAFailedRunAreDiscarded(engine: EngineKind, body: String) throws {
        let outcome = try Harness.run(modules: [("m", Self.module(body).text)], inputs: [("a.bin", Array("hello".utf8))], engine: engine)
        #expect(try outcome.contents().count == 1)
    }

    /// Streams end in the order they end, among the other emits.
    @Test(arguments: EngineKind.allCases)
    func aStreamTakesItsPlaceAmongTheOtherEmitsWhenItEnds(engine: EngineKind) throws {
        var module = GuestModule(strings: ["a": "first", "b": "second", "c": "third"], body: """
            (local.set $i (call $stream_begin @b))
            (drop (call $emit_slice (i32.const 0) (i32.const 1) @a))
            (drop (call $stream_write (local.get $i) (i32.const 0) (i32.const 2)))
            (drop (call $stream_end (local.get $i)))
            (call $emit_slice (i32.const 0) (i32.const 3) @c)
            """)
        module.memoryPages = 1
        let outcome = try Harness.run(
            modules: [("m", module.text(locals: "(local $i i32)"))], inputs: [("a.bin", Array("hello".utf8))],
            limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        #expect(try outcome.contents().filter { $0.depth < 2 }.map(\.filename) == ["a.bin", "first", "second", "third"])
    }

    /// A temporary folder that fails when a stream spills (here: removed after the start) fails
    /// that module-run with `temporary_storage`, naming the folder; the run goes on.
    @Test(arguments: EngineKind.allCases)
    func aFailingTemporaryFolderFailsTheModuleRunNamingIt(engine: EngineKind) throws {
        let folder = Harness.temporaryDirectory() + "/gone"
        let bodyEnd = "(local.set $i \(Self.begin)) (drop (call $stream_skip (local.get $i) (i64.const 5000000))) (call $stream_end (local.get $i))"
        let pipeline = try Harness.pipeline(
            modulesDirectory: try Harness.modules([("m", Self.module(bodyEnd).text(locals: "(local $i i32)"))]),
            input: try Harness.inputs([("a.bin", Array("hello".utf8)), ("b.bin", Array("other".utf8))]), engine: engine,
            temporaryFolder: TemporaryFolder(path: folder, remedy: "use another"))
        let outcome = try Harness.outcome(of: pipeline)
        let contents = try outcome.contents()
        #expect(contents.count == 2)
        for content in contents {
            #expect(content.status == "failed")
            let message = try #require(content.errorMessage)
            #expect(message.hasPrefix("m: temporary_storage: cannot write a streamed sub-content to the temporary folder \(folder): "), "\(message)")
            #expect(message.hasSuffix("(use another)"))
        }
    }
}
