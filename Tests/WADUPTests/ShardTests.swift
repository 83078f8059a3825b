import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPPipeline
import WADUPCommands

/// `--shard K/N` and `wadup merge`: N jobs of an array, merged, hold what one run holds.
@Suite(.serialized)
struct ShardTests {
    @Test(arguments: [("0/4", true), ("3/4", true), ("4/4", false), ("1/0", false), ("-1/2", false), ("a/b", false), ("2", false)])
    func shardsParseAsKOfN(text: String, valid: Bool) {
        #expect((Shard(text) != nil) == valid)
    }

    @Test func everyPathIsInExactlyOneShard() {
        let paths = (0..<2000).map { Array("dir-\($0 % 17)/file-\($0).bin".utf8) }
        for n in [1, 2, 3, 7] {
            let shards = (0..<n).map { Shard(index: $0, count: n)! }
            for path in paths { #expect(shards.filter { $0.contains(path) }.count == 1) }
            // Every shard gets a fair part of 2,000 paths.
            for shard in shards { #expect(paths.filter(shard.contains).count > 2000 / n / 2) }
        }
    }

    /// (path from the input, sha256, status) of every content, and every module row keyed by its content's path.
    static func dump(_ path: String) throws -> [String] {
        let db = try DatabaseQueue(path: path)
        return try db.read { db in
            let contents = try Row.fetchAll(db, sql: "SELECT uuid, filename, parent_uuid, sha256, status FROM __wadup_content").map {
                (uuid: $0[0] as String, name: $0[1] as String, parent: $0[2] as String?, sha256: $0[3] as String?, status: $0[4] as String)
            }
            var rows: [(table: String, content: String, values: [String])] = []
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_\\_wadup%' ESCAPE '\\'")
            for table in tables {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"") {
                    let values = row.columnNames.filter { $0 != "content_uuid" }.map { "\(row[$0] as DatabaseValue)" }
                    rows.append((table, row["content_uuid"], Array(values)))
                }
            }
            return PostgresTests.dump(contents: contents, rows: rows)
        }
    }

    @Test func fourShardsMergedEqualOneRun() throws {
        let (inputs, _) = try FormatModuleTests.corpus()
        let modules = try GuestModuleTests.modules(["archive", "zip_parser", "byte_counter"])
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
        let whole = try Self.dump(dir + "/whole.db")
        #expect(whole.count > 100)
        #expect(try Self.dump(dir + "/merged.db") == whole)
        let runs = try DatabaseQueue(path: dir + "/merged.db").read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_run") }
        #expect(runs == 4)
        let wholeRuns = try DatabaseQueue(path: dir + "/whole.db").read { try Int.fetchAll($0, sql: "SELECT runs FROM __wadup_modules ORDER BY name") }
        let mergedRuns = try DatabaseQueue(path: dir + "/merged.db").read { try Int.fetchAll($0, sql: "SELECT runs FROM __wadup_modules ORDER BY name") }
        #expect(mergedRuns == wholeRuns)

        // Refused: overlapping parts, other modules, an existing output; nothing written.
        #expect(WadupCommand.execute(["merge", parts[0], parts[0], "--output", dir + "/twice.db"]) == 2)
        #expect(!FileManager.default.fileExists(atPath: dir + "/twice.db"))
        let other = try GuestModuleTests.modules(["byte_counter"])
        #expect(WadupCommand.execute(["--modules", other, "--input", inputs, "--output", dir + "/other.db", "--no-dedup", "--shard", "1/4"]) == 0)
        #expect(WadupCommand.execute(["merge", parts[0], dir + "/other.db", "--output", dir + "/mixed.db"]) == 2)
        #expect(!FileManager.default.fileExists(atPath: dir + "/mixed.db"))
        #expect(WadupCommand.execute(["merge", parts[0], "--output", dir + "/whole.db"]) == 2)
        // A resume must keep its shard.
        #expect(WadupCommand.execute(["--modules", modules, "--input", inputs, "--output", parts[1], "--no-dedup", "--shard", "2/4", "--resume"]) == 2)
    }
}
