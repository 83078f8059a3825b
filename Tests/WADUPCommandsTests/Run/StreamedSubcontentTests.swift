import Foundation
import GRDB
import Testing
import WADUPCommands
import WADUPTestSupport

/// Sub-contents larger than a module's memory, end to end through the real `wadup` binary and the
/// standard `archive` and `zip_parser` modules: streamed to an unlinked temporary file, with their
/// exact size and sha256, the holes of sparse entries never written, peak RSS under 1 GiB. The
/// inputs are sparse files: no test fills GBs of disk.
@Suite(.serialized)
struct StreamedSubcontentTests {
    /// Runs `wadup` over `input` with `archive` and `zip_parser`, a temporary folder of its own (left
    /// empty afterwards), and returns the database and the run's peak RSS in KiB.
    static func run(input: String, extra: [String] = []) throws -> (db: DatabaseQueue, peakKiB: Int, temp: String) {
        let modules = try BuiltModules.folder(["archive", "zip_parser"])
        let out = Harness.temporaryDirectory() + "/out.db"
        let temp = Harness.temporaryDirectory()
        let peak = try python(
            """
            import resource, subprocess, sys
            done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if done.returncode != 0: sys.exit(done.stderr.decode())
            print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """, [Harness.wadupBinary, "--modules", modules, "--input", input, "--output", out, "--temp-dir", temp] + extra)
        let kib = try #require(Int(peak.trimmingCharacters(in: .whitespacesAndNewlines)))
        return (try DatabaseQueue(path: out), kib, temp)
    }

