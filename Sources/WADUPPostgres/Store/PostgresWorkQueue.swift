import Foundation
import Logging
import PostgresNIO
import Synchronization
import WADUPCore
import WADUPStore

/// The run's work queue as one process sees it: it claims chunks of inputs with a lease
/// (`FOR UPDATE SKIP LOCKED`), renews its leases on a thread of its own while it works, knows which
/// inputs it holds, and gives back what it did not finish.
///
/// Claims come from the pipeline's threads, renewals from the lease thread and commits from the
/// tree writer's thread, each on its own connection: a slow commit never delays a renewal, and a
/// claim never waits behind a commit.
final class PostgresWorkQueue: @unchecked Sendable {  // Safe: `closing`/`renewerDone` are guarded by `condition`; `claims` is a `Mutex`, and claims are made one at a time under `claimLock`; the rest is immutable.
    /// An input this process claimed: its queue row and its chunk.
    struct Place: Sendable, Hashable {
        var seq: Int64
        var chunk: Int64
    }

    /// What this process holds: claimed inputs by path, and per chunk the inputs not committed yet
    /// (claims add, commits remove).
    private struct Claims {
        var byPath: [[UInt8]: Place] = [:]
        var open: [Int64: Int] = [:]
    }

    /// This process's `__wadup_run.id`: the owner of its leases.
    let runID: Int64
    /// Seconds a claim lasts without renewal before another process may take it over.
    let leaseTimeout: Double
    private let location: PostgresLocation
    private let logger: Logger
    private let claimer: PostgresSession
    private let renewer: PostgresSession
    private let reconnector: PostgresReconnector
    private let claimLock = Mutex(())
    private let claims = Mutex(Claims())
    /// Stops the lease renewer.
    private let condition = NSCondition()
    private var closing = false
    private var renewerDone = false

    /// A queue that claims on `claimer` and renews on `renewer` (connections of its own).
    init(runID: Int64, claimer: PostgresSession, renewer: PostgresSession, reconnector: PostgresReconnector) {
        self.runID = runID
        self.claimer = claimer
        self.renewer = renewer
        self.reconnector = reconnector
        self.leaseTimeout = reconnector.leaseTimeout
        self.location = reconnector.location
        self.logger = reconnector.logger
    }

    // MARK: Claiming

