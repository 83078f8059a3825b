import Foundation
import GRDB
import WADUPCore

/// The SQLite output: one writer thread that commits many contents per transaction.
///
/// Workers hand over finished contents with ``submit(_:)`` and go on; the writer drains everything
/// queued in one transaction, so SQLite is never waited on row by row. The queue is bounded, so a
/// slow disk slows the workers instead of filling memory.
public final class SQLiteStore: ResultStore, @unchecked Sendable {  // Safe: `queue`/`state` are guarded by `condition`; `db` is used only by the writer thread (and by init/finish before/after it runs).
    enum Item {
        case table(TableSchema, Int32)
        case content(ContentRecord)
    }

    public let path: String
    private let db: DatabaseQueue
    private let condition = NSCondition()
    private var queue: [Item] = []
    private var closing = false
    private var failure: StoreError?
    private var writerDone = false
    private var tableStatements: [Int32: String] = [:]
    private var runID: Int64 = 0
    private let maxQueued = 8192

    /// Creates the database at `path`, which must not exist, with the WADUP schema.
    public init(path: String, run: RunRecord) throws(StoreError) {
        self.path = path
        do {
            var config = Configuration()
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
            }
            db = try DatabaseQueue(path: path, configuration: config)
            try db.write { db in
                try db.execute(sql: Self.schema)
                try db.execute(
                    sql: """
                        INSERT INTO __wadup_run (started_at, wadup_version, engine, settings, outcome)
                        VALUES (?, ?, ?, ?, 'running')
                        """, arguments: [run.startedAt, run.version, run.engine, run.settings])
                runID = db.lastInsertedRowID
            }
        } catch {
            throw StoreError(path: path, message: "\(error)")
        }
        let thread = Thread { [self] in writerLoop() }
        thread.name = "wadup-writer"
        thread.start()
    }

    static let schema = """
        CREATE TABLE __wadup_content (
            uuid TEXT PRIMARY KEY,
            filename TEXT NOT NULL,
            parent_uuid TEXT REFERENCES __wadup_content(uuid),
            processed_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('success', 'failed', 'skipped')),
            error_message TEXT,
            depth INTEGER NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL
        );
        CREATE INDEX __wadup_content_parent ON __wadup_content(parent_uuid);
        CREATE TABLE __wadup_run (
            id INTEGER PRIMARY KEY,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            wadup_version TEXT NOT NULL,
            engine TEXT NOT NULL,
            settings TEXT NOT NULL,
            outcome TEXT NOT NULL,
            inputs INTEGER,
            contents INTEGER,
            failed INTEGER,
            skipped INTEGER
        );
        CREATE TABLE __wadup_modules (
            name TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            runs INTEGER NOT NULL,
            failures INTEGER NOT NULL,
            total_time_ms REAL NOT NULL
        );
        """

    public func createTable(_ schema: TableSchema, id: Int32) {
        try? enqueue(.table(schema, id))
    }

    public func submit(_ record: ContentRecord) throws(StoreError) {
        try enqueue(.content(record))
    }

    private func enqueue(_ item: Item) throws(StoreError) {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= maxQueued && failure == nil { condition.wait() }
        if let failure { throw failure }
        queue.append(item)
        condition.broadcast()
    }

    private func writerLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !closing { condition.wait() }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            let done = closing && batch.isEmpty
            condition.broadcast()
            condition.unlock()
            if done { break }
            do {
                try write(batch)
            } catch {
                condition.lock()
                failure = StoreError(path: path, message: "\(error)")
                condition.broadcast()
                condition.unlock()
                break
            }
        }
        condition.lock()
        writerDone = true
        condition.broadcast()
        condition.unlock()
    }

    private func write(_ batch: [Item]) throws {
        try db.inTransaction { db in
            for item in batch {
                switch item {
                case .table(let schema, let id):
                    let table = Identifier.quoted(schema.name)
                    let columns = schema.columns.map { "\(Identifier.quoted($0.name)) \($0.type.sqlType)" }
                    try db.execute(
                        sql: "CREATE TABLE \(table) (content_uuid TEXT NOT NULL REFERENCES __wadup_content(uuid), \(columns.joined(separator: ", ")))")
                    try db.execute(sql: "CREATE INDEX \(Identifier.quoted("__wadup_idx_" + schema.name)) ON \(table)(content_uuid)")
                    tableStatements[id] = "INSERT INTO \(table) VALUES (" + Array(repeating: "?", count: schema.columns.count + 1).joined(separator: ", ") + ")"
                case .content(let record):
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO __wadup_content (uuid, filename, parent_uuid, processed_at, status, error_message, depth, size, sha256)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """
                    ).execute(arguments: [
                        record.uuid, record.filename, record.parentUUID, record.processedAt, record.status.rawValue,
                        record.errorMessage, record.depth, record.size, record.sha256,
                    ])
                    for row in record.rows {
                        guard let sql = tableStatements[row.tableID] else { throw StoreError(path: path, message: "row for unknown table \(row.tableID)") }
                        var arguments = StatementArguments([record.uuid])
                        for value in row.values {
                            switch value {
                            case .null: arguments += [nil as String?]
                            case .int64(let v): arguments += [v]
                            case .float64(let v): arguments += [v]
                            case .string(let v): arguments += [v]
                            }
                        }
                        try db.cachedStatement(sql: sql).execute(arguments: arguments)
                    }
                }
            }
            return .commit
        }
    }

    public func finish(run: RunRecord, modules: [ModuleRecord]) throws(StoreError) {
        condition.lock()
        closing = true
        condition.broadcast()
        while !writerDone { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
        do {
            try db.write { db in
                try db.execute(
                    sql: """
                        UPDATE __wadup_run SET finished_at = ?, outcome = ?, inputs = ?, contents = ?, failed = ?, skipped = ?
                        WHERE id = ?
                        """, arguments: [run.finishedAt, run.outcome, run.inputs, run.contents, run.failed, run.skipped, runID])
                for m in modules {
                    try db.execute(
                        sql: "INSERT INTO __wadup_modules (name, sha256, size, runs, failures, total_time_ms) VALUES (?, ?, ?, ?, ?, ?)",
                        arguments: [m.name, m.sha256, m.size, m.runs, m.failures, m.totalTimeMs])
                }
            }
            try db.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            try db.close()
        } catch {
            throw StoreError(path: path, message: "\(error)")
        }
    }
}
