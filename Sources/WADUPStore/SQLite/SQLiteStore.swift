import Foundation
import GRDB
import GRDBSQLite
import WADUPCore

/// The SQLite output: one writer thread that commits many contents per transaction.
///
/// Workers hand over finished contents with ``submit(_:)`` and go on; a ``BatchWriter`` writes
/// everything queued in one transaction, so SQLite is never waited on row by row.
public final class SQLiteStore: ResultStore, @unchecked Sendable {  // Safe: `db` and the statements are used only by the writer thread (and by init/finish before/after it runs); the queue is `BatchWriter`'s.
    enum Item {
        case table(TableSchema, Int32, module: String)
        case content(ContentRecord)
        case input(path: [UInt8], rootUUID: String, note: String?)
    }

    public let path: String
    private let db: DatabaseQueue
    /// A transaction is written once 1,024 items are queued, or 50 ms after the first.
    private let batches = BatchWriter<Item>(name: "wadup-writer", maxQueued: 8192, batchSize: 1024)
    /// Insert statements of the module tables, by table id (the writer thread's only).
    private var tableStatements: [Int32: Statement] = [:]
    private var contentStatement: Statement?
    private var inputStatement: Statement?
    private var noteStatement: Statement?
    /// Module tables by id whose insert statement is prepared on first use (tables of an earlier attempt).
    private var knownTables: [Int32: TableSchema] = [:]
    private var runID: Int64 = 0
    /// An exclusive `flock` on the database file for the life of the run: one writer per run.
    private var lockFD: Int32 = -1
    /// What a resumed run continues from (`nil` for a new database).
    public private(set) var resumePoint: ResumePoint?

    /// How long a connection waits for another connection's lock before it fails.
    ///
    /// Analysts read a database while a run writes it (`wadup stats`, `sqlite3`); without a wait,
    /// a reader that opens at the moment the writer switches to WAL or commits fails the run with
    /// "database is locked".
    static let busyTimeout: TimeInterval = 30

    /// A read-only connection's configuration, waiting out a writer's lock like the writer does.
    public static func readOnlyConfiguration() -> Configuration {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(busyTimeout)
        return config
    }

    static let parentIndex = "CREATE INDEX IF NOT EXISTS __wadup_content_parent ON __wadup_content(parent_uuid)"

    /// Creates the database at `path`, which must not exist, with the WADUP schema.
    public convenience init(path: String, run: RunRecord, tuning: Tuning = .standard) throws(StoreError) {
        try self.init(path: path, run: run, resuming: false, tuning: tuning)
    }

    /// Continues the run recorded at `path`: rolls back every input tree that is not complete (its
    /// contents and their module rows), then records a new attempt. ``resumePoint`` says what is kept.
    public convenience init(resuming path: String, run: RunRecord, tuning: Tuning = .standard) throws(StoreError) {
        try self.init(path: path, run: run, resuming: true, tuning: tuning)
    }

    private init(path: String, run: RunRecord, resuming: Bool, tuning: Tuning) throws(StoreError) {
        self.path = path
        do {
            lockFD = try Self.lock(path)
            var config = Configuration()
            config.foreignKeysEnabled = false
            config.busyMode = .timeout(Self.busyTimeout)
            config.prepareDatabase { db in
                // Foreign keys are declared but not enforced: the writer inserts every parent before its
                // children and rows by construction, and enforcing would cost a lookup per row.
                try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -4096")
                if let count = tuning.sqliteMaxPageCount {
                    // Tests only: a full disk, simulated by SQLite's page limit.
                    try db.execute(sql: "PRAGMA max_page_count = \(count)")
                }
            }
            db = try DatabaseQueue(path: path, configuration: config)
            try db.write { db in
                var previous: Int64?
                if resuming {
                    let point = try Self.rollBack(db)
                    try Self.upgrade(db)
                    resumePoint = point
                    previous = point.previousAttempt
                    for (id, schema) in point.tables.enumerated() { knownTables[Int32(id)] = schema }
                } else {
                    try db.execute(sql: Self.schema)
                }
                try db.execute(
                    sql: """
                        INSERT INTO __wadup_run (started_at, wadup_version, engine, settings, outcome, resumed_from)
                        VALUES (?, ?, ?, ?, \(RunOutcome.running.sql), ?)
                        """, arguments: [run.startedAt, run.version, run.engine, run.settings, previous])
                runID = db.lastInsertedRowID
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(path: path, error: error)
        }
        batches.start(write: { [self] in try write($0) }, describe: { [path] in StoreError(path: path, error: $0) })
    }

    /// Takes the run lock of the database at `path` (creating the file if needed).
    static func lock(_ path: String) throws(StoreError) -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(path: path, "\(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError(path: path, "another wadup process is writing this database; wait for it to end (or stop it) first")
        }
        return fd
    }

