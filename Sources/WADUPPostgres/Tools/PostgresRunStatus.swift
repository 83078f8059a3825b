import Foundation
import Logging
import PostgresNIO
import WADUPCore
import WADUPStore

/// Where a run shared through PostgreSQL stands: its queue, its processes, its contents.
package struct PostgresRunStatus: Sendable {
    /// One process that joined the run.
    package struct Process: Sendable {
        package var runID: Int64
        package var host: String
        package var pid: Int64
        /// Renewing its leases within the lease time, and not ended.
        package var live: Bool
        package var ended: Bool
        package var secondsSinceHeartbeat: Double
        /// Contents and input trees it committed.
        package var contents: Int64
        package var trees: Int64
    }

    /// Input roots by queue state; `expired` are claimed ones whose lease ran out (redone by the next claim).
    package var pending: Int64
    package var claimed: Int64
    package var expired: Int64
    package var done: Int64
    package var processes: [Process]
    package var contentsByStatus: [String: Int64]
    /// The error messages of failed contents, with how many contents have each.
    package var failureMessages: [(message: String, count: Int64)]
    /// Seconds from the run's first start to now (or to its last end, once complete).
    package var seconds: Double
    /// Contents processed in the last 60 seconds.
    package var lastMinute: Int64

    package var inputs: Int64 { pending + claimed + expired + done }
    package var complete: Bool { pending + claimed + expired == 0 }
    package var contents: Int64 { contentsByStatus.values.reduce(0, +) }

    /// Reads the status of the run in `location`; a database without a run is an error.
    package static func read(_ location: PostgresLocation, logger: Logger) throws(StoreError) -> PostgresRunStatus {
        let db = try PostgresSession.connect(location, password: location.password(), logger: logger, id: 9)
        defer { db.close() }
        do {
            guard try db.query("SELECT to_regclass('__wadup_chunks') IS NOT NULL")[0].decode(Bool.self) else {
                throw StoreError(.refused, path: location.description, "holds no WADUP run (no __wadup_chunks table)")
            }
            let done = try db.query("SELECT count(*) FROM __wadup_input")[0].decode(Int64.self)
            var open: (pending: Int64, claimed: Int64, expired: Int64) = (0, 0, 0)
            for row in try db.query("""
                SELECT c.state, coalesce(c.lease_until < now(), false),
                    sum(c.last_seq - c.first_seq + 1 - (SELECT count(*) FROM __wadup_input i WHERE i.seq BETWEEN c.first_seq AND c.last_seq))::bigint
                FROM __wadup_chunks c WHERE c.state <> \(PostgresChunkState.done.sql) GROUP BY 1, 2
                """) {
                let (state, expired, inputs) = try row.decode((String, Bool, Int64).self)
                if PostgresChunkState(rawValue: state) == .pending { open.pending += inputs } else if expired { open.expired += inputs } else { open.claimed += inputs }
            }
            let queue = (open.pending, open.claimed, open.expired, done)
            let processes = try db.query("""
                SELECT run_id, host, pid, ended_at IS NULL AND heartbeat_at > now() - make_interval(secs => lease_seconds), ended_at IS NOT NULL,
                    extract(epoch FROM now() - heartbeat_at)::float8, contents, trees
                FROM __wadup_workers ORDER BY run_id
                """).map { row in
                let (id, host, pid, live, ended, ago, contents, trees) = try row.decode((Int64, String, Int64, Bool, Bool, Double, Int64, Int64).self)
                return Process(runID: id, host: host, pid: pid, live: live, ended: ended, secondsSinceHeartbeat: ago, contents: contents, trees: trees)
            }
            var byStatus: [String: Int64] = [:]
            for row in try db.query("SELECT status, count(*) FROM __wadup_content GROUP BY status") {
                let (status, count) = try row.decode((String, Int64).self)
                byStatus[status] = count
            }
            let failures = try db.query("""
                SELECT error_message, count(*) FROM __wadup_content WHERE status = \(ContentStatus.failed.sql) AND error_message IS NOT NULL GROUP BY error_message
                """).map { row in
                let (message, count) = try row.decode((String, Int64).self)
                return (message: message, count: count)
            }
            let complete = queue.0 + queue.1 + queue.2 == 0
            let seconds = try db.query("""
                SELECT (CASE WHEN $1 THEN coalesce(max(finished_at), extract(epoch FROM now())::bigint) ELSE extract(epoch FROM now())::bigint END
                    - min(started_at))::float8 FROM __wadup_run
                """, binds(complete))[0].decode(Double?.self) ?? 0
            let lastMinute = try db.query("SELECT count(*) FROM __wadup_content WHERE processed_at > extract(epoch FROM now())::bigint - 60")[0].decode(Int64.self)
            return PostgresRunStatus(
                pending: queue.0, claimed: queue.1, expired: queue.2, done: queue.3, processes: processes, contentsByStatus: byStatus,
                failureMessages: failures, seconds: seconds, lastMinute: lastMinute)
        } catch {
            throw PostgresSession.storeError(error, at: location)
        }
    }
}
