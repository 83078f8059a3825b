import Foundation
import Logging
import PostgresNIO
import WADUPCore
import WADUPStore

/// The PostgreSQL output: the same tables as SQLite, and the run's work queue for every process
/// that runs the same command against it.
///
/// A facade over the parts that do the work, each on its own connection:
/// ``PostgresRunRegistry`` registers or joins the run, ``PostgresWorkQueue`` claims inputs and
/// renews their leases, and ``PostgresTreeWriter`` commits each input tree while its lease is
/// still this process's. ``PostgresReconnector`` carries each of them over a lost server.
package final class PostgresStore: SharedRunStore {
    /// How the store opens a run.
    package struct Options: Sendable {
        package var location: PostgresLocation
        /// Seconds a claim lasts without renewal before another process may take it over.
        package var leaseTimeout: Double
        package var overwrite: Bool
        package var resume: Bool
        /// Seconds a process keeps reconnecting (with bounded back-off) after it lost the server,
        /// before it gives up and exits non-zero; the same command then carries on.
        package var reconnectTimeout: Double
        /// How log lines name a run setting: by its plain name unless the caller (the command
        /// layer) spells it as its flag. Errors keep settings apart instead (``StoreError/text``).
        package var settingName: @Sendable (RunSetting) -> String

        package init(
            location: PostgresLocation, leaseTimeout: Double = 60, overwrite: Bool = false, resume: Bool = false, reconnectTimeout: Double = 60,
            settingName: @escaping @Sendable (RunSetting) -> String = { $0.rawValue }
        ) {
            self.location = location
            self.leaseTimeout = leaseTimeout
            self.overwrite = overwrite
            self.resume = resume
            self.reconnectTimeout = reconnectTimeout
            self.settingName = settingName
        }
    }

    package let location: PostgresLocation
    /// This process's `__wadup_run.id`: the owner of its leases.
    package let runID: Int64
    package let joined: ResumePoint
    /// Whether this process created the run (and enumerated its inputs).
    package let registered: Bool

    /// The connection of registration, the tree writer and ``finish(run:modules:)``.
    private let writer: PostgresSession
    private let reconnector: PostgresReconnector
    private let queue: PostgresWorkQueue
    private let trees: PostgresTreeWriter

    /// Opens the run in the database `options.location` names: registers it (and lists its inputs
    /// into the queue) if the database is empty, joins it if it records the same run, and refuses
    /// anything else (exit 2, nothing written).
    package init(request: StoreRequest, options: Options, logger: Logger) throws(StoreError) {
        let location = options.location
        self.location = location
        let password = location.password()
        writer = try PostgresSession.connect(location, password: password, logger: logger, id: 1)
        let registration: PostgresRunRegistry.Registration
        let claimer: PostgresSession
        let renewer: PostgresSession
        do {
            registration = try PostgresRunRegistry.register(writer, request: request, options: options, logger: logger)
            claimer = try PostgresSession.connect(location, password: password, logger: logger, id: 2)
            renewer = try PostgresSession.connect(location, password: password, logger: logger, id: 3)
            // Commits need not wait for the disk: a claim or renewal lost in a server crash only makes
            // an input claimable again, and the trees committed last are lost together with their
            // input rows (the log is replayed in order), so they are redone, never half there.
            for session in [writer, claimer, renewer] { try session.configure("SET synchronous_commit = off") }
        } catch {
            writer.close()
            throw PostgresSession.storeError(error, at: location)
        }
        runID = registration.runID
        registered = registration.registered
        do {
            joined = try PostgresRunRegistry.joinedPoint(writer, runID: runID)
        } catch {
            throw PostgresSession.storeError(error, at: location)
        }
        reconnector = PostgresReconnector(location: location, logger: logger, reconnectTimeout: options.reconnectTimeout, leaseTimeout: options.leaseTimeout)
        queue = PostgresWorkQueue(runID: runID, claimer: claimer, renewer: renewer, reconnector: reconnector)
        trees = PostgresTreeWriter(
            session: writer, queue: queue, reconnector: reconnector, tables: joined.tables, spillLimit: request.tuning.postgresSpillLimit,
            settingName: options.settingName)
        trees.start()
        queue.startRenewing()
    }

    // MARK: SharedRunStore

    package func onCommit(_ handler: @escaping @Sendable ([(sha256: String, uuid: String)]) -> Void) {
        trees.onCommit(handler)
    }

    package func claim(max: Int) throws(StoreError) -> ClaimResult {
        // A writer that failed commits nothing more: claiming more would only hold inputs back.
        if let failure = trees.failure { throw failure }
        return try queue.claim(max: max)
    }

    // MARK: ResultStore

    package func createTable(_ schema: TableSchema, id: Int32, module: String) {
        try? trees.enqueue(.table(schema, id, module: module))
    }

    package func submit(_ record: ContentRecord) throws(StoreError) {
        try trees.enqueue(.content(record))
    }

    package func completeInput(path: [UInt8], rootUUID: String, note: String?) throws(StoreError) {
        try trees.enqueue(.input(InputCompletion(path: path, rootUUID: rootUUID, note: note)))
    }

    // MARK: Finishing

    /// Writes what is queued, gives back the inputs this process still holds, records its attempt,
    /// and builds the indexes if the run is now complete.
    package func finish(run: RunRecord, modules: [ModuleRecord]) throws(StoreError) {
        let failure = trees.close()
        queue.stopRenewing()
        defer {
            writer.close()
            queue.close()
        }
        let db = writer
        let runID = self.runID
        // After the server was given up on once, one short try: the claims expire anyway.
        let budget = reconnector.serverLost ? PostgresInterrupt.grace : reconnector.reconnectTimeout
        do {
            try reconnector.resilient(db, "ending this process's part of the run", budget: budget, committed: { () throws -> Void? in
                try db.query("SELECT ended_at IS NOT NULL FROM __wadup_workers WHERE run_id = $1", binds(runID)).first?.decode(Bool.self) == true ? () : nil
            }) {
                try db.transaction {
                    // Whatever this process still holds goes back to the queue; parts already written
                    // are marked on their rows, and the next owner rolls them back.
                    try queue.releaseHeld(on: db)
                    try db.query("UPDATE __wadup_workers SET ended_at = now() WHERE run_id = $1", binds(runID))
                    var b = PostgresBindings()
                    b.append(run.finishedAt)
                    b.append(failure == nil ? run.outcome.rawValue : RunOutcome.failed.rawValue)
                    for value in [run.inputs, run.contents, run.failed, run.skipped, run.duplicates, run.refused] { b.append(Int64(value)) }
                    b.append(runID)
                    try db.query("""
                        UPDATE __wadup_run SET finished_at = $1, outcome = $2, inputs = $3, contents = $4, failed = $5, skipped = $6,
                            duplicates = $7, refused = $8
                        WHERE id = $9
                        """, b)
                    if try !db.query("SELECT EXISTS (SELECT 1 FROM __wadup_chunks WHERE state <> \(PostgresChunkState.done.sql))")[0].decode(Bool.self) {
                        // The run is complete: whoever ends first after that builds the indexes.
                        try db.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.indexesLock))")
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
                        mb.append(Int64(m.offered))
                        mb.append(Int64(m.accepted))
                        for text in [m.dataSha256, m.runtime] { if let text { mb.append(text) } else { mb.appendNull() } }
                        try db.query("""
                            INSERT INTO __wadup_modules (name, sha256, size, runs, failures, total_time_ms, offered, accepted, data_sha256, runtime)
                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                            ON CONFLICT (name) DO UPDATE SET runs = __wadup_modules.runs + excluded.runs,
                                failures = __wadup_modules.failures + excluded.failures,
                                total_time_ms = __wadup_modules.total_time_ms + excluded.total_time_ms,
                                offered = __wadup_modules.offered + excluded.offered,
                                accepted = __wadup_modules.accepted + excluded.accepted
                            """, mb)
                    }
                }
            }
        } catch {
            throw failure ?? PostgresSession.storeError(error, at: location)
        }
        if let failure { throw failure }
    }
}
