import Foundation
import Logging
import PostgresNIO
import Synchronization
import WADUPCore
import WADUPStore

/// The PostgreSQL output: the same tables as SQLite, and the run's work queue for every process
/// that runs the same command against it.
///
/// Each process claims chunks of inputs with a lease (`FOR UPDATE SKIP LOCKED`), renews its leases
/// while it works, and buffers each input tree's records until the tree is complete. A tree is then
/// written (COPY) with its `__wadup_input` row, which makes the input done, in a transaction that
/// holds the chunk's row locked and commits only while the lease is still this process's: every
/// content is committed exactly once. A tree too large to buffer is written in parts, marked in
/// `__wadup_partial`; whoever claims that input again (after the lease expires, or after this
/// process gave it back) first deletes those parts.
public final class PostgresStore: SharedRunStore, @unchecked Sendable {  // Safe: `closing`/`renewerDone` are guarded by `condition`; the queue is `BatchWriter`'s; `claimer` by `claimLock`; the writer-thread state below is touched by the writer thread only (and by `finish` after it ended).
    /// How the store opens a run.
    public struct Options: Sendable {
        public var location: PostgresLocation
        /// Seconds a claim lasts without renewal before another process may take it over.
        public var leaseTimeout: Double
        public var overwrite: Bool
        public var resume: Bool
        /// Seconds a process keeps reconnecting (with bounded back-off) after it lost the server,
        /// before it gives up and exits non-zero; the same command then carries on.
        public var reconnectTimeout: Double

        public init(location: PostgresLocation, leaseTimeout: Double = 60, overwrite: Bool = false, resume: Bool = false, reconnectTimeout: Double = 60) {
            self.location = location
            self.leaseTimeout = leaseTimeout
            self.overwrite = overwrite
            self.resume = resume
            self.reconnectTimeout = reconnectTimeout
        }
    }

    enum Item {
        case table(TableSchema, Int32, module: String)
        case content(ContentRecord)
        case input(InputCompletion)
    }

    /// One input tree's records, held until the tree is complete.
    final class TreeBuffer {
        var records: [ContentRecord] = []
        /// Every content uuid of the tree, for forgetting them once it is committed.
        var uuids: [String] = []
        var completion: InputCompletion?
        /// Its queue row and chunk, once part of the tree was written (and marked in `__wadup_partial`).
        var spilled: (seq: Int64, chunk: Int64)?
    }

    struct LostLeases: Error { let chunks: Set<Int64> }

    public let location: PostgresLocation
    /// This process's `__wadup_run.id`: the owner of its leases.
    public let runID: Int64
    public let joined: ResumePoint
    /// Whether this process created the run (and enumerated its inputs).
    public let registered: Bool
    let leaseTimeout: Double
    let reconnectTimeout: Double
    let logger: Logger

    private let writer: PostgresSession
    private let claimer: PostgresSession
    private let renewer: PostgresSession
    private let claimLock = Mutex(())
    /// What this process holds: claimed inputs by path (their queue row and chunk), and per chunk
    /// the inputs not committed yet (claims add, commits remove).
    private struct Claims {
        var byPath: [[UInt8]: (seq: Int64, chunk: Int64)] = [:]
        var open: [Int64: Int] = [:]
    }

    private let claimed = Mutex(Claims())
    private let commitHandler = Mutex<(@Sendable ([(sha256: String, uuid: String)]) -> Void)?>(nil)

    /// A transaction is written once 4,096 items are queued, or 50 ms after the first.
    private let batches = BatchWriter<Item>(name: "wadup-pg-writer", maxQueued: 32768, batchSize: 4096)
    /// Stops the lease renewer.
    private let condition = NSCondition()
    private var closing = false
    private var renewerDone = false
    /// A tree with more buffered records than this is written in parts (`WADUP_TEST_PG_SPILL_LIMIT`
    /// lowers it, for the tests of partial trees).
    static let spillLimit = ProcessInfo.processInfo.environment["WADUP_TEST_PG_SPILL_LIMIT"].flatMap { Int($0) } ?? 4096

    // The writer thread's state.
    private var knownTables: [Int32: TableSchema] = [:]
    private var roots: [String: String] = [:]
    private var trees: [String: TreeBuffer] = [:]
    private var lost: Set<String> = []
    /// Inputs of chunks another process took over.
    private var lostPaths: Set<[UInt8]> = []

