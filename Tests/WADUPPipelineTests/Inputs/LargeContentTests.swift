import Foundation
import Testing
import WADUPCore
import WADUPTestSupport

/// Contents past 4 GiB (disk images): exact sizes, reads and slices through the 64-bit ABI, and
/// bounded resident memory while hashing. The inputs are sparse files: no disk is filled.
@Suite(.serialized)
struct LargeContentTests {
    static let size: Int64 = 5_000_000_000
    static let markerOffset: Int64 = 4_500_000_000
    static let marker = Array("past four GiB: 0123456789".utf8)

    /// A sparse file of ``size`` bytes holding ``marker`` at ``markerOffset``, zeros elsewhere.
    static func sparseInput() throws -> String {
        let dir = Harness.temporaryDirectory()
        let path = dir + "/disk.img"
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        try #require(ftruncate(fd, off_t(size)) == 0)
        try #require(marker.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(markerOffset)) } == marker.count)
        return dir
    }

    /// Reads the marker with `read_content64` and emits it as bytes ("read"), emits it as a slice
    /// with `emit_subcontent_slice64` ("slice"), and records what the 32-bit `get_content_size` says.
    static var probe: String {
        let offset = markerOffset
        let count = marker.count
        let columns = #"[{"name":"size32","data_type":"Int64"},{"name":"size64","data_type":"Int64"}]"#
        return """
            (module
              (import "env" "get_content_size" (func $size (result i32)))
              (import "env" "get_content_size64" (func $size64 (result i64)))
              (import "env" "read_content64" (func $read64 (param i64 i32 i32) (result i32)))
              (import "env" "emit_subcontent_bytes" (func $emit (param i32 i32 i32 i32) (result i32)))
              (import "env" "emit_subcontent_slice64" (func $slice64 (param i64 i64 i32 i32) (result i32)))
              (import "env" "define_table" (func $define (param i32 i32 i32 i32) (result i32)))
              (import "env" "insert_row" (func $insert (param i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 1000) "read")
              (data (i32.const 1010) "slice")
              (data (i32.const 1020) "sizes")
              (data (i32.const 1030) "\(columns.replacingOccurrences(of: "\"", with: "\\\""))")
              \(GuestModule.decimalDigitsFunction)
              (func (export "process") (result i32)
                (local $p i32) (local $table i32)
                (if (i64.lt_s (call $size64) (i64.const \(offset + Int64(count)))) (then (return (i32.const 0))))
                (if (call $read64 (i64.const \(offset)) (i32.const \(count)) (i32.const 0)) (then (return (i32.const 1))))
                (if (call $emit (i32.const 0) (i32.const \(count)) (i32.const 1000) (i32.const 4)) (then (return (i32.const 2))))
                (if (call $slice64 (i64.const \(offset)) (i64.const \(count)) (i32.const 1010) (i32.const 5)) (then (return (i32.const 3))))
                (local.set $table (call $define (i32.const 1020) (i32.const 5) (i32.const 1030) (i32.const \(columns.utf8.count))))
                ;; the row [{"Int64":size32},{"Int64":size64}] built at 2000
                (local.set $p (i32.const 2000))
                (i32.store8 (local.get $p) (i32.const 0x5b))
                (local.set $p (call $put (i32.add (local.get $p) (i32.const 1)) (i64.extend_i32_u (call $size))))
                (i32.store8 (local.get $p) (i32.const 0x2c))
                (local.set $p (call $put (i32.add (local.get $p) (i32.const 1)) (call $size64)))
                (i32.store8 (local.get $p) (i32.const 0x5d))
                (if (call $insert (local.get $table) (i32.const 2000) (i32.sub (i32.add (local.get $p) (i32.const 1)) (i32.const 2000))) (then (return (i32.const 4))))
                (i32.const 0))
              (func $put (param $p i32) (param $v i64) (result i32)
                ;; writes {"Int64":v} at p, returns the position after it
                (i32.store8 (local.get $p) (i32.const 0x7b))
                (i32.store8 (i32.add (local.get $p) (i32.const 1)) (i32.const 0x22))
                (i32.store8 (i32.add (local.get $p) (i32.const 2)) (i32.const 0x49))
                (i32.store8 (i32.add (local.get $p) (i32.const 3)) (i32.const 0x6e))
                (i32.store8 (i32.add (local.get $p) (i32.const 4)) (i32.const 0x74))
                (i32.store8 (i32.add (local.get $p) (i32.const 5)) (i32.const 0x36))
                (i32.store8 (i32.add (local.get $p) (i32.const 6)) (i32.const 0x34))
                (i32.store8 (i32.add (local.get $p) (i32.const 7)) (i32.const 0x22))
                (i32.store8 (i32.add (local.get $p) (i32.const 8)) (i32.const 0x3a))
                (local.set $p (i32.add (local.get $p) (i32.const 9)))
                (local.set $p (i32.add (local.get $p) (call $digits (local.get $p) (local.get $v))))
                (i32.store8 (local.get $p) (i32.const 0x7d))
                (i32.add (local.get $p) (i32.const 1)))
            )
            """
    }