    deinit { if lockFD >= 0 { close(lockFD) } }

    /// The run recorded at `path`, read without changing it: its last attempt's id and outcome and
    /// its first attempt's settings. `nil` if `path` is not a WADUP database.
    public static func recordedRun(path: String) -> (attempt: Int64, outcome: String, settings: String)? {
        guard isWADUPDatabase(path: path) else { return nil }
        guard let db = try? DatabaseQueue(path: path, configuration: readOnlyConfiguration()) else { return nil }
        defer { try? db.close() }
        return try? db.read { try lastAttempt($0) }
    }

    /// The last attempt's id and outcome and the first attempt's settings, or `nil` with no attempt.
    static func lastAttempt(_ db: Database) throws -> (attempt: Int64, outcome: String, settings: String)? {
        guard let last = try Row.fetchOne(db, sql: "SELECT id, outcome FROM __wadup_run ORDER BY id DESC LIMIT 1"),
            let settings = try String.fetchOne(db, sql: "SELECT settings FROM __wadup_run ORDER BY id LIMIT 1")
        else { return nil }
        return (last["id"], last["outcome"], settings)
    }

    /// Deletes every content outside the complete input trees, and the rows of what it deletes.
    ///
    /// A tree is complete when its input is in `__wadup_input`. A repeat in a complete tree whose
    /// processed occurrence is rolled back would dangle: its tree is rolled back too, until none is left.
    static func rollBack(_ db: Database) throws -> ResumePoint {
        guard let last = try lastAttempt(db) else { throw StoreError(path: db.description, "no run is recorded") }
        try db.execute(sql: parentIndex)
        try db.execute(sql: "CREATE TEMP TABLE __wadup_keep (uuid TEXT PRIMARY KEY, root TEXT NOT NULL)")
        while true {
            try db.execute(sql: "DELETE FROM __wadup_keep")
            try db.execute(
                sql: """
                    INSERT INTO __wadup_keep (uuid, root)
                    WITH RECURSIVE tree(uuid, root) AS (
                        SELECT c.uuid, c.uuid FROM __wadup_input i JOIN __wadup_content c ON c.uuid = i.root_uuid
                        UNION ALL
                        SELECT c.uuid, tree.root FROM __wadup_content c JOIN tree ON c.parent_uuid = tree.uuid)
                    SELECT uuid, root FROM tree
                    """)
            try db.execute(
                sql: """
                    DELETE FROM __wadup_input WHERE root_uuid IN (
                        SELECT k.root FROM __wadup_keep k JOIN __wadup_content c ON c.uuid = k.uuid
                        WHERE c.duplicate_of IS NOT NULL AND c.duplicate_of NOT IN (SELECT uuid FROM __wadup_keep))
                        OR root_uuid NOT IN (SELECT uuid FROM __wadup_keep)
                    """)
            guard db.changesCount > 0 else { break }
        }
        let partialTrees = try Int.fetchOne(
            db, sql: "SELECT count(*) FROM __wadup_content WHERE parent_uuid IS NULL AND uuid NOT IN (SELECT uuid FROM __wadup_keep)") ?? 0
        let tables = try moduleTables(db)
        for table in tables {
            try db.execute(sql: "DELETE FROM \(SQL.quoted(table.name)) WHERE content_uuid NOT IN (SELECT uuid FROM __wadup_keep)")
        }
        try db.execute(sql: "DELETE FROM __wadup_content WHERE uuid NOT IN (SELECT uuid FROM __wadup_keep)")
        let rolledBackContents = db.changesCount
        // Attempts still `running` were killed (a live one would hold the run lock).
        try db.execute(sql: "UPDATE __wadup_run SET outcome = \(RunOutcome.killed.sql) WHERE outcome = \(RunOutcome.running.sql)")
        try db.execute(sql: "DROP TABLE __wadup_keep")
        let completed = Set(try Data.fetchAll(db, sql: "SELECT path FROM __wadup_input").map { Array($0) })
        let processed = try Row.fetchAll(
            db, sql: "SELECT sha256, uuid FROM __wadup_content WHERE status IN (\(ContentStatus.processed.map(\.sql).joined(separator: ", "))) AND sha256 IS NOT NULL"
        ).map { (sha256: $0["sha256"] as String, uuid: $0["uuid"] as String) }
        return ResumePoint(
            previousAttempt: last.attempt, previousOutcome: last.outcome, completedInputs: completed,
            processed: processed, tables: tables, rolledBackContents: rolledBackContents, rolledBackTrees: partialTrees)
    }

