import Foundation
import GRDB
import Testing
import WADUPCommands
import WADUPTestSupport

/// `--shard K/N` and `wadup merge`: N jobs of an array, merged, hold what one run holds (what a
/// shard is: `WADUPCoreTests/ShardTests`).
@Suite(.serialized)
struct ShardMergeTests {
    @Test func fourShardsMergedEqualOneRun() throws {
        let inputs = try FormatCorpus.inputs()
        let modules = try BuiltModules.folder(["archive", "zip_parser", "byte_counter"])
        let dir = Harness.temporaryDirectory()
        #expect(WadupCommand.execute(["--modules", modules, "--input", inputs, "--output", dir + "/whole.db", "--no-dedup"]) == 0)
        var parts: [String] = []
        for k in 0..<4 {
            let part = dir + "/shard-\(k).db"
            #expect(WadupCommand.execute(["--modules", modules, "--input", inputs, "--output", part, "--no-dedup", "--shard", "\(k)/4"]) == 0)
            parts.append(part)
        }
        let roots = try parts.map { try DatabaseQueue(path: $0).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_input") ?? 0 } }
        #expect(roots.allSatisfy { $0 > 0 }, "every shard has inputs: \(roots)")
        #expect(WadupCommand.execute(["merge"] + parts + ["--output", dir + "/merged.db"]) == 0)
        let whole = try RunDump.sqlite(dir + "/whole.db").lines()
        #expect(whole.count > 100)
        #expect(try RunDump.sqlite(dir + "/merged.db").lines() == whole)
        let runs = try DatabaseQueue(path: dir + "/merged.db").read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_run") }
        #expect(runs == 4)
        let wholeRuns = try DatabaseQueue(path: dir + "/whole.db").read { try Int.fetchAll($0, sql: "SELECT runs FROM __wadup_modules ORDER BY name") }
        let mergedRuns = try DatabaseQueue(path: dir + "/merged.db").read { try Int.fetchAll($0, sql: "SELECT runs FROM __wadup_modules ORDER BY name") }
        #expect(mergedRuns == wholeRuns)

        // Refused: overlapping parts, other modules, an existing output; nothing written.
        #expect(WadupCommand.execute(["merge", parts[0], parts[0], "--output", dir + "/twice.db"]) == 2)
        #expect(!FileManager.default.fileExists(atPath: dir + "/twice.db"))
        let other = try BuiltModules.folder(["byte_counter"])
        #expect(WadupCommand.execute(["--modules", other, "--input", inputs, "--output", dir + "/other.db", "--no-dedup", "--shard", "1/4"]) == 0)
        #expect(WadupCommand.execute(["merge", parts[0], dir + "/other.db", "--output", dir + "/mixed.db"]) == 2)
        #expect(!FileManager.default.fileExists(atPath: dir + "/mixed.db"))
        #expect(WadupCommand.execute(["merge", parts[0], "--output", dir + "/whole.db"]) == 2)
        // A resume must keep its shard.
        #expect(WadupCommand.execute(["--modules", modules, "--input", inputs, "--output", parts[1], "--no-dedup", "--shard", "2/4", "--resume"]) == 2)
    }
}
