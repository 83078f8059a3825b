import Foundation
import GRDB
import WADUPCore
import WADUPStore

/// A run's database opened read-only: what every view (tree, show, stats, export, report) reads.
///
/// Opening never writes to the file, so every view is safe on evidence and during a run in
/// progress (SQLite's WAL lets a reader see the last committed state while the writer goes on).
package final class RunDatabase {
    /// One row of `__wadup_content`.
    package struct Content: Sendable, Equatable {
        package let uuid: String
        package let filename: String
        package let parentUUID: String?
        package let processedAt: Int64
        package let status: ContentStatus
        package let errorMessage: String?
        package let depth: Int
        package let size: Int64?
        package let sha256: String?
        package let duplicateOf: String?
        /// The type an identifying module reported (`nil` when none did, or before schema 2).
        package let mime: String?
        package let typeDescription: String?
    }

    /// A module table: its name, the module that defined it (unknown in databases of schema 0) and its columns.
    package struct Table: Sendable {
        package let name: String
        package let module: String?
        package let columns: [String]
        /// The module's name, or the table's when the module is not recorded.
        package var owner: String { module ?? name }
    }

    /// One attempt of the run (`__wadup_run`).
    package struct Run: Sendable {
        package let id: Int64
        package let startedAt: Int64
        package let finishedAt: Int64?
        package let version: String
        package let engine: String
        package let settings: String
        /// `nil` for a spelling this version does not know (a newer WADUP wrote it).
        package let outcome: RunOutcome?
        package let resumedFrom: Int64?
    }

    /// One module of the run (`__wadup_modules`, written when the run ends).
    package struct Module: Sendable {
        package let name: String
        package let sha256: String
        package let size: Int64
        package let runs: Int64
        package let failures: Int64
        package let milliseconds: Double
        /// Contents dispatch offered the module, and those it accepted (`nil` before schema 2).
        package let offered: Int64?
        package let accepted: Int64?
        /// The digest of its data folder; `nil` without one (and in databases written before data folders).
        package let dataSha256: String?
        /// The runtime a Python module ran on; `nil` for a `.wasm` module (and in databases written before Python modules).
        package let runtime: String?
    }

    package let path: String
    package let schemaVersion: Int
    package let tables: [Table]
    /// Whether the database has the columns of schema 2 (content types, dispatch counts, data
    /// folders' digests): written by this version, or an older run a resume brought to it.
    package let hasTypes: Bool
    let db: DatabaseQueue

    /// The newest layout this program reads.
    package static let supportedSchema = SQLiteStore.schemaVersion

    /// Opens `path` read-only and checks that it is a WADUP database this version can read.
    package init(path: String) throws(InspectError) {
        self.path = path
        var isDirectory: ObjCBool = false
        guard case .file = RunOutput.Location(path) else {
            throw InspectError(
                .notWADUP,
                "\(path) is a PostgreSQL run: copy it into SQLite with wadup merge \(path) \(RunSetting.output) RUN.db and read that, or see wadup status \(RunSetting.output) \(path)")
        }
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InspectError(.notFound, "\(path): no such file")
        }
        guard !isDirectory.boolValue else { throw InspectError(.notWADUP, "\(path) is a folder, not a WADUP database") }
        guard SQLiteStore.isWADUPDatabase(path: path) else {
            throw InspectError(.notWADUP, "\(path) is not a WADUP database (no __wadup_content and __wadup_run tables)")
        }
        do {
            db = try DatabaseQueue(path: path, configuration: SQLiteStore.readOnlyConfiguration())
            let version = try db.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } ?? 0
            guard version <= Self.supportedSchema else {
                throw InspectError(
                    .newerSchema,
                    "\(path) was written by a newer WADUP (schema \(version); this wadup reads up to \(Self.supportedSchema)): use a newer wadup")
            }
            schemaVersion = version
            hasTypes = try db.read { try $0.columns(in: "__wadup_content").contains { $0.name == "mime" } }
            tables = try db.read { db in
                let owners = try db.tableExists("__wadup_tables")
                    ? Dictionary(try Row.fetchAll(db, sql: "SELECT name, module FROM __wadup_tables").map { ($0["name"] as String, $0["module"] as String) }, uniquingKeysWith: { a, _ in a })
                    : [:]
                return try SQLiteStore.moduleTables(db).map { schema in
                    Table(name: schema.name, module: owners[schema.name], columns: schema.columns.map(\.name))
                }
            }
        } catch let error as InspectError {
            throw error
        } catch {
            throw InspectError(.unreadable, "\(path): cannot read the database: \(error)")
        }
    }

    /// Runs `body` in one read transaction (one consistent snapshot, even while a run writes).
    func read<T>(_ body: (Database) throws -> T) throws(InspectError) -> T {
        do {
            return try db.read(body)
        } catch let error as InspectError {
            throw error
        } catch {
            throw InspectError(.unreadable, "\(path): cannot read the database: \(error)")
        }
    }

    /// The columns of `__wadup_content` the views show, in order.
    static let contentColumns = "uuid, filename, parent_uuid, processed_at, status, error_message, depth, size, sha256, duplicate_of, mime, description"

    /// ``contentColumns`` as a select list this database can run: NULL for the type columns of a
    /// database older than schema 2.
    var contentSelect: String {
        hasTypes ? Self.contentColumns : Self.contentColumns.replacingOccurrences(of: "mime, description", with: "NULL AS mime, NULL AS description")
    }

    static func content(_ row: Row) -> Content {
        Content(
            uuid: row[0], filename: row[1], parentUUID: row[2], processedAt: row[3] ?? 0, status: ContentStatus(rawValue: row[4]) ?? .failed, errorMessage: row[5],
            depth: row[6] ?? 0, size: row[7], sha256: row[8], duplicateOf: row[9], mime: row[10], typeDescription: row[11])
    }

    /// Every attempt of the run, oldest first.
    package func runs() throws(InspectError) -> [Run] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, started_at, finished_at, wadup_version, engine, settings, outcome, resumed_from FROM __wadup_run ORDER BY id"
            ).map { Run(id: $0[0], startedAt: $0[1], finishedAt: $0[2], version: $0[3], engine: $0[4], settings: $0[5], outcome: RunOutcome(rawValue: $0[6] as String), resumedFrom: $0[7]) }
        }
    }

    /// The modules of the run, by name (empty until the run's end is written).
    package func modules() throws(InspectError) -> [Module] {
        try read { db in
            // Columns a database of an older layout lacks (schema 2's, and `runtime`, added within it) read as NULL.
            let present = Set(try db.columns(in: "__wadup_modules").map(\.name))
            let added = ["offered", "accepted", "data_sha256", "runtime"].map { present.contains($0) ? $0 : "NULL" }.joined(separator: ", ")
            return try Row.fetchAll(db, sql: "SELECT name, sha256, size, runs, failures, total_time_ms, \(added) FROM __wadup_modules ORDER BY name").map {
                Module(
                    name: $0[0], sha256: $0[1], size: $0[2], runs: $0[3], failures: $0[4], milliseconds: $0[5], offered: $0[6], accepted: $0[7],
                    dataSha256: $0[8], runtime: $0[9])
            }
        }
    }

    /// Every content, in the order they were written (a parent before its children).
    package func allContents() throws(InspectError) -> [Content] {
        try read { db in try Row.fetchAll(db, sql: "SELECT \(contentSelect) FROM __wadup_content ORDER BY rowid").map(Self.content) }
    }

    /// The content with this uuid.
    package func content(uuid: String) throws(InspectError) -> Content? {
        try read { db in try Row.fetchOne(db, sql: "SELECT \(contentSelect) FROM __wadup_content WHERE uuid = ?", arguments: [uuid.lowercased()]).map(Self.content) }
    }

    /// The children of `uuid`, in the order they were written.
    package func children(of uuid: String) throws(InspectError) -> [Content] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT \(contentSelect) FROM __wadup_content WHERE parent_uuid = ? ORDER BY rowid", arguments: [uuid]).map(Self.content)
        }
    }

    /// `content`, its parent, … up to its input (the input first).
    package func chain(to content: Content) throws(InspectError) -> [Content] {
        var chain = [content]
        var seen: Set<String> = [content.uuid]
        while let parent = chain.last?.parentUUID, !seen.contains(parent), let next = try self.content(uuid: parent) {
            chain.append(next)
            seen.insert(parent)
        }
        return chain.reversed()
    }

    /// The rows every module table holds for `uuid`: (table, rows), tables without rows left out.
    package func rows(of uuid: String) throws(InspectError) -> [(table: Table, rows: [[DatabaseValue]])] {
        try read { db in
            try tables.compactMap { table in
                let columns = table.columns.map(SQL.quoted).joined(separator: ", ")
                let rows = try Row.fetchAll(
                    db, sql: "SELECT \(columns) FROM \(SQL.quoted(table.name)) WHERE content_uuid = ? ORDER BY rowid", arguments: [uuid]
                ).map { Array($0.databaseValues) }
                return rows.isEmpty ? nil : (table, rows)
            }
        }
    }

    /// Rows per content for every table: `[table index: [content uuid: count]]`.
    package func rowCounts() throws(InspectError) -> [[String: Int]] {
        try read { db in
            try tables.map { table in
                var counts: [String: Int] = [:]
                let cursor = try Row.fetchCursor(db, sql: "SELECT content_uuid, count(*) FROM \(SQL.quoted(table.name)) GROUP BY content_uuid")
                while let row = try cursor.next() { counts[row[0]] = row[1] }
                return counts
            }
        }
    }

    /// Finds a content by uuid, sha256 (the processed occurrence first) or path from its input
    /// (`evidence/a.zip/b.jar/c.class`).
    package func resolve(_ reference: String) throws(InspectError) -> Content {
        let text = reference.lowercased()
        if text.count == 36, UUID(uuidString: text) != nil, let found = try content(uuid: text) { return found }
        if text.count == 64, text.allSatisfy(\.isHexDigit) {
            let found = try read { db in
                try Row.fetchOne(
                    db, sql: "SELECT \(contentSelect) FROM __wadup_content WHERE sha256 = ? ORDER BY status = \(ContentStatus.duplicate.sql), rowid LIMIT 1",
                    arguments: [text]
                ).map(Self.content)
            }
            if let found { return found }
        }
        if let found = try find(path: reference) { return found }
        throw InspectError(.noSuchContent, "\(path): no content with uuid, sha256 or path \(reference)")
    }

    /// The content at `path`: names from an input down, joined by `/` (names may hold `/` themselves).
    func find(path: String) throws(InspectError) -> Content? {
        let path = path.hasSuffix("/") ? String(path.dropLast()) : path
        let roots = try read { db in
            try Row.fetchAll(db, sql: "SELECT \(contentSelect) FROM __wadup_content WHERE parent_uuid IS NULL ORDER BY rowid").map(Self.content)
        }
        return try descend(path, candidates: roots)
    }

    private func descend(_ rest: String, candidates: [Content]) throws(InspectError) -> Content? {
        for candidate in candidates {
            if rest == candidate.filename { return candidate }
            if rest.hasPrefix(candidate.filename + "/") {
                let remainder = String(rest.dropFirst(candidate.filename.count + 1))
                if let found = try descend(remainder, candidates: try children(of: candidate.uuid)) { return found }
            }
        }
        return nil
    }
}

/// The module failures recorded in one `error_message` (`module: kind: detail; module: kind: detail`).
package struct RecordedFailure: Sendable, Equatable {
    package let module: String
    package let kind: String
    package let detail: String

    /// Splits `message` at each `; module: kind: ` whose kind is a known ``FailureKind``; text that
    /// does not start a failure stays in the detail of the one before it.
    package static func parse(_ message: String) -> [RecordedFailure] {
        var failures: [RecordedFailure] = []
        for piece in message.components(separatedBy: "; ") {
            let parts = piece.split(separator: ": ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            if parts.count >= 2, FailureKind(rawValue: parts[1]) != nil, !parts[0].isEmpty, !parts[0].contains(" ") {
                failures.append(RecordedFailure(module: parts[0], kind: parts[1], detail: parts.count > 2 ? parts[2] : ""))
            } else if let last = failures.popLast() {
                failures.append(RecordedFailure(module: last.module, kind: last.kind, detail: last.detail + "; " + piece))
            }
        }
        return failures
    }
}