    static func sha256(ofFile path: String) throws -> String {
        try python("import hashlib, sys; print(hashlib.file_digest(open(sys.argv[1], 'rb'), 'sha256').hexdigest())", [path])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A `.tar.zst` of a 4.56 GiB ZIP64 archive (a hole between its two entries) whose last entry
    /// starts past 4 GiB: `archive` streams the 4.9 GB entry, `zip_parser` finds the last entry
    /// in it and emits its bytes.
    @Test func aZip64ArchiveOfFourPointSixGiBInATarZstIsStreamedAndItsLastEntryFound() throws {
        let dir = Harness.temporaryDirectory()
        let work = Harness.temporaryDirectory()
        let zip = work + "/big.zip"
        // zipfile writes each entry at `start_dir`: moving it leaves a hole (no disk) before the last.
        _ = try python(
            """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", allowZip64=True) as z:
                z.writestr(zipfile.ZipInfo("first.txt"), b"the first entry\\n" * 10)
                z.start_dir = 4_900_000_000
                z.writestr(zipfile.ZipInfo("last.txt"), b"found past four GiB\\n" * 50, compress_type=zipfile.ZIP_STORED)
            """, [zip])
        let offsets = try python("import sys, zipfile; print(max(i.header_offset for i in zipfile.ZipFile(sys.argv[1]).infolist()))", [zip])
        #expect(Int64(offsets.trimmingCharacters(in: .whitespacesAndNewlines)) == 4_900_000_000)
        let made = try shell("tar -cf - -C \(work) big.zip | zstd -q -1 -T2 -o \(dir)/big.tar.zst", in: work)
        try #require(made.succeeded, "\(made.output)")
        let zipSize = try #require(try FileManager.default.attributesOfItem(atPath: zip)[.size] as? Int)
        let zipDigest = try Self.sha256(ofFile: zip)
        try FileManager.default.removeItem(atPath: work)

        let (db, peak, temp) = try Self.run(input: dir)
        let rows = try db.read { db in
            try Row.fetchAll(db, sql: "SELECT filename, status, size, sha256, depth FROM __wadup_content ORDER BY depth, filename")
        }
        let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0["filename"] as String, $0) })
        let child = try #require(byName["big.zip"])
        #expect(child["status"] as String? == "success")
        #expect(child["size"] as Int? == zipSize)
        #expect(child["sha256"] as String? == zipDigest)
        let last = try #require(byName["last.txt"])
        #expect(last["sha256"] as String? == sha256Hex(Array(String(repeating: "found past four GiB\n", count: 50).utf8)))
        #expect(byName["first.txt"]?["sha256"] as String? == sha256Hex(Array(String(repeating: "the first entry\n", count: 10).utf8)))
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT emitted FROM archive_entries WHERE path = 'big.zip'") } == 1)
        #expect(peak < 1 << 20, "peak RSS \(peak) KiB")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp).isEmpty)
    }

    /// A `.tar.gz` of a 1.5 GB GNU sparse file (`tar --sparse`): streamed with its holes skipped,
    /// exact size and sha256 (computed by Python on the sparse file).
    @Test func aGNUSparseFileOfOnePointFiveGBInATarGzHasItsExactSizeAndDigest() throws {
        let dir = Harness.temporaryDirectory()
        let work = Harness.temporaryDirectory()
        let image = work + "/disk.img"
        _ = try python(
            """
            import os, sys
            with open(sys.argv[1], "wb") as f:
                f.truncate(1_500_000_000)
                for at in (0, 3 << 20, 700_000_000, 1_499_000_000):
                    f.seek(at)
                    f.write(os.urandom(1 << 20) if at == 0 else b"data at %d\\n" % at * 100)
            """, [image])
        let made = try shell("tar --sparse -czf \(dir)/disk.tar.gz -C \(work) disk.img", in: work)
        try #require(made.succeeded, "\(made.output)")
        let digest = try Self.sha256(ofFile: image)
        try FileManager.default.removeItem(atPath: work)

        let (db, peak, temp) = try Self.run(input: dir)
        let child = try #require(try db.read { try Row.fetchOne($0, sql: "SELECT status, size, sha256 FROM __wadup_content WHERE filename = 'disk.img'") })
        #expect(child["status"] as String? == "success")
        #expect(child["size"] as Int? == 1_500_000_000)
        #expect(child["sha256"] as String? == digest)
        let entry = try #require(try db.read { try Row.fetchOne($0, sql: "SELECT size, emitted, reason FROM archive_entries WHERE path = 'disk.img'") })
        #expect(entry["emitted"] as Int? == 1)
        #expect(entry["size"] as Int? == 1_500_000_000)
        #expect(entry["reason"] as String? == nil)
        #expect(peak < 1 << 20, "peak RSS \(peak) KiB")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp).isEmpty)
    }

    /// The same in an uncompressed `.tar` (its data blocks are in the content, its holes are not):
    /// the entry, with a trailing hole, has its exact size and sha256.
    @Test func aGNUSparseFileInAPlainTarHasItsExactSizeAndDigest() throws {
        let dir = Harness.temporaryDirectory()
        let work = Harness.temporaryDirectory()
        let image = work + "/small.img"
        _ = try python(
            """
            import sys
            with open(sys.argv[1], "wb") as f:
                f.truncate(40_000_000)
                for at in (5_000_000, 20_000_000):
                    f.seek(at)
                    f.write(b"block at %d\\n" % at * 1000)
            """, [image])
        let made = try shell("tar --sparse -cf \(dir)/small.tar -C \(work) small.img", in: work)
        try #require(made.succeeded, "\(made.output)")
        let digest = try Self.sha256(ofFile: image)
        let (db, _, temp) = try Self.run(input: dir)
        let child = try #require(try db.read { try Row.fetchOne($0, sql: "SELECT status, size, sha256 FROM __wadup_content WHERE filename = 'small.img'") })
        #expect(child["status"] as String? == "success")
        #expect(child["size"] as Int? == 40_000_000)
        #expect(child["sha256"] as String? == digest)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp).isEmpty)
    }

    /// `--temp-dir` must be a writable folder: anything else is exit 2 naming it.
    @Test(arguments: ["/nonexistent/wadup-temp", "/etc/hostname"])
    func aTemporaryFolderThatIsNotAWritableFolderIsRefusedAtStart(folder: String) throws {
        let input = try Harness.inputs([("a", [1])])
        let out = Harness.temporaryDirectory() + "/out.db"
        let exit = try Command.wadup(["--input", input, "--output", out, "--temp-dir", folder]).run()
        #expect(exit.status == 2)
        #expect(exit.stderr.contains("--temp-dir \(folder)"), "\(exit.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
