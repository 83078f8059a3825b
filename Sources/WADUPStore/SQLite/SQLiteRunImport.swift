import Foundation
import GRDB
import WADUPCore

/// Writes a new WADUP SQLite database from another store's rows: a PostgreSQL run copied into one
/// file, which `report`, `tree`, `show`, `stats` and `export` then read like any run.
///
/// The layout is SQLite's own (``SQLiteStore``), so the copy is a WADUP database of schema
/// ``SQLiteStore/schemaVersion``; rows go in with bound values only, into WADUP's tables and the
/// module tables created through ``createModuleTable(_:module:)`` (validated names, quoted). The
/// copy is written under a temporary name beside `path` and renamed there by ``finish()``: a
/// failure or a crash never leaves a partial database at `path`.
///
/// The foreign keys are checked once, by ``finish()``, not row by row: rows arrive in the source's
/// order, and a content may come before the one it references (a repeat at depth 0 links, by
/// `duplicate_of`, to the same bytes met first inside an archive, at depth 2). A copy with any
/// reference left dangling at the end is refused.
public final class SQLiteRunImport {
    /// A value to store: SQLite's storage classes.
    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
    }

    public let path: String
    /// Where the copy is written until it is complete.
    private let partial: String
    private let db: DatabaseQueue
    private var tables: Set<String> = ["__wadup_content", "__wadup_run", "__wadup_input", "__wadup_modules", "__wadup_tables"]
    private var moduleTables: [String] = []

    /// Creates the database at `path`, which must not exist, with WADUP's layout, and opens the transaction.
    public init(path: String) throws(StoreError) {
        self.path = path
        partial = path + ".partial"
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.refused, path: path, "exists; the copy is a new database (remove it or choose another \(RunSetting.output))")
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
        do {
            var configuration = Configuration()
            configuration.foreignKeysEnabled = false
            db = try DatabaseQueue(path: partial, configuration: configuration)
            try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") }
            try db.write { try $0.execute(sql: SQLiteStore.schema) }
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
            throw StoreError(path: path, error: error)
        }
    }

    /// Creates module table `schema` as a run's module would have (and records its module).
    public func createModuleTable(_ schema: TableSchema, module: String) throws(StoreError) {
        guard Identifier.isValid(schema.name), schema.columns.allSatisfy({ Identifier.isValid($0.name) }), !tables.contains(schema.name) else {
            throw StoreError(path: path, "table \(schema.signature) is not a valid module table, or is defined twice")
        }
        do {
            try db.write { db in
                try db.execute(sql: SQLiteStore.createTableSQL(schema))
                try db.execute(sql: "INSERT INTO __wadup_tables (name, module) VALUES (?, ?)", arguments: [schema.name, module])
            }
        } catch {
            throw StoreError(path: path, error: error)
        }
        tables.insert(schema.name)
        moduleTables.append(schema.name)
    }

    /// Inserts `rows` into `table` (WADUP's or a module table created here), `columns` in order.
    public func insert(into table: String, columns: [String], rows: [[Value]]) throws(StoreError) {
        guard tables.contains(table) else {
            throw StoreError(path: path, "no table \(table) with columns \(columns.joined(separator: ", ")) to copy into")
        }
        let sql = "INSERT INTO \(SQL.quoted(table)) (\(columns.map(SQL.quoted).joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
        do {
            try db.write { db in
                let statement = try db.cachedStatement(sql: sql)
                for row in rows {
                    try statement.execute(arguments: StatementArguments(row.map { value -> (any DatabaseValueConvertible)? in
                        switch value {
                        case .null: return nil
                        case .integer(let v): return v
                        case .real(let v): return v
                        case .text(let v): return v
                        case .blob(let v): return Data(v)
                        }
                    }))
                }
            }
        } catch {
            throw StoreError(path: path, error: error)
        }
    }

    /// Checks every reference (``foreignKeyViolations()``), builds the indexes a finished run has
    /// and puts the database at `path`.
    public func finish() throws(StoreError) {
        let violations = try foreignKeyViolations()
        guard violations.isEmpty else {
            abandon()
            let first = violations.prefix(3).map { "\($0.table) row \($0.rowid) → \($0.parent)" }.joined(separator: ", ")
            throw StoreError(path: path, "the copied run has \(violations.count) reference(s) to rows it does not hold (\(first)); nothing was written")
        }
        do {
            try db.write { try SQLiteStore.createIndexes($0, moduleTables: moduleTables) }
            _ = try db.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            try db.close()
            guard !FileManager.default.fileExists(atPath: path) else {
                throw StoreError(.refused, path: path, "was created by someone else while the copy was written; the copy is left at \(partial)")
            }
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
            guard rename(partial, path) == 0 else { throw StoreError(path: path, "\(String(cString: strerror(errno)))") }
        } catch let error as StoreError {
            throw error
        } catch {
            abandon()
            throw StoreError(path: path, error: error)
        }
    }

    /// The rows whose foreign keys point at no row (SQLite's `PRAGMA foreign_key_check`): the
    /// table, the row and the table it should reference.
    public func foreignKeyViolations() throws(StoreError) -> [(table: String, rowid: Int64, parent: String)] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").map { row in
                    (table: row[0] as String, rowid: (row[1] as Int64?) ?? -1, parent: row[2] as String)
                }
            }
        } catch {
            throw StoreError(path: path, "checking the references: \(error)")
        }
    }

    /// Removes the unfinished copy (and its WAL).
    public func abandon() {
        try? db.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
    }
}
