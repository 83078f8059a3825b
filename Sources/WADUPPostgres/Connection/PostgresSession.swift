import Dispatch
import Foundation
import Logging
import PostgresNIO
import Synchronization
import WADUPCore
import WADUPStore

/// One connection to the server, used by one thread at a time, with blocking calls.
///
/// The pipeline's threads are plain threads (workers, the writer): they wait for PostgresNIO's
/// async calls here instead of becoming async themselves. Never call these from a task of Swift's
/// concurrency pool: the wait would hold one of its few threads.
///
/// No wait is unbounded: each statement has a deadline (``statementSeconds``, or
/// ``longStatementSeconds`` for the few that may run long), after which the connection is closed
/// and the statement fails as a lost connection; after Ctrl-C (``PostgresInterrupt``) a wait gives
/// up within ``PostgresInterrupt/grace`` seconds. A session whose connection was lost is opened
/// again by ``reconnect(until:)``, with the same settings.
final class PostgresSession: @unchecked Sendable {  // Safe: `current` and `settings` are behind mutexes; the rest is immutable.
    let logger: Logger
    let location: PostgresLocation
    private let password: String?
    private let id: Int
    /// The open connection, or `nil` once it was lost (until ``reconnect(until:)``).
    private let current: Mutex<PostgresConnection?>
    /// Statements every new connection runs first (`SET …`), in order.
    private let settings = Mutex<[String]>([])

    /// Seconds an ordinary statement may wait for its answer.
    static let statementSeconds: Double = 120
    /// Seconds a statement that may rightly run long (listing the inputs, building indexes) may wait.
    static let longStatementSeconds: Double = 6 * 3600
    /// Seconds one connection attempt may take (TCP, TLS, login).
    static let connectSeconds: Double = 15

    private init(connection: PostgresConnection, logger: Logger, location: PostgresLocation, password: String?, id: Int) {
        self.current = Mutex(connection)
        self.logger = logger
        self.location = location
        self.password = password
        self.id = id
    }

    /// Connects, or says in one line why not (unreachable, refused credentials, no such database).
    static func connect(_ location: PostgresLocation, password: String?, logger: Logger, id: Int) throws(StoreError) -> PostgresSession {
        do {
            let connection = try open(location, password: password, logger: logger, id: id)
            let session = PostgresSession(connection: connection, logger: logger, location: location, password: password, id: id)
            // WADUP's statements are short; JIT compiling one (a range join looks costly to the
            // planner on a large queue) took 250 ms of a 2 ms claim here.
            try session.configure("SET jit = off")
            return session
        } catch {
            throw StoreError(.refused, path: location.description, describeConnect(error, location, password: password))
        }
    }

    private static func open(_ location: PostgresLocation, password: String?, logger: Logger, id: Int) throws -> PostgresConnection {
        let configuration = try location.configuration(password: password)
        return try blocking(seconds: connectSeconds, interruptible: true) {
            try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
        }
    }

    /// Runs `statement` now and on every connection this session opens later.
    func configure(_ statement: String) throws {
        try query(statement)
        settings.withLock { $0.append(statement) }
    }

    /// Opens the connection again after it was lost, trying with bounded back-off (0.1 s, doubling
    /// up to 2 s) until `deadline`; throws ``PostgresFailure/gone(reason:)`` then, or
    /// ``PostgresFailure/interrupted`` after Ctrl-C, or the server's refusal of the login.
    func reconnect(until deadline: Date) throws {
        drop()
        var delay = 0.1
        var reason = "no answer"
        while true {
            if PostgresInterrupt.isInterrupted { throw PostgresFailure.interrupted }
            do {
                let connection = try Self.open(location, password: password, logger: logger, id: id)
                current.withLock { $0 = connection }
                for statement in settings.withLock({ $0 }) { try query(statement) }
                return
            } catch let error as PSQLError where error.code == .server && !Self.isConnectionLoss(error) {
                // A login the server refuses now (password changed, database dropped) will not pass by waiting.
                throw error
            } catch {
                reason = Self.describe(error)
                drop()
            }
            let now = Date()
            guard now.addingTimeInterval(delay) < deadline else { throw PostgresFailure.gone(reason: reason) }
            PostgresInterrupt.sleep(delay)
            delay = min(delay * 2, 2)
        }
    }

    /// Closes the connection (if open) without waiting, and forgets it.
    private func drop() {
        guard let connection = current.withLock({ c -> PostgresConnection? in
            defer { c = nil }
            return c
        }) else { return }
        Task { try? await connection.close() }
    }

