import Foundation
import Testing
import WADUPCore
import WADUPTestSupport

/// Recursion, order, limits and threads.
struct ProcessingTests {
    /// Emits the two halves of every content longer than one byte, as slices named L and R.
    static let splitter = GuestModule(strings: ["L": "L", "R": "R"], body: """
        (if (i32.gt_u (call $size) (i32.const 1)) (then
          (drop (call $emit_slice (i32.const 0) (i32.shr_u (call $size) (i32.const 1)) @L))
          (drop (call $emit_slice (i32.shr_u (call $size) (i32.const 1)) (i32.sub (call $size) (i32.shr_u (call $size) (i32.const 1))) @R))))
        (i32.const 0)
        """)

    /// Copies the first half of every content longer than one byte out with emit_subcontent_bytes.
    static let copier = GuestModule(strings: ["C": "C"], body: """
        (if (i32.gt_u (call $size) (i32.const 1)) (then
          (drop (call $read (i32.const 0) (call $size) (i32.const 0)))
          (drop (call $emit_bytes (i32.const 0) (i32.shr_u (call $size) (i32.const 1)) @C))))
        (i32.const 0)
        """)

    @Test(arguments: EngineKind.allCases) func subcontentIsProcessedDepthFirstBeforeTheNextInput(engine: EngineKind) throws {
        let outcome = try Harness.run(modules: [("split", Self.splitter.text)], inputs: [("1", Array("abcd".utf8)), ("2", Array("xy".utf8))], engine: engine)
        let contents = try outcome.contents()
        #expect(contents.map(\.filename) == ["1", "L", "L", "R", "R", "L", "R", "2", "L", "R"])
        #expect(contents.map(\.size) == [4, 2, 1, 1, 2, 1, 1, 2, 1, 1])
        #expect(contents.map(\.depth) == [0, 1, 2, 2, 1, 2, 2, 0, 1, 1])
        #expect(contents[2].sha256 == sha256Hex(Array("a".utf8)))
        #expect(contents[6].sha256 == sha256Hex(Array("d".utf8)))
        #expect(contents[1].parentUUID == contents[0].uuid)
        #expect(contents[2].parentUUID == contents[1].uuid)
        #expect(contents[5].parentUUID == contents[4].uuid)
        #expect(contents[0].parentUUID == nil)
    }

    @Test(arguments: EngineKind.allCases) func contentsDeeperThanTheLimitAreSkipped(engine: EngineKind) throws {
        let outcome = try Harness.run(modules: [("split", Self.splitter.text)], inputs: [("1", Array("abcd".utf8))], limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        let contents = try outcome.contents()
        #expect(contents.map(\.status) == ["success", "success", "skipped", "skipped", "success", "skipped", "skipped"])
        #expect(contents[2].errorMessage == "wadup: depth 2 exceeds the recursion limit 1")
        #expect(contents[2].sha256 == sha256Hex(Array("a".utf8)))
        #expect(outcome.summary.statistics.skipped == 4)
    }

    @Test(arguments: EngineKind.allCases) func bytesAndSlicesCarryTheSameBytes(engine: EngineKind) throws {
        let data = Array("0123456789abcdef".utf8)
        let sliced = try Harness.run(modules: [("split", Self.splitter.text)], inputs: [("f", data)], engine: engine).contents()
        let copied = try Harness.run(modules: [("copy", Self.copier.text)], inputs: [("f", data)], engine: engine).contents()
        // Both follow the first half down to one byte: 16, 8, 4, 2, 1 bytes. In depth-first order the
        // first content at each depth is the slices' leftmost chain.
        let leftmost = try (0...4).map { depth in try #require(sliced.first { $0.depth == depth }) }
        let expected = [16, 8, 4, 2, 1].map { sha256Hex(Array(data.prefix($0))) }
        #expect(leftmost.map(\.filename) == ["f", "L", "L", "L", "L"])
        #expect(leftmost.map(\.sha256) == expected)
        #expect(copied.map(\.size) == [16, 8, 4, 2, 1])
        #expect(copied.map(\.sha256) == expected)
    }

    @Test(arguments: EngineKind.allCases) func oneAndFourThreadsGiveTheSameResults(engine: EngineKind) throws {
        var files: [(name: String, bytes: [UInt8])] = []
        for i in 0..<40 { files.append(("dir\(i % 3)/f\(i)", (0..<(i * 7 + 3)).map { UInt8(($0 * 31 + i) & 0xFF) })) }
        let modulesDirectory = try Harness.modules([("split", Self.splitter.text), ("copy", Self.copier.text)])
        let input = try Harness.inputs(files)
        // Every occurrence processed: which occurrence of repeated bytes dedup processes depends on
        // timing (DurableRunTests checks that rule on several threads).
        let one = try Harness.run(modulesDirectory: modulesDirectory, input: input, threads: 1, dedup: false, engine: engine)
        let four = try Harness.run(modulesDirectory: modulesDirectory, input: input, threads: 4, dedup: false, engine: engine)
        #expect(one.summary.statistics.contents > 500)
        #expect(try RunDump.sqlite(one.output).lines() == RunDump.sqlite(four.output).lines())
        #expect(one.summary.statistics.contents == four.summary.statistics.contents)
    }

    @Test(arguments: EngineKind.allCases) func aSingleFileInputIsNamedByItsFileName(engine: EngineKind) throws {
        let dir = try Harness.inputs([("deep/x.bin", [1, 2, 3])])
        let outcome = try Harness.run(modulesDirectory: try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)]), input: dir + "/deep/x.bin", engine: engine)
        #expect(try outcome.contents().map(\.filename) == ["x.bin"])
        #expect(try outcome.contents().map(\.sha256) == [sha256Hex([1, 2, 3])])
    }

    @Test(arguments: EngineKind.allCases) func inputsAreWalkedInByteOrderRecursively(engine: EngineKind) throws {
        let names = ["b/2", "a", "B", "b/10", "c/d/e", "_"]
        let outcome = try Harness.run(modules: [("m", GuestModule(body: "(i32.const 0)").text)], inputs: names.map { ($0, [0]) }, engine: engine)
        #expect(try outcome.contents().map(\.filename) == ["B", "_", "a", "b/10", "b/2", "c/d/e"])
    }

    @Test(arguments: EngineKind.allCases) func aLargeFileIsMappedAndHashedCorrectly(engine: EngineKind) throws {
        let data = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }
        let outcome = try Harness.run(modules: [("split", Self.splitter.text)], inputs: [("big", data)], limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        let contents = try outcome.contents()
        #expect(contents[0].sha256 == sha256Hex(data))
        #expect(contents[1].sha256 == sha256Hex(Array(data[0..<(data.count / 2)])))
        #expect(contents[4].sha256 == sha256Hex(Array(data[(data.count / 2)...])))
    }
}
