import Dispatch
import Foundation
import Logging
import PostgresNIO
import Synchronization
import WADUPStore

/// One connection to the server, used by one thread at a time, with blocking calls.
///
/// The pipeline's threads are plain threads (workers, the writer): they wait for PostgresNIO's
/// async calls here instead of becoming async themselves. Never call these from a task of Swift's
/// concurrency pool: the wait would hold one of its few threads.
final class PostgresSession: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    let location: PostgresLocation

    private init(connection: PostgresConnection, logger: Logger, location: PostgresLocation) {
        self.connection = connection
        self.logger = logger
        self.location = location
    }

    /// Connects, or says in one line why not (unreachable, refused credentials, no such database).
    static func connect(_ location: PostgresLocation, password: String?, logger: Logger, id: Int) throws(StoreError) -> PostgresSession {
        do {
            let configuration = try location.configuration(password: password)
            let connection = try blocking {
                try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
            }
            let session = PostgresSession(connection: connection, logger: logger, location: location)
            // WADUP's statements are short; JIT compiling one (a range join looks costly to the
            // planner on a large queue) took 250 ms of a 2 ms claim here.
            try session.query("SET jit = off")
            return session
        } catch {
            throw StoreError(path: location.description, message: describeConnect(error, location, password: password), refused: true)
        }
    }

    /// Runs `sql` with bound values; returns the rows.
    @discardableResult
    func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws -> [PostgresRow] {
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        let (connection, logger) = (self.connection, self.logger)
        return try blocking {
            var rows: [PostgresRow] = []
            for try await row in try await connection.query(query, logger: logger) { rows.append(row) }
            return rows
        }
    }

    /// Sends `data` (COPY text format) into `columns` of `table`. PostgresNIO puts the names in
    /// double quotes without escaping, so a name holding one is refused here (module names never
    /// do: `Identifier.isValid` allows letters, digits and `_` only).
    func copy(into table: String, columns: [String], _ data: ByteBuffer) throws {
        guard !([table] + columns).contains(where: { $0.contains("\"") || $0.contains("\0") }) else {
            throw StoreError(path: location.description, message: "refused to COPY into \(table): a name holds a double quote")
        }
        let (connection, logger) = (self.connection, self.logger)
        try blocking {
            try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                try await writer.write(data)
            }
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
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    func close() {
        let connection = self.connection
        _ = try? blocking { try await connection.close() }
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

    /// A connection failure with its remedy.
    static func describeConnect(_ error: any Error, _ location: PostgresLocation, password: String?) -> String {
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
                return reason
            case .authMechanismRequiresPassword:
                return "PostgreSQL asks user \(location.user) for a password and none was found; set PGPASSWORD or add a line to ~/.pgpass"
            case .connectionError:
                return "cannot reach PostgreSQL at \(location.endpoint): \(reason); check that the server runs and that --output names it"
            default:
                break
            }
        }
        return "cannot connect to PostgreSQL at \(location.endpoint): \(reason)"
    }
}

/// Runs `body` on Swift's concurrency pool and waits for it on the calling (non-pool) thread.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        result.withLock { $0 = outcome }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}