    /// Runs `sql` with bound values; returns the rows. `long` gives the statement
    /// ``longStatementSeconds`` and lets it finish after Ctrl-C.
    @discardableResult
    func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings(), long: Bool = false) throws -> [PostgresRow] {
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        let (connection, logger) = (try live(), self.logger)
        return try wait(long: long) {
            var rows: [PostgresRow] = []
            for try await row in try await connection.query(query, logger: logger) { rows.append(row) }
            return rows
        }
    }

    /// Inserts `rows` into their table in one statement: the rows travel as one JSON value, and
    /// `json_populate_recordset` converts each value by its column's type (see ``PostgresRows``).
    func insert(_ rows: PostgresRows) throws {
        guard !rows.isEmpty else { return }
        guard !rows.overfull else {
            throw StoreError(path: location.description, "a row for \(rows.table) holds more values than its \(rows.columns.count) columns")
        }
        let columns = rows.columns.map(SQL.quoted).joined(separator: ", ")
        var b = PostgresBindings()
        b.append(rows)
        try query("INSERT INTO \(SQL.quoted(rows.table)) (\(columns)) SELECT \(columns) FROM json_populate_recordset(NULL::\(SQL.quoted(rows.table)), $1)", b)
    }

    /// The open connection, or a lost-connection failure.
    private func live() throws -> PostgresConnection {
        guard let connection = current.withLock({ $0 }) else { throw PostgresFailure.disconnected }
        return connection
    }

    /// Waits for `body` with this session's deadline; on a timeout the connection is dropped.
    private func wait<T: Sendable>(long: Bool, _ body: @escaping @Sendable () async throws -> T) throws -> T {
        do {
            // PostgresNIO may leave a statement waiting forever on a connection the server closed
            // (seen after `pg_ctl restart -m fast`): a closed channel ends the wait too.
            let connection = try live()
            return try blocking(seconds: long ? Self.longStatementSeconds : Self.statementSeconds, interruptible: !long, closed: { connection.isClosed }, body)
        } catch let error as PostgresFailure {
            drop()
            throw error
        } catch {
            if Self.isConnectionLoss(error) { drop() }
            throw error
        }
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let value = try body()
            try query("COMMIT")
            return value
        } catch {
            if !Self.isConnectionLoss(error) { _ = try? query("ROLLBACK") }
            throw error
        }
    }

    func close() {
        guard let connection = current.withLock({ c -> PostgresConnection? in
            defer { c = nil }
            return c
        }) else { return }
        _ = try? blocking(seconds: 2, interruptible: false) { try await connection.close() }
    }

    /// Whether `error` means the connection is gone (the server went away, restarted, ended this
    /// session, or did not answer in time), so that a new connection may succeed.
    static func isConnectionLoss(_ error: any Error) -> Bool {
        switch error {
        case let failure as PostgresFailure:
            switch failure {
            case .disconnected, .timedOut: return true
            case .interrupted, .gone: return false
            }
        case let error as PSQLError:
            switch error.code {
            case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown:
                return true
            case .server:
                // 08: connection exceptions; 57P01-03: the server shut down, crashed, or is starting.
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
            default:
                return false
            }
        case PostgresError.connectionClosed:
            return true
        case is ChannelError, is IOError:
            return true
        default:
            return false
        }
    }

    /// What went wrong, in one line: the server's own message when it sent one.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                var text = message
                if let detail = info[.detail] { text += " (\(detail))" }
                return text
            }
            if let underlying = error.underlying { return "\(underlying)" }
            return error.code.description
        }
        return "\(error)"
    }

    /// `error` as the store's failure at `location`: a ``StoreError`` as it is, anything else
    /// described in one line (``describe(_:)``) after `context` (what was being done), if given.
    static func storeError(_ error: any Error, at location: PostgresLocation, context: String? = nil) -> StoreError {
        if let error = error as? StoreError { return error }
        let text = context.map { "\($0): \(describe(error))" } ?? describe(error)
        return StoreError(path: location.description, "\(text)")
    }

    /// A connection failure with its remedy; it names the output setting (``RunSetting/output``)
    /// apart, so that the command layer spells it as its flag.
    static func describeConnect(_ error: any Error, _ location: PostgresLocation, password: String?) -> SettingMessage {
        let reason = describe(error)
        if let error = error as? PSQLError {
            let tls = "\(error.underlying.map { "\($0)" } ?? "")"
            if error.underlying as? NIOSSLExtraError == .failedToValidateHostname {
                return "the server at \(location.endpoint) shows a certificate that does not name \(location.host) (sslmode=verify-full); connect by a name the certificate holds, or use sslmode=verify-ca"
            }
            if tls.contains("CERTIFICATE_VERIFY_FAILED") {
                let roots = location.rootCertificate.map { "the roots in \($0)" } ?? "the system's roots"
                return "the server at \(location.endpoint) shows a certificate that \(roots) do not sign (sslmode=\(location.sslMode.rawValue)); give its CA's certificate with sslrootcert=FILE (or in ~/.postgresql/root.crt)"
            }
            switch error.code {
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                if state == "28000" && reason.contains("certificate") {
                    let given = location.clientCertificate.map { "the certificate \($0) was not accepted" } ?? "none was given"
                    return "PostgreSQL refused user \(location.user): \(reason); \(given): give one the server's CA signed for this user with sslcert=FILE and sslkey=FILE"
                }
                if state == "28P01" || state == "28000" {
                    let source = password == nil ? "no password was found in PGPASSWORD or ~/.pgpass" : "check the password in PGPASSWORD or ~/.pgpass"
                    return "PostgreSQL refused user \(location.user): \(reason); \(source)"
                }
                if state == "3D000" { return "\(reason); create it first (createdb \(location.database))" }
                return "\(reason)"
            case .authMechanismRequiresPassword:
                return "PostgreSQL asks user \(location.user) for a password and none was found; set PGPASSWORD or add a line to ~/.pgpass"
            case .connectionError:
                return "cannot reach PostgreSQL at \(location.endpoint): \(reason); check that the server runs and that \(RunSetting.output) names it"
            default:
                break
            }
        }
        return "cannot connect to PostgreSQL at \(location.endpoint): \(reason)"
    }
}

