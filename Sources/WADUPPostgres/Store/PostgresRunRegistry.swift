import Foundation
import Logging
import PostgresNIO
import WADUPCore
import WADUPStore

/// Registering or joining the run a database holds: the first process creates the tables and
/// lists the inputs into the work queue, a process with the same settings joins, and anything
/// else is refused before a row is written.
///
/// Registration runs in one transaction under an advisory lock (``PostgresSchema/registrationLock``),
/// so that processes started together agree on who registers: the others wait, then join.
enum PostgresRunRegistry {
    /// This process's part of the run once registration committed.
    struct Registration {
        /// This process's `__wadup_run.id`: the owner of its leases.
        var runID: Int64
        /// Whether this process created the run (and listed its inputs).
        var registered: Bool
    }

    /// Creates the run in `db` if the database is empty (or the run is replaced), joins it if it
    /// records the same settings, and refuses anything else (``StoreError/Kind/refused``); then
    /// records this process's attempt and its worker row.
    static func register(_ db: PostgresSession, request: StoreRequest, options: PostgresStore.Options, logger: Logger) throws -> Registration {
        let location = options.location
        func refuse(_ message: SettingMessage) -> StoreError { StoreError(.refused, path: location.description, message) }
        return try db.transaction {
            try db.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.registrationLock))")
            let exists = try db.query("SELECT to_regclass('__wadup_run') IS NOT NULL AND to_regclass('__wadup_chunks') IS NOT NULL")[0].decode(Bool.self)
            var create = !exists
            var previous: Int64?
            if exists {
                let first = try db.query("SELECT settings FROM __wadup_run ORDER BY id LIMIT 1")
                let settings = try first.first?.decode(String.self)
                let remaining = try db.query("""
                    SELECT (SELECT count(*) FROM __wadup_queue) - (SELECT count(*) FROM __wadup_input)
                    """)[0].decode(Int64.self)
                let live = try db.query("""
                    SELECT count(*) FROM __wadup_workers
                    WHERE ended_at IS NULL AND heartbeat_at > now() - make_interval(secs => lease_seconds)
                    """)[0].decode(Int64.self)
                if let what = mismatch(recorded: settings, settings: request.settings) {
                    guard options.overwrite else {
                        throw refuse("\(what); nothing was written. Use that run's input, modules and limits to join it, or \(RunSetting.overwrite) to replace it")
                    }
                    guard live == 0 else {
                        throw refuse("\(what), and \(live) live process(es) work on it; \(RunSetting.overwrite) never replaces a run in progress: stop them first")
                    }
                    create = true
                } else if remaining == 0 {
                    if options.overwrite {
                        create = true
                    } else if !options.resume {
                        throw refuse("it holds this run, complete; nothing was written. Read it, or use \(RunSetting.overwrite) to run again")
                    }
                } else if options.overwrite {
                    guard live == 0 else {
                        let holders = try db.query("""
                            SELECT host || ' pid ' || pid FROM __wadup_workers
                            WHERE ended_at IS NULL AND heartbeat_at > now() - make_interval(secs => lease_seconds) ORDER BY run_id LIMIT 5
                            """).map { try $0.decode(String.self) }
                        let leased = try db.query("SELECT count(*) FROM __wadup_chunks WHERE state = \(PostgresChunkState.claimed.sql) AND lease_until > now()")[0].decode(Int64.self)
                        throw refuse("""
                            it is in use by a live run: \(live) process(es) (\(holders.joined(separator: ", "))) share it, with live leases on \(leased) chunk(s) of its \(remaining) inputs to go; \
                            nothing was replaced: wait for it or stop it
                            """)
                    }
                    create = true
                }
                if create {
                    try drop(db)
                } else {
                    previous = try db.query("SELECT max(id) FROM __wadup_run")[0].decode(Int64?.self)
                    for statement in PostgresSchema.upgrade { try db.query(statement) }
                    logger.info("joining the run in \(location): \(remaining) inputs to go, \(live) other live process(es)")
                }
            } else {
                let foreign = try db.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename LIMIT 5").map { try $0.decode(String.self) }
                if !foreign.isEmpty {
                    throw refuse("the database holds tables that are not a WADUP run's (\(foreign.joined(separator: ", "))); nothing was written. Give an empty database")
                }
            }
            if create {
                for statement in PostgresSchema.create.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    try db.query(statement)
                }
                let listed = try enumerate(db, request.inputs)
                logger.info("registered a new run in \(location): \(listed) inputs queued")
            }
            var binds = PostgresBindings()
            let run = request.run
            binds.append(run.startedAt)
            binds.append(run.version)
            binds.append(run.engine)
            binds.append(run.settings)
            binds.append(previous)
            let id = try db.query("""
                INSERT INTO __wadup_run (started_at, wadup_version, engine, settings, outcome, resumed_from)
                VALUES ($1, $2, $3, $4, \(RunOutcome.running.sql), $5) RETURNING id
                """, binds)[0].decode(Int64.self)
            var worker = PostgresBindings()
            worker.append(id)
            worker.append(ProcessInfo.processInfo.hostName)
            worker.append(Int64(getpid()))
            worker.append(options.leaseTimeout)
            try db.query("INSERT INTO __wadup_workers (run_id, host, pid, lease_seconds) VALUES ($1, $2, $3, $4)", worker)
            return Registration(runID: id, registered: create)
        }
    }

    /// Why a run recorded with `recorded` (its settings as JSON, `nil` if the run has no attempt)
    /// is not the run `settings` describe, or `nil` if it is: every setting that changes results
    /// must be the same to join it.
    static func mismatch(recorded: String?, settings: RunSettings) -> String? {
        guard let earlier = recorded.flatMap(RunSettings.init(json:)) else { return "it holds a run this wadup cannot read" }
        let differences = settings.differences(from: earlier)
        if differences.isEmpty { return nil }
        return "it holds another run: \(differences.map(\.description).joined(separator: "; "))"
    }

    /// Drops the run's tables: its own and the module tables it lists, nothing else.
    private static func drop(_ db: PostgresSession) throws {
        if try db.query("SELECT to_regclass('__wadup_tables') IS NOT NULL")[0].decode(Bool.self) {
            for name in try db.query("SELECT name FROM __wadup_tables").map({ try $0.decode(String.self) }) {
                try db.query("DROP TABLE IF EXISTS \(SQL.quoted(name))")
            }
        }
        for table in PostgresSchema.ownTables { try db.query("DROP TABLE IF EXISTS \(table)") }
    }

    /// Lists the run's inputs into the queue, in walk order, and groups them into chunks; returns how many.
    private static func enumerate(_ db: PostgresSession, _ inputs: any InputListing) throws -> Int64 {
        var seq: Int64 = 0
        let columns = ["seq", "path", "reason", "size"]
        var queued = PostgresRows(table: "__wadup_queue", columns: columns)
        var chunks = PostgresRows(table: "__wadup_chunks", columns: ["id", "first_seq", "last_seq"])
        var chunkID: Int64 = 0
        var chunkFirst: Int64 = 0
        var chunkBytes = 0
        func closeChunk() {
            guard seq > chunkFirst else { return }
            chunks.int(chunkID)
            chunks.int(chunkFirst)
            chunks.int(seq - 1)
            chunks.endRow()
            chunkID += 1
            chunkFirst = seq
            chunkBytes = 0
        }
        try inputs.forEach { input in
            queued.int(seq)
            queued.bytes(input.path)
            queued.text(input.reason)
            queued.int(input.size.map(Int64.init))
            queued.endRow()
            seq += 1
            chunkBytes += input.size ?? 0
            if seq - chunkFirst >= PostgresSchema.chunkInputs || chunkBytes >= PostgresSchema.chunkBytes { closeChunk() }
            if queued.buffer.readableBytes >= 1 << 20 {
                try db.insert(queued)
                queued = PostgresRows(table: "__wadup_queue", columns: columns)
            }
        }
        closeChunk()
        try db.insert(queued)
        try db.insert(chunks)
        return seq
    }

    /// What this process joins: the module tables and the processed contents of committed trees,
    /// for dedup (contents of trees written in parts may be rolled back, so they are left out).
    static func joinedPoint(_ db: PostgresSession, runID: Int64) throws -> ResumePoint {
        let tables = try moduleTables(db)
        let processed = try db.query("""
            WITH RECURSIVE partial(uuid) AS (
                SELECT root_uuid FROM __wadup_partial
                UNION ALL
                SELECT c.uuid FROM __wadup_content c JOIN partial p ON c.parent_uuid = p.uuid)
            SELECT sha256, uuid FROM __wadup_content
            WHERE status IN (\(PostgresSchema.processedStatuses)) AND sha256 IS NOT NULL AND uuid NOT IN (SELECT uuid FROM partial)
            """).map { row in
            let (sha256, uuid) = try row.decode((String, String).self)
            return (sha256: sha256, uuid: uuid)
        }
        let done = try db.query("SELECT count(*) FROM __wadup_input")[0].decode(Int64.self)
        let previous = try db.query("SELECT id, outcome FROM __wadup_run WHERE id < $1 ORDER BY id DESC LIMIT 1", binds(runID)).first
        let (attempt, outcome) = try previous?.decode((Int64, String).self) ?? (Int64(0), "none")
        return ResumePoint(
            previousAttempt: attempt, previousOutcome: outcome, completedInputs: [], processed: processed, tables: tables,
            rolledBackContents: 0, rolledBackTrees: Int(done))
    }

    /// The module tables in creation order, with their columns.
    static func moduleTables(_ db: PostgresSession) throws -> [TableSchema] {
        let rows = try db.query("""
            SELECT t.name, c.column_name, c.data_type FROM __wadup_tables t
            JOIN information_schema.columns c ON c.table_name = t.name AND c.table_schema = current_schema()
            WHERE c.ordinal_position > 1
            ORDER BY t.seq, c.ordinal_position
            """)
        var tables: [TableSchema] = []
        var columns: [Column] = []
        var current: String?
        for row in rows {
            let (name, column, type) = try row.decode((String, String, String).self)
            if name != current {
                if let current { tables.append(TableSchema(name: current, columns: columns)) }
                current = name
                columns = []
            }
            columns.append(Column(name: column, type: PostgresSchema.columnType(type) ?? .string))
        }
        if let current { tables.append(TableSchema(name: current, columns: columns)) }
        return tables
    }
}