    /// Opens the run in the database `options.location` names: registers it (and lists its inputs
    /// into the queue) if the database is empty, joins it if it records the same run, and refuses
    /// anything else (exit 2, nothing written).
    public init(request: StoreRequest, options: Options, logger: Logger) throws(StoreError) {
        let location = options.location
        self.location = location
        self.leaseTimeout = options.leaseTimeout
        self.reconnectTimeout = options.reconnectTimeout
        self.logger = logger
        let password = location.password()
        writer = try PostgresSession.connect(location, password: password, logger: logger, id: 1)
        let registration: (runID: Int64, registered: Bool)
        do {
            registration = try Self.register(writer, request: request, options: options, logger: logger)
            claimer = try PostgresSession.connect(location, password: password, logger: logger, id: 2)
            renewer = try PostgresSession.connect(location, password: password, logger: logger, id: 3)
            // Commits need not wait for the disk: a claim or renewal lost in a server crash only makes
            // an input claimable again, and the trees committed last are lost together with their
            // input rows (the log is replayed in order), so they are redone, never half there.
            for session in [writer, claimer, renewer] { try session.configure("SET synchronous_commit = off") }
        } catch let error as StoreError {
            writer.close()
            throw error
        } catch {
            writer.close()
            throw StoreError(path: location.description, message: PostgresSession.describe(error))
        }
        runID = registration.runID
        registered = registration.registered
        do {
            joined = try Self.joinedPoint(writer, runID: runID)
        } catch {
            throw StoreError(path: location.description, message: PostgresSession.describe(error))
        }
        for (id, schema) in joined.tables.enumerated() { knownTables[Int32(id)] = schema }
        batches.start(write: { [self] in try write($0) }, describe: { [location] error in
            error as? StoreError ?? StoreError(path: location.description, message: PostgresSession.describe(error))
        })
        let renewerThread = Thread { [self] in renewLoop() }
        renewerThread.name = "wadup-pg-leases"
        renewerThread.start()
    }

    // MARK: Registering or joining a run

    /// The advisory lock that serializes registration: the first process creates, the others join.
    static let registrationLock: Int64 = 0x5741_4455_5052_4547