    /// The statement that creates module table `schema`: `content_uuid`, then its columns.
    static func createTableSQL(_ schema: TableSchema) -> String {
        let columns = schema.columns.map { "\(SQL.quoted($0.name)) \(SQL.type($0.type))" }
        return "CREATE TABLE \(SQL.quoted(schema.name)) (content_uuid TEXT NOT NULL REFERENCES __wadup_content(uuid), \(columns.joined(separator: ", ")))"
    }

    /// The names of the module tables in `schema` (`main`, or an attached database), in creation order.
    static func moduleTableNames(_ db: Database, schema: String = "main") throws -> [String] {
        try String.fetchAll(
            db,
            sql: "SELECT name FROM \(SQL.quoted(schema)).sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_\\_wadup%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid")
    }

    /// The indexes a finished run has: contents by parent, and each module table by content.
    static func createIndexes(_ db: Database, moduleTables names: [String]) throws {
        try db.execute(sql: parentIndex)
        for name in names {
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(SQL.quoted("__wadup_idx_" + name)) ON \(SQL.quoted(name))(content_uuid)")
        }
    }

    /// The module tables of the database, in creation order, with their declared columns.
    public static func moduleTables(_ db: Database) throws -> [TableSchema] {
        try moduleTableNames(db).map { name in
            let columns = try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", arguments: [name]).dropFirst().map { row in
                Column(name: row["name"], type: SQL.columnType(row["type"]) ?? .string)
            }
            return TableSchema(name: name, columns: Array(columns))
        }
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
        guard let db = try? DatabaseQueue(path: path, configuration: readOnlyConfiguration()) else { return false }
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
            status TEXT NOT NULL CHECK (status IN (\(ContentStatus.sqlList))),
            error_message TEXT,
            depth INTEGER NOT NULL,
            size INTEGER,
            sha256 TEXT,
            duplicate_of TEXT REFERENCES __wadup_content(uuid),
            filename_bytes BLOB,
            mime TEXT,
            description TEXT
        );
        CREATE TABLE __wadup_input (
            path BLOB NOT NULL,
            root_uuid TEXT NOT NULL REFERENCES __wadup_content(uuid),
            run_id INTEGER NOT NULL REFERENCES __wadup_run(id)
        );
        CREATE VIEW __wadup_processed AS
            SELECT c.uuid AS uuid, coalesce(c.duplicate_of, c.uuid) AS processed_uuid FROM __wadup_content c;
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
            skipped INTEGER,
            duplicates INTEGER,
            refused INTEGER,
            resumed_from INTEGER REFERENCES __wadup_run(id)
        );
        CREATE TABLE __wadup_modules (
            name TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            runs INTEGER NOT NULL,
            failures INTEGER NOT NULL,
            total_time_ms REAL NOT NULL,
            offered INTEGER NOT NULL DEFAULT 0,
            accepted INTEGER NOT NULL DEFAULT 0,
            data_sha256 TEXT,
            runtime TEXT
        );
        CREATE TABLE __wadup_tables (
            name TEXT PRIMARY KEY,
            module TEXT NOT NULL
        );
        PRAGMA user_version = \(schemaVersion);
        """

    /// The version of the layout above, in `PRAGMA user_version`: readers refuse a newer one.
    /// Version 1 added `__wadup_tables`; databases without it (version 0) are read as version 1.
    /// Version 2 added the content's type (`__wadup_content.mime`, `description`), dispatch
    /// counts (`__wadup_modules.offered`, `accepted`) and data folders' digests
    /// (`__wadup_modules.data_sha256`), then Python modules' runtimes (`__wadup_modules.runtime`,
    /// so a version-2 database may lack only that one); resuming an older database adds them
    /// (``upgrade(_:)``), and readers treat them as NULL where absent.
    public static let schemaVersion = 2

    /// The columns version 2 added, with their declarations, by table.
    static let addedInVersion2: [(table: String, column: String, declaration: String)] = [
        ("__wadup_content", "mime", "TEXT"),
        ("__wadup_content", "description", "TEXT"),
        ("__wadup_modules", "offered", "INTEGER NOT NULL DEFAULT 0"),
        ("__wadup_modules", "accepted", "INTEGER NOT NULL DEFAULT 0"),
        ("__wadup_modules", "data_sha256", "TEXT"),
        ("__wadup_modules", "runtime", "TEXT"),
    ]

    /// Brings a database of an older schema to this one: the catalog of version 1, the columns of
    /// version 2. Nothing recorded changes; the new columns are NULL (or 0) for what was recorded before.
    static func upgrade(_ db: Database) throws {
        // A database of schema version 0 has no table catalog: modules of this attempt add theirs.
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS __wadup_tables (name TEXT PRIMARY KEY, module TEXT NOT NULL)")
        for added in addedInVersion2 where try !db.columns(in: added.table).contains(where: { $0.name == added.column }) {
            try db.execute(sql: "ALTER TABLE \(SQL.quoted(added.table)) ADD COLUMN \(SQL.quoted(added.column)) \(added.declaration)")
        }
        try db.execute(sql: "PRAGMA user_version = \(schemaVersion)")
    }

    public func createTable(_ schema: TableSchema, id: Int32, module: String) {
        try? enqueue(.table(schema, id, module: module))
    }

    public func submit(_ record: ContentRecord) throws(StoreError) {
        try enqueue(.content(record))
    }

    public func completeInput(path: [UInt8], rootUUID: String, note: String?) throws(StoreError) {
        try enqueue(.input(path: path, rootUUID: rootUUID, note: note))
    }

    private func enqueue(_ item: Item) throws(StoreError) {
        try batches.enqueue(item)
    }

    private func write(_ batch: [Item]) throws {
        try db.inTransaction { db in
            let contentStatement = try self.contentStatement ?? db.makeStatement(sql: """
                INSERT INTO __wadup_content (uuid, filename, parent_uuid, processed_at, status, error_message, depth, size, sha256, duplicate_of,
                    filename_bytes, mime, description)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            self.contentStatement = contentStatement
            for item in batch {
                switch item {
                case .table(let schema, let id, let module):
                    try db.execute(sql: Self.createTableSQL(schema))
                    try db.execute(sql: "INSERT INTO __wadup_tables (name, module) VALUES (?, ?)", arguments: [schema.name, module])
                    knownTables[id] = schema
                case .content(let record):
                    if record.isContent { try Self.writeContent(record, contentStatement, db) }
                    try writeRows(record.rows, of: record.uuid, db)
                    if let parent = record.parentUUID { try writeRows(record.parentRows, of: parent, db) }
                    if let input = record.completesInput { try writeInput(input, db) }
                case .input(let path, let rootUUID, let note):
                    try writeInput(InputCompletion(path: path, rootUUID: rootUUID, note: note), db)
                }
            }
            return .commit
        }
    }

    /// Inserts one `__wadup_content` row.
    private static func writeContent(_ record: ContentRecord, _ statement: Statement, _ db: Database) throws {
        try step(statement.sqliteStatement, db) { s in
            Self.bind(s, 1, record.uuid)
            Self.bind(s, 2, record.filename)
            if let parent = record.parentUUID { Self.bind(s, 3, parent) } else { sqlite3_bind_null(s, 3) }
            sqlite3_bind_int64(s, 4, record.processedAt)
            Self.bind(s, 5, record.status.rawValue)
            if let message = record.errorMessage { Self.bind(s, 6, message) } else { sqlite3_bind_null(s, 6) }
            sqlite3_bind_int64(s, 7, Int64(record.depth))
            if let size = record.size { sqlite3_bind_int64(s, 8, Int64(size)) } else { sqlite3_bind_null(s, 8) }
            if let sha256 = record.sha256 { Self.bind(s, 9, sha256) } else { sqlite3_bind_null(s, 9) }
            if let original = record.duplicateOf { Self.bind(s, 10, original) } else { sqlite3_bind_null(s, 10) }
            if let bytes = record.filenameBytes {
                Self.bind(s, 11, bytes)
            } else {
                sqlite3_bind_null(s, 11)
            }
            if let type = record.type {
                Self.bind(s, 12, type.mime)
                Self.bind(s, 13, type.description)
            } else {
                sqlite3_bind_null(s, 12)
                sqlite3_bind_null(s, 13)
            }
        }
    }

    /// Inserts module rows of the content `uuid`.
    private func writeRows(_ rows: [(tableID: Int32, values: [CellValue])], of uuid: String, _ db: Database) throws {
        for row in rows {
            guard let statement = try insertStatement(row.tableID, db) else {
                throw StoreError(path: path, "row for unknown table \(row.tableID)")
            }
            try Self.step(statement.sqliteStatement, db) { s in
                Self.bind(s, 1, uuid)
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

    /// Records a complete input tree (and its budget note on the input's record).
    private func writeInput(_ input: InputCompletion, _ db: Database) throws {
        let statement = try self.inputStatement ?? db.makeStatement(sql: "INSERT INTO __wadup_input (path, root_uuid, run_id) VALUES (?, ?, ?)")
        self.inputStatement = statement
        let runID = self.runID
        try Self.step(statement.sqliteStatement, db) { s in
            Self.bind(s, 1, input.path)
            Self.bind(s, 2, input.rootUUID)
            sqlite3_bind_int64(s, 3, runID)
        }
        guard let note = input.note else { return }
        let update = try self.noteStatement ?? db.makeStatement(sql: """
            UPDATE __wadup_content SET error_message = CASE WHEN error_message IS NULL THEN ?1 ELSE error_message || '; ' || ?1 END
            WHERE uuid = ?2
            """)
        self.noteStatement = update
        try Self.step(update.sqliteStatement, db) { s in
            Self.bind(s, 1, note)
            Self.bind(s, 2, input.rootUUID)
        }
    }

    /// The insert statement of module table `id`, prepared on first use.
    private func insertStatement(_ id: Int32, _ db: Database) throws -> Statement? {
        if let statement = tableStatements[id] { return statement }
        guard let schema = knownTables[id] else { return nil }
        let table = SQL.quoted(schema.name)
        let statement = try db.makeStatement(
            sql: "INSERT INTO \(table) VALUES (" + Array(repeating: "?", count: schema.columns.count + 1).joined(separator: ", ") + ")")
        tableStatements[id] = statement
        return statement
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

    private static func bind(_ statement: OpaquePointer, _ index: Int32, _ bytes: [UInt8]) {
        // An empty blob still needs a non-null pointer, or SQLite stores NULL.
        _ = bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), transient) }
    }

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
        let failure = batches.close()
        // The writer thread has ended: its statements must be finalized before the database closes.
        contentStatement = nil
        inputStatement = nil
        noteStatement = nil
        tableStatements.removeAll()
        if let failure {
            // Best effort (the disk may be full): the attempt says it failed; a resume continues it.
            try? db.write { try $0.execute(sql: "UPDATE __wadup_run SET outcome = \(RunOutcome.failed.sql) WHERE id = ?", arguments: [runID]) }
            throw failure
        }
        do {
            try db.write { db in
                // Indexes are built once at the end: cheaper than keeping them up to date row by row.
                try Self.createIndexes(db, moduleTables: knownTables.values.map(\.name))
                try db.execute(
                    sql: """
                        UPDATE __wadup_run SET finished_at = ?, outcome = ?, inputs = ?, contents = ?, failed = ?, skipped = ?,
                            duplicates = ?, refused = ?
                        WHERE id = ?
                        """,
                    arguments: [
                        run.finishedAt, run.outcome.rawValue, run.inputs, run.contents, run.failed, run.skipped, run.duplicates, run.refused, runID,
                    ])
                // One row per module for the whole run: a resumed attempt adds its counts.
                for m in modules {
                    try db.execute(
                        sql: """
                            INSERT INTO __wadup_modules (name, sha256, size, runs, failures, total_time_ms, offered, accepted, data_sha256, runtime)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT (name) DO UPDATE SET runs = runs + excluded.runs, failures = failures + excluded.failures,
                                total_time_ms = total_time_ms + excluded.total_time_ms, offered = offered + excluded.offered,
                                accepted = accepted + excluded.accepted
                            """,
                        arguments: [m.name, m.sha256, m.size, m.runs, m.failures, m.totalTimeMs, m.offered, m.accepted, m.dataSha256, m.runtime])
                }
            }
            // Best effort: a reader that keeps a transaction open holds the WAL, and its pages stay
            // readable there; the run is complete either way.
            _ = try? db.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            try db.close()
        } catch {
            throw StoreError(path: path, error: error)
        }
    }
}
