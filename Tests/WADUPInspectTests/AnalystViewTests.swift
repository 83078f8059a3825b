import Foundation
import GRDB
import Testing
import WADUPInspect
import WADUPTestSupport

/// The read-only views of a run (report, tree, show, stats, export) on a real run over the format
/// corpus (a `.tar.gz` inside a ZIP inside a tar, duplicates) with a module that traps on odd sizes,
/// checked against the database read directly with SQL, and the report in headless Chromium.
@Suite(.serialized)
struct AnalystViewTests {
    /// The run, made once for the suite (its tests only read it).
    static let madeRun = Result { try makeRun() }

    static let trapOnOddSize = """
        (module
          (import "env" "get_content_size" (func $size (result i32)))
          (memory (export "memory") 1)
          (func (export "process") (result i32)
            (if (i32.and (call $size) (i32.const 1)) (then unreachable))
            (i32.const 0)))
        """

    static func makeRun() throws -> String {
        let inputs = try FormatCorpus.inputs()
        let modules = try BuiltModules.folder(["archive", "zip_parser", "byte_counter", "file_type", "hashes", "executable", "indicators"])
        try GuestModule.write(trapOnOddSize, to: "\(modules)/odd_trap.wasm")
        let out = Harness.temporaryDirectory() + "/run.db"
        let run = try wadup(["--modules", modules, "--input", inputs, "--output", out])
        guard run == 0 else { throw SupportError("the run for the views failed (exit \(run))") }
        return out
    }

    /// The exit status of the `wadup` built with these tests, run with `arguments`.
    static func wadup(_ arguments: [String]) throws -> Int32 {
        try Command.wadup(arguments).run().status
    }

    struct Stored {
        let uuid: String, filename: String, parent: String?, status: String, sha256: String?, depth: Int
    }

    /// Every content as SQL reads it, with its path built here from the parent links.
    static func stored(_ path: String) throws -> (contents: [String: Stored], paths: [String: String]) {
        let db = try DatabaseQueue(path: path)
        let rows = try db.read { try Row.fetchAll($0, sql: "SELECT uuid, filename, parent_uuid, status, sha256, depth FROM __wadup_content") }
        var contents: [String: Stored] = [:]
        for r in rows { contents[r[0]] = Stored(uuid: r[0], filename: r[1], parent: r[2], status: r[3], sha256: r[4], depth: r[5]) }
        var paths: [String: String] = [:]
        for c in contents.values {
            var names = [c.filename]
            var p = c.parent
            while let parent = p, let up = contents[parent] {
                names.insert(up.filename, at: 0)
                p = up.parent
            }
            paths[c.uuid] = names.joined(separator: "/")
        }
        return (contents, paths)
    }

