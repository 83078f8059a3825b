import Foundation
import PostgresNIO
import WADUPStore

/// Where a PostgreSQL output is: parsed from `postgres://USER@HOST:PORT/DB?sslmode=…`.
///
/// A host that is a folder (`%2Frun%2Fpostgresql`, or `?host=/run/postgresql`) is the folder of
/// the server's Unix socket, as in libpq; with no host at all, `PGHOST` or Debian's socket folder
/// `/var/run/postgresql` (where `psql` connects by default, with the server's `peer` or `trust`
/// authentication for local users). The password never comes from the URL (it would show in `ps`,
/// shell history and logs): it comes from `PGPASSWORD`, else from the password file (`PGPASSFILE`,
/// else `~/.pgpass`, as libpq reads it).
package struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    package enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        /// TLS required and the server's certificate chain checked against the trusted roots.
        case verifyCA = "verify-ca"
        /// As `verify-ca`, and the certificate must name the host the URL names.
        case verifyFull = "verify-full"
    }

    package var user: String
    /// A host name or address, or (starting with `/`) the folder holding the server's Unix socket.
    package var host: String
    package var port: Int
    package var database: String
    package var sslMode: SSLMode
    /// PEM file of the roots that may sign the server's certificate (`sslrootcert`); `nil` for the
    /// system's. As in libpq, `~/.postgresql/root.crt` by default when it exists, and with a file
    /// of roots `require` checks the chain too (as `verify-ca`).
    package var rootCertificate: String?
    /// PEM files of a client certificate and its key (`sslcert`, `sslkey`), for servers that log
    /// users in by certificate; by default `~/.postgresql/postgresql.crt` and `.key` when they exist.
    package var clientCertificate: String?
    package var clientKey: String?

    /// Whether `output` names a PostgreSQL database rather than an SQLite file.
    package static func isURL(_ output: String) -> Bool { RunOutput.Location.isServer(output) }

    /// Parses `url`; the error says what is wrong with it.
    package init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(PostgresLocationError) {
        guard Self.isURL(url), let components = URLComponents(string: url) else {
            throw PostgresLocationError("\(url) is not a postgres://USER@HOST:PORT/DATABASE URL")
        }
        guard components.password == nil else {
            throw PostgresLocationError("the URL holds a password, which would show in the process list and shell history; give it in PGPASSWORD or ~/.pgpass instead")
        }
        user = components.user.flatMap { $0.removingPercentEncoding } ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        var host = components.host.flatMap { $0.isEmpty ? nil : $0 }
        port = components.port ?? environment["PGPORT"].flatMap { Int($0) } ?? 5432
        guard (1...65535).contains(port) else { throw PostgresLocationError("port \(port) is out of range") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.removingPercentEncoding ?? path
        guard !database.isEmpty, !database.contains("/") else { throw PostgresLocationError("the URL names no database (postgres://USER@HOST:PORT/DATABASE)") }
        sslMode = .prefer
        var explicitSSL = false
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] {
            switch item.name {
            case "host":
                guard let value = item.value, !value.isEmpty, host == nil else {
                    throw PostgresLocationError("host= names the server (or its socket folder) once, and not beside a host in the URL")
                }
                host = value
            case "sslmode":
                guard let mode = SSLMode(rawValue: item.value ?? "") else {
                    throw PostgresLocationError("sslmode=\(item.value ?? "") is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
                explicitSSL = true
            case "sslrootcert", "sslcert", "sslkey":
                guard let value = item.value, !value.isEmpty, parameters[item.name] == nil else {
                    throw PostgresLocationError("\(item.name)= names one file, once")
                }
                parameters[item.name] = value
            case "user", "password":
                throw PostgresLocationError("the URL parameter \(item.name) is not read: put the user before the host, and the password in PGPASSWORD or ~/.pgpass")
            default:
                throw PostgresLocationError("the URL parameter \(item.name) is not supported (only host, sslmode, sslrootcert, sslcert and sslkey)")
            }
        }
        self.host = host ?? environment["PGHOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/run/postgresql"
        // Explicit files (URL, then libpq's variables) must be readable; the defaults are used if present.
        let home = (environment["HOME"] ?? NSHomeDirectory()) + "/.postgresql/"
        func file(_ name: String, _ variable: String, _ fallback: String) throws(PostgresLocationError) -> String? {
            if let path = parameters[name] ?? environment[variable].flatMap({ $0.isEmpty ? nil : $0 }) {
                if name == "sslrootcert" && path == "system" { return nil }
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw PostgresLocationError("\(name) \(path): no such file, or not readable")
                }
                return path
            }
            return FileManager.default.isReadableFile(atPath: home + fallback) ? home + fallback : nil
        }
        rootCertificate = try file("sslrootcert", "PGSSLROOTCERT", "root.crt")
        clientCertificate = try file("sslcert", "PGSSLCERT", "postgresql.crt")
        clientKey = try file("sslkey", "PGSSLKEY", "postgresql.key")
        guard (clientCertificate == nil) == (clientKey == nil) else {
            throw PostgresLocationError("a client certificate needs its key, and a key its certificate: give both sslcert and sslkey")
        }
        if isSocket {
            guard !explicitSSL || sslMode == .disable || sslMode == .prefer, parameters.isEmpty else {
                throw PostgresLocationError("\(explicitSSL ? "sslmode=\(sslMode.rawValue)" : "a certificate") cannot apply to the Unix socket \(socketPath): TLS is never used on a local socket; give a host name to use TLS, or drop the ssl parameters")
            }
            sslMode = .disable
        }
    }

    /// Whether the server is reached through a Unix socket (``host`` is its folder).
    package var isSocket: Bool { host.hasPrefix("/") }

    /// The Unix socket's path, as libpq names it: `FOLDER/.s.PGSQL.PORT`.
    package var socketPath: String { host + "/.s.PGSQL.\(port)" }

    /// Where the server is, for messages: `HOST:PORT`, or the socket's path.
    package var endpoint: String { isSocket ? socketPath : "\(host):\(port)" }

    /// The URL without anything secret, for messages and the recorded settings.
    package var description: String {
        let host = isSocket ? self.host.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? self.host : self.host
        return "postgres://\(user)@\(host):\(port)/\(database)"
    }

    /// The password for this location: `PGPASSWORD`, else the first matching line of the password file.
    package func password(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let password = environment["PGPASSWORD"] { return password }
        let file = environment["PGPASSFILE"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.pgpass")
        var st = stat()
        // libpq ignores a password file that others can read; so do we.
        guard stat(file, &st) == 0, st.st_mode & 0o077 == 0, let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = Self.passFields(String(line))
            guard fields.count == 5 else { continue }
            // libpq matches a socket connection against `localhost`.
            let wanted = [isSocket ? "localhost" : host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    /// The `:`-separated fields of a password file line, with `\:` and `\\` unescaped.
    static func passFields(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for c in line {
            if escaped {
                current.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == ":" && fields.count < 4 {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }

    /// The connection settings PostgresNIO takes.
    func configuration(password: String?) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        var config = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable, .prefer:
            // As libpq's prefer: encrypted if the server can, certificate not checked.
            config.certificateVerification = .none
        case .require:
            // As libpq's require: the chain is checked only against roots given as a file.
            config.certificateVerification = rootCertificate == nil ? .none : .noHostnameVerification
        case .verifyCA:
            config.certificateVerification = .noHostnameVerification
        case .verifyFull:
            config.certificateVerification = .fullVerification
        }
        if let rootCertificate { config.trustRoots = .file(rootCertificate) }
        if let clientCertificate, let clientKey {
            config.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificate).map { .certificate($0) }
            config.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientKey, format: .pem))
        }
        switch sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: config))
        case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: config))
        }
        var configuration = isSocket
            ? PostgresConnection.Configuration(unixSocketPath: socketPath, username: user, password: password, database: database)
            : PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }
}

/// A PostgreSQL URL that cannot be used.
package struct PostgresLocationError: Error, Sendable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
