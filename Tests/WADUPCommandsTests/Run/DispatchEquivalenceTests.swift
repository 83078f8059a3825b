import Foundation
import GRDB
import Testing
import WADUPCommands
import WADUPTestSupport

/// Dispatch loses nothing: the standard modules, run with and without it on the format corpus and
/// the peer implementation's fixtures, give the same content tree, the same rows and the same types.
@Suite(.serialized)
struct DispatchEquivalenceTests {
    static let standard = ["file_type", "archive", "zip_parser", "sqlite_parser", "byte_counter", "hashes", "executable", "indicators", "yara", "mail", "pdf", "office"]

    /// Rules for `yara` (without rules it is not loaded): strings, hex and conditions that match
    /// archives, executables and text of the inputs.
    static let rules = """
        import "elf"
        import "math"
        rule zip_local_header { strings: $pk = { 50 4B 03 04 } condition: $pk at 0 }
        rule tar_magic { strings: $u = "ustar" condition: $u at 257 }
        rule elf_file { condition: uint32(0) == 0x464c457f and elf.type != 0 }
        rule dense { condition: filesize > 256 and math.entropy(0, filesize) > 7.5 }
        rule words { strings: $a = "the" nocase wide ascii condition: #a > 2 }
        """

    static func types(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT coalesce(sha256, '') || ' ' || coalesce(mime, 'NULL') || ' ' || coalesce(description, 'NULL') FROM __wadup_content ORDER BY 1")
        }
    }

    @Test(arguments: ["corpus", "peer"])
    func theStandardModulesGiveTheSameResultsWithAndWithoutDispatch(inputs: String) throws {
        let input = inputs == "corpus" ? try FormatCorpus.inputs() : Fixtures.peerWadup2
        let modules = try BuiltModules.folder(Self.standard)
        try FileManager.default.createDirectory(atPath: modules + "/yara.d", withIntermediateDirectories: true)
        try Self.rules.write(toFile: modules + "/yara.d/inputs.yar", atomically: true, encoding: .utf8)
        let dir = Harness.temporaryDirectory()
        #expect(WadupCommand.execute(["--modules", modules, "--input", input, "--output", dir + "/dispatch.db", "--threads", "2"]) == 0)
        #expect(WadupCommand.execute(["--modules", modules, "--input", input, "--output", dir + "/all.db", "--threads", "2", "--no-dispatch"]) == 0)
        let with = try RunDump.sqlite(dir + "/dispatch.db").lines(.invariant)
        #expect(with.count > (inputs == "corpus" ? 200 : 5))
        #expect(try RunDump.sqlite(dir + "/all.db").lines(.invariant) == with)
        #expect(try Self.types(dir + "/dispatch.db") == Self.types(dir + "/all.db"))
        let db = try DatabaseQueue(path: dir + "/dispatch.db")
        let counts = try db.read { try Row.fetchAll($0, sql: "SELECT name, offered, accepted FROM __wadup_modules") }
        for row in counts {
            let (name, offered, accepted): (String, Int, Int) = (row["name"], row["offered"], row["accepted"])
            #expect(offered > 0 && accepted <= offered, "\(name)")
            if ["file_type", "byte_counter", "hashes", "yara"].contains(name) { #expect(accepted == offered, "\(name)") }
        }
        // Every content file_type identified has its type on the content itself, equal to its file_types row.
        let mismatched = try db.read {
            try Int.fetchOne($0, sql: """
                SELECT count(*) FROM __wadup_content c JOIN file_types f ON f.content_uuid = c.uuid
                WHERE c.mime IS NOT f.mime OR c.description IS NOT f.description
                """)
        }
        #expect(mismatched == 0)
        // Every table the standard set writes is in the list `wadup new`'s README gives (a table
        // is made with its first row, so each run writes those its inputs call for).
        let tables = try db.read { try Row.fetchAll($0, sql: "SELECT name, module FROM __wadup_tables") }.map { "\($0["name"] as String) \($0["module"] as String)" }
        #expect(Set(tables).isSubset(of: StandardTables.all.map { "\($0.table) \($0.module)" }), "\(tables)")
        #expect(tables.count >= (inputs == "corpus" ? 10 : 6), "\(tables)")
        #expect(Set(try db.read { try String.fetchAll($0, sql: "SELECT name FROM __wadup_modules") }) == Set(Self.standard))
    }
}
