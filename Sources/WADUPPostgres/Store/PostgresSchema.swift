import PostgresNIO
import WADUPCore
import WADUPStore

/// The layout of a run in PostgreSQL: the SQLite tables with PostgreSQL's types, plus the work
/// queue and the live processes.
///
/// The queue is written once: `__wadup_queue` lists the inputs, and `__wadup_chunks` groups them
/// into runs of consecutive inputs (64, or fewer adding up to 16 MiB) that are claimed, leased and
/// finished as one row. An input is done when its `__wadup_input` row is (written with its tree);
/// `__wadup_partial` marks the trees written in parts. So the server updates one row per chunk,
/// not two per input.
enum PostgresSchema {
    /// The run's own tables, dropped when a run is replaced (``RunSetting/overwrite``), with the
    /// module tables `__wadup_tables` lists.
    static let ownTables = [
        "__wadup_input", "__wadup_queue", "__wadup_chunks", "__wadup_partial", "__wadup_workers", "__wadup_modules", "__wadup_tables",
        "__wadup_content", "__wadup_run",
    ]

    static let create = """
        CREATE TABLE __wadup_content (
            uuid TEXT PRIMARY KEY,
            filename TEXT NOT NULL,
            parent_uuid TEXT,
            processed_at BIGINT NOT NULL,
            status TEXT NOT NULL CHECK (status IN (\(ContentStatus.sqlList))),
            error_message TEXT,
            depth BIGINT NOT NULL,
            size BIGINT,
            sha256 TEXT,
            duplicate_of TEXT,
            filename_bytes BYTEA,
            mime TEXT,
            description TEXT
        );
        CREATE TABLE __wadup_run (
            id BIGSERIAL PRIMARY KEY,
            started_at BIGINT NOT NULL,
            finished_at BIGINT,
            wadup_version TEXT NOT NULL,
            engine TEXT NOT NULL,
            settings TEXT NOT NULL,
            outcome TEXT NOT NULL,
            inputs BIGINT,
            contents BIGINT,
            failed BIGINT,
            skipped BIGINT,
            duplicates BIGINT,
            refused BIGINT,
            resumed_from BIGINT
        );
        CREATE TABLE __wadup_input (
            path BYTEA NOT NULL,
            root_uuid TEXT NOT NULL,
            run_id BIGINT NOT NULL,
            seq BIGINT NOT NULL
        );
        CREATE INDEX __wadup_input_seq ON __wadup_input(seq);
        CREATE TABLE __wadup_modules (
            name TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            size BIGINT NOT NULL,
            runs BIGINT NOT NULL,
            failures BIGINT NOT NULL,
            total_time_ms DOUBLE PRECISION NOT NULL,
            offered BIGINT NOT NULL DEFAULT 0,
            accepted BIGINT NOT NULL DEFAULT 0,
            data_sha256 TEXT,
            runtime TEXT
        );
        CREATE TABLE __wadup_tables (
            name TEXT PRIMARY KEY,
            module TEXT NOT NULL,
            seq BIGSERIAL
        );
        CREATE TABLE __wadup_queue (
            seq BIGINT PRIMARY KEY,
            path BYTEA NOT NULL,
            reason TEXT,
            size BIGINT
        );
        CREATE TABLE __wadup_chunks (
            id BIGINT PRIMARY KEY,
            first_seq BIGINT NOT NULL,
            last_seq BIGINT NOT NULL,
            state TEXT NOT NULL DEFAULT \(PostgresChunkState.pending.sql) CHECK (state IN (\(PostgresChunkState.sqlList))),
            lease_owner BIGINT,
            lease_until TIMESTAMPTZ,
            attempts INTEGER NOT NULL DEFAULT 0,
            done_by BIGINT
        );
        CREATE INDEX __wadup_chunks_pending ON __wadup_chunks(id) WHERE state = \(PostgresChunkState.pending.sql);
        CREATE INDEX __wadup_chunks_claimed ON __wadup_chunks(lease_until) WHERE state = \(PostgresChunkState.claimed.sql);
        CREATE TABLE __wadup_partial (
            seq BIGINT PRIMARY KEY,
            root_uuid TEXT NOT NULL
        );
        CREATE TABLE __wadup_workers (
            run_id BIGINT PRIMARY KEY,
            host TEXT NOT NULL,
            pid BIGINT NOT NULL,
            started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            ended_at TIMESTAMPTZ,
            lease_seconds DOUBLE PRECISION NOT NULL,
            contents BIGINT NOT NULL DEFAULT 0,
            trees BIGINT NOT NULL DEFAULT 0
        );
        """

