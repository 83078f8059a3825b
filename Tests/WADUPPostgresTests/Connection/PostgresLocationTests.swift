import Foundation
import Testing
import WADUPPostgres
import WADUPTestSupport

/// `PostgresLocation`: how a `postgres://` output is read (host, port, socket folder, TLS files,
/// the password's sources), and what a URL that cannot be used is told. No server is needed.
struct PostgresLocationTests {
    /// An environment without libpq's variables, whose home holds no `~/.postgresql`: only what
    /// the URL (and `extra`) gives counts.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": Harness.temporaryDirectory()].merging(extra) { _, new in new }
    }

    /// The location `url` names, read with `environment`.
    static func location(_ url: String, _ environment: [String: String] = PostgresLocationTests.environment()) throws -> PostgresLocation {
        try PostgresLocation(url: url, environment: environment)
    }

    /// Why `url` cannot be used, or `nil` if it can.
    static func refusal(_ url: String, _ environment: [String: String] = PostgresLocationTests.environment()) -> String? {
        do {
            _ = try PostgresLocation(url: url, environment: environment)
            return nil
        } catch {
            return error.description
        }
    }

    /// A readable file (its contents do not matter to the parsing) at `name` in a new folder, or in `folder`.
    static func file(_ name: String, in folder: String = Harness.temporaryDirectory()) throws -> String {
        let path = folder + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("-----BEGIN CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    // MARK: URL forms

    @Test func onlyPostgresURLsNameAServer() {
        #expect(PostgresLocation.isURL("postgres://wadup@db/evidence"))
        #expect(PostgresLocation.isURL("postgresql://wadup@db/evidence"))
        #expect(!PostgresLocation.isURL("/cases/run.db"))
        #expect(!PostgresLocation.isURL("run.db"))
        #expect(!PostgresLocation.isURL("mysql://wadup@db/evidence"))
    }

    @Test func aFullURLGivesUserHostPortAndDatabase() throws {
        for scheme in ["postgres", "postgresql"] {
            let location = try Self.location("\(scheme)://alice@db.example:5433/evidence")
            #expect(location.user == "alice")
            #expect(location.host == "db.example")
            #expect(location.port == 5433)
            #expect(location.database == "evidence")
            #expect(location.sslMode == .prefer)
            #expect(!location.isSocket)
            #expect(location.endpoint == "db.example:5433")
            #expect(location.description == "postgres://alice@db.example:5433/evidence")
        }
    }

    @Test func aPercentEncodedUserAndDatabaseAreDecoded() throws {
        let location = try Self.location("postgres://first%40lab@db.example/case%2042")
        #expect(location.user == "first@lab")
        #expect(location.database == "case 42")
    }

    @Test func whatTheURLLeavesOutComesFromLibpqsVariables() throws {
        let location = try Self.location("postgres:///evidence", Self.environment(["PGUSER": "bob", "USER": "carol", "PGPORT": "6543", "PGHOST": "pg.internal"]))
        #expect(location.user == "bob")
        #expect(location.host == "pg.internal")
        #expect(location.port == 6543)
        #expect(try Self.location("postgres:///evidence", Self.environment(["USER": "carol"])).user == "carol")
        // The URL wins over the variables.
        let named = try Self.location("postgres://alice@db.example:5433/evidence", Self.environment(["PGUSER": "bob", "PGPORT": "6543", "PGHOST": "pg.internal"]))
        #expect(named.user == "alice" && named.host == "db.example" && named.port == 5433)
    }

    @Test func withNoHostAtAllTheServerIsDebiansLocalSocket() throws {
        let location = try Self.location("postgres:///evidence")
        #expect(location.user == "postgres")
        #expect(location.host == "/var/run/postgresql")
        #expect(location.port == 5432)
        #expect(location.isSocket)
        #expect(location.socketPath == "/var/run/postgresql/.s.PGSQL.5432")
        #expect(location.endpoint == location.socketPath)
        #expect(location.sslMode == .disable, "TLS is never used on a local socket")
        #expect(location.description == "postgres://postgres@%2Fvar%2Frun%2Fpostgresql:5432/evidence")
    }

    @Test func aSocketFolderIsNamedAsTheHostOrByTheHostParameter() throws {
        for url in ["postgres://wadup@%2Frun%2Fpostgresql:5544/evidence", "postgres://wadup@:5544/evidence?host=/run/postgresql"] {
            let location = try Self.location(url)
            #expect(location.host == "/run/postgresql", "\(url)")
            #expect(location.isSocket)
            #expect(location.socketPath == "/run/postgresql/.s.PGSQL.5544")
            #expect(location.description == "postgres://wadup@%2Frun%2Fpostgresql:5544/evidence")
        }
        // host= may name a server by name too.
        let named = try Self.location("postgres://wadup@/evidence?host=db.example")
        #expect(named.host == "db.example" && !named.isSocket)
    }

    // MARK: TLS

    @Test func everySSLModeIsReadAndOthersAreNamed() throws {
        for mode in PostgresLocation.SSLMode.allCases {
            #expect(try Self.location("postgres://wadup@db.example/evidence?sslmode=\(mode.rawValue)").sslMode == mode)
        }
        #expect(Self.refusal("postgres://wadup@db.example/evidence?sslmode=allow") == "sslmode=allow is not one of disable, prefer, require, verify-ca, verify-full")
        #expect(Self.refusal("postgres://wadup@db.example/evidence?sslmode") == "sslmode= is not one of disable, prefer, require, verify-ca, verify-full")
    }

    @Test func certificateFilesComeFromTheURLThenLibpqsVariables() throws {
        let folder = Harness.temporaryDirectory()
        let (ca, cert, key) = (try Self.file("ca.crt", in: folder), try Self.file("client.crt", in: folder), try Self.file("client.key", in: folder))
        let location = try Self.location("postgres://wadup@db.example/evidence?sslmode=verify-full&sslrootcert=\(ca)&sslcert=\(cert)&sslkey=\(key)")
        #expect(location.sslMode == .verifyFull)
        #expect(location.rootCertificate == ca)
        #expect(location.clientCertificate == cert)
        #expect(location.clientKey == key)
        let fromVariables = try Self.location(
            "postgres://wadup@db.example/evidence", Self.environment(["PGSSLROOTCERT": ca, "PGSSLCERT": cert, "PGSSLKEY": key]))
        #expect(fromVariables.rootCertificate == ca && fromVariables.clientCertificate == cert && fromVariables.clientKey == key)
        let none = try Self.location("postgres://wadup@db.example/evidence")
        #expect(none.rootCertificate == nil && none.clientCertificate == nil && none.clientKey == nil)
    }

    @Test func theHomeFoldersCertificatesAreUsedWhenPresent() throws {
        let home = Harness.temporaryDirectory()
        let root = try Self.file(".postgresql/root.crt", in: home)
        let cert = try Self.file(".postgresql/postgresql.crt", in: home)
        let key = try Self.file(".postgresql/postgresql.key", in: home)
        let location = try Self.location("postgres://wadup@db.example/evidence", ["HOME": home])
        #expect(location.rootCertificate == root && location.clientCertificate == cert && location.clientKey == key)
        // sslrootcert=system: the system's roots, not the home folder's.
        #expect(try Self.location("postgres://wadup@db.example/evidence?sslrootcert=system", ["HOME": home]).rootCertificate == nil)
    }

    @Test func certificateFilesThatCannotBeUsedAreNamed() throws {
        let folder = Harness.temporaryDirectory()
        let (ca, cert, key) = (try Self.file("ca.crt", in: folder), try Self.file("client.crt", in: folder), try Self.file("client.key", in: folder))
        let base = "postgres://wadup@db.example/evidence?sslmode=require"
        #expect(Self.refusal(base + "&sslrootcert=\(folder)/missing.crt") == "sslrootcert \(folder)/missing.crt: no such file, or not readable")
        #expect(
            Self.refusal("postgres://wadup@db.example/evidence", Self.environment(["PGSSLKEY": folder + "/missing.key"]))
                == "sslkey \(folder)/missing.key: no such file, or not readable")
        #expect(Self.refusal(base + "&sslrootcert=\(ca)&sslrootcert=\(ca)") == "sslrootcert= names one file, once")
        #expect(Self.refusal(base + "&sslcert=") == "sslcert= names one file, once")
        let half = "a client certificate needs its key, and a key its certificate: give both sslcert and sslkey"
        #expect(Self.refusal(base + "&sslcert=\(cert)") == half)
        #expect(Self.refusal(base + "&sslkey=\(key)") == half)
    }

    @Test func tlsAskedForOnALocalSocketIsRefused() throws {
        let socket = "postgres://wadup@%2Frun%2Fpostgresql/evidence"
        for mode in ["require", "verify-ca", "verify-full"] {
            #expect(
                Self.refusal(socket + "?sslmode=\(mode)")
                    == "sslmode=\(mode) cannot apply to the Unix socket /run/postgresql/.s.PGSQL.5432: TLS is never used on a local socket; give a host name to use TLS, or drop the ssl parameters"
            )
        }
        let ca = try Self.file("ca.crt")
        #expect(Self.refusal(socket + "?sslrootcert=\(ca)")?.hasPrefix("a certificate cannot apply to the Unix socket /run/postgresql/.s.PGSQL.5432") == true)
        // prefer (libpq's default) and disable are fine: the socket goes without TLS.
        for mode in ["prefer", "disable"] { #expect(try Self.location(socket + "?sslmode=\(mode)").sslMode == .disable) }
    }

    // MARK: URLs that cannot be used

    @Test func urlsThatCannotBeUsedSayWhatIsWrong() {
        #expect(Self.refusal("/cases/run.db") == "/cases/run.db is not a postgres://USER@HOST:PORT/DATABASE URL")
        #expect(Self.refusal("postgres://wadup@db.example:port/evidence") == "postgres://wadup@db.example:port/evidence is not a postgres://USER@HOST:PORT/DATABASE URL")
        let noDatabase = "the URL names no database (postgres://USER@HOST:PORT/DATABASE)"
        for url in ["postgres://wadup@db.example:5432", "postgres://wadup@db.example:5432/", "postgres://wadup@db.example/case/42"] {
            #expect(Self.refusal(url) == noDatabase, "\(url)")
        }
        #expect(Self.refusal("postgres://wadup@db.example:0/evidence") == "port 0 is out of range")
        #expect(Self.refusal("postgres://wadup@db.example:70000/evidence") == "port 70000 is out of range")
        #expect(Self.refusal("postgres://wadup@db.example/evidence?host=other.example") == "host= names the server (or its socket folder) once, and not beside a host in the URL")
        #expect(Self.refusal("postgres://wadup@/evidence?host=") == "host= names the server (or its socket folder) once, and not beside a host in the URL")
        #expect(
            Self.refusal("postgres://wadup@db.example/evidence?application_name=wadup")
                == "the URL parameter application_name is not supported (only host, sslmode, sslrootcert, sslcert and sslkey)")
    }

    @Test func aPasswordIsNeverTakenFromTheURL() {
        let inURL = "the URL holds a password, which would show in the process list and shell history; give it in PGPASSWORD or ~/.pgpass instead"
        #expect(Self.refusal("postgres://wadup:secret@db.example/evidence") == inURL)
        #expect(Self.refusal("postgres://wadup:@db.example/evidence") == inURL)
        for name in ["user", "password"] {
            #expect(
                Self.refusal("postgres://wadup@db.example/evidence?\(name)=x")
                    == "the URL parameter \(name) is not read: put the user before the host, and the password in PGPASSWORD or ~/.pgpass")
        }
    }

    // MARK: The password

    /// A password file with `mode`, as libpq reads it: host, port, database, user, password, with
    /// `*` for any and `\:` / `\\` escaped.
    static func passwordFile(mode: Int) throws -> String {
        let path = Harness.temporaryDirectory() + "/pgpass"
        let lines = [
            "# host:port:database:user:password",
            "db.example:5433:evidence:alice:s3cret",
            #"*:*:*:bob:any\:thing"#,
            #"db.example:5432:evidence:dave:back\\slash"#,
            "localhost:5432:evidence:carol:by-socket",
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func thePasswordComesFromPGPASSWORDThenThePasswordFile() throws {
        let file = try Self.passwordFile(mode: 0o600)
        let environment = Self.environment(["PGPASSFILE": file])
        func password(_ url: String, _ other: [String: String]? = nil) throws -> String? {
            let chosen = other ?? environment
            return try Self.location(url, chosen).password(environment: chosen)
        }
        #expect(try password("postgres://alice@db.example:5433/evidence") == "s3cret")
        #expect(try password("postgres://alice@db.example:5432/evidence") == nil, "another port")
        #expect(try password("postgres://alice@db.example:5433/other") == nil, "another database")
        #expect(try password("postgres://bob@anywhere.example:1234/anything") == "any:thing")
        #expect(try password("postgres://dave@db.example/evidence") == #"back\slash"#)
        // A socket connection matches the file's localhost lines, as in libpq.
        #expect(try password("postgres://carol@%2Frun%2Fpostgresql/evidence") == "by-socket")
        #expect(try password("postgres://carol@localhost/evidence") == "by-socket")
        #expect(try password("postgres://nobody@db.example/evidence") == nil)
        // PGPASSWORD wins over the file.
        var given = environment
        given["PGPASSWORD"] = "from-variable"
        #expect(try password("postgres://alice@db.example:5433/evidence", given) == "from-variable")
        // Without PGPASSFILE, the home folder's .pgpass.
        let home = Harness.temporaryDirectory()
        try FileManager.default.copyItem(atPath: file, toPath: home + "/.pgpass")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: home + "/.pgpass")
        #expect(try password("postgres://alice@db.example:5433/evidence", ["HOME": home]) == "s3cret")
    }

    @Test func aPasswordFileOthersCanReadIsIgnored() throws {
        let file = try Self.passwordFile(mode: 0o644)
        let environment = Self.environment(["PGPASSFILE": file])
        #expect(try Self.location("postgres://alice@db.example:5433/evidence", environment).password(environment: environment) == nil)
        #expect(try Self.location("postgres://alice@db.example:5433/evidence").password(environment: Self.environment(["PGPASSFILE": "/nonexistent"])) == nil)
    }
}
