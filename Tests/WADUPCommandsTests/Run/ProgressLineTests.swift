import GRDB
import Testing
import WADUPCommands
import WADUPCore
import WADUPPipeline
import WADUPTestSupport

/// The progress line's text: a bar and an ETA once the inputs are counted, plain text throughout.
struct ProgressLineTests {
    @Test func theBarAndETAFollowInputBytesDoneOfTheCountedTotal() {
        var s = RunStatistics.Snapshot()
        s.inputs = 3
        s.inputBytes = 250_000_000
        s.bytes = 400_000_000
        s.contents = 1234
        s.failed = 2
        // A quarter of 1 GB in 20 s: 60 s to go.
        let line = ProgressLine.line(s, elapsed: 20, total: .counted(files: 12, bytes: 1_000_000_000))
        #expect(line == "[#####---------------]  25% 3/12 inputs, 250.0 MB/1000.0 MB, 1234 contents, 20.0 MB/s, 2 failed, ETA 1:00")
        #expect(!line.contains("\u{1B}"))
        #expect(ProgressLine.line(s, elapsed: 20, total: .counting) == "3 inputs (counting…), 1234 contents, 20.0 MB/s, 2 failed")
        #expect(ProgressLine.line(s, elapsed: 20, total: .shared) == "3 inputs by this process (shared run: wadup status shows all), 1234 contents, 20.0 MB/s, 2 failed")
        s.inputBytes = 1_000_000_000
        #expect(ProgressLine.line(s, elapsed: 3700, total: .counted(files: 12, bytes: 1_000_000_000)).hasSuffix("ETA 0:00"))
        s.inputBytes = 100_000_000
        #expect(ProgressLine.line(s, elapsed: 400, total: .counted(files: 12, bytes: 1_000_000_000)).hasSuffix("ETA 1:00:00"))
    }

    @Test func anInputInProgressCountsTheBytesItsModulesHaveRead() {
        // One 1 GB image begun, its module a quarter through it.
        var s = RunStatistics.Snapshot()
        s.inputs = 1
        s.inputBytes = 1_000_000_000
        s.inputBytesUnread = 750_000_000
        let line = ProgressLine.line(s, elapsed: 20, total: .counted(files: 1, bytes: 1_000_000_000))
        #expect(line.hasPrefix("[#####---------------]  25% 1/1 inputs, 250.0 MB/1000.0 MB, "))
        #expect(line.hasSuffix("ETA 1:00"))
    }

    /// The totals are what this process has to do: its shard's inputs, not the whole folder's, read
    /// back from the run's own records (depth-0 contents and their sizes).
    @Test(arguments: [nil, Shard(index: 1, count: 3)])
    func theTotalsAreThoseOfThisShard(shard: Shard?) throws {
        let files = (0..<60).map { (name: "f\($0).bin", bytes: [UInt8](repeating: UInt8($0), count: 100 + $0 * 37)) }
        let input = try Harness.inputs(files)
        let pipeline = try Harness.pipeline(
            modulesDirectory: try Harness.modules([("m", GuestModule(body: "(i32.const 0)").text)]), input: input, threads: 2, shard: shard,
            engine: .wasmtime, countsTotals: true)
        let output = pipeline.configuration.output
        _ = try pipeline.run()
        let (roots, bytes) = try DatabaseQueue(path: output).read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM __wadup_content WHERE parent_uuid IS NULL") ?? -1,
             try Int.fetchOne(db, sql: "SELECT sum(size) FROM __wadup_content WHERE parent_uuid IS NULL") ?? -1)
        }
        #expect(shard == nil ? roots == files.count : roots < files.count / 2)
        #expect(pipeline.progressTotals == ProgressTotals.counted(files: roots, bytes: bytes))
    }
}
