import Foundation
import GRDB

/// A run's results as sorted lines: two databases (SQLite or PostgreSQL, one process or several,
/// killed and resumed, sharded and merged) hold the same results exactly when their lines are equal.
///
/// Contents are named by their path from their input (the chain of names down the tree), never by
/// their UUIDs, which differ from run to run; rows by the path of their content. A content or row
/// that is there twice shows twice; a parent, repeat or content that cannot be found shows as
/// `ORPHAN` or `DANGLING`. Readers: ``sqlite(_:)`` here, and the PostgreSQL suites' reader of
/// their server, which builds a dump from ``Content`` and ``Row`` values.
public struct RunDump: Sendable {
    /// One `__wadup_content` row.
    public struct Content: Sendable {
        public let uuid: String
        public let filename: String
        /// The exact bytes of a name that is not UTF-8 (`filename_bytes`).
        public let filenameBytes: [UInt8]?
        public let parent: String?
        public let sha256: String?
        public let size: Int?
        public let status: String
        public let depth: Int
        public let duplicateOf: String?
        public let error: String?

        public init(
            uuid: String, filename: String, filenameBytes: [UInt8]?, parent: String?, sha256: String?, size: Int?, status: String, depth: Int,
            duplicateOf: String?, error: String?
        ) {
            self.uuid = uuid
            self.filename = filename
            self.filenameBytes = filenameBytes
            self.parent = parent
            self.sha256 = sha256
            self.size = size
            self.status = status
            self.depth = depth
            self.duplicateOf = duplicateOf
            self.error = error
        }
    }

    /// One row of a module table: its content's UUID and its other values, each as ``canonical(_:)`` prints it.
    public struct Row: Sendable {
        public let table: String
        public let content: String
        public let values: [String]

        public init(table: String, content: String, values: [String]) {
            self.table = table
            self.content = content
            self.values = values
        }
    }

    /// What the lines say.
    public enum Form: Sendable {
        /// Every content with its path, sha256, size, status, depth, the path of the content it
        /// repeats and its error; every row with its content's path.
        case exact
        /// What two runs share whichever occurrence of repeated bytes dedup chose (on several
        /// threads or processes, timing chooses): every input with its sha256, size and whether it
        /// was processed or linked; how many times each sha256 was processed; every row with its
        /// content's sha256.
        case invariant
    }

    public let contents: [Content]
    public let rows: [Row]

    public init(contents: [Content], rows: [Row]) {
        self.contents = contents
        self.rows = rows
    }

    /// The lines, sorted.
    public func lines(_ form: Form = .exact) -> [String] {
        let byUUID = Dictionary(contents.map { ($0.uuid, $0) }, uniquingKeysWith: { first, _ in first })
        var paths: [String: String] = [:]
        func path(_ uuid: String) -> String {
            if let known = paths[uuid] { return known }
            var names: [String] = []
            var next: String? = uuid
            var seen: Set<String> = []
            while let current = next {
                guard let content = byUUID[current], seen.insert(current).inserted else {
                    names.append("ORPHAN")
                    break
                }
                names.append(Self.name(content))
                next = content.parent
            }
            let text = names.reversed().joined(separator: "/")
            paths[uuid] = text
            return text
        }
        var out: [String] = []
        switch form {
        case .exact:
            for c in contents {
                let repeats = c.duplicateOf.map { byUUID[$0] == nil ? "DANGLING" : path($0) } ?? "-"
                out.append("content \(path(c.uuid)) \(c.sha256 ?? "-") \(c.size.map(String.init) ?? "-") \(c.status) \(c.depth) \(repeats) \(c.error ?? "-")")
            }
            for r in rows { out.append("row \(r.table) \(byUUID[r.content] == nil ? "ORPHAN" : path(r.content)) \(r.values.joined(separator: " "))") }
        case .invariant:
            for c in contents where c.parent == nil {
                let state = c.status == "success" || c.status == "duplicate" ? "processed" : c.status
                let dangling = c.duplicateOf.map { byUUID[$0] == nil ? " DANGLING" : "" } ?? ""
                out.append("input \(path(c.uuid)) \(c.sha256 ?? "-") \(c.size.map(String.init) ?? "-") \(state)\(dangling)")
            }
            let processed = Dictionary(grouping: contents.filter { $0.status == "success" || $0.status == "failed" }, by: { $0.sha256 ?? "-" })
            out += processed.map { "processed \($0.key) \($0.value.count)" }
            for r in rows { out.append("row \(r.table) \(byUUID[r.content].map { $0.sha256 ?? "-" } ?? "ORPHAN") \(r.values.joined(separator: " "))") }
        }
        return out.sorted()
    }

    /// A name as recorded, with the exact bytes in hex after it where they are not UTF-8.
    static func name(_ content: Content) -> String {
        guard let bytes = content.filenameBytes else { return content.filename }
        return content.filename + "[" + bytes.map { String(format: "%02x", $0) }.joined() + "]"
    }

    /// A value as every reader prints it: integers and reals by value (PostgreSQL's JSON does not
    /// say which a number was), text quoted, blobs in hex.
    public static func canonical(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "null"
        case let n as NSNumber:
            let d = n.doubleValue
            return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case let s as String: return "\"\(s)\""
        case let bytes as [UInt8]: return "x'" + bytes.map { String(format: "%02x", $0) }.joined() + "'"
        default: return "\(value!)"
        }
    }

    /// A run's SQLite database, read with GRDB: every content and every row of every table that is
    /// not WADUP's own (`__wadup_*`) or SQLite's (`sqlite_*`).
    public static func sqlite(_ path: String) throws -> RunDump {
        let db = try DatabaseQueue(path: path)
        defer { try? db.close() }
        return try db.read { db in
            let contents = try GRDB.Row.fetchAll(
                db, sql: "SELECT uuid, filename, filename_bytes, parent_uuid, sha256, size, status, depth, duplicate_of, error_message FROM __wadup_content"
            ).map { row in
                Content(
                    uuid: row["uuid"], filename: row["filename"], filenameBytes: (row["filename_bytes"] as Data?).map { Array($0) },
                    parent: row["parent_uuid"], sha256: row["sha256"], size: row["size"], status: row["status"], depth: row["depth"],
                    duplicateOf: row["duplicate_of"], error: row["error_message"])
            }
            var rows: [Row] = []
            let tables = try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_\\_wadup%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
            for table in tables {
                for row in try GRDB.Row.fetchAll(db, sql: "SELECT * FROM \"\(table.replacingOccurrences(of: "\"", with: "\"\""))\"") {
                    let values = row.columnNames.filter { $0 != "content_uuid" }.map { name -> String in
                        switch (row[name] as DatabaseValue).storage {
                        case .null: canonical(nil)
                        case .int64(let v): canonical(NSNumber(value: v))
                        case .double(let v): canonical(NSNumber(value: v))
                        case .string(let v): canonical(v)
                        case .blob(let v): canonical(Array(v))
                        }
                    }
                    rows.append(Row(table: table, content: row["content_uuid"], values: Array(values)))
                }
            }
            return RunDump(contents: contents, rows: rows)
        }
    }
}
