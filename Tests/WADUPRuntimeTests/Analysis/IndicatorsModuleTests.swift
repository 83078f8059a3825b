import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPTestSupport

/// The `indicators` module (docs/modules/indicators.md) against independent readers run in the
/// test: GNU `strings -a -n 6 -t d` and `-el` for the strings it scans, Python's `ipaddress` and
/// `urllib.parse` for the validity of what it reports, and a reference written in Python over the
/// output of `strings` (Tests/Support/indicators_reference.py) for the indicators themselves, on
/// the machine's curl, openssl and git, libcurl, the Windows PE launchers and installers found on
/// the machine, and a text file written here with known indicators in both encodings.
/// Needs `scripts/build-guests.sh` (which builds indicators.wasm with scripts/formats/indicators.sh).
@Suite(.serialized)
struct IndicatorsModuleTests {
    /// One row of `indicators`, or of the reference's list.
    struct Indicator: Hashable, CustomStringConvertible {
        let kind: String
        let value: String
        let offset: Int
        let encoding: String
        var description: String { "\(kind) \(value) @\(offset) \(encoding)" }
    }

    /// One string: its offset in the content, its length in characters, its encoding.
    struct Found: Hashable, CustomStringConvertible {
        let offset: Int
        let length: Int
        let encoding: String
        var description: String { "\(encoding) string @\(offset) of \(length)" }
    }

    /// What the reference says about one file.
    struct Reference: Decodable {
        let file: String
        let strings: [[Value]]
        let indicators: [[Value]]

        enum Value: Decodable {
            case text(String), number(Int)
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let n = try? c.decode(Int.self) { self = .number(n) } else { self = .text(try c.decode(String.self)) }
            }
            var text: String { if case .text(let s) = self { s } else { "" } }
            var number: Int { if case .number(let n) = self { n } else { -1 } }
        }

