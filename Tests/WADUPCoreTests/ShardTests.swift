import Testing
import WADUPCore

/// `--shard K/N`: what a shard is (the merge of N shards' runs is tested on the binary, in
/// `WADUPCommandsTests/ShardMergeTests`).
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
}
