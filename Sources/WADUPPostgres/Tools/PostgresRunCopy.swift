import Foundation
import Logging
import PostgresNIO
import WADUPCore
import WADUPStore

/// `wadup merge postgres://…`: a complete PostgreSQL run copied into one new SQLite database, which
/// the analyst's views (`report`, `tree`, `show`, `stats`, `export`) then read.
///
/// The copy reads one snapshot (a read-only repeatable-read transaction), in pages of rows through
/// a cursor, so memory stays flat; it keeps uuids, attempts (`__wadup_run` ids, `resumed_from`,
/// `__wadup_input.run_id`) and module counters as they are. The queue, chunks and workers stay on
/// the server: they describe how the work was shared, not the results.
package enum PostgresRunCopy {
    package struct Summary: Sendable {
        package let contents: Int
        package let inputs: Int
    }

    /// Rows fetched per round trip.
    static let page = 5000

    /// Copies the run at `location` into a new SQLite database at `output`.
    package static func copy(from location: PostgresLocation, into output: String, logger: Logger) throws(StoreError) -> Summary {
        let db = try PostgresSession.connect(location, password: location.password(), logger: logger, id: 1)
        defer { db.close() }
        func refuse(_ message: SettingMessage) -> StoreError { StoreError(.refused, path: location.description, message) }
        let target: SQLiteRunImport
        do {
            try db.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            guard try db.query("SELECT to_regclass('__wadup_run') IS NOT NULL AND to_regclass('__wadup_queue') IS NOT NULL")[0].decode(Bool.self) else {
                throw refuse("it holds no WADUP run")
            }
            let remaining = try db.query("SELECT (SELECT count(*) FROM __wadup_queue) - (SELECT count(*) FROM __wadup_input)")[0].decode(Int64.self)
            guard remaining == 0 else {
                throw refuse("the run is not complete (\(remaining) inputs to go): finish it first (run its command again), then copy it")
            }
        } catch {
            throw PostgresSession.storeError(error, at: location)
        }
        target = try SQLiteRunImport(path: output)
        do {
            var contents = 0
            var inputs = 0
            try copy(db, "SELECT id, started_at, finished_at, wadup_version, engine, settings, outcome, inputs, contents, failed, skipped, duplicates, refused, resumed_from FROM __wadup_run ORDER BY id",
                     into: target, table: "__wadup_run",
                     columns: ["id", "started_at", "finished_at", "wadup_version", "engine", "settings", "outcome", "inputs", "contents", "failed", "skipped", "duplicates", "refused", "resumed_from"],
                     kinds: [.integer, .integer, .integer, .text, .text, .text, .text, .integer, .integer, .integer, .integer, .integer, .integer, .integer])
            // A run registered by an older WADUP and never joined since lacks schema 2's columns
            // (or only the runtime): copied as 0 counts and NULL types, digests and runtimes.
            let schema2 = try PostgresSchema.hasSchema2Columns(db)
            let runtime = try PostgresSchema.hasModulesColumn(db, "runtime") ? "runtime" : "NULL::text"
            try copy(db, "SELECT name, sha256, size, runs, failures, total_time_ms, \(schema2 ? "offered, accepted, data_sha256" : "0, 0, NULL::text"), \(runtime) FROM __wadup_modules ORDER BY name",
                     into: target, table: "__wadup_modules",
                     columns: ["name", "sha256", "size", "runs", "failures", "total_time_ms", "offered", "accepted", "data_sha256", "runtime"],
                     kinds: [.text, .text, .integer, .integer, .integer, .real, .integer, .integer, .text, .text])
            let owners = Dictionary(
                try db.query("SELECT name, module FROM __wadup_tables").map { try $0.decode((String, String).self) }, uniquingKeysWith: { a, _ in a })
            let tables = try PostgresRunRegistry.moduleTables(db)
            for table in tables { try target.createModuleTable(table, module: owners[table.name] ?? "") }
            let contentSelect = (schema2 ? PostgresSchema.contentColumns : PostgresSchema.contentColumns.dropLast(2) + ["NULL::text", "NULL::text"])
            contents = try copy(db, "SELECT \(contentSelect.joined(separator: ", ")) FROM __wadup_content ORDER BY depth, uuid",
                                into: target, table: "__wadup_content", columns: PostgresSchema.contentColumns,
                                kinds: [.text, .text, .text, .integer, .text, .text, .integer, .integer, .text, .text, .blob, .text, .text])
            inputs = try copy(db, "SELECT path, root_uuid, run_id FROM __wadup_input ORDER BY seq", into: target, table: "__wadup_input",
                              columns: ["path", "root_uuid", "run_id"], kinds: [.blob, .text, .integer])
            for table in tables {
                let columns = ["content_uuid"] + table.columns.map(\.name)
                let kinds: [Kind] = [.text] + table.columns.map { column in
                    switch column.type {
                    case .int64: .integer
                    case .float64: .real
                    case .string: .text
                    }
                }
                try copy(db, "SELECT \(columns.map(SQL.quoted).joined(separator: ", ")) FROM \(SQL.quoted(table.name))", into: target, table: table.name, columns: columns, kinds: kinds)
            }
            try db.query("COMMIT")
            try target.finish()
            return Summary(contents: contents, inputs: inputs)
        } catch {
            target.abandon()
            throw PostgresSession.storeError(error, at: location)
        }
    }

    enum Kind { case integer, real, text, blob }

    /// Copies the rows of `sql` through a cursor, a page at a time; returns how many.
    @discardableResult
    private static func copy(_ db: PostgresSession, _ sql: String, into target: SQLiteRunImport, table: String, columns: [String], kinds: [Kind]) throws -> Int {
        try db.query("DECLARE wadup_copy NO SCROLL CURSOR FOR \(sql)")
        defer { _ = try? db.query("CLOSE wadup_copy") }
        var total = 0
        while true {
            let rows = try db.query("FETCH \(page) FROM wadup_copy")
            if rows.isEmpty { break }
            let values = try rows.map { row in
                try zip(row, kinds).map { cell, kind -> SQLiteRunImport.Value in
                    switch kind {
                    case .integer: try cell.decode(Int64?.self).map { .integer($0) } ?? .null
                    case .real: try cell.decode(Double?.self).map { .real($0) } ?? .null
                    case .text: try cell.decode(String?.self).map { .text($0) } ?? .null
                    case .blob: try cell.decode(ByteBuffer?.self).map { .blob(Array($0.readableBytesView)) } ?? .null
                    }
                }
            }
            try target.insert(into: table, columns: columns, rows: values)
            total += rows.count
        }
        return total
    }
}