    /// The PostgreSQL type of a module column.
    static func type(_ type: ColumnType) -> String {
        switch type {
        case .int64: "BIGINT"
        case .float64: "DOUBLE PRECISION"
        case .string: "TEXT"
        }
    }

    /// The column type stored as `dataType` (`information_schema.columns.data_type`).
    static func columnType(_ dataType: String) -> ColumnType? { ColumnType.allCases.first { type($0).lowercased() == dataType } }

    /// The statement that creates module table `schema`.
    static func createTable(_ schema: TableSchema) -> String {
        let columns = schema.columns.map { "\(SQL.quoted($0.name)) \(type($0.type))" }
        return "CREATE TABLE \(SQL.quoted(schema.name)) (content_uuid TEXT NOT NULL, \(columns.joined(separator: ", ")))"
    }

    /// The indexes of a complete run, built once by the process that finds it complete (cheaper
    /// than keeping them up to date row by row): contents by parent, module rows by content.
    /// Module-table indexes are named by their table's number: "__wadup_idx_" + a 63-byte name would be cut.
    static func finishIndexes(moduleTables: [(name: String, seq: Int64)]) -> [String] {
        ["CREATE INDEX IF NOT EXISTS __wadup_content_parent ON __wadup_content(parent_uuid)"]
            + moduleTables.map { "CREATE INDEX IF NOT EXISTS __wadup_idx_\($0.seq) ON \(SQL.quoted($0.name))(content_uuid)" }
    }

    /// The statuses of processed contents as an SQL list (`'success', 'failed'`): their rows and
    /// bytes are the run's answers, and only they are the target of a `duplicate_of`.
    static let processedStatuses = ContentStatus.processed.map(\.sql).joined(separator: ", ")

    /// The advisory lock that serializes registration: the first process creates the run, the
    /// others join it.
    static let registrationLock: Int64 = 0x5741_4455_5052_4547
    /// The advisory lock that serializes creating module tables (processes may ask for the same one).
    static let tablesLock = registrationLock + 1
    /// The advisory lock taken by the process that builds a complete run's indexes.
    static let indexesLock = registrationLock + 2

    /// A chunk ends after this many inputs, or once its inputs add up to ``chunkBytes``.
    static let chunkInputs = 64
    static let chunkBytes = 16 << 20

    static let contentColumns = [
        "uuid", "filename", "parent_uuid", "processed_at", "status", "error_message", "depth", "size", "sha256", "duplicate_of", "filename_bytes",
        "mime", "description",
    ]

    /// What a run registered by an older WADUP lacks (schema version 2: the content's type,
    /// dispatch counts and data folders' digests; then Python modules' runtimes), added when this
    /// one joins or resumes it.
    static let upgrade = [
        "ALTER TABLE __wadup_content ADD COLUMN IF NOT EXISTS mime TEXT",
        "ALTER TABLE __wadup_content ADD COLUMN IF NOT EXISTS description TEXT",
        "ALTER TABLE __wadup_modules ADD COLUMN IF NOT EXISTS offered BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE __wadup_modules ADD COLUMN IF NOT EXISTS accepted BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE __wadup_modules ADD COLUMN IF NOT EXISTS data_sha256 TEXT",
        "ALTER TABLE __wadup_modules ADD COLUMN IF NOT EXISTS runtime TEXT",
    ]

    /// Whether the run has the columns of schema 2 (``upgrade``): runs registered by an older
    /// WADUP and never joined since have not.
    static func hasSchema2Columns(_ db: PostgresSession) throws -> Bool { try hasModulesColumn(db, "data_sha256") }

    /// Whether `__wadup_modules` has `column` (one ``upgrade`` adds).
    static func hasModulesColumn(_ db: PostgresSession, _ column: String) throws -> Bool {
        try db.query(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '__wadup_modules' AND column_name = $1",
            binds(column)
        )[0].decode(Int64.self) > 0
    }
}