    private static func register(_ db: PostgresSession, request: StoreRequest, options: Options, logger: Logger) throws -> (runID: Int64, registered: Bool) {
        let location = options.location
        func refuse(_ message: String) -> StoreError { StoreError(path: location.description, message: message, refused: true) }
        return try db.transaction {
            try db.query("SELECT pg_advisory_xact_lock(\(registrationLock))")
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
                let differences = settings.flatMap { request.differences($0) }
                if differences == nil || !(differences ?? []).isEmpty {
                    let what = differences.map { "it holds another run: \($0.joined(separator: "; "))" } ?? "it holds a run this wadup cannot read"
                    guard options.overwrite else {
                        throw refuse("\(what); nothing was written. Use that run's input, modules and limits to join it, or --overwrite to replace it")
                    }
                    guard live == 0 else {
                        throw refuse("\(what), and \(live) live process(es) work on it; --overwrite never replaces a run in progress: stop them first")
                    }
                    create = true
                } else if remaining == 0 {
                    if options.overwrite {
                        create = true
                    } else if !options.resume {
                        throw refuse("it holds this run, complete; nothing was written. Read it, or use --overwrite to run again")
                    }
                } else if options.overwrite {
                    guard live == 0 else {
                        let holders = try db.query("""
                            SELECT host || ' pid ' || pid FROM __wadup_workers
                            WHERE ended_at IS NULL AND heartbeat_at > now() - make_interval(secs => lease_seconds) ORDER BY run_id LIMIT 5
                            """).map { try $0.decode(String.self) }
                        let leased = try db.query("SELECT count(*) FROM __wadup_chunks WHERE state = 'claimed' AND lease_until > now()")[0].decode(Int64.self)
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
                let listed = try enumerate(db, request)
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
                VALUES ($1, $2, $3, $4, 'running', $5) RETURNING id
                """, binds)[0].decode(Int64.self)
            var worker = PostgresBindings()
            worker.append(id)
            worker.append(ProcessInfo.processInfo.hostName)
            worker.append(Int64(getpid()))
            worker.append(options.leaseTimeout)
            try db.query("INSERT INTO __wadup_workers (run_id, host, pid, lease_seconds) VALUES ($1, $2, $3, $4)", worker)
            return (id, create)
        }
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
    private static func enumerate(_ db: PostgresSession, _ request: StoreRequest) throws -> Int64 {
        var seq: Int64 = 0
        var copy = CopyText()
        var chunks = CopyText()
        var chunkID: Int64 = 0
        var chunkFirst: Int64 = 0
        var chunkBytes = 0
        let columns = ["seq", "path", "reason", "size"]
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
        try request.enumerate { input in
            copy.int(seq)
            copy.bytes(input.path)
            copy.text(input.reason)
            copy.int(input.size.map(Int64.init))
            copy.endRow()
            seq += 1
            chunkBytes += input.size ?? 0
            if seq - chunkFirst >= PostgresSchema.chunkInputs || chunkBytes >= PostgresSchema.chunkBytes { closeChunk() }
            if copy.buffer.readableBytes >= 1 << 20 {
                try db.copy(into: "__wadup_queue", columns: columns, copy.buffer)
                copy = CopyText()
            }
        }
        closeChunk()
        if !copy.isEmpty { try db.copy(into: "__wadup_queue", columns: columns, copy.buffer) }
        if !chunks.isEmpty { try db.copy(into: "__wadup_chunks", columns: ["id", "first_seq", "last_seq"], chunks.buffer) }
        return seq
    }

    /// The module tables and the processed contents of committed trees, for dedup.
    private static func joinedPoint(_ db: PostgresSession, runID: Int64) throws -> ResumePoint {
        let tables = try moduleTables(db)
        let processed = try db.query("""
            WITH RECURSIVE partial(uuid) AS (
                SELECT root_uuid FROM __wadup_partial
                UNION ALL
                SELECT c.uuid FROM __wadup_content c JOIN partial p ON c.parent_uuid = p.uuid)
            SELECT sha256, uuid FROM __wadup_content
            WHERE status IN ('success', 'failed') AND sha256 IS NOT NULL AND uuid NOT IN (SELECT uuid FROM partial)
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

    // MARK: SharedRunStore

    public func onCommit(_ handler: @escaping @Sendable ([(sha256: String, uuid: String)]) -> Void) {
        commitHandler.withLock { $0 = handler }
    }

    public func claim(max: Int) throws(StoreError) -> ClaimResult {
        let failure = batches.failure
        // A writer that failed commits nothing more: claiming more would only hold inputs back.
        if let failure { throw failure }
        do {
            return try claimLock.withLock { _ in
                // A claim lost with its connection may have been committed: its chunks are leased to
                // this process but unknown to it, so they are given back before claiming again.
                try resilient(claimer, "claiming inputs", beforeRetry: { try self.releaseUnknownClaims() }) { try claimLocked(max: max) }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(path: location.description, message: "claiming inputs: \(PostgresSession.describe(error))")
        }
    }

    private func claimLocked(max: Int) throws -> ClaimResult {
        let db = claimer
        var b = PostgresBindings()
        b.append(runID)
        b.append(leaseTimeout)
        b.append(Int64(Swift.max(1, max / PostgresSchema.chunkInputs)))
        // One statement, one round trip: chunks whose lease expired first (a process died or
        // stalled; never this process's own, which it still works on and renews once it is back
        // from a lost connection), then chunks never claimed, in walk order. Rows another process is claiming are
        // skipped, not waited for. The answer is one JSON value: one value to decode, not a row each
        // (measured: faster than a row of arrays, and than rows).
        let text = try db.query("""
            WITH expired AS (
                SELECT id FROM __wadup_chunks WHERE state = 'claimed' AND lease_until < now() AND lease_owner <> $1 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED),
            fresh AS (
                SELECT id FROM __wadup_chunks WHERE state = 'pending' ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED),
            chosen AS (
                SELECT id FROM (SELECT id, 0 AS pass FROM expired UNION ALL SELECT id, 1 FROM fresh) c ORDER BY pass, id LIMIT $3),
            claimed AS (
                UPDATE __wadup_chunks SET state = 'claimed', lease_owner = $1, lease_until = now() + make_interval(secs => $2),
                    attempts = attempts + 1
                WHERE id = ANY (ARRAY (SELECT id FROM chosen))
                RETURNING id, first_seq, last_seq, attempts)
            SELECT coalesce(json_agg(json_build_array(c.id, q.seq, encode(q.path, 'hex'), q.reason, q.size, p.root_uuid) ORDER BY q.seq), '[]')::text
            FROM claimed c JOIN __wadup_queue q ON q.seq BETWEEN c.first_seq AND c.last_seq
            LEFT JOIN __wadup_partial p ON p.seq = q.seq
            WHERE c.attempts = 1 OR NOT EXISTS (SELECT 1 FROM __wadup_input i WHERE i.seq = q.seq)
            """, b)[0].decode(String.self)
        guard let rows = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[Any]] else {
            throw StoreError(path: location.description, message: "claiming inputs: the server's answer could not be read")
        }
        var items: [(seq: Int64, chunk: Int64, input: QueuedInput)] = []
        var rolledBack = 0
        for row in rows {
            guard row.count == 6, let chunk = (row[0] as? NSNumber)?.int64Value, let seq = (row[1] as? NSNumber)?.int64Value,
                let hex = row[2] as? String, let path = Hex.bytes(hex)
            else {
                throw StoreError(path: location.description, message: "claiming inputs: the server's answer could not be read")
            }
            let reason = row[3] as? String
            let size = (row[4] as? NSNumber)?.intValue
            // Part of this tree was written by an owner that is gone: delete it before redoing the tree.
            // (The mark stays until the delete commits, so a crash here only repeats the delete.)
            if let root = row[5] as? String { rolledBack += try db.transaction { try Self.rollBack(db, seq: seq, root: root) } }
            items.append((seq, chunk, QueuedInput(path: path, reason: reason, size: size)))
        }
        if rolledBack > 0 { logger.info("rolled back \(rolledBack) contents of partial input trees another process left") }
        if items.isEmpty {
            let open = try db.query("""
                SELECT EXISTS (SELECT 1 FROM __wadup_chunks WHERE state = 'pending') OR EXISTS (SELECT 1 FROM __wadup_chunks WHERE state = 'claimed')
                """)[0].decode(Bool.self)
            // A chunk claimed again whose inputs were all committed is finished here.
            if open { try finishEmptyChunks(db) }
            return open ? .later : .done
        }
        claimed.withLock { claims in
            for item in items {
                claims.byPath[item.input.path] = (item.seq, item.chunk)
                claims.open[item.chunk, default: 0] += 1
            }
        }
        return .inputs(items.map(\.input))
    }

    /// Gives back the chunks leased to this process that it does not know it holds (a claim whose
    /// answer was lost with the connection).
    private func releaseUnknownClaims() throws {
        let known = claimed.withLock { Array($0.open.keys) }
        var b = PostgresBindings()
        b.append(runID)
        b.append(known)
        try claimer.query("""
            UPDATE __wadup_chunks SET state = 'pending', lease_owner = NULL, lease_until = NULL
            WHERE lease_owner = $1 AND state = 'claimed' AND NOT (id = ANY($2))
            """, b)
    }

    /// Marks done the chunks this process holds whose every input is committed (a chunk claimed
    /// again after its owner committed all its trees but died before marking it).
    private func finishEmptyChunks(_ db: PostgresSession) throws {
        try db.query("""
            UPDATE __wadup_chunks c SET state = 'done', lease_owner = NULL, lease_until = NULL, done_by = $1
            WHERE c.lease_owner = $1 AND c.state = 'claimed'
              AND (SELECT count(*) FROM __wadup_input i WHERE i.seq BETWEEN c.first_seq AND c.last_seq) = c.last_seq - c.first_seq + 1
            """, binds(runID))
    }

    /// Deletes the part of a tree another attempt wrote (contents and their rows); returns how many contents.
    static func rollBack(_ db: PostgresSession, seq: Int64, root: String) throws -> Int {
        let uuids = try db.query("""
            WITH RECURSIVE tree(uuid) AS (
                SELECT $1::text UNION ALL SELECT c.uuid FROM __wadup_content c JOIN tree ON c.parent_uuid = tree.uuid)
            SELECT uuid FROM tree
            """, binds(root)).map { try $0.decode(String.self) }
        for name in try db.query("SELECT name FROM __wadup_tables").map({ try $0.decode(String.self) }) {
            try db.query("DELETE FROM \(SQL.quoted(name)) WHERE content_uuid = ANY($1)", binds(uuids))
        }
        try db.query("DELETE FROM __wadup_content WHERE uuid = ANY($1)", binds(uuids))
        try db.query("DELETE FROM __wadup_partial WHERE seq = $1", binds(seq))
        return uuids.count
    }

    // MARK: ResultStore

    public func createTable(_ schema: TableSchema, id: Int32, module: String) {
        try? enqueue(.table(schema, id, module: module))
    }

    public func submit(_ record: ContentRecord) throws(StoreError) {
        try enqueue(.content(record))
    }

    public func completeInput(path: [UInt8], rootUUID: String, note: String?) throws(StoreError) {
        try enqueue(.input(InputCompletion(path: path, rootUUID: rootUUID, note: note)))
    }

    private func enqueue(_ item: Item) throws(StoreError) {
        try batches.enqueue(item)
    }

    private func write(_ batch: [Item]) throws {
        var complete: [String] = []
        for item in batch {
            switch item {
            case .table(let schema, let id, let module):
                try resilient(writer, "creating table \(schema.name)") { try createTable(schema, module: module) }
                knownTables[id] = schema
            case .content(let record):
                let root = record.parentUUID.flatMap { roots[$0] } ?? record.uuid
                roots[record.uuid] = root
                let tree = trees[root] ?? TreeBuffer()
                trees[root] = tree
                tree.uuids.append(record.uuid)
                if !lost.contains(root) { tree.records.append(record) }
                if let completion = record.completesInput {
                    tree.completion = completion
                    complete.append(root)
                }
            case .input(let completion):
                let tree = trees[completion.rootUUID] ?? TreeBuffer()
                trees[completion.rootUUID] = tree
                tree.completion = completion
                complete.append(completion.rootUUID)
            }
        }
        if !complete.isEmpty { try commit(complete) }
        for (root, tree) in trees where tree.records.count >= Self.spillLimit && tree.completion == nil && !lost.contains(root) {
            try spill(root, tree)
        }
    }

    /// Creates module table `schema` unless another process did; refuses other columns under its name.
    private func createTable(_ schema: TableSchema, module: String) throws {
        let db = writer
        try db.transaction {
            try db.query("SELECT pg_advisory_xact_lock(\(Self.registrationLock + 1))")
            if try !db.query("SELECT 1 FROM __wadup_tables WHERE name = $1", binds(schema.name)).isEmpty {
                guard let existing = try Self.moduleTables(db).first(where: { $0.name == schema.name }), existing.columns == schema.columns else {
                    throw StoreError(
                        path: location.description,
                        message: "table \(schema.name) is defined with other columns by another process of this run; module \(module) asked for \(schema.signature)")
                }
                return
            }
            try db.query(PostgresSchema.createTable(schema))
            var b = PostgresBindings()
            b.append(schema.name)
            b.append(module)
            try db.query("INSERT INTO __wadup_tables (name, module) VALUES ($1, $2)", b)
        }
    }

    /// The queue row and chunk of the tree at `root`, claimed by this process for the input's path.
    private func place(of tree: TreeBuffer, root: String) -> (seq: Int64, chunk: Int64)? {
        if let place = tree.spilled { return place }
        guard let path = self.path(of: tree, root: root) else { return nil }
        return claimed.withLock { $0.byPath[path] }
    }

    private func path(of tree: TreeBuffer, root: String) -> [UInt8]? {
        tree.completion?.path ?? tree.records.first(where: { $0.uuid == root }).map { $0.filenameBytes ?? Array($0.filename.utf8) }
    }

    /// Gives up the chunks another process took over: their trees are dropped here (redone there).
    private func lose(chunks: Set<Int64>) {
        claimed.withLock { claims in
            for (path, place) in claims.byPath where chunks.contains(place.chunk) {
                claims.byPath[path] = nil
                lostPaths.insert(path)
            }
            for chunk in chunks { claims.open[chunk] = nil }
        }
        for (root, tree) in trees {
            if let place = tree.spilled, chunks.contains(place.chunk) { lost.insert(root) }
            if let path = path(of: tree, root: root), lostPaths.contains(path) { lost.insert(root) }
        }
        logger.warning("lost the lease on \(chunks.count) chunk(s) of inputs to another process (this one stalled past --lease-timeout); their results are dropped here and redone there")
    }

    /// Commits the complete trees at `roots` in one transaction, each only if its lease is still ours.
    private func commit(_ completeRoots: [String]) throws {
        var pending: [String] = []
        for root in completeRoots {
            if lost.contains(root) || trees[root].flatMap({ path(of: $0, root: root) }).map(lostPaths.contains) == true {
                forget(root)
            } else {
                pending.append(root)
            }
        }
        while !pending.isEmpty {
            var places: [String: (seq: Int64, chunk: Int64)] = [:]
            for root in pending {
                guard let tree = trees[root], let place = place(of: tree, root: root) else {
                    throw StoreError(path: location.description, message: "an input tree was completed that this process never claimed")
                }
                places[root] = place
            }
            // If the connection is lost at COMMIT, the trees are committed when their first record
            // (or, with none left to write, their input row) is there.
            let firstUUID = pending.lazy.compactMap { self.trees[$0]?.records.first?.uuid }.first
            let firstSeq = pending.first { self.trees[$0]?.completion != nil }.flatMap { places[$0]?.seq }
            do {
                try resilient(writer, "committing input trees", committed: { [writer] () throws -> Void? in
                    if let firstUUID {
                        return try writer.query("SELECT EXISTS (SELECT 1 FROM __wadup_content WHERE uuid = $1)", binds(firstUUID))[0].decode(Bool.self) ? () : nil
                    }
                    if let firstSeq {
                        return try writer.query("SELECT EXISTS (SELECT 1 FROM __wadup_input WHERE seq = $1)", binds(firstSeq))[0].decode(Bool.self) ? () : nil
                    }
                    return nil
                }) {
                    try writeTrees(pending, places: places)
                }
            } catch let error as LostLeases {
                lose(chunks: error.chunks)
                let lostRoots = pending.filter { error.chunks.contains(places[$0]!.chunk) }
                for root in lostRoots { forget(root) }
                pending.removeAll { lostRoots.contains($0) }
                continue
            }
            var processed: [(sha256: String, uuid: String)] = []
            for root in pending {
                for record in trees[root]!.records where record.status == .success || record.status == .failed {
                    if let sha256 = record.sha256 { processed.append((sha256, record.uuid)) }
                }
                forget(root)
            }
            claimed.withLock { claims in
                for root in pending {
                    let chunk = places[root]!.chunk
                    claims.open[chunk, default: 1] -= 1
                    if claims.open[chunk] == 0 { claims.open[chunk] = nil }
                }
            }
            if let handler = commitHandler.withLock({ $0 }) { handler(processed) }
            break
        }
    }

    private func writeTrees(_ roots: [String], places: [String: (seq: Int64, chunk: Int64)]) throws {
        let db = writer
        let runID = self.runID
        // Chunks this commit finishes: every input of theirs this process claimed is in it.
        var committing: [Int64: Int] = [:]
        for root in roots { committing[places[root]!.chunk, default: 0] += 1 }
        let open = claimed.withLock { $0.open }
        let finishing = committing.filter { open[$0.key] == $0.value }.map(\.key)
        try db.transaction {
            // The leases, checked and held (row locks) until the commit: a process taking a chunk
            // over waits for this transaction, then finds its trees committed.
            var b = PostgresBindings()
            b.append(runID)
            b.append(Array(committing.keys))
            let kept = Set(try db.query("""
                WITH held AS (SELECT id FROM __wadup_chunks WHERE id = ANY($2) AND lease_owner = $1 AND state = 'claimed' FOR UPDATE)
                SELECT coalesce(array_agg(id), '{}') FROM held
                """, b)[0].decode([Int64].self))
            if kept.count != committing.count { throw LostLeases(chunks: Set(committing.keys).subtracting(kept)) }
            var contents = 0
            var records: [ContentRecord] = []
            var inputs = CopyText()
            var spilled: [Int64] = []
            for root in roots {
                let tree = trees[root]!
                var treeRecords = tree.records
                if let place = tree.spilled { spilled.append(place.seq) }
                if let completion = tree.completion {
                    if let note = completion.note {
                        if let i = treeRecords.firstIndex(where: { $0.uuid == root }) {
                            treeRecords[i].errorMessage = treeRecords[i].errorMessage.map { $0 + "; " + note } ?? note
                        } else {
                            var n = PostgresBindings()
                            n.append(note)
                            n.append(root)
                            try db.query("""
                                UPDATE __wadup_content SET error_message = CASE WHEN error_message IS NULL THEN $1 ELSE error_message || '; ' || $1 END
                                WHERE uuid = $2
                                """, n)
                        }
                    }
                    inputs.bytes(completion.path)
                    inputs.text(root)
                    inputs.int(runID)
                    inputs.int(places[root]!.seq)
                    inputs.endRow()
                }
                contents += tree.uuids.count
                records.append(contentsOf: treeRecords)
            }
            try writeRecords(records)
            if !inputs.isEmpty { try db.copy(into: "__wadup_input", columns: ["path", "root_uuid", "run_id", "seq"], inputs.buffer) }
            if !spilled.isEmpty { try db.query("DELETE FROM __wadup_partial WHERE seq = ANY($1)", binds(spilled)) }
            if !finishing.isEmpty {
                var d = PostgresBindings()
                d.append(runID)
                d.append(finishing)
                try db.query("""
                    UPDATE __wadup_chunks SET state = 'done', lease_owner = NULL, lease_until = NULL, done_by = $1 WHERE id = ANY($2)
                    """, d)
            }
            var w = PostgresBindings()
            w.append(Int64(contents))
            w.append(Int64(roots.count))
            w.append(runID)
            try db.query("UPDATE __wadup_workers SET contents = contents + $1, trees = trees + $2 WHERE run_id = $3", w)
        }
    }

    /// Writes part of an incomplete tree, marking it (`__wadup_partial`) so that a new owner rolls it back.
    private func spill(_ root: String, _ tree: TreeBuffer) throws {
        guard let place = place(of: tree, root: root) else { return }
        let db = writer
        let runID = self.runID
        let firstUUID = tree.records.first?.uuid
        do {
            try resilient(db, "writing part of an input tree", committed: { () throws -> Void? in
                guard let firstUUID else { return nil }
                return try db.query("SELECT EXISTS (SELECT 1 FROM __wadup_content WHERE uuid = $1)", binds(firstUUID))[0].decode(Bool.self) ? () : nil
            }) {
              try db.transaction {
                var b = PostgresBindings()
                b.append(place.chunk)
                b.append(runID)
                let rows = try db.query("SELECT id FROM __wadup_chunks WHERE id = $1 AND lease_owner = $2 AND state = 'claimed' FOR UPDATE", b)
                if rows.isEmpty { throw LostLeases(chunks: [place.chunk]) }
                if tree.spilled == nil {
                    var p = PostgresBindings()
                    p.append(place.seq)
                    p.append(root)
                    try db.query("INSERT INTO __wadup_partial (seq, root_uuid) VALUES ($1, $2)", p)
                }
                try writeRecords(tree.records)
              }
            }
            tree.spilled = place
            tree.records.removeAll(keepingCapacity: true)
        } catch let error as LostLeases {
            lose(chunks: error.chunks)
            lost.insert(root)
            tree.records.removeAll()
        }
    }

    /// COPYs `records` and their module rows.
    private func writeRecords(_ records: [ContentRecord]) throws {
        guard !records.isEmpty else { return }
        var contents = CopyText()
        var tables: [Int32: CopyText] = [:]
        for r in records {
            contents.text(r.uuid)
            contents.text(r.filename)
            contents.text(r.parentUUID)
            contents.int(r.processedAt)
            contents.text(r.status.rawValue)
            contents.text(r.errorMessage)
            contents.int(Int64(r.depth))
            contents.int(r.size.map(Int64.init))
            contents.text(r.sha256)
            contents.text(r.duplicateOf)
            contents.bytes(r.filenameBytes)
            contents.endRow()
            for row in r.rows {
                var copy = tables[row.tableID] ?? CopyText()
                copy.text(r.uuid)
                for value in row.values { copy.cell(value) }
                copy.endRow()
                tables[row.tableID] = copy
            }
        }
        try writer.copy(into: "__wadup_content", columns: PostgresSchema.contentColumns, contents.buffer)
        for (id, copy) in tables.sorted(by: { $0.key < $1.key }) {
            guard let schema = knownTables[id] else {
                throw StoreError(path: location.description, message: "row for unknown table \(id)")
            }
            try writer.copy(into: schema.name, columns: ["content_uuid"] + schema.columns.map(\.name), copy.buffer)
        }
    }

    /// Forgets a tree that is committed (or lost).
    private func forget(_ root: String) {
        guard let tree = trees.removeValue(forKey: root) else { return }
        for uuid in tree.uuids { roots.removeValue(forKey: uuid) }
        if let path = tree.completion?.path { _ = claimed.withLock { $0.byPath.removeValue(forKey: path) } }
    }

    // MARK: Losing the server

    /// Set once this process gave up on the server (or was interrupted while it was away).
    private let serverLost = Mutex(false)

    /// Runs `body` (one statement, or one transaction) on `session`; when its connection is lost
    /// (the server restarted or ended it, or no answer came in time), reconnects with bounded
    /// back-off for up to `budget` seconds (``reconnectTimeout`` by default) and runs it again.
    /// A transaction lost at its COMMIT may have committed: `committed`, asked on the new
    /// connection first, says so (with `body`'s answer), and `body` is not run again.
    /// `beforeRetry` runs on the new connection before `body` runs again. Gives up with a
    /// ``StoreError`` naming the server and the remedy (run the same command again).
    private func resilient<T>(
        _ session: PostgresSession, _ what: String, budget: Double? = nil, committed: (() throws -> T?)? = nil, beforeRetry: (() throws -> Void)? = nil,
        _ body: () throws -> T
    ) throws -> T {
        let budget = budget ?? reconnectTimeout
        var lostAt: Date?
        while true {
            do {
                if lostAt != nil, let committed, let value = try committed() { return value }
                if lostAt != nil, let beforeRetry { try beforeRetry() }
                let value = try body()
                if let lostAt {
                    logger.info("reconnected to PostgreSQL at \(location.endpoint) after \(String(format: "%.1f", Date().timeIntervalSince(lostAt))) s; going on with \(what)")
                }
                return value
            } catch where PostgresSession.isConnectionLoss(error) {
                let since = lostAt ?? Date()
                if lostAt == nil {
                    logger.warning("lost the connection to PostgreSQL at \(location.endpoint) while \(what) (\(PostgresSession.describe(error))); reconnecting for up to \(Self.seconds(budget))")
                }
                lostAt = since
                do {
                    try session.reconnect(until: since.addingTimeInterval(budget))
                } catch {
                    serverLost.withLock { $0 = true }
                    throw serverGone(error, what: what, budget: budget)
                }
            }
        }
    }

    /// The failure of a process that gave up on its server: what it was doing, and what to do.
    private func serverGone(_ error: any Error, what: String, budget: Double) -> StoreError {
        let kept = "every input tree committed so far is kept, and the inputs this process held go back to the queue when their leases expire (\(Self.seconds(leaseTimeout)))"
        let message: String
        switch error {
        case PostgresFailure.interrupted:
            message = "interrupted while reconnecting to PostgreSQL at \(location.endpoint) (lost while \(what)); \(kept); run the same command again to carry on"
        case PostgresFailure.gone(let reason):
            message = """
                lost PostgreSQL at \(location.endpoint) while \(what), and it did not come back within the reconnect timeout (\(Self.seconds(budget)); last attempt: \(reason)); \
                \(kept): once the server is up, run the same command again to carry on
                """
        default:
            message = "lost PostgreSQL at \(location.endpoint) while \(what), and reconnecting failed: \(PostgresSession.describe(error)); \(kept): run the same command again to carry on"
        }
        return StoreError(path: location.description, message: message)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }

    // MARK: Leases

    /// Renews this process's leases (and its heartbeat) every third of the lease time.
    private func renewLoop() {
        let interval = max(0.2, leaseTimeout / 3)
        while true {
            condition.lock()
            let deadline = Date().addingTimeInterval(interval)
            while !closing && condition.wait(until: deadline) {}
            let stop = closing
            condition.unlock()
            if stop { break }
            do {
                var b = PostgresBindings()
                b.append(runID)
                b.append(leaseTimeout)
                try renewer.query("""
                    UPDATE __wadup_chunks SET lease_until = now() + make_interval(secs => $2) WHERE lease_owner = $1 AND state = 'claimed'
                    """, b)
                try renewer.query("UPDATE __wadup_workers SET heartbeat_at = now() WHERE run_id = $1", binds(runID))
            } catch {
                logger.warning("could not renew this process's leases: \(PostgresSession.describe(error)); they expire \(leaseTimeout) s after the last renewal")
                // Reconnect briefly here (the writer and the claims wait for the server the full
                // reconnect time); the next round renews on the new connection.
                if PostgresSession.isConnectionLoss(error) { try? renewer.reconnect(until: Date().addingTimeInterval(min(5, interval))) }
            }
        }
        condition.lock()
        renewerDone = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Finishing

    public func finish(run: RunRecord, modules: [ModuleRecord]) throws(StoreError) {
        let failure = batches.close()
        condition.lock()
        closing = true
        condition.broadcast()
        while !renewerDone { condition.wait() }
        condition.unlock()
        defer {
            writer.close()
            claimer.close()
            renewer.close()
        }
        let db = writer
        let runID = self.runID
        // After the server was given up on once, one short try: the claims expire anyway.
        let budget = serverLost.withLock { $0 } ? PostgresInterrupt.grace : reconnectTimeout
        do {
            try resilient(db, "ending this process's part of the run", budget: budget, committed: { () throws -> Void? in
                try db.query("SELECT ended_at IS NOT NULL FROM __wadup_workers WHERE run_id = $1", binds(runID)).first?.decode(Bool.self) == true ? () : nil
            }) {
            try db.transaction {
                // Whatever this process still holds goes back to the queue; parts already written
                // are marked on their rows, and the next owner rolls them back.
                try db.query("""
                    UPDATE __wadup_chunks SET state = 'pending', lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 AND state = 'claimed'
                    """, binds(runID))
                try db.query("UPDATE __wadup_workers SET ended_at = now() WHERE run_id = $1", binds(runID))
                var b = PostgresBindings()
                b.append(run.finishedAt)
                b.append(failure == nil ? run.outcome : "failed")
                for value in [run.inputs, run.contents, run.failed, run.skipped, run.duplicates, run.refused] { b.append(Int64(value)) }
                b.append(runID)
                try db.query("""
                    UPDATE __wadup_run SET finished_at = $1, outcome = $2, inputs = $3, contents = $4, failed = $5, skipped = $6,
                        duplicates = $7, refused = $8
                    WHERE id = $9
                    """, b)
                if try !db.query("SELECT EXISTS (SELECT 1 FROM __wadup_chunks WHERE state <> 'done')")[0].decode(Bool.self) {
                    // The run is complete: whoever ends first after that builds the indexes.
                    try db.query("SELECT pg_advisory_xact_lock(\(Self.registrationLock + 2))")
                    let tables = try db.query("SELECT name, seq FROM __wadup_tables").map { try $0.decode((String, Int64).self) }
                    for statement in PostgresSchema.finishIndexes(moduleTables: tables.map { (name: $0.0, seq: $0.1) }) { try db.query(statement, long: true) }
                }
                for m in modules {
                    var mb = PostgresBindings()
                    mb.append(m.name)
                    mb.append(m.sha256)
                    mb.append(Int64(m.size))
                    mb.append(Int64(m.runs))
                    mb.append(Int64(m.failures))
                    mb.append(m.totalTimeMs)
                    try db.query("""
                        INSERT INTO __wadup_modules (name, sha256, size, runs, failures, total_time_ms) VALUES ($1, $2, $3, $4, $5, $6)
                        ON CONFLICT (name) DO UPDATE SET runs = __wadup_modules.runs + excluded.runs,
                            failures = __wadup_modules.failures + excluded.failures,
                            total_time_ms = __wadup_modules.total_time_ms + excluded.total_time_ms
                        """, mb)
                }
            }
            }
        } catch let error as StoreError {
            throw failure ?? error
        } catch {
            throw failure ?? StoreError(path: location.description, message: PostgresSession.describe(error))
        }
        if let failure { throw failure }
    }
}

/// Bindings of one value.
func binds<T: PostgresThrowingDynamicTypeEncodable>(_ value: T) -> PostgresBindings {
    var b = PostgresBindings()
    try! b.append(value)
    return b
}