    /// `SELECT * FROM table WHERE content_uuid = uuid` without the uuid column, as JSON-comparable values.
    static func sqlRows(_ path: String, table: String, uuid: String) throws -> [[String: String]] {
        let db = try DatabaseQueue(path: path)
        return try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" WHERE content_uuid = ? ORDER BY rowid", arguments: [uuid]).map { row in
                var out: [String: String] = [:]
                for column in row.columnNames where column != "content_uuid" { out[column] = row[column].map { "\($0)" } ?? "NULL" }
                return out
            }
        }
    }

    static func moduleTables(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read {
            try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_\\_wadup%' ESCAPE '\\' ORDER BY name")
        }
    }

    func render(_ body: (OutputSink) throws -> Void) throws -> String {
        let file = Harness.temporaryDirectory() + "/out.txt"
        let sink = try OutputSink(path: file)
        try body(sink)
        try sink.close()
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    @Test func theRunHasNestedArchivesFailuresAndDuplicates() throws {
        let (contents, _) = try Self.stored(try Self.madeRun.get())
        #expect(contents.values.contains { $0.depth == 3 })
        #expect(contents.values.contains { $0.status == "failed" })
        #expect(contents.values.contains { $0.status == "duplicate" })
        #expect(try Self.moduleTables(try Self.madeRun.get()).contains("archive_entries"))
    }

    @Test func jsonLinesHoldEveryContentWithItsPathAndEveryTablesRows() throws {
        let db = try Self.madeRun.get()
        let (contents, paths) = try Self.stored(db)
        let text = try render { try Exporter(database: try RunDatabase(path: db)).jsonLines(to: $0) }
        let lines = text.split(separator: "\n")
        #expect(lines.count == contents.count)
        var seen = Set<String>()
        let tables = try Self.moduleTables(db)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let uuid = try #require(object["uuid"] as? String)
            let stored = try #require(contents[uuid])
            seen.insert(uuid)
            #expect(object["path"] as? String == paths[uuid])
            #expect(object["status"] as? String == stored.status)
            #expect(object["sha256"] as? String == stored.sha256)
            #expect(object["depth"] as? Int == stored.depth)
            #expect(object["parent_uuid"] as? String == stored.parent)
            let rows = try #require(object["rows"] as? [String: [[String: Any]]])
            for table in tables {
                let want = try Self.sqlRows(db, table: table, uuid: uuid)
                let got = (rows[table] ?? []).map { $0.mapValues { $0 is NSNull ? "NULL" : "\($0)" } }
                #expect(got == want, "\(paths[uuid] ?? uuid): \(table)")
            }
        }
        #expect(seen == Set(contents.keys))
    }

    @Test func csvOfATableHasItsRowsAndTheirPathsAsPythonsCsvReadsThem() throws {
        let db = try Self.madeRun.get()
        let (_, paths) = try Self.stored(db)
        let file = Harness.temporaryDirectory() + "/entries.csv"
        #expect(try Self.wadup(["export", db, "--format", "csv", "--table", "archive_entries", "--output", file]) == 0)
        let parsed = try python(
            "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='')))))", [file])
        let table = try #require(try JSONSerialization.jsonObject(with: Data(parsed.utf8)) as? [[String]])
        let header = try #require(table.first)
        #expect(header.first == "content_path")
        let want = try DatabaseQueue(path: db).read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM archive_entries ORDER BY rowid").map { row in
                [paths[row["content_uuid"]] ?? ""] + row.databaseValues.map { $0.isNull ? "" : "\($0.storage.value!)" }
            }
        }
        #expect(Array(table.dropFirst()) == want)
    }

    @Test func treeListsEveryContentIndentedByDepthAndFailedOnlyKeepsTheirAncestors() throws {
        let db = try Self.madeRun.get()
        let (contents, _) = try Self.stored(db)
        let run = try RunDatabase(path: db)
        let all = try render { try TreeView(database: run).render(to: $0) }.split(separator: "\n")
        #expect(all.count == contents.count)
        let indents = all.map { $0.prefix { $0 == " " }.count / 2 }
        #expect(indents.sorted() == contents.values.map(\.depth).sorted())
        var failedAndUp = Set<String>()
        for c in contents.values where c.status == "failed" {
            var p: String? = c.uuid
            while let u = p, let s = contents[u] {
                failedAndUp.insert(u)
                p = s.parent
            }
        }
        let failed = try render { try TreeView(database: run, failedOnly: true).render(to: $0) }.split(separator: "\n")
        #expect(failed.count == failedAndUp.count)
        let roots = try render { try TreeView(database: run, maxDepth: 0).render(to: $0) }.split(separator: "\n")
        #expect(roots.count == contents.values.filter { $0.parent == nil }.count)
    }

    @Test func showFindsTheDeepestContentByPathUUIDAndSha256() throws {
        let db = try Self.madeRun.get()
        let (contents, paths) = try Self.stored(db)
        let deepest = try #require(contents.values.first { $0.depth == 3 })
        let run = try RunDatabase(path: db)
        for reference in [paths[deepest.uuid]!, deepest.uuid, deepest.uuid.uppercased()] {
            let text = try render { try ShowView(database: run, reference: reference).render(to: $0) }
            let fields = Dictionary(text.split(separator: "\n").prefix(10).compactMap { line -> (String, String)? in
                guard let gap = line.range(of: "  ") else { return nil }
                return (String(line[..<gap.lowerBound]), line[gap.upperBound...].trimmingCharacters(in: .whitespaces))
            }, uniquingKeysWith: { a, _ in a })
            #expect(fields["uuid"] == deepest.uuid)
            #expect(fields["path"] == paths[deepest.uuid])
            #expect(fields["duplicate of"] == (try DatabaseQueue(path: db).read { try String.fetchOne($0, sql: "SELECT duplicate_of FROM __wadup_content WHERE uuid = ?", arguments: [deepest.uuid]) }))
            for table in try Self.moduleTables(db) {
                for row in try Self.sqlRows(db, table: table, uuid: deepest.uuid) {
                    for value in row.values where value != "NULL" { #expect(text.contains(value), "\(table) value \(value)") }
                }
            }
        }
        let bySha = try run.resolve(try #require(deepest.sha256))
        #expect(bySha.sha256 == deepest.sha256 && bySha.status != .duplicate)
        #expect(throws: InspectError.self) { try run.resolve("no/such/path") }
    }

    @Test func statsCountEveryStatusAndFailureKindAsSQLDoes() throws {
        let db = try Self.madeRun.get()
        let (contents, _) = try Self.stored(db)
        let overview = try RunOverview(try RunDatabase(path: db))
        for status in ["success", "failed", "skipped", "duplicate"] {
            #expect(overview.statuses[status, default: 0] == contents.values.filter { $0.status == status }.count)
        }
        let traps = try DatabaseQueue(path: db).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content WHERE error_message LIKE '%odd_trap: trap: %'") }
        #expect(overview.failureKinds == ["trap": traps!])
        let text = try render { try StatsView(database: try RunDatabase(path: db)).render(to: $0) }
        #expect(text.contains("contents   \(contents.count): "))
        #expect(text.contains("trap"))
    }

    @Test func missingForeignAndNewerDatabasesExitWith2AndAnEmptyRunStillReports() throws {
        let dir = Harness.temporaryDirectory()
        #expect(try Self.wadup(["stats", dir + "/missing.db"]) == 2)
        try #require(FileManager.default.createFile(atPath: dir + "/text.db", contents: Data("not sqlite".utf8)))
        #expect(try Self.wadup(["tree", dir + "/text.db"]) == 2)
        let foreign = try DatabaseQueue(path: dir + "/foreign.db")
        try foreign.write { try $0.execute(sql: "CREATE TABLE t (x)") }
        try foreign.close()
        #expect(try Self.wadup(["report", dir + "/foreign.db"]) == 2)
        try FileManager.default.copyItem(atPath: try Self.madeRun.get(), toPath: dir + "/newer.db")
        let newer = try DatabaseQueue(path: dir + "/newer.db")
        try newer.write { try $0.execute(sql: "PRAGMA user_version = 99") }
        try newer.close()
        #expect(try Self.wadup(["export", dir + "/newer.db", "--format", "jsonl", "--output", dir + "/x.jsonl"]) == 2)
        #expect(throws: InspectError.self) { try RunDatabase(path: dir + "/newer.db") }

        let empty = Harness.temporaryDirectory()
        let modules = try BuiltModules.folder(["byte_counter"])
        #expect(try Self.wadup(["--modules", modules, "--input", empty, "--output", dir + "/empty.db"]) == 0)
        #expect(try Self.wadup(["report", dir + "/empty.db", "--output", dir + "/empty.html"]) == 0)
        let page = try String(contentsOfFile: dir + "/empty.html", encoding: .utf8)
        #expect(page.contains("\"c\":{\"uuid\":[]"))
    }

    /// The report in headless Chromium (Tests/Support/report_browser.py drives it over the DevTools
    /// protocol): counts, expanding the tar → ZIP → .tar.gz chain, the deepest file's rows, search,
    /// the failed filter; the screenshot is kept as WADUP_REPORT_SCREENSHOT when that is set.
    @Test func theReportWorksInHeadlessChromium() throws {
        let db = try Self.madeRun.get()
        let (contents, paths) = try Self.stored(db)
        let dir = Harness.temporaryDirectory()
        #expect(try Self.wadup(["report", db, "--output", dir + "/report.html"]) == 0)
        let page = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        #expect(!page.contains("http://") && !page.contains("https://") && !page.contains("src="), "self-contained")
        // The modules table carries what `stats` shows: dispatch's offered and accepted counts.
        let recorded = try DatabaseQueue(path: db).read { try Row.fetchAll($0, sql: "SELECT name, sha256, offered, accepted FROM __wadup_modules") }
        #expect(!recorded.isEmpty)
        for m in recorded {
            let name: String = m["name"], sha: String = m["sha256"], offered: Int64 = m["offered"], accepted: Int64 = m["accepted"]
            let entry = try Regex("\\[\"\(name)\",\"\(sha)\",[0-9]+,[0-9]+,[0-9]+,[0-9.e+-]+,\(offered),\(accepted),null\\]")
            #expect(page.contains(entry), "\(name) offered \(offered) accepted \(accepted)")
        }

        let chain = ["nested.tar", "outer/middle.zip", "payload/inner.tar.gz", "deepest/readme.txt"]
        var node: Stored? = nil
        for name in chain { node = contents.values.first { $0.parent == node?.uuid && $0.filename == name } }
        let deepest = try #require(node)
        let sha = try #require(deepest.sha256)
        let spec = #"{"expand": \#(String(decoding: try JSONEncoder().encode(chain), as: UTF8.self)), "search": "\#(sha.prefix(20))", "filter": "1"}"#
        let screenshot = ProcessInfo.processInfo.environment["WADUP_REPORT_SCREENSHOT"] ?? dir + "/report.png"
        let output = try pythonFile(Harness.path("Tests/Support/report_browser.py"), [dir + "/report.html", screenshot, spec])
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])

        let cards = try #require(seen["cards"] as? [String: String])
        #expect(cards["count-contents"] == String(contents.count))
        for status in ["success", "failed", "skipped", "duplicate"] {
            #expect(cards["count-\(status)"] == String(contents.values.filter { $0.status == status }.count), "\(status)")
        }
        #expect(cards["count-inputs"] == String(contents.values.filter { $0.parent == nil }.count))
        let roots = contents.values.filter { $0.parent == nil }.map(\.filename).sorted()
        #expect(seen["roots"] as? [String] == roots)

        // After each expansion the children of the expanded node appear right below it, in order written.
        let expanded = try #require(seen["expanded"] as? [[String]])
        #expect(expanded.count == chain.count - 1)
        var parent: Stored? = nil
        for (k, name) in chain.dropLast().enumerated() {
            let opened = try #require(contents.values.first { $0.parent == parent?.uuid && $0.filename == name })
            let children = try DatabaseQueue(path: db).read {
                try String.fetchAll($0, sql: "SELECT filename FROM __wadup_content WHERE parent_uuid = ? ORDER BY rowid", arguments: [opened.uuid])
            }
            let rows = expanded[k]
            let at = try #require(rows.firstIndex(of: name))
            #expect(Array(rows[(at + 1)...].prefix(children.count)) == children, "children of \(name)")
            parent = opened
        }
        let detail = try #require(seen["detail"] as? [String: Any])
        #expect(detail["name"] as? String == "deepest/readme.txt")
        #expect(detail["chain"] as? [String] == chain)
        let tables = try #require(detail["tables"] as? [String: [[String]]])
        for table in try Self.moduleTables(db) {
            let want = try Self.sqlRows(db, table: table, uuid: deepest.uuid)
            #expect((tables[table] ?? []).count == want.count, "\(table)")
        }
        let search = try #require(seen["search"] as? [String: Any])
        let matching = contents.values.filter { $0.sha256?.hasPrefix(String(sha.prefix(20))) ?? false }
        #expect(search["count"] as? Int == matching.count)
        #expect(Set(search["hits"] as? [String] ?? []) == Set(matching.map { paths[$0.uuid]! }))

        var failedAndUp = Set<String>()
        for c in contents.values where c.status == "failed" {
            var p: String? = c.uuid
            while let u = p, let s = contents[u] {
                failedAndUp.insert(s.filename)
                p = s.parent
            }
        }
        let filtered = try #require(seen["filtered"] as? [String])
        #expect(!filtered.isEmpty && Set(filtered) == failedAndUp, "\(Set(filtered).symmetricDifference(failedAndUp))")
        #expect(seen["failure_kinds"] as? [String: Int] == ["trap": contents.values.filter { $0.status == "failed" }.count])
        #expect((seen["screenshot"] as? Int ?? 0) > 10_000)
    }
}
