import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPTestSupport

/// The `executable` module (Guests/Formats/executable/) against the independent tools, run here:
/// pefile (Debian's python3-pefile) on the Windows PE files found on this machine and on PE files
/// made by lld-link (imports by ordinal, exports by name, ordinal and forwarder, an overlay);
/// `readelf -W -h -S --dyn-syms -V -n` on the machine's ELF programs and libraries and on clang's
/// objects for seven other architectures (both byte orders); `llvm-objdump --macho`,
/// `llvm-readobj` and `llvm-nm` on clang's Mach-O objects, and `llvm-lipo` on a fat file.
/// Tests/Support/executable_expected.py makes the samples and asks the tools; each row is compared
/// in one canonical text form (values joined by `|`, NULL for none, entropy to 9 places).
@Suite(.serialized)
struct ExecutableModuleTests {
    /// What the tools say about one file, as executable_expected.py prints it.
    struct Listing: Decodable, Equatable {
        let executable: String
        let sections: [String]
        let imports: [String]
        let exports: [String]
        let children: [String]
    }

    static let script = Harness.path("Tests/Support/executable_expected.py")

    /// Debian's Python, where python3-pefile is installed (`python3` on PATH may be another one).
    static func python(_ arguments: [String]) throws -> String {
        try Command("/usr/bin/python3", [script] + arguments).output()
    }

    /// The samples (made once per test process: the tests only read them) and what the tools say.
    static let samples: Result<(folder: String, expected: [String: Listing]), any Error> = Result(catching: {
        let folder = Harness.temporaryDirectory() + "/in"
        _ = try python(["--make", folder])
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { "\(folder)/\($0)" }
        let json = try python(files)
        let byPath = try JSONDecoder().decode([String: Listing].self, from: Data(json.utf8))
        return (folder, Dictionary(uniqueKeysWithValues: byPath.map { (($0.key as NSString).lastPathComponent, $0.value) }))
    })

    static func canonical(_ values: [DatabaseValue]) -> String {
        values.map { value -> String in
            switch value.storage {
            case .null: "NULL"
            case .int64(let v): String(v)
            case .double(let v): String(format: "%.9f", v)
            case .string(let s): s
            case .blob(let b): b.base64EncodedString()
            }
        }.joined(separator: "|")
    }

    /// The module's answer for the content `uuid`, in the tools' canonical form (ELF section flags
    /// masked to the bits readelf prints as letters).
    static func listing(of uuid: String, in db: DatabaseQueue) throws -> Listing {
        try db.read { db in
            func rows(_ sql: String) throws -> [[DatabaseValue]] {
                try Row.fetchAll(db, sql: sql, arguments: [uuid]).map { Array($0.databaseValues) }
            }
            let executable = try rows("""
                SELECT format, machine, bits, endian, kind, entry_point, image_base, timestamp, subsystem, imphash, is_signed, pdb_path,
                       build_id, overlay_offset, overlay_size FROM executables WHERE content_uuid = ?
                """)
            let sections = try rows("""
                SELECT name, virtual_address, virtual_size, file_offset, file_size, entropy,
                       CASE WHEN (SELECT format FROM executables WHERE content_uuid = s.content_uuid) = 'ELF' THEN flags & 2147487735 ELSE flags END
                FROM executable_sections s WHERE content_uuid = ?
                """)
            let imports = try rows("SELECT library, symbol, ordinal FROM executable_imports WHERE content_uuid = ?")
            let exports = try rows("SELECT symbol, ordinal, address FROM executable_exports WHERE content_uuid = ?")
            let children = try Row.fetchAll(db, sql: "SELECT filename, sha256 FROM __wadup_content WHERE parent_uuid = ?", arguments: [uuid])
                .map { row -> String in let name: String = row["filename"]; let sha: String = row["sha256"]; return "\(name)|\(sha)" }
            return Listing(
                executable: executable.map(canonical).joined(separator: "\n"), sections: sections.map(canonical),
                imports: imports.map(canonical).sorted(), exports: exports.map(canonical).sorted(), children: children.sorted())
        }
    }

