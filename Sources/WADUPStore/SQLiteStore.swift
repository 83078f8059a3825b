import Foundation
import GRDB
import GRDBSQLite
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
    /// Insert statements of the module tables, by table id (the writer thread's only).
    private var tableStatements: [Int32: Statement] = [:]
    private var contentStatement: Statement?
    /// Indexes are built once at the end: cheaper than keeping them up to date row by row.
    private var pendingIndexes: [String] = ["CREATE INDEX __wadup_content_parent ON __wadup_content(parent_uuid)"]
    private var runID: Int64 = 0
    private let maxQueued = 8192

    /// Creates the database at `path`, which must not exist, with the WADUP schema.
    public init(path: String, run: RunRecord) throws(StoreError) {
        self.path = path
        do {
            var config = Configuration()
            config.prepareDatabase { db in
                // Foreign keys are declared but not enforced: the writer inserts every parent before its
                // children and rows by construction, and enforcing would cost a lookup per row.
                try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536")
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

    /// Whether `path` is a database this program wrote: an SQLite file holding `__wadup_content` and
    /// `__wadup_run`. Opened read-only, so checking never changes the file; anything else is `false`.
    ///
    /// `--overwrite` replaces only such a file: an evidence archive or a user's own database named by
    /// mistake must never be deleted.
    public static func isWADUPDatabase(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        guard header == Data("SQLite format 3\0".utf8) else { return false }
        var config = Configuration()
        config.readonly = true
        guard let db = try? DatabaseQueue(path: path, configuration: config) else { return false }
        defer { try? db.close() }
        let tables = (try? db.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('__wadup_content', '__wadup_run')")
        }) ?? []
        return Set(tables) == ["__wadup_content", "__wadup_run"]
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
        // Wake the writer only when a batch is ready; otherwise its deadline wakes it.
        if queue.count == 1 || queue.count == batchSize { condition.broadcast() }
    }

    /// A transaction is written once this many items are queued, or `batchDelay` after the first.
    private let batchSize = 1024
    private let batchDelay = 0.05

    private func writerLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !closing { condition.wait() }
            // Let a batch gather: one transaction per many contents keeps the WAL writes few.
            let deadline = Date().addingTimeInterval(batchDelay)
            while queue.count < batchSize && !closing && condition.wait(until: deadline) {}
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
            let contentStatement = try self.contentStatement ?? db.makeStatement(sql: """
                INSERT INTO __wadup_content (uuid, filename, parent_uuid, processed_at, status, error_message, depth, size, sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            self.contentStatement = contentStatement
            for item in batch {
                switch item {
                case .table(let schema, let id):
                    let table = SQL.quoted(schema.name)
                    let columns = schema.columns.map { "\(SQL.quoted($0.name)) \(SQL.type($0.type))" }
                    try db.execute(
                        sql: "CREATE TABLE \(table) (content_uuid TEXT NOT NULL REFERENCES __wadup_content(uuid), \(columns.joined(separator: ", ")))")
                    pendingIndexes.append("CREATE INDEX \(SQL.quoted("__wadup_idx_" + schema.name)) ON \(table)(content_uuid)")
                    tableStatements[id] = try db.makeStatement(
                        sql: "INSERT INTO \(table) VALUES (" + Array(repeating: "?", count: schema.columns.count + 1).joined(separator: ", ") + ")")
                case .content(let record):
                    let s = contentStatement.sqliteStatement
                    try Self.step(s, db) { s in
                        Self.bind(s, 1, record.uuid)
                        Self.bind(s, 2, record.filename)
                        if let parent = record.parentUUID { Self.bind(s, 3, parent) } else { sqlite3_bind_null(s, 3) }
                        sqlite3_bind_int64(s, 4, record.processedAt)
                        Self.bind(s, 5, record.status.rawValue)
                        if let message = record.errorMessage { Self.bind(s, 6, message) } else { sqlite3_bind_null(s, 6) }
                        sqlite3_bind_int64(s, 7, Int64(record.depth))
                        sqlite3_bind_int64(s, 8, Int64(record.size))
                        Self.bind(s, 9, record.sha256)
                    }
                    for row in record.rows {
                        guard let statement = tableStatements[row.tableID] else {
                            throw StoreError(path: path, message: "row for unknown table \(row.tableID)")
                        }
                        try Self.step(statement.sqliteStatement, db) { s in
                            Self.bind(s, 1, record.uuid)
                            for (i, value) in row.values.enumerated() {
                                let index = Int32(i + 2)
                                switch value {
                                case .null: sqlite3_bind_null(s, index)
                                case .int64(let v): sqlite3_bind_int64(s, index, v)
                                case .float64(let v): sqlite3_bind_double(s, index, v)
                                case .string(let v): Self.bind(s, index, v)
                                }
                            }
                        }
                    }
                }
            }
            return .commit
        }
    }

    /// Binds, steps and resets a prepared statement: values always bound, never spliced.
    /// (SQLite's C API directly: GRDB's argument arrays cost more than the insert itself here.)
    private static func step(_ statement: OpaquePointer, _ db: Database, _ bindAll: (OpaquePointer) -> Void) throws {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        bindAll(statement)
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func bind(_ statement: OpaquePointer, _ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            // An empty string still needs a non-null pointer, or SQLite stores NULL.
            let empty: StaticString = ""
            let base = UnsafeRawPointer(utf8.baseAddress ?? empty.utf8Start).assumingMemoryBound(to: CChar.self)
            _ = sqlite3_bind_text(statement, index, base, Int32(utf8.count), transient)
        }
    }

    public func finish(run: RunRecord, modules: [ModuleRecord]) throws(StoreError) {
        condition.lock()
        closing = true
        condition.broadcast()
        while !writerDone { condition.wait() }
        let failure = self.failure
        condition.unlock()
        // The writer thread has ended: its statements must be finalized before the database closes.
        contentStatement = nil
        tableStatements.removeAll()
        if let failure { throw failure }
        do {
            try db.write { db in
                for sql in pendingIndexes { try db.execute(sql: sql) }
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
            _ = try db.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            try db.close()
        } catch {
            throw StoreError(path: path, message: "\(error)")
        }
    }
}
