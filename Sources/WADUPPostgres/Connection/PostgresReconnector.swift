import Foundation
import Logging
import Synchronization
import WADUPStore

/// How a process of a shared run rides out a lost server: a statement (or a transaction) whose
/// connection is lost is run again on a new one, for up to the reconnect timeout.
///
/// One for the whole store, shared by the work queue, the tree writer and ``PostgresStore/finish(run:modules:)``,
/// so that once the process gave up on the server (``serverLost``) its last statements try only briefly.
final class PostgresReconnector: Sendable {
    let location: PostgresLocation
    let logger: Logger
    /// Seconds to keep reconnecting before giving up.
    let reconnectTimeout: Double
    /// Seconds a lease lasts: how soon the inputs of a process that gave up go back to the queue.
    let leaseTimeout: Double
    /// Set once this process gave up on the server (or was interrupted while it was away).
    private let lost = Mutex(false)

    init(location: PostgresLocation, logger: Logger, reconnectTimeout: Double, leaseTimeout: Double) {
        self.location = location
        self.logger = logger
        self.reconnectTimeout = reconnectTimeout
        self.leaseTimeout = leaseTimeout
    }

    /// Whether this process gave up on the server (or was interrupted while it was away).
    var serverLost: Bool { lost.withLock { $0 } }

    /// Runs `body` (one statement, or one transaction) on `session`; when its connection is lost
    /// (the server restarted or ended it, or no answer came in time), reconnects with bounded
    /// back-off for up to `budget` seconds (``reconnectTimeout`` by default) and runs it again.
    /// A transaction lost at its COMMIT may have committed: `committed`, asked on the new
    /// connection first, says so (with `body`'s answer), and `body` is not run again.
    /// `beforeRetry` runs on the new connection before `body` runs again. Gives up with a
    /// ``StoreError`` naming the server and the remedy (run the same command again).
    func resilient<T>(
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
                    lost.withLock { $0 = true }
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
        return StoreError(path: location.description, "\(message)")
    }

    /// `value` seconds for messages: `60 s`, `2.5 s`.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}