    @Test(arguments: EngineKind.allCases)
    func everyExecutableReadsExactlyAsPefileReadelfAndLlvmSayOnThisMachinesFiles(engine: EngineKind) throws {
        let (folder, expected) = try Self.samples.get()
        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["executable"]), input: folder, engine: engine)
        let contents = try outcome.contents()
        #expect(contents.allSatisfy { $0.status == "success" || $0.status == "duplicate" }, "\(contents.filter { $0.status == "failed" })")
        let roots = Dictionary(contents.filter { $0.parentUUID == nil }.map { (($0.filename as NSString).lastPathComponent, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(roots.keys) == Set(expected.keys))
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            let root = try #require(roots[name])
            let got = try Self.listing(of: root.duplicateOf ?? root.uuid, in: outcome.db)
            #expect(got.executable == want.executable, "\(name)")
            #expect(got.sections.sorted() == want.sections.sorted(), "\(name)")
            #expect(got.imports == want.imports, "\(name)")
            #expect(got.exports == want.exports, "\(name)")
            #expect(got.children == want.children, "\(name)")
        }
        // The samples hold what the comparison is for: x86, x64 and ARM64 PE files, imports by
        // ordinal, exports (one by ordinal only), an overlay, manifests, ELF of both byte orders, fat Mach-O.
        let machines = Set(try outcome.strings("SELECT DISTINCT machine FROM executables WHERE machine IS NOT NULL"))
        #expect(machines.isSuperset(of: ["IMAGE_FILE_MACHINE_I386", "IMAGE_FILE_MACHINE_AMD64", "IMAGE_FILE_MACHINE_ARM64",
                                          "Advanced Micro Devices X86-64", "AArch64", "PowerPC64", "X86_64", "ARM64"]), "\(machines)")
        #expect(try outcome.ints("SELECT count(*) FROM executable_imports WHERE ordinal IS NOT NULL").first ?? 0 >= 4)
        #expect(try outcome.ints("SELECT count(*) FROM executable_exports WHERE symbol IS NULL AND ordinal IS NOT NULL").first ?? 0 >= 1)
        #expect(try outcome.ints("SELECT count(*) FROM executables WHERE overlay_size > 0").first ?? 0 >= 1)
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_content WHERE filename LIKE 'resources/RT_MANIFEST/%'").first ?? 0 >= 1)
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_content WHERE filename LIKE 'fat/%'").first ?? 0 == 2)
        #expect(Set(try outcome.strings("SELECT DISTINCT endian FROM executables WHERE format = 'ELF'")) == ["little", "big"])
    }

    /// Hostile headers: every count at its largest, offsets past the end and pointing back at
    /// themselves, a resource directory that is its own subdirectory, truncations. Every content is
    /// recorded, none fails (what could be read is kept), and the rows stay within the documented bounds.
    @Test(arguments: EngineKind.allCases)
    func hostileHeadersAreReadWithinBoundsAndNeverFailTheRun(engine: EngineKind) throws {
        let (folder, _) = try Self.samples.get()
        let launcher = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).sorted().first { $0.hasPrefix("pe") && $0.hasSuffix("cli-64.exe") })
        let pe = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(launcher)")))
        let elf = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/elf-ls")))
        func u32(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24 }
        func put(_ b: inout [UInt8], _ at: Int, _ value: UInt64, _ width: Int) { for i in 0..<width { b[at + i] = UInt8((value >> (8 * UInt64(i))) & 0xff) } }
        let lfanew = u32(pe, 0x3c)
        let directories = lfanew + 24 + 112
        var inputs: [(name: String, bytes: [UInt8])] = []
        var manySections = pe; put(&manySections, lfanew + 6, 0xffff, 2); inputs.append(("sections.exe", manySections))
        var importLoop = pe; put(&importLoop, directories + 8, UInt64(lfanew), 4); put(&importLoop, directories + 12, 0xffff_ffff, 4)
        inputs.append(("imports.exe", importLoop))
        var exportsHuge = pe; put(&exportsHuge, directories, 0x1000, 4); put(&exportsHuge, directories + 4, 0xffff_ffff, 4)
        inputs.append(("exports.exe", exportsHuge))
        // A resource directory whose one entry is a subdirectory at offset 0: itself, forever.
        var resources = pe
        let rsrc = resources.count
        resources += [UInt8](repeating: 0, count: 16) + [3, 0, 0, 0, 0, 0, 0, 0x80]
        resources[rsrc + 14] = 1
        put(&resources, directories + 16, UInt64(rsrc), 4); put(&resources, directories + 20, 24, 4)
        inputs.append(("resources.exe", resources))
        var lfanewFar = pe; put(&lfanewFar, 0x3c, 0xffff_fff0, 4); inputs.append(("lfanew.exe", lfanewFar))
        inputs.append(("truncated.exe", Array(pe.prefix(lfanew + 30))))
        var elfSections = elf; put(&elfSections, 60, 0xffff, 2); inputs.append(("sections.elf", elfSections))
        var elfOffset = elf; put(&elfOffset, 40, 0xffff_ffff_ffff_fff0, 8); inputs.append(("shoff.elf", elfOffset))
        var elfZero = elf; put(&elfZero, 60, 0, 2); inputs.append(("extended.elf", elfZero))
        inputs.append(("header.elf", Array(elf.prefix(20))))
        inputs.append(("fat.class", [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 5] + [UInt8](repeating: 0xff, count: 200)))
        inputs.append(("macho", [0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1, 3, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff] + [UInt8](repeating: 0xff, count: 100)))

        let outcome = try Harness.run(modulesDirectory: try BuiltModules.folder(["executable"]), input: try Harness.inputs(inputs), engine: engine)
        let roots = try outcome.contents().filter { $0.parentUUID == nil }
        #expect(roots.count == inputs.count)
        #expect(roots.allSatisfy { $0.status == "success" }, "\(roots.filter { $0.status != "success" })")
        #expect(try outcome.ints("SELECT count(*) FROM executable_sections").first ?? 0 <= 0x800 * 3 + 65536 * 3)
        #expect(try outcome.ints("SELECT count(*) FROM executable_imports").first ?? 0 <= 0x2000 * 12)
        // The resource loop emitted nothing and ended: a directory at depth three is not followed.
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_content WHERE filename LIKE 'resources/%'").first ?? 0 == 0)
    }
}