    /// Claims up to `max` inputs (whole chunks, at least one) for this process.
    func claim(max: Int) throws(StoreError) -> ClaimResult {
        do {
            return try claimLock.withLock { _ in
                // A claim lost with its connection may have been committed: its chunks are leased to
                // this process but unknown to it, so they are given back before claiming again.
                try reconnector.resilient(claimer, "claiming inputs", beforeRetry: { try self.releaseUnknownClaims() }) { try claimLocked(max: max) }
            }
        } catch {
            throw PostgresSession.storeError(error, at: location, context: "claiming inputs")
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
                SELECT id FROM __wadup_chunks WHERE state = \(PostgresChunkState.claimed.sql) AND lease_until < now() AND lease_owner <> $1 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED),
            fresh AS (
                SELECT id FROM __wadup_chunks WHERE state = \(PostgresChunkState.pending.sql) ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED),
            chosen AS (
                SELECT id FROM (SELECT id, 0 AS pass FROM expired UNION ALL SELECT id, 1 FROM fresh) c ORDER BY pass, id LIMIT $3),
            claimed AS (
                UPDATE __wadup_chunks SET state = \(PostgresChunkState.claimed.sql), lease_owner = $1, lease_until = now() + make_interval(secs => $2),
                    attempts = attempts + 1
                WHERE id = ANY (ARRAY (SELECT id FROM chosen))
                RETURNING id, first_seq, last_seq, attempts)
            SELECT coalesce(json_agg(json_build_array(c.id, q.seq, encode(q.path, 'hex'), q.reason, q.size, p.root_uuid) ORDER BY q.seq), '[]')::text
            FROM claimed c JOIN __wadup_queue q ON q.seq BETWEEN c.first_seq AND c.last_seq
            LEFT JOIN __wadup_partial p ON p.seq = q.seq
            WHERE c.attempts = 1 OR NOT EXISTS (SELECT 1 FROM __wadup_input i WHERE i.seq = q.seq)
            """, b)[0].decode(String.self)
        guard let rows = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[Any]] else {
            throw StoreError(path: location.description, "claiming inputs: the server's answer could not be read")
        }
        var items: [(place: Place, input: QueuedInput)] = []
        var rolledBack = 0
        for row in rows {
            guard row.count == 6, let chunk = (row[0] as? NSNumber)?.int64Value, let seq = (row[1] as? NSNumber)?.int64Value,
                let hex = row[2] as? String, let path = Hex.bytes(hex)
            else {
                throw StoreError(path: location.description, "claiming inputs: the server's answer could not be read")
            }
            let reason = row[3] as? String
            let size = (row[4] as? NSNumber)?.intValue
            // Part of this tree was written by an owner that is gone: delete it before redoing the tree.
            // (The mark stays until the delete commits, so a crash here only repeats the delete.)
            if let root = row[5] as? String { rolledBack += try db.transaction { try Self.rollBack(db, seq: seq, root: root) } }
            items.append((Place(seq: seq, chunk: chunk), QueuedInput(path: path, reason: reason, size: size)))
        }
        if rolledBack > 0 { logger.info("rolled back \(rolledBack) contents of partial input trees another process left") }
        if items.isEmpty {
            let open = try db.query("""
                SELECT EXISTS (SELECT 1 FROM __wadup_chunks WHERE state = \(PostgresChunkState.pending.sql)) \
                OR EXISTS (SELECT 1 FROM __wadup_chunks WHERE state = \(PostgresChunkState.claimed.sql))
                """)[0].decode(Bool.self)
            // A chunk claimed again whose inputs were all committed is finished here.
            if open { try finishEmptyChunks(db) }
            return open ? .later : .done
        }
        claims.withLock { claims in
            for item in items {
                claims.byPath[item.input.path] = item.place
                claims.open[item.place.chunk, default: 0] += 1
            }
        }
        return .inputs(items.map(\.input))
    }

    /// Gives back the chunks leased to this process that it does not know it holds (a claim whose
    /// answer was lost with the connection).
    private func releaseUnknownClaims() throws {
        let known = claims.withLock { Array($0.open.keys) }
        var b = PostgresBindings()
        b.append(runID)
        b.append(known)
        try claimer.query("""
            UPDATE __wadup_chunks SET state = \(PostgresChunkState.pending.sql), lease_owner = NULL, lease_until = NULL
            WHERE lease_owner = $1 AND state = \(PostgresChunkState.claimed.sql) AND NOT (id = ANY($2))
            """, b)
    }

    /// Marks done the chunks this process holds whose every input is committed (a chunk claimed
    /// again after its owner committed all its trees but died before marking it).
    private func finishEmptyChunks(_ db: PostgresSession) throws {
        try db.query("""
            UPDATE __wadup_chunks c SET state = \(PostgresChunkState.done.sql), lease_owner = NULL, lease_until = NULL, done_by = $1
            WHERE c.lease_owner = $1 AND c.state = \(PostgresChunkState.claimed.sql)
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

    // MARK: What this process holds

    /// The queue row and chunk of the input at `path`, if this process holds it.
    func place(of path: [UInt8]) -> Place? {
        claims.withLock { $0.byPath[path] }
    }

    /// Forgets the input at `path` (its tree was committed, or dropped).
    func forget(path: [UInt8]) {
        _ = claims.withLock { $0.byPath.removeValue(forKey: path) }
    }

    /// Per chunk, how many of its claimed inputs are not committed yet.
    var openInputs: [Int64: Int] { claims.withLock { $0.open } }

    /// Counts one committed input tree in each of `chunks` (a chunk once per tree).
    func committed(chunks: [Int64]) {
        claims.withLock { claims in
            for chunk in chunks {
                claims.open[chunk, default: 1] -= 1
                if claims.open[chunk] == 0 { claims.open[chunk] = nil }
            }
        }
    }

    /// Gives up `chunks`, which another process took over; returns the paths of their inputs that
    /// this process held.
    func lose(chunks: Set<Int64>) -> [[UInt8]] {
        claims.withLock { claims in
            let lost = claims.byPath.filter { chunks.contains($0.value.chunk) }.map(\.key)
            for path in lost { claims.byPath[path] = nil }
            for chunk in chunks { claims.open[chunk] = nil }
            return lost
        }
    }

    // MARK: Leases, in a transaction of the caller's

    /// Locks (`FOR UPDATE`, until the caller's transaction ends) those of `chunks` whose lease is
    /// still this process's, and returns them: a process taking a chunk over waits for that
    /// transaction, then finds its trees committed.
    func holdLeases(_ chunks: [Int64], on db: PostgresSession) throws -> Set<Int64> {
        var b = PostgresBindings()
        b.append(runID)
        b.append(chunks)
        return Set(try db.query("""
            WITH held AS (SELECT id FROM __wadup_chunks WHERE id = ANY($2) AND lease_owner = $1 AND state = \(PostgresChunkState.claimed.sql) FOR UPDATE)
            SELECT coalesce(array_agg(id), '{}') FROM held
            """, b)[0].decode([Int64].self))
    }

    /// Locks `chunk` as ``holdLeases(_:on:)`` does; whether its lease is still this process's.
    func holdLease(_ chunk: Int64, on db: PostgresSession) throws -> Bool {
        var b = PostgresBindings()
        b.append(chunk)
        b.append(runID)
        return try !db.query("SELECT id FROM __wadup_chunks WHERE id = $1 AND lease_owner = $2 AND state = \(PostgresChunkState.claimed.sql) FOR UPDATE", b).isEmpty
    }

    /// Marks `chunks` done by this process: every input of theirs is committed.
    func markDone(_ chunks: [Int64], on db: PostgresSession) throws {
        var d = PostgresBindings()
        d.append(runID)
        d.append(chunks)
        try db.query("""
            UPDATE __wadup_chunks SET state = \(PostgresChunkState.done.sql), lease_owner = NULL, lease_until = NULL, done_by = $1 WHERE id = ANY($2)
            """, d)
    }

    /// Gives back to the queue whatever this process still holds; parts of trees already written
    /// are marked on their rows, and the next owner rolls them back.
    func releaseHeld(on db: PostgresSession) throws {
        try db.query("""
            UPDATE __wadup_chunks SET state = \(PostgresChunkState.pending.sql), lease_owner = NULL, lease_until = NULL \
            WHERE lease_owner = $1 AND state = \(PostgresChunkState.claimed.sql)
            """, binds(runID))
    }

    // MARK: Renewing leases

    /// Starts the thread that renews this process's leases (and its heartbeat).
    func startRenewing() {
        let thread = Thread { [self] in renewLoop() }
        thread.name = "wadup-pg-leases"
        thread.start()
    }

    /// Stops the renewing thread and waits for it to end.
    func stopRenewing() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !renewerDone { condition.wait() }
        condition.unlock()
    }

    /// Closes the queue's connections.
    func close() {
        claimer.close()
        renewer.close()
    }

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
                    UPDATE __wadup_chunks SET lease_until = now() + make_interval(secs => $2) WHERE lease_owner = $1 AND state = \(PostgresChunkState.claimed.sql)
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
}
