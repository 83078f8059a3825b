import Foundation
import Testing
import WADUPCommands
import WADUPCore
import WADUPStore
import WADUPTestSupport

/// `wadup timeline` as a command: its flags, its output file, and the exit status and message of a
/// run without file-system entries or a bound it cannot read (the timeline itself:
/// `WADUPInspectTests/TimelineTests`).
struct TimelineCommandTests {
    /// A run database with one image and one `fs_entries` row, or none (`entries: false`).
    static func makeRun(entries: Bool) throws -> String {
        let path = Harness.temporaryDirectory() + "/run.db"
        func record(_ outcome: RunOutcome) -> RunRecord {
            RunRecord(startedAt: 1, finishedAt: 1, version: "test", engine: "none", settings: "{}", outcome: outcome, inputs: 1, contents: 1, failed: 0, skipped: 0)
        }
        let store = try SQLiteStore(path: path, run: record(.running))
        let names = ["volume", "path", "inode", "kind", "size", "mode", "uid", "gid", "mtime", "atime", "ctime", "crtime", "deleted", "allocated", "emitted", "reason"]
        let text: Set = ["volume", "path", "inode", "kind", "mode", "reason"]
        if entries {
            store.createTable(TableSchema(name: "fs_entries", columns: names.map { Column(name: $0, type: text.contains($0) ? .string : .int64) }), id: 0, module: "disk")
        }
        let row: [CellValue] = [
            .string("p1"), .string("/a.txt"), .string("12"), .string("file"), .int64(3), .string("r/rrw-r--r--"), .int64(0), .int64(0),
            .int64(1_796_677_636), .int64(1_796_677_636), .null, .null, .int64(0), .int64(1), .int64(1), .null,
        ]
        try store.submit(
            ContentRecord(
                uuid: "0d1b7e64-0000-4000-8000-000000000001", filename: "disk.img", parentUUID: nil, processedAt: 1, status: .success, errorMessage: nil,
                depth: 0, size: 512, sha256: nil, rows: entries ? [(tableID: Int32(0), values: row)] : []))
        try store.finish(run: record(.complete), modules: [])
        return path
    }

    @Test func theDefaultIsABodyFileAndCSVAndJSONLinesAreEventsWrittenToTheOutputFile() throws {
        let run = try Self.makeRun(entries: true)
        let dir = Harness.temporaryDirectory()
        #expect(WadupCommand.execute(["timeline", run, "-o", dir + "/body"]) == 0)
        #expect(try String(contentsOfFile: dir + "/body", encoding: .utf8) == "0|disk.img/p1/a.txt|12|r/rrw-r--r--|0|0|3|1796677636|1796677636|0|0\n")
        #expect(WadupCommand.execute(["timeline", run, "--format", "csv", "--output", dir + "/csv", "--from", "2026-12-07", "--to", "1796677636"]) == 0)
        #expect(
            try String(contentsOfFile: dir + "/csv", encoding: .utf8)
                == "time,macb,size,mode,uid,gid,inode,deleted,path,image\r\n2026-12-07T21:07:16Z,ma..,3,r/rrw-r--r--,0,0,12,0,disk.img/p1/a.txt,disk.img\r\n")
        #expect(WadupCommand.execute(["timeline", run, "--format", "jsonl", "-o", dir + "/jsonl", "--to", "2026-12-06"]) == 0)
        #expect(try String(contentsOfFile: dir + "/jsonl", encoding: .utf8) == "")
    }

    @Test func aRunWithoutFileSystemEntriesExitsTwoNamingTheDatabase() throws {
        let run = try Self.makeRun(entries: false)
        let exit = try Command.wadup(["timeline", run]).run()
        #expect(exit.status == 2)
        #expect(exit.stdout.isEmpty)
        #expect(exit.stderr.contains("wadup: error: \(run): no file-system entries were recorded"), "\(exit.stderr)")
    }

    @Test func aBoundThatIsNotATimeOrFromAfterToIsAUsageError() throws {
        let run = try Self.makeRun(entries: true)
        let bad = try Command.wadup(["timeline", run, "--from", "yesterday"]).run()
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--from yesterday"), "\(bad.stderr)")
        #expect(WadupCommand.execute(["timeline", run, "--from", "2026-12-08", "--to", "2026-12-07"]) == 2)
        #expect(WadupCommand.execute(["timeline", run, "--format", "xml"]) == 2)
    }
}
