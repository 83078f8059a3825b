import Foundation
import GRDB
import Testing
import WADUPCommands
import WADUPTestSupport

/// A database of schema 1 (before content types and dispatch counts) is still read, and resumed.
@Suite(.serialized)
struct SchemaUpgradeTests {
    /// A finished run brought back to schema 1: the columns of version 2 dropped, `user_version` 1,
    /// and its last input's tree left incomplete, so that `--resume` has work to do.
    static func versionOneRun() throws -> (output: String, input: String, modules: String) {
        let modules = try BuiltModules.folder(["file_type", "zip_parser", "byte_counter"])
        let input = Fixtures.peerWadup2
        let output = Harness.temporaryDirectory() + "/v1.db"
        #expect(WadupCommand.execute(["--modules", modules, "--input", input, "--output", output, "--threads", "1"]) == 0)
        try DatabaseQueue(path: output).writeWithoutTransaction { db in
            for column in ["mime", "description"] { try db.execute(sql: "ALTER TABLE __wadup_content DROP COLUMN \(column)") }
            for column in ["offered", "accepted"] { try db.execute(sql: "ALTER TABLE __wadup_modules DROP COLUMN \(column)") }
            try db.execute(sql: "PRAGMA user_version = 1")
            try db.execute(sql: "DELETE FROM __wadup_input WHERE rowid = (SELECT max(rowid) FROM __wadup_input)")
            try db.execute(sql: "UPDATE __wadup_run SET outcome = 'interrupted'")
        }
        return (output, input, modules)
    }

    @Test func aVersionOneDatabaseIsReadByEveryView() throws {
        let (output, _, _) = try Self.versionOneRun()
        for view in [["tree", output], ["stats", output], ["export", output, "--format", "jsonl"], ["export", output, "--format", "csv"]] {
            let exit = try Command.wadup(view).run()
            #expect(exit.status == 0, "\(view): \(exit.stderr)")
        }
        let show = try Command.wadup(["show", output, "test.zip"]).run()
        #expect(show.status == 0 && show.stdout.contains("type"), "\(show.stderr)")
    }

    @Test func aVersionOneDatabaseIsResumedAndBroughtToVersionTwo() throws {
        let (output, input, modules) = try Self.versionOneRun()
        #expect(WadupCommand.execute(["--modules", modules, "--input", input, "--output", output, "--threads", "1", "--resume"]) == 0)
        let db = try DatabaseQueue(path: output)
        #expect(try db.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } == 2)
        // What the resume redid has its type; what the first attempt kept has none (it was not recorded then).
        let typed = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content WHERE mime IS NOT NULL") } ?? 0
        let untyped = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content WHERE mime IS NULL") } ?? 0
        #expect(typed > 0 && untyped > 0, "typed \(typed), untyped \(untyped)")
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT sum(offered) FROM __wadup_modules") } ?? 0 > 0)
    }
}