    @Test(arguments: EngineKind.allCases)
    func aContentPastFourGiBHasItsExactSizeAndIsReadAndSlicedExactly(engine: EngineKind) throws {
        let input = try Self.sparseInput()
        let modules = try BuiltModules.folder(["byte_counter"])
        try GuestModule.write(Self.probe, to: modules + "/probe.wasm")
        let outcome = try Harness.run(modulesDirectory: modules, input: input, limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        let onDisk = try FileManager.default.attributesOfItem(atPath: input + "/disk.img")[.size] as? Int
        #expect(onDisk == Int(Self.size))
        #expect(try outcome.ints("SELECT size FROM file_sizes WHERE filename = 'disk.img'") == [Int(Self.size)])
        #expect(try outcome.ints("SELECT size FROM __wadup_content WHERE depth = 0") == [Int(Self.size)])
        // The 32-bit size saturates, as documented; the 64-bit size is exact.
        #expect(try outcome.ints("SELECT size32 FROM sizes") == [Int(UInt32.max)])
        #expect(try outcome.ints("SELECT size64 FROM sizes") == [Int(Self.size)])
        let marker = sha256Hex(Self.marker)
        #expect(try outcome.strings("SELECT filename || ' ' || sha256 FROM __wadup_content WHERE depth = 1 ORDER BY filename") == ["read \(marker)", "slice \(marker)"])
    }

    /// Hashing (and processing) a 5 GB input keeps little of it resident: the mapping's pages are
    /// given back behind the hash. Peak RSS read by Python's `resource` for the real binary.
    @Test func hashingAFiveGBInputKeepsResidentMemoryBounded() throws {
        let input = try Self.sparseInput()
        let modules = try BuiltModules.folder(["byte_counter"])
        let out = Harness.temporaryDirectory() + "/out.db"
        let peak = try python(
            """
            import resource, subprocess, sys
            subprocess.run(sys.argv[1:], check=True, stderr=subprocess.DEVNULL)
            print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """, [Harness.wadupBinary, "--modules", modules, "--input", input, "--output", out])
        let kib = try #require(Int(peak.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kib < 256 << 10, "peak RSS \(kib) KiB for a 5 GB input")
    }

    /// A ZIP64 archive whose entries start past 4 GiB (a sparse hole before them, as in a disk
    /// image holding an archive): written by Python's zipfile at absolute offsets, read back by
    /// Python's zipfile (names, sizes, sha256), and by `zip_parser` through the 64-bit ABI.
    @Test(arguments: EngineKind.allCases)
    func aZIP64ArchiveWhoseEntriesStartPastFourGiBIsReadExactly(engine: EngineKind) throws {
        let dir = Harness.temporaryDirectory()
        let archive = dir + "/image.zip"
        _ = try python(
            """
            import sys, zipfile
            with open(sys.argv[1], "wb") as f:
                f.seek(int(sys.argv[2]))
                with zipfile.ZipFile(f, "w", allowZip64=True) as z:
                    z.writestr(zipfile.ZipInfo("stored.txt"), b"stored past four GiB\\n" * 100, compress_type=zipfile.ZIP_STORED)
                    z.writestr(zipfile.ZipInfo("deflated.txt"), b"deflated past four GiB\\n" * 1000, compress_type=zipfile.ZIP_DEFLATED)
            """, [archive, String(Self.markerOffset)])
        let expected = try Fixtures.zipfileEntries(archive).filter { !$0.isEmpty }.sorted()
        let sizes = try python(
            """
            import sys, zipfile
            for i in sorted(zipfile.ZipFile(sys.argv[1]).infolist(), key=lambda i: i.filename):
                print(i.filename, i.compress_type, i.compress_size, i.file_size, i.header_offset)
            """, [archive]
        ).split(separator: "\n").map(String.init)
        #expect(expected.count == 2)
        #expect(sizes.allSatisfy { Int64($0.split(separator: " ").last ?? "0") ?? 0 > Int64(UInt32.max) })

        let outcome = try Harness.run(
            modulesDirectory: try BuiltModules.folder(["zip_parser"]), input: dir, limits: RunLimits(maxRecursionDepth: 1), engine: engine)
        let contents = try outcome.contents()
        let root = try #require(contents.first { $0.depth == 0 })
        #expect(Fixtures.children(of: root, in: contents) == expected)
        #expect(
            try outcome.strings("SELECT path || ' ' || method || ' ' || compressed_size || ' ' || size FROM zip_entries ORDER BY path")
                == sizes.map { $0.split(separator: " ").dropLast().joined(separator: " ") })
        #expect(try outcome.ints("SELECT crc32_ok FROM zip_entries") == [1, 1])
    }
}
