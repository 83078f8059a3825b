import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPTestSupport

/// The standard `yara` module (docs/modules/yara.md) against Debian's native `yara` 4.2.3 on the
/// same rules: the same rules match the same files, with the same tags, metadata and namespaces,
/// and the same string matches at the same offsets with the same lengths. Also: a rule that does
/// not compile stops the run with native yara's message, no rules leaves the module out, `yarac`
/// output loads, and a catastrophic rule is a recorded limit failure. Needs
/// `scripts/build-guests.sh` and `yara` (scripts/install-deps.sh).
@Suite(.serialized)
struct YaraModuleTests {
    /// yara_strings keeps the first 100 matches of each string of a matching rule.
    static let matchesPerString = 100

    /// `hash.md5(0, 4)` of an ELF file: the MD5 of `7f 45 4c 46`, checked against `md5sum` in
    /// ``theElfMagicDigestInTheRulesIsMd5sums()``.
    /// Rules using strings, hex strings with jumps and alternatives, regular expressions, filesize,
    /// pe.imports, pe.imphash, elf.type, math.entropy and hash.md5, in two files (two namespaces,
    /// one in a subfolder). `imphash` is `pefile`'s imphash of one of the PE files.
    static func rules(imphash: String) -> [(path: String, text: String)] {
        return [
            ("exec.yar", #"""
            import "pe"
            import "elf"
            import "math"
            import "hash"

            rule ElfSharedObject : elf linux
            {
                meta:
                    author = "wadup tests"
                    score = 5
                    strict = true
                strings:
                    $magic = { 7F 45 4C 46 ( 01 | 02 ) 01 }
                    $glibc = /GLIBC_2\.[0-9]{1,2}/
                    $interp = "/lib64/ld-linux-x86-64.so.2"
                condition:
                    $magic at 0 and elf.type == elf.ET_DYN and filesize > 1KB and ($glibc or $interp)
            }

            rule ElfMagicHash
            {
                condition:
                    hash.md5(0, 4) == "d1531b1622de54fe3a0187c3344600e9"
            }

            rule PeImportsKernel32 : windows pe
            {
                meta:
                    description = "a PE file importing \"kernel32.dll\""
                strings:
                    $mz = "MZ"
                    $stub = { 0E 1F BA 0E 00 B4 09 CD 21 [2-8] 4C CD 21 }
                    $dos = "This program cannot be run in DOS mode" ascii
                condition:
                    $mz at 0 and pe.imports("kernel32.dll") and ($stub or $dos)
            }

            rule PeImphash
            {
                condition:
                    pe.imphash() == "\#(imphash)"
            }

            rule PeCreateProcess
            {
                condition:
                    pe.imports("kernel32.dll", "CreateProcessW") or pe.imports("KERNEL32.dll", "CreateProcessA")
            }

            rule Compressed
            {
                condition:
                    filesize > 256 and math.entropy(0, filesize) > 7.5
            }
            """#),
            ("sub/text.yara", #"""
            rule Words
            {
                strings:
                    $the = "the" nocase wide ascii
                    $license = /licen[cs]e/ nocase
                    $jump = { 47 4E 55 [1-16] 4C }
                condition:
                    #the > 3 or $license or $jump
            }

            rule EmptyOrSmall
            {
                condition:
                    filesize < 16
            }
            """#),
        ]
    }

    /// The Windows PE files of this machine: the launchers pip's distlib and setuptools carry, in
    /// Debian's Python and in any other Python installed (Debian strips them from its own packages).
    static func peFiles() -> [String] {
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        let patterns = [
            "/usr/lib/python3/dist-packages/pip/_vendor/distlib/*.exe", "/usr/lib/python3/dist-packages/setuptools/*.exe",
            "\(home)/.pyenv/versions/*/lib/python*/site-packages/pip/_vendor/distlib/*.exe",
            "\(home)/.pyenv/versions/*/lib/python*/site-packages/setuptools/*.exe",
            "\(home)/.pyenv/versions/*/lib/python*/distutils/command/*.exe",
            "/usr/local/lib/python3*/*-packages/pip/_vendor/distlib/*.exe",
        ]
        let found = (try? Command("/bin/bash", ["-c", "shopt -s nullglob; for f in \(patterns.joined(separator: " ")); do echo \"$f\"; done"]).output()) ?? ""
        var seen = Set<String>()
        // One of each name (the same launcher ships with every Python version).
        return found.split(separator: "\n").map(String.init).sorted().filter { seen.insert(URL(fileURLWithPath: $0).lastPathComponent).inserted }
    }

    /// A sample of the machine's ELF programs and libraries, documents and compressed files.
    static let otherFiles = [
        "/usr/bin/ls", "/usr/bin/bash", "/usr/bin/grep", "/usr/bin/curl", "/usr/bin/openssl", "/usr/bin/tar", "/usr/bin/gzip",
        "/usr/bin/yara", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libyara.so.9",
        "/usr/share/doc/bash/copyright", "/usr/share/doc/tar/copyright", "/usr/share/doc/yara/changelog.Debian.gz",
        "/usr/share/common-licenses/GPL-3", "/etc/passwd",
    ]

    /// The input folder (copies named so that each file is told apart) and the rules folder.
    static func setUp() throws -> (input: String, rules: String, imphash: String) {
        let pe = peFiles()
        try #require(pe.count >= 3, "no Windows PE files found (pip's distlib and setuptools launchers)")
        let imphash = try Command("/usr/bin/python3", ["-c", "import pefile, sys; print(pefile.PE(sys.argv[1]).get_imphash())", pe[0]]).output()
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(imphash.count == 32, "pefile gave no imphash for \(pe[0])")
        let files = (pe + otherFiles).filter { FileManager.default.isReadableFile(atPath: $0) }
        var inputs: [(name: String, bytes: [UInt8])] = [("empty", [])]
        for (i, path) in files.enumerated() {
            inputs.append((String(format: "%02d_", i) + URL(fileURLWithPath: path).lastPathComponent, [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))))
        }
        let rules = Harness.temporaryDirectory()
        for (path, text) in Self.rules(imphash: imphash) {
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: "\(rules)/\(path)").deletingLastPathComponent().path, withIntermediateDirectories: true)
            try text.write(toFile: "\(rules)/\(path)", atomically: true, encoding: .utf8)
        }
        return (try Harness.inputs(inputs), rules, imphash)
    }

    /// A rule match: file name, namespace, rule, tags (space-separated), metadata (normalised).
    struct Match: Hashable, CustomStringConvertible {
        let file, namespace, rule, tags, meta: String
        var description: String { "\(file): \(namespace):\(rule) [\(tags)] \(meta)" }
    }

    /// A string match: file name, rule, string identifier, offset, length.
    struct StringMatch: Hashable, Comparable, CustomStringConvertible {
        let file, rule, identifier: String
        let offset, length: Int
        var description: String { "\(file): \(rule) \(identifier) at \(offset) (\(length) bytes)" }
        static func < (a: Self, b: Self) -> Bool {
            (a.file, a.rule, a.identifier, a.offset, a.length) < (b.file, b.rule, b.identifier, b.offset, b.length)
        }
    }

    /// Native `yara -s -L -g -m -e -r` over `input` with the rules in `rules` (each file its own
    /// namespace, its relative path, as the module names them): its matches, and its string
    /// matches capped at the first ``matchesPerString`` per string, as the module keeps them.
    static func native(rules: String, files: [String], input: String) throws -> (matches: Set<Match>, strings: [StringMatch]) {
        let output = try Command("/usr/bin/yara", ["-s", "-L", "-g", "-m", "-e", "-r", "-p", "2"] + files.map { "\($0):\($0)" } + [input], directory: rules).output()
        var matches = Set<Match>()
        var strings: [StringMatch] = []
        var current: (file: String, rule: String)?
        var counts: [String: Int] = [:]
        let header = try Regex(#"^(\S+?):(\S+) \[([^\]]*)\] \[(.*)\] (.+)$"#)
        let metaItem = try Regex(#"(\w+) ?=("(?:[^"\\]|\\.)*"|-?\d+|true|false)"#)
        for line in output.split(separator: "\n").map(String.init) {
            if line.hasPrefix("0x") {
                let parts = line.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
                let current = try #require(current)
                let key = "\(current.file) \(current.rule) \(parts[2])"
                counts[key, default: 0] += 1
                if counts[key]! <= matchesPerString {
                    strings.append(StringMatch(file: current.file, rule: current.rule, identifier: String(parts[2]), offset: Int(parts[0].dropFirst(2), radix: 16)!, length: Int(parts[1])!))
                }
                continue
            }
            let m = try #require(try header.wholeMatch(in: line), "unexpected line of yara: \(line)")
            let file = URL(fileURLWithPath: String(m.output[5].substring!)).lastPathComponent
            var meta: [String: String] = [:]
            for item in String(m.output[4].substring!).matches(of: metaItem) {
                let value = String(item.output[2].substring!)
                meta[String(item.output[1].substring!)] = value.hasPrefix("\"") ? Self.json(unescaping: value) : value
            }
            current = (file, String(m.output[2].substring!))
            matches.insert(Match(file: file, namespace: String(m.output[1].substring!), rule: String(m.output[2].substring!),
                                 tags: String(m.output[3].substring!).replacingOccurrences(of: ",", with: " "), meta: Self.normalised(meta)))
        }
        return (matches, strings.sorted())
    }

    /// A printed string value (`"a \"b\""`) as the text it stands for.
    static func json(unescaping quoted: String) -> String {
        (try? JSONDecoder().decode(String.self, from: Data(quoted.utf8))) ?? quoted
    }

    /// A metadata value of the module's JSON: an integer, a boolean or a string, as native yara prints it.
    struct MetaValue: Decodable {
        let text: String
        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer()
            if let integer = try? value.decode(Int64.self) { text = "\(integer)" }
            else if let boolean = try? value.decode(Bool.self) { text = boolean ? "true" : "false" }
            else { text = try value.decode(String.self) }
        }
    }

    static func normalised(_ meta: [String: String]) -> String {
        meta.keys.sorted().map { "\($0)=\(meta[$0]!)" }.joined(separator: ",")
    }

    /// The module's rows of a run, keyed like ``native(rules:files:input:)``'s.
    static func module(_ outcome: Harness.Outcome) throws -> (matches: Set<Match>, strings: [StringMatch]) {
        try outcome.db.read { db in
            var matches = Set<Match>()
            for row in try Row.fetchAll(db, sql: "SELECT c.filename, m.rule, m.namespace, m.tags, m.meta FROM yara_matches m JOIN __wadup_content c ON c.uuid = m.content_uuid") {
                let meta = try JSONDecoder().decode([String: MetaValue].self, from: Data((row["meta"] as String).utf8)).mapValues(\.text)
                matches.insert(Match(file: URL(fileURLWithPath: row["filename"]).lastPathComponent, namespace: row["namespace"], rule: row["rule"], tags: row["tags"], meta: normalised(meta)))
            }
            let strings = try Row.fetchAll(db, sql: "SELECT c.filename, s.rule, s.identifier, s.offset, s.length FROM yara_strings s JOIN __wadup_content c ON c.uuid = s.content_uuid").map {
                StringMatch(file: URL(fileURLWithPath: $0["filename"]).lastPathComponent, rule: $0["rule"], identifier: $0["identifier"], offset: $0["offset"], length: $0["length"])
            }
            return (matches, strings.sorted())
        }
    }

    @Test func matchesAndStringOffsetsEqualNativeYarasOnTheMachinesElfPeAndDocumentFiles() throws {
        let (input, rules, _) = try Self.setUp()
        let pipeline = try Harness.pipeline(
            modulesDirectory: try BuiltModules.folder(["yara"]), input: input, threads: 2, dedup: false, engine: .wasmtime, moduleData: ["yara": rules])
        let outcome = try Harness.outcome(of: pipeline)
        #expect(try outcome.ints("SELECT COUNT(*) FROM __wadup_content WHERE status != 'success'") == [0])
        let got = try Self.module(outcome)
        let expected = try Self.native(rules: rules, files: Self.rules(imphash: "").map(\.path), input: input)
        // The rules must have something to compare: every rule matches some file.
        for rule in ["ElfSharedObject", "ElfMagicHash", "PeImportsKernel32", "PeImphash", "PeCreateProcess", "Compressed", "Words", "EmptyOrSmall"] {
            #expect(expected.matches.contains { $0.rule == rule }, "native yara matched no file with \(rule)")
        }
        #expect(expected.strings.count > 100)
        for missing in expected.matches.subtracting(got.matches).sorted(by: { $0.description < $1.description }).prefix(20) { Issue.record("the module misses \(missing)") }
        for extra in got.matches.subtracting(expected.matches).sorted(by: { $0.description < $1.description }).prefix(20) { Issue.record("the module adds \(extra)") }
        #expect(got.matches == expected.matches)
        let (want, have) = (Set(expected.strings), Set(got.strings))
        for missing in want.subtracting(have).sorted().prefix(20) { Issue.record("the module misses string \(missing)") }
        for extra in have.subtracting(want).sorted().prefix(20) { Issue.record("the module adds string \(extra)") }
        #expect(got.strings == expected.strings)
        // data_hex is the match's bytes (at most 64), as in the file.
        let samples = try outcome.db.read { db in
            try Row.fetchAll(db, sql: "SELECT c.filename, s.offset, s.length, s.data_hex FROM yara_strings s JOIN __wadup_content c ON c.uuid = s.content_uuid ORDER BY s.rowid LIMIT 200")
        }
        for row in samples {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(input)/\(URL(fileURLWithPath: row["filename"]).lastPathComponent)")))
            let (offset, length) = (row["offset"] as Int, row["length"] as Int)
            let hex = bytes[offset..<offset + min(length, 64)].map { String(format: "%02x", $0) }.joined()
            #expect(row["data_hex"] as String == hex)
        }
    }

    @Test func theElfMagicDigestInTheRulesIsMd5sums() throws {
        let md5 = try Command("/bin/bash", ["-c", "printf '\\x7fELF' | md5sum"]).output()
        #expect(md5.hasPrefix("d1531b1622de54fe3a0187c3344600e9"))
    }

    @Test func precompiledRulesFromYaracMatchAsTheirSourceDoes() throws {
        let (input, rules, _) = try Self.setUp()
        let compiled = Harness.temporaryDirectory()
        let yarac = try Command("/usr/bin/yarac", ["exec.yar:exec.yar", "sub/text.yara:sub/text.yara", "\(compiled)/all.yarc"], directory: rules).run()
        try #require(yarac.succeeded, "\(yarac)")
        let fromSource = try Self.module(try Harness.outcome(of: try Harness.pipeline(
            modulesDirectory: try BuiltModules.folder(["yara"]), input: input, dedup: false, engine: .wasmtime, moduleData: ["yara": rules])))
        let fromCompiled = try Self.module(try Harness.outcome(of: try Harness.pipeline(
            modulesDirectory: try BuiltModules.folder(["yara"]), input: input, dedup: false, engine: .wasmtime, moduleData: ["yara": compiled])))
        #expect(!fromSource.matches.isEmpty)
        #expect(fromCompiled.matches == fromSource.matches)
        #expect(fromCompiled.strings == fromSource.strings)
    }

    /// Both forms of libyara's messages: an error tied to a rule and one tied to the file only.
    @Test(arguments: EngineKind.allCases) func aRuleThatDoesNotCompileStopsTheRunBeforeAnyContentWithNativeYarasMessage(engine: EngineKind) throws {
        let cases = [
            ("rule Broken\n{\n    condition:\n        filesize > 10 and and\n}\n", "error: rule \"Broken\" in set/bad.yar(4): "),
            ("import \"no_such_module\"\nrule Fine2 { condition: true }\n", "set/bad.yar(1): error: unknown module"),
        ]
        for (text, prefix) in cases {
            let rules = Harness.temporaryDirectory()
            try FileManager.default.createDirectory(atPath: "\(rules)/set", withIntermediateDirectories: true)
            try "rule Fine { condition: true }\n".write(toFile: "\(rules)/a.yar", atomically: true, encoding: .utf8)
            try text.write(toFile: "\(rules)/set/bad.yar", atomically: true, encoding: .utf8)
            let native = try Command("/usr/bin/yara", ["set/bad.yar", "/dev/null"], directory: rules).run()
            let message = native.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(message.hasPrefix(prefix), "\(native)")

            let input = try Harness.inputs([("a", [1, 2, 3])])
            let modules = try BuiltModules.folder(["yara"])
            let out = Harness.temporaryDirectory() + "/out.db"
            let exit = try Command.wadup(["--modules", modules, "--input", input, "--output", out, "--module-data", "yara=\(rules)", "--engine", engine.rawValue]).run()
            #expect(exit.status == 2, "\(exit)")
            #expect(exit.stderr.contains("yara: \(message)"), "\(exit)")
            #expect(!FileManager.default.fileExists(atPath: out))
            let error = try #require(throws: (any Error).self) {
                _ = try Harness.outcome(of: try Harness.pipeline(modulesDirectory: modules, input: input, engine: engine, moduleData: ["yara": rules]))
            }
            #expect("\(error)" == "yara: \(message)")
        }
    }

    @Test func withoutRulesTheModuleIsNotLoadedAndOneLineSaysHowToGiveRules() throws {
        let input = try Harness.inputs([("a", [1, 2, 3])])
        let modules = try BuiltModules.folder(["yara"])
        for data in [nil, Harness.temporaryDirectory()] {
            let out = Harness.temporaryDirectory() + "/out.db"
            let exit = try Command.wadup(["--modules", modules, "--input", input, "--output", out] + (data.map { ["--module-data", "yara=\($0)"] } ?? [])).run()
            #expect(exit.succeeded, "\(exit)")
            let lines = exit.output.split(separator: "\n").filter { $0.contains("yara") }
            #expect(lines.count == 1, "\(exit.output)")
            #expect(lines.first?.contains("yara: no rules in yara.d/ (give rules with --module-data yara=DIR") == true, "\(exit.output)")
            #expect(try DatabaseQueue(path: out).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM __wadup_modules") } == 0)
        }
    }

    /// A content over 64 MiB is scanned in blocks of 64 MiB: `filesize` is its size, and matches in
    /// the first and a later block are found at their offsets, as native yara finds them.
    @Test func aContentOver64MiBIsScannedInBlocksWithItsSizeAndOffsets() throws {
        let input = Harness.temporaryDirectory()
        let path = "\(input)/large.bin"
        FileManager.default.createFile(atPath: path, contents: nil)
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try file.truncate(atOffset: 70 << 20)
        for (offset, text) in [(10, "WADUP-MARKER-AT-START"), (68 << 20, "WADUP-MARKER-AT-68MIB")] {
            try file.seek(toOffset: UInt64(offset))
            try file.write(contentsOf: Data(text.utf8))
        }
        try file.close()
        let rules = Harness.temporaryDirectory()
        try "rule Marker { strings: $m = /WADUP-MARKER-AT-[0-9A-Z]+/ condition: $m and filesize == \(70 << 20) }\n"
            .write(toFile: "\(rules)/m.yar", atomically: true, encoding: .utf8)
        let outcome = try Harness.outcome(of: try Harness.pipeline(
            modulesDirectory: try BuiltModules.folder(["yara"]), input: input, engine: .wasmtime, moduleData: ["yara": rules]))
        let got = try Self.module(outcome)
        let expected = try Self.native(rules: rules, files: ["m.yar"], input: input)
        #expect(expected.strings.map(\.offset) == [10, 68 << 20])
        #expect(got.matches == expected.matches)
        #expect(got.strings == expected.strings)
    }

    /// A rule whose condition loops over every pair of bytes never ends on a content of any size:
    /// the run records the content as failed by the fuel limit (both engines) or the wall-clock
    /// timeout (wasmtime), and goes on.
    @Test(arguments: EngineKind.allCases) func aCatastrophicRuleIsARecordedLimitFailureNotAHang(engine: EngineKind) throws {
        let rules = Harness.temporaryDirectory()
        try """
        rule Quadratic
        {
            condition:
                for all i in (0..filesize - 1) : (for all j in (0..filesize - 1) : (uint8(i) + uint8(j) < 1000))
        }
        """.write(toFile: "\(rules)/slow.yar", atomically: true, encoding: .utf8)
        let input = try Harness.inputs([("big", [UInt8](repeating: 0x41, count: 200_000))])
        let modules = try BuiltModules.folder(["yara"])
        var limits = [(RunLimits(fuel: 200_000_000), "yara: fuel_exhausted: all 200000000 fuel consumed")]
        if engine == .wasmtime { limits.append((RunLimits(timeout: 1), "yara: timeout")) }
        for (limit, message) in limits {
            let started = Date()
            let outcome = try Harness.outcome(of: try Harness.pipeline(
                modulesDirectory: modules, input: input, limits: limit, engine: engine, moduleData: ["yara": rules]))
            let content = try #require(try outcome.contents().first)
            #expect(content.status == "failed")
            #expect(content.errorMessage?.hasPrefix(message) == true, "\(content.errorMessage ?? "no error")")
            #expect(Date().timeIntervalSince(started) < 60)
        }
    }
}
