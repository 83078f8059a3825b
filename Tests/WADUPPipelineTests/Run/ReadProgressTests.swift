import Foundation
import Testing
import WADUPCore
import WADUPPipeline
import WADUPRuntime
import WADUPTestSupport

/// The progress line counts an input as far as its module-runs have read it (a disk image that one
/// module walks for minutes), not only when it starts or ends.
struct ReadProgressTests {
    @Test(arguments: EngineKind.allCases)
    func everyReadOfAModuleRunCountsItsBytes(engine kind: EngineKind) throws {
        // Reads 3 bytes at 0, then 3 at 2: 6 bytes read of a 5-byte content (a range read twice counts twice).
        let module = GuestModule(body: "(drop (call $read (i32.const 0) (i32.const 3) (i32.const 0))) (drop (call $read (i32.const 2) (i32.const 3) (i32.const 8))) (i32.const 0)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Harness.modules([("m", module.text)]) + "/m.wasm")))
        let engine = try Harness.engine(kind, limits: RunLimits())
        let runner = ModuleRunner(name: "m", module: try engine.load(name: "m", bytes: bytes, path: "m.wasm"), registry: TableRegistry(), logger: Harness.quietLogger)
        let progress = ReadProgress()
        let context = RunContext(content: ContentBuffer(Array("hello".utf8)), uuid: UUID(), filename: "a", limits: RunLimits(), readProgress: progress)
        guard case .success = runner.run(context) else { Issue.record("the run failed"); return }
        #expect(progress.bytesRead == 6)
    }

    @Test func anInputInProgressCountsAsReadUpToWhatItsModulesRead() {
        let statistics = RunStatistics()
        let progress = statistics.beginInput(worker: 0, size: 1000)
        #expect(statistics.snapshot.inputBytes == 1000)
        #expect(statistics.snapshot.inputBytesUnread == 1000)
        progress.add(300)
        #expect(statistics.snapshot.inputBytesUnread == 700)
        progress.add(900)  // read twice over: never more than the input
        #expect(statistics.snapshot.inputBytesUnread == 0)
        _ = statistics.beginInput(worker: 1, size: 50)
        #expect(statistics.snapshot.inputBytesUnread == 50)
        statistics.endInput(worker: 1)
        statistics.endInput(worker: 0)
        #expect(statistics.snapshot.inputBytes == 1050)
        #expect(statistics.snapshot.inputBytesUnread == 0)
    }
}