        var stringSet: Set<Found> { Set(strings.map { Found(offset: $0[0].number, length: $0[1].number, encoding: $0[2].text) }) }
        var indicatorSet: Set<Indicator> {
            Set(indicators.map { Indicator(kind: $0[0].text, value: $0[1].text, offset: $0[2].number, encoding: $0[3].text) })
        }
    }

    /// The reference's answer for each path.
    static func reference(_ paths: [String]) throws -> [String: Reference] {
        let output = try pythonFile(Harness.path("Tests/Support/indicators_reference.py"), paths)
        let decoded = try output.split(separator: "\n").map { try JSONDecoder().decode(Reference.self, from: Data($0.utf8)) }
        return Dictionary(uniqueKeysWithValues: decoded.map { ($0.file, $0) })
    }

    /// A text file with indicators of every kind in ASCII and in UTF-16LE, valid and not, with the
    /// punctuation around them that the rules trim (docs/modules/indicators.md).
    static func knownText() -> [UInt8] {
        let lines = [
            "Visit http://Example.COM/path?q=1. or (https://en.wikipedia.org/wiki/Foo_(bar)) now",
            "mirror ftp://user:secret@files.example.net:2121/pub/, ws://[2001:db8::7]:8080/socket and https://192.0.2.44/x",
            "not URLs: http://%s/, http://999.1.1.1/, https://-bad-.com/, file:///etc/passwd, xhttp://a.com",
            "mail john.doe@mail.example.org, <admin@corp.example.co.uk>; not: user@localhost, a@b.c, @nobody.com",
            "hosts 10.0.0.1, 192.168.100.254. and 8.8.8.8:53; not 256.1.1.1, 1.2.3, 01.2.3.4, v1.2.3.4, 1.2.3.4.5",
            "v6 fe80::1%eth0, [2001:db8:85a3::8a2e:370:7334], ::ffff:192.0.2.1; not ::, dead::beef, 12:34:56",
            "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run \"x\" HKEY_CURRENT_USER\\Software\\Evil Corp\\Config.",
            "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\evil, SYSTEM\\CurrentControlSet\\Control\\Lsa",
        ]
        var bytes: [UInt8] = []
        for (i, line) in lines.enumerated() {
            bytes += Array(line.utf8) + [0x0a]
            bytes += [0x00, 0x01] + Array("\(i): \(line)".utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }) + [0x00, 0x00, 0x01]
        }
        return bytes
    }

    /// The real files of the test: curl, openssl and git (where installed), libcurl, and the PE
    /// executables of Python's launchers and installers found on the machine (up to 8).
    static func realFiles() throws -> [String] {
        let programs = ["curl", "openssl", "git"].compactMap { name in
            ["/usr/bin/\(name)", "/bin/\(name)", "/usr/local/bin/\(name)"].first { FileManager.default.isReadableFile(atPath: $0) }
        }
        let libraries = ["/usr/lib/x86_64-linux-gnu/libcurl.so.4", "/usr/lib/aarch64-linux-gnu/libcurl.so.4"].filter { FileManager.default.isReadableFile(atPath: $0) }
        let roots = ["/usr/lib/python3", "/usr/share/python-wheels", "/usr/local/lib", NSHomeDirectory() + "/.pyenv/versions"]
            .filter { FileManager.default.fileExists(atPath: $0) }
        let found = roots.isEmpty ? "" : try Command.shell("find \(roots.joined(separator: " ")) -name '*.exe' -size -4M 2>/dev/null | LC_ALL=C sort | head -200", in: "/").output()
        var seen = Set<String>()
        let executables = found.split(separator: "\n").map(String.init).filter {
            seen.insert(URL(fileURLWithPath: $0).lastPathComponent).inserted  // one of each launcher
        }.prefix(8)
        return programs + libraries + executables
    }

    /// Runs indicators.wasm over `files` (each linked under its index) with the data folder that
    /// asks for `indicator_strings`; the outcome and the content name of each file.
    static func run(_ files: [String], engine: EngineKind = .wasmtime) throws -> (Harness.Outcome, [String: String]) {
        let input = Harness.temporaryDirectory()
        let data = Harness.temporaryDirectory()
        try Data().write(to: URL(fileURLWithPath: "\(data)/strings"))
        var names: [String: String] = [:]
        for (i, path) in files.enumerated() {
            let name = String(format: "%03d", i)
            try FileManager.default.createSymbolicLink(atPath: "\(input)/\(name)", withDestinationPath: path)
            names[path] = name
        }
        let pipeline = try Harness.pipeline(
            modulesDirectory: try BuiltModules.folder(["indicators"]), input: input, dedup: false, followSymlinks: true, engine: engine,
            moduleData: ["indicators": data])
        return (try Harness.outcome(of: pipeline), names)
    }

    static func indicators(of name: String, in db: DatabaseQueue) throws -> [Indicator] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT kind, value, offset, encoding FROM indicators i JOIN __wadup_content c ON c.uuid = i.content_uuid WHERE c.filename = ?
                """, arguments: [name]).map { Indicator(kind: $0["kind"], value: $0["value"], offset: $0["offset"], encoding: $0["encoding"]) }
        }
    }

    static func strings(of name: String, in db: DatabaseQueue) throws -> [Found] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.offset, s.length, s.encoding FROM indicator_strings s JOIN __wadup_content c ON c.uuid = s.content_uuid WHERE c.filename = ?
                """, arguments: [name]).map { Found(offset: $0["offset"], length: $0["length"], encoding: $0["encoding"]) }
        }
    }

    static func scan(of name: String, in db: DatabaseQueue) throws -> Row? {
        try db.read { db in
            try Row.fetchOne(db, sql: "SELECT s.* FROM indicator_scans s JOIN __wadup_content c ON c.uuid = s.content_uuid WHERE c.filename = ?", arguments: [name])
        }
    }

    /// Every problem Python finds with `rows` of `path`: a value that is not at its offset in the
    /// file (in its encoding; domains without case), an address `ipaddress` refuses, a URL
    /// `urlsplit` gives no scheme, netloc or hostname (or a bad port), a domain that is not the
    /// host of a URL or e-mail address of the same content and encoding.
    static func problems(_ rows: [Indicator], in path: String) throws -> [String] {
        let json = try JSONSerialization.data(withJSONObject: rows.map { [$0.kind, $0.value, $0.offset, $0.encoding] as [Any] })
        let list = Harness.temporaryDirectory() + "/rows.json"
        try json.write(to: URL(fileURLWithPath: list))
        let output = try python("""
            import ipaddress, json, sys
            from urllib.parse import urlsplit
            rows = json.load(open(sys.argv[1])); data = open(sys.argv[2], 'rb').read()
            hosts = set()
            for kind, value, offset, encoding in rows:
                if kind == 'url':
                    p = urlsplit(value); p.port
                    if not (p.scheme and p.netloc and p.hostname): print('url without scheme, netloc or host', value)
                    hosts.add((p.hostname, encoding))
                if kind == 'email': hosts.add((value.rpartition('@')[2].lower(), encoding))
            for kind, value, offset, encoding in rows:
                width = 1 if encoding == 'ascii' else 2
                at = data[offset:offset + len(value) * width].decode('latin-1' if width == 1 else 'utf-16-le')
                if (at.lower() if kind == 'domain' else at) != value: print('not at its offset', kind, value, offset, encoding, repr(at))
                if kind == 'ipv4': ipaddress.IPv4Address(value)
                if kind == 'ipv6': ipaddress.IPv6Address(value)
                if kind == 'domain' and (value, encoding) not in hosts: print('domain of no URL or e-mail address', value, encoding)
                if kind not in ('url', 'email', 'ipv4', 'ipv6', 'domain', 'registry'): print('unknown kind', kind)
            """, [list, path])
        return output.split(separator: "\n").map(String.init)
    }

    @Test func stringsAndIndicatorsEqualGnuStringsAndTheIndependentReferenceOnRealFilesAndAKnownText() throws {
        let text = Harness.temporaryDirectory() + "/known.txt"
        try Data(Self.knownText()).write(to: URL(fileURLWithPath: text))
        let files = try Self.realFiles() + [text]
        // git is always there (the checkout); curl and openssl nearly always; the PE files where a
        // Python installation (pyenv, pip's vendored distlib, setuptools) left its launchers.
        #expect(files.count >= 4, "curl, openssl, git, libcurl or PE files expected on this machine: \(files)")
        let (outcome, names) = try Self.run(files)
        let reference = try Self.reference(files)
        var kinds = Set<String>()
        for path in files {
            let name = try #require(names[path])
            let expected = try #require(reference[path])
            let strings = try Self.strings(of: name, in: outcome.db)
            #expect(Set(strings) == expected.stringSet, "\(path): strings differ from GNU strings: module only \(Set(strings).subtracting(expected.stringSet).sorted { $0.offset < $1.offset }.prefix(5)), strings only \(expected.stringSet.subtracting(strings).sorted { $0.offset < $1.offset }.prefix(5))")
            #expect(strings.count == expected.strings.count, "\(path): a string twice")
            let scan = try #require(try Self.scan(of: name, in: outcome.db), "\(path): no indicator_scans row")
            #expect((scan["ascii_strings"] as Int) + (scan["utf16le_strings"] as Int) == expected.strings.count)
            let rows = try Self.indicators(of: name, in: outcome.db)
            #expect(Set(rows) == expected.indicatorSet && rows.count == expected.indicators.count,
                    "\(path): module only \(Set(rows).subtracting(expected.indicatorSet)), reference only \(expected.indicatorSet.subtracting(rows))")
            #expect(scan["indicators"] as Int == rows.count && scan["capped"] as Int == 0 && scan["truncated"] as Int == 0)
            let problems = try Self.problems(rows, in: path)
            #expect(problems.isEmpty, "\(path): \(problems.prefix(10))")
            kinds.formUnion(rows.map { "\($0.kind) \($0.encoding)" })
        }
        // The known text holds every kind in both encodings (so the comparison above is not vacuous).
        let known = try Self.indicators(of: try #require(names[text]), in: outcome.db)
        for kind in ["url", "email", "ipv4", "ipv6", "domain", "registry"] {
            for encoding in ["ascii", "utf16le"] {
                #expect(known.contains { $0.kind == kind && $0.encoding == encoding }, "no \(kind) in \(encoding) in the known text")
            }
        }
        #expect(kinds.contains("url ascii") && kinds.contains("registry ascii"))
    }

    @Test(arguments: EngineKind.allCases)
    func theKnownTextGivesTheSameRowsOnEitherEngine(engine: EngineKind) throws {
        let text = Harness.temporaryDirectory() + "/known.txt"
        try Data(Self.knownText()).write(to: URL(fileURLWithPath: text))
        let (outcome, names) = try Self.run([text], engine: engine)
        let expected = try #require(try Self.reference([text])[text])
        let rows = try Self.indicators(of: try #require(names[text]), in: outcome.db)
        #expect(Set(rows) == expected.indicatorSet)
        // Rejected on purpose (docs/modules/indicators.md): none of these is reported.
        for value in ["http://%s/", "http://999.1.1.1/", "user@localhost", "a@b.c", "256.1.1.1", "01.2.3.4", "1.2.3.4", "::", "dead::beef"] {
            #expect(!rows.contains { $0.value == value }, "\(value) reported")
        }
        #expect(rows.contains(Indicator(kind: "url", value: "http://Example.COM/path?q=1", offset: 6, encoding: "ascii")))
        #expect(rows.contains(Indicator(kind: "domain", value: "example.com", offset: 13, encoding: "ascii")))
    }

    @Test func aContentWithMoreDistinctIndicatorsThanTheCapKeepsTheFirstTenThousandAndSaysItWasCapped() throws {
        // 10,050 distinct addresses, one string each, in increasing offsets.
        var bytes: [UInt8] = []
        for i in 0..<10_050 { bytes += Array("host 10.\(i / 65536).\(i / 256 % 256).\(i % 256)\n".utf8) }
        let file = Harness.temporaryDirectory() + "/many.txt"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let (outcome, names) = try Self.run([file])
        let name = try #require(names[file])
        let rows = try Self.indicators(of: name, in: outcome.db)
        let expected = try #require(try Self.reference([file])[file]).indicatorSet.sorted { $0.offset < $1.offset }
        #expect(expected.count == 10_050)
        #expect(Set(rows) == Set(expected.prefix(10_000)))
        let scan = try #require(try Self.scan(of: name, in: outcome.db))
        #expect(scan["capped"] as Int == 1 && scan["indicators"] as Int == 10_000)
    }

    @Test func aContentLargerThanSixtyFourMebibytesIsScannedUpToThereAndMarkedTruncated() throws {
        // Sparse: holes, an address before the bound, a URL across it, an address after it.
        let file = Harness.temporaryDirectory() + "/large.bin"
        let bound = 64 << 20
        _ = try python("""
            import sys
            with open(sys.argv[1], 'wb') as f:
                f.truncate(\(bound + (1 << 20)))
                f.seek(1000); f.write(b'\\0ip 192.0.2.1\\0')
                f.seek(\(bound - 14)); f.write(b' http://cut.example.com/\\0')
                f.seek(\(bound + 4096)); f.write(b'\\0ip 198.51.100.9\\0')
            """, [file])
        let (outcome, names) = try Self.run([file])
        let name = try #require(names[file])
        let rows = try Self.indicators(of: name, in: outcome.db)
        let expected = try #require(try Self.reference([file])[file])
        #expect(Set(rows) == expected.indicatorSet)
        #expect(rows.map(\.value).sorted() == ["192.0.2.1", "cut.ex", "http://cut.ex"])
        let scan = try #require(try Self.scan(of: name, in: outcome.db))
        #expect(scan["scanned_bytes"] as Int == bound && scan["truncated"] as Int == 1)
    }
}