/// Why a statement or a connection ended without the server's answer.
enum PostgresFailure: Error, CustomStringConvertible {
    /// The connection was lost earlier and not opened again.
    case disconnected
    /// No answer within `seconds`: the connection was closed.
    case timedOut(seconds: Double)
    /// Ctrl-C: the wait was given up.
    case interrupted
    /// Reconnecting failed until its deadline; `reason` is the last attempt's failure.
    case gone(reason: String)

    var description: String {
        switch self {
        case .disconnected: "the connection was lost"
        case .timedOut(let seconds): "no answer within \(Int(seconds)) s"
        case .interrupted: "interrupted while waiting for the server"
        case .gone(let reason): reason
        }
    }
}

/// Ctrl-C, for every PostgreSQL session of this process: reconnecting stops at once, and a wait
/// for an answer gives up ``grace`` seconds after the interrupt (or after it began, if later), so
/// that a process whose server is gone ends within seconds. Statements on a live server answer
/// well within that, so the claims are still given back.
package enum PostgresInterrupt {
    /// Seconds a wait may still last after Ctrl-C.
    static let grace: Double = 3
    private static let at = Mutex<Date?>(nil)

    /// Marks the process interrupted (the command layer calls this on the first Ctrl-C).
    package static func interrupt() {
        at.withLock { if $0 == nil { $0 = Date() } }
    }

    static var isInterrupted: Bool { at.withLock { $0 != nil } }

    /// When a wait that began at `start` gives up because of Ctrl-C, if the process was interrupted.
    static func giveUp(start: Date) -> Date? {
        at.withLock { $0 }.map { max($0, start).addingTimeInterval(grace) }
    }

    /// Sleeps `seconds`, or less if Ctrl-C comes.
    static func sleep(_ seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while !isInterrupted {
            let left = end.timeIntervalSinceNow
            if left <= 0 { return }
            usleep(UInt32(min(left, 0.1) * 1_000_000))
        }
    }
}

/// Runs `body` on Swift's concurrency pool and waits for it on the calling (non-pool) thread, at
/// most `seconds` (then ``PostgresFailure/timedOut(seconds:)``; `body` is left to end on its own,
/// once its connection is closed), if `interruptible` until ``PostgresInterrupt`` gives up, and
/// until `closed` (asked four times a second) says the connection is gone.
func blocking<T: Sendable>(
    seconds: Double, interruptible: Bool, closed: () -> Bool = { false }, _ body: @escaping @Sendable () async throws -> T
) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        result.withLock { $0 = outcome }
        done.signal()
    }
    let start = Date()
    let deadline = start.addingTimeInterval(seconds)
    // Woken at once by the answer; the slices only bound how late a timeout or Ctrl-C is seen.
    while done.wait(timeout: .now() + 0.25) == .timedOut {
        let now = Date()
        if now >= deadline { throw PostgresFailure.timedOut(seconds: seconds) }
        if interruptible, let end = PostgresInterrupt.giveUp(start: start), now >= end { throw PostgresFailure.interrupted }
        if closed() { throw PostgresFailure.disconnected }
    }
    return try result.withLock { $0! }.get()
}

/// Bindings of one value.
func binds<T: PostgresThrowingDynamicTypeEncodable>(_ value: T) -> PostgresBindings {
    var b = PostgresBindings()
    try! b.append(value)
    return b
}
