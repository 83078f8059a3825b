import Foundation
import GRDB
import WADUPStore

/// `wadup export`: a run's contents as JSON Lines, or one table as CSV, streamed in constant memory.
package struct Exporter {
    package enum Format: String, Sendable, CaseIterable {
        case jsonl, csv
    }

    package let database: RunDatabase

    package init(database: RunDatabase) {
        self.database = database
    }

    /// One JSON object per content (`uuid`, `path`, `parent_uuid`, `depth`, `size`, `sha256`, `status`,
    /// `error_message`, `duplicate_of`, `rows: {table: [{column: value}]}`), in uuid order.
    ///
    /// Contents and every table are read as sorted cursors and merged, so memory does not grow with
    /// the run; paths come from the parent links with a bounded cache. Returns the number of lines.
    @discardableResult
    package func jsonLines(to sink: OutputSink) throws(InspectError) -> Int {
        let tables = database.tables
        return try database.read { db in
            let paths = try PathResolver(db)
            let contents = try Row.fetchCursor(db, sql: "SELECT \(database.contentSelect) FROM __wadup_content ORDER BY uuid")
            let cursors = try tables.map { table in
                try MergeCursor(
                    db, sql: "SELECT content_uuid, \(table.columns.map(SQL.quoted).joined(separator: ", ")) FROM \(SQL.quoted(table.name)) ORDER BY content_uuid, rowid")
            }
            let keys = tables.map { $0.columns.map(JSONText.string) }
            var lines = 0
            while let row = try contents.next() {
                let c = RunDatabase.content(row)
                var line = "{\"uuid\":\(JSONText.string(c.uuid)),\"path\":\(JSONText.string(try paths.path(of: c.uuid, filename: c.filename, parent: c.parentUUID)))"
                line += ",\"parent_uuid\":\(JSONText.optional(c.parentUUID)),\"depth\":\(c.depth),\"size\":\(c.size.map(String.init) ?? "null")"
                line += ",\"sha256\":\(JSONText.optional(c.sha256)),\"status\":\(JSONText.string(c.status.rawValue)),\"error_message\":\(JSONText.optional(c.errorMessage))"
                line += ",\"duplicate_of\":\(JSONText.optional(c.duplicateOf)),\"mime\":\(JSONText.optional(c.mime))"
                line += ",\"description\":\(JSONText.optional(c.typeDescription)),\"rows\":{"
                var firstTable = true
                for (i, cursor) in cursors.enumerated() {
                    let rows = try cursor.rows(for: c.uuid)
                    guard !rows.isEmpty else { continue }
                    line += (firstTable ? "" : ",") + JSONText.string(tables[i].name) + ":["
                    firstTable = false
                    for (r, values) in rows.enumerated() {
                        line += r == 0 ? "{" : ",{"
                        for (k, value) in values.enumerated() {
                            line += (k == 0 ? "" : ",") + keys[i][k] + ":" + JSONText.value(value)
                        }
                        line += "}"
                    }
                    line += "]"
                }
                line += "}}\n"
                try sink.write(line)
                lines += 1
            }
            return lines
        }
    }

    /// One table (a module table or `__wadup_content`, the default) as RFC 4180 CSV with a header,
    /// a `path` column first (`content_path` if the table has a `path`). Returns the number of data rows.
    @discardableResult
    package func csv(table name: String?, to sink: OutputSink) throws(InspectError) -> Int {
        let name = name ?? "__wadup_content"
        let table: String
        let columns: [String]
        let uuidColumn: String
        if name == "__wadup_content" {
            (table, columns, uuidColumn) = (name, RunDatabase.contentColumns.components(separatedBy: ", "), "uuid")
        } else if let found = database.tables.first(where: { $0.name.lowercased() == name.lowercased() }) {
            // SQLite table names are unique without case, so this is the one table of that name.
            (table, columns, uuidColumn) = (found.name, ["content_uuid"] + found.columns, "content_uuid")
        } else {
            let known = (["__wadup_content"] + database.tables.map(\.name)).joined(separator: ", ")
            throw InspectError(.noSuchTable, "\(database.path): no table \(name) (tables: \(known))")
        }
        return try database.read { db in
            let paths = try PathResolver(db)
            // The added column is `path`, or `content_path` when the table has a `path` of its own.
            let pathColumn = columns.contains("path") ? "content_path" : "path"
            try sink.write(([pathColumn] + columns).map(Self.csvField).joined(separator: ",") + "\r\n")
            let uuidIndex = columns.firstIndex(of: uuidColumn)!
            let selected = table == "__wadup_content" && !database.hasTypes
                ? database.contentSelect : columns.map(SQL.quoted).joined(separator: ", ")
            let cursor = try Row.fetchCursor(db, sql: "SELECT \(selected) FROM \(SQL.quoted(table)) ORDER BY rowid")
            var count = 0
            while let row = try cursor.next() {
                let values = Array(row.databaseValues)
                let uuid = String.fromDatabaseValue(values[uuidIndex]) ?? ""
                var fields = [Self.csvField(try paths.path(of: uuid))]
                for value in values {
                    switch value.storage {
                    case .null: fields.append("")
                    case .int64(let i): fields.append(String(i))
                    case .double(let d): fields.append("\(d)")
                    case .string(let s): fields.append(Self.csvField(s))
                    case .blob(let data): fields.append(data.base64EncodedString())
                    }
                }
                try sink.write(fields.joined(separator: ",") + "\r\n")
                count += 1
            }
            return count
        }
    }

    /// A CSV field, quoted when it holds a separator, a quote, a line break or edge spaces.
    static func csvField(_ s: String) -> String {
        let needsQuotes = s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" } || s.first == " " || s.last == " "
        return needsQuotes ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

/// The path of a content from its input (`evidence/a.zip/b.jar/c.class`), by its parent links.
///
/// A bounded cache keeps the paths of recent parents: siblings share them, and memory stays flat.
final class PathResolver {
    private let statement: Statement
    private var cache: [String: String] = [:]
    private static let limit = 1 << 16

    init(_ db: Database) throws {
        statement = try db.makeStatement(sql: "SELECT filename, parent_uuid FROM __wadup_content WHERE uuid = ?")
    }

    func path(of uuid: String) throws(InspectError) -> String {
        if let cached = cache[uuid] { return cached }
        do {
            guard let row = try Row.fetchOne(statement, arguments: [uuid]) else { return "" }
            return try path(of: uuid, filename: row[0], parent: row[1])
        } catch let error as InspectError {
            throw error
        } catch {
            throw InspectError(.unreadable, "cannot read the path of \(uuid): \(error)")
        }
    }

    func path(of uuid: String, filename: String, parent: String?, depth: Int = 0) throws(InspectError) -> String {
        if let cached = cache[uuid] { return cached }
        // A parent chain longer than any run's depth limit means a loop in a damaged database.
        let path = if let parent, depth < 10_000 { try self.path(of: parent) + "/" + filename } else { filename }
        if cache.count >= Self.limit { cache.removeAll(keepingCapacity: true) }
        cache[uuid] = path
        return path
    }
}

/// A module table read in `content_uuid` order, handing out the rows of one content at a time.
final class MergeCursor {
    private let cursor: RowCursor
    private var pending: (uuid: String, values: [DatabaseValue])?

    init(_ db: Database, sql: String) throws {
        cursor = try Row.fetchCursor(db, sql: sql)
        try advance()
    }

    private func advance() throws {
        if let row = try cursor.next() {
            let values = Array(row.databaseValues)
            pending = (String.fromDatabaseValue(values[0]) ?? "", Array(values.dropFirst()))
        } else {
            pending = nil
        }
    }

    /// The rows of `uuid`; rows of contents before it (in uuid order) that no content claimed are passed over.
    func rows(for uuid: String) throws -> [[DatabaseValue]] {
        var rows: [[DatabaseValue]] = []
        while let p = pending, p.uuid.utf8.lexicographicallyPrecedes(uuid.utf8) { try advance() }
        while let p = pending, p.uuid == uuid {
            rows.append(p.values)
            try advance()
        }
        return rows
    }
}
