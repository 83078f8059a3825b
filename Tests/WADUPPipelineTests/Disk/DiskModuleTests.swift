import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPPipeline
import WADUPTestSupport

/// The standard `disk` module (The Sleuth Kit 4.11.1 and libyal compiled into the sandbox) through a
/// whole run on wasmtime, against The Sleuth Kit run natively. The corpus, made by Debian's tools
/// (Tests/Support/disk_expected.py --make): FAT12/16/32 (mkfs.vfat, mcopy, mdel), exFAT, ext2/3/4
/// (mke2fs -d, debugfs rm), NTFS (mkntfs, ntfscp, libntfs-3g: an alternate data stream, deleted
/// files), ISO 9660 (xorriso), an MBR disk holding FAT16, ext4 and NTFS (sfdisk), a sparse GPT disk
/// with a partition past 4 GiB (sgdisk), the MBR disk as E01 (ewfacquire), VMDK, VHD, VHDX and
/// QCOW2 (qemu-img), a truncated ext4, and APFS containers made by macOS (dissect.apfs 1.1's test
/// data). What TSK says natively: `mmls`, `fsstat`, `fls -r -p -m /`, `icat` of every file (on a
/// container's raw export: `ewfexport`, `qemu-img`); for APFS, which the module reads with
/// libfsapfs, what dissect.apfs (an independent pure-Python reader) says, in the same shape.
@Suite(.serialized)
struct DiskModuleTests {
    struct Expected: Decodable, Sendable {
        struct Volume: Decodable, Sendable {
            let scheme: String
            let index: Int
            let start: Int
            let length: Int
            let type: String
            let description: String
            let volume: String
        }
        struct Entry: Decodable, Sendable {
            let path: String
            let inode: String
            let mode: String
            let uid: Int
            let gid: Int
            let size: Int
            let atime: Int
            let mtime: Int
            let ctime: Int
            let crtime: Int
            let deleted: Bool
            let realloc: Bool
        }
        struct File: Decodable, Sendable {
            let sha256: String
            let icat_ok: Bool
            /// APFS: a compression libfsapfs 20201107 does not decode ("lzfse", "lzbitmap").
            let undecoded: String?
        }
        struct FileSystem: Decodable, Sendable {
            let volume: String
            let offset: Int
            let type: String?
            let label: String?
            let uuid: String?
            let block_size: Int?
            let blocks: Int?
            let entries: [Entry]?
            let files: [String: File]?
            let timeline: [String]?
            let encryption: String?
            let error: String?
        }
        struct Container: Decodable, Sendable {
            let format: String
            let media_size: Int
            let stored_md5: String?
            let stored_sha1: String?
        }
        let media_size: Int
        let volumes: [Volume]
        let filesystems: [FileSystem]
        let container: Container?
    }

    static let script = Harness.path("Tests/Support/disk_expected.py")
    static let corpus = Result(catching: { try ReaderCorpus<Expected>(script: script, modules: ["disk"]) })

    static var files: [String] { ((try? corpus.get().files) ?? []).filter { $0 != "iso9660.iso" } }
    static var complete: [String] { files.filter { !$0.contains("truncated") } }
    static var containers: [String] { files.filter { (try? corpus.get().expected[$0]?.container) != nil } }

    /// An fls -m line's fields from a row of fs_entries (the name as fls prints it).
    static func flsLine(_ row: Row) -> String {
        let path: String = row["path"]
        let link: String? = row["link"]
        let deleted: Int = row["deleted"]
        let allocated: Int = row["allocated"]
        let name = path + (link.map { " -> \($0)" } ?? "") + (deleted == 1 ? (allocated == 1 ? " (deleted-realloc)" : " (deleted)") : "")
        let fields: [String] = [name, row["inode"], row["mode"]]
        let numbers = ["uid", "gid", "size", "atime", "mtime", "ctime", "crtime"].map { String((row[$0] as Int?) ?? 0) }
        return (fields + numbers).joined(separator: "|")
    }

    static func flsLine(_ e: Expected.Entry) -> String {
        let name = e.path + (e.deleted ? (e.realloc ? " (deleted-realloc)" : " (deleted)") : "")
        return ([name, e.inode, e.mode] + [e.uid, e.gid, e.size, e.atime, e.mtime, e.ctime, e.crtime].map(String.init)).joined(separator: "|")
    }

    @Test func everyImageIsReadAndNoContentFails() throws {
        let corpus = try Self.corpus.get()
        let db = try DatabaseQueue(path: corpus.output)
        #expect(try db.strings("SELECT filename || ': ' || coalesce(error_message, '') FROM __wadup_content WHERE status = 'failed'") == [])
        #expect(corpus.files.count >= 18)
        let read = try db.strings("SELECT DISTINCT c.filename FROM fs_info f JOIN __wadup_content c ON c.uuid = f.content_uuid WHERE c.depth = 0 ORDER BY 1")
        #expect(read == corpus.files.filter { $0 != "iso9660.iso" })
        // A bare .iso is archive's (disk is not offered it); the same bytes as cdrom.img are read.
    }

    @Test(arguments: files)
    func theVolumesAreWhatMmlsLists(file: String) throws {
        let (db, uuid, expected) = try Self.corpus.get().root(file)
        let rows = try db.strings("""
            SELECT scheme || '|' || "index" || '|' || start || '|' || length || '|' || type || '|' || coalesce(description, '') || '|' || volume
            FROM disk_volumes WHERE content_uuid = ?
            """, [uuid])
        let native = expected.volumes.map { "\($0.scheme)|\($0.index)|\($0.start)|\($0.length)|\($0.type)|\($0.description)|\($0.volume)" }
        #expect(rows.sorted() == native.sorted())
    }

    @Test(arguments: files)
    func eachFileSystemIsWhatFsstatSays(file: String) throws {
        let (db, uuid, expected) = try Self.corpus.get().root(file)
        let rows = try db.strings("""
            SELECT volume || '|' || "offset" || '|' || coalesce(type, '') || '|' || coalesce(label, '') || '|' || coalesce(uuid, '')
                || '|' || coalesce(block_size, 0) || '|' || coalesce(blocks, 0) || '|' || coalesce(encryption, '')
            FROM fs_info WHERE content_uuid = ?
            """, [uuid])
        let native = expected.filesystems.map {
            "\($0.volume)|\($0.offset)|\($0.type ?? "")|\($0.label ?? "")|\($0.uuid ?? "")|\($0.block_size ?? 0)|\($0.blocks ?? 0)|\($0.encryption ?? "")"
        }
        #expect(rows.sorted() == native.sorted())
    }

    @Test(arguments: files)
    func everyEntryIsTheLineFlsPrints(file: String) throws {
        let (db, uuid, expected) = try Self.corpus.get().root(file)
        for fs in expected.filesystems {
            let rows = try db.read { try Row.fetchAll($0, sql: "SELECT * FROM fs_entries WHERE content_uuid = ? AND volume = ?", arguments: [uuid, fs.volume]) }
            let native = (fs.entries ?? []).map(Self.flsLine)
            #expect(rows.map(Self.flsLine).sorted() == native.sorted(), "\(file) \(fs.volume)")
        }
    }

    @Test(arguments: files)
    func everyEmittedFileHasTheBytesIcatWrites(file: String) throws {
        let (db, uuid, expected) = try Self.corpus.get().root(file)
        var compared = 0
        for fs in expected.filesystems {
            let rows = try db.read {
                try Row.fetchAll($0, sql: "SELECT path, inode, emitted, reason FROM fs_entries WHERE content_uuid = ? AND volume = ?", arguments: [uuid, fs.volume])
            }
            for row in rows {
                let path: String = row["path"], inode: String = row["inode"], emitted: Int = row["emitted"]
                guard let native = fs.files?["\(path) \(inode)"] else { continue }
                let name = (fs.volume.isEmpty ? "" : fs.volume + "/") + String(path.dropFirst())
                if path.hasSuffix(" ($FILE_NAME)") || path == "/$BadClus:$Bad" {
                    #expect(emitted == 0, "\(file) \(path)")
                } else if let method = native.undecoded {
                    // APFS: libfsapfs 20201107 refuses the compression; the entry says so, nothing is emitted.
                    #expect(emitted == 0, "\(file) \(path)")
                    #expect(((row["reason"] as String?) ?? "").contains("unsupported compression method"), "\(file) \(path) \(method)")
                } else if native.icat_ok {
                    #expect(emitted == 1, "\(file) \(path): \((row["reason"] as String?) ?? "")")
                    let hashes = try db.strings("SELECT sha256 FROM __wadup_content WHERE parent_uuid = ? AND filename = ?", [uuid, name])
                    #expect(hashes.contains(native.sha256), "\(file) \(path)")
                    compared += 1
                } else {
                    // icat stopped on this one (a truncated image): the module records why, emits nothing.
                    #expect(emitted == 0, "\(file) \(path)")
                }
            }
        }
        if expected.filesystems.contains(where: { ($0.files ?? [:]).values.contains { $0.icat_ok } }) { #expect(compared > 0, "\(file)") }
    }

    @Test(arguments: containers)
    func aContainerIsDecodedInsideTheModuleAndItsStoredHashesRecorded(file: String) throws {
        let (db, uuid, expected) = try Self.corpus.get().root(file)
        let container = try #require(expected.container)
        let rows = try db.strings("""
            SELECT format || '|' || media_size || '|' || coalesce(stored_md5, '') || '|' || coalesce(stored_sha1, '') || '|' || coalesce(problem, '')
            FROM disk_images WHERE content_uuid = ?
            """, [uuid])
        #expect(rows == ["\(container.format)|\(container.media_size)|\(container.stored_md5 ?? "")|\(container.stored_sha1 ?? "")|"])
        // The disk is never a content of its own: only the files in it are emitted.
        #expect(try db.strings("SELECT filename FROM __wadup_content WHERE parent_uuid = ? AND size = ?", [uuid, container.media_size]) == [])
    }

    @Test func anEncryptedVolumeIsRecordedAsSuchNotAFailure() throws {
        let (db, uuid, expected) = try Self.corpus.get().root("luks.img")
        #expect(expected.filesystems.first?.encryption == "LUKS")
        #expect(try db.strings("SELECT encryption || ': ' || problem FROM fs_info WHERE content_uuid = ?", [uuid]) == ["LUKS: encrypted: not read"])
        #expect(try db.strings("SELECT status FROM __wadup_content WHERE uuid = ?", [uuid]) == ["success"])
    }

    /// APFS through libfsapfs: every container macOS made is read, bare or in a GPT partition (its
    /// volumes, entries and files are compared above); the encrypted volume is recorded as encrypted, not read and not a failure;
    /// the corrupt container (its newest checkpoint's superblock fails its checksum, which libfsapfs
    /// 20201107 does not step back from) is one fs_info row with the reason, and the content succeeds.
    @Test func anAPFSContainerIsReadWithLibfsapfs() throws {
        let corpus = try Self.corpus.get()
        let apfs = corpus.files.filter { $0.hasPrefix("apfs-") }
        #expect(apfs.count == 8)
        for file in apfs {
            let (db, uuid, _) = try corpus.root(file)
            #expect(try db.strings("SELECT status FROM __wadup_content WHERE uuid = ?", [uuid]) == ["success"], "\(file)")
        }
        let (db, uuid, expected) = try corpus.root("apfs-encrypted.bin")
        #expect(expected.filesystems.map(\.encryption) == ["APFS"])
        #expect(try db.strings("SELECT volume || ': ' || encryption || ': ' || problem FROM fs_info WHERE content_uuid = ?", [uuid]) == ["v1: APFS: encrypted: not read"])
        #expect(try db.strings("SELECT count(*) FROM fs_entries WHERE content_uuid = ?", [uuid]) == ["0"])

        let corrupt = try corpus.root("apfs-corrupt.bin")
        #expect(corrupt.expected.filesystems.first?.error != nil)
        #expect(try corrupt.db.strings("SELECT type || ': ' || problem FROM fs_info WHERE content_uuid = ?", [corrupt.uuid]).map { $0.contains("apfs: the APFS container could not be opened") } == [true])

        // In a GPT disk's second partition, the container's volume is p2/v1 and its files p2/v1/PATH.
        let gpt = try corpus.root("gpt-apfs.img")
        #expect(try gpt.db.strings("SELECT volume || '|' || type || '|' || label FROM fs_info WHERE content_uuid = ? AND type = 'apfs'", [gpt.uuid]) == ["p2/v1|apfs|Case Insensitive"])
        #expect(try gpt.db.strings("SELECT filename FROM __wadup_content WHERE parent_uuid = ? AND filename = 'p2/v1/dir/file'", [gpt.uuid]) == ["p2/v1/dir/file"])

        // The volume with snapshots: its live tree (1028 entries), not the oldest snapshot's.
        let snapshot = try corpus.root("apfs-snapshot.bin")
        let live = snapshot.expected.filesystems.first?.entries?.count ?? 0
        #expect(live > 1000)
        #expect(try snapshot.db.strings("SELECT count(*) FROM fs_entries WHERE content_uuid = ?", [snapshot.uuid]) == [String(live)])
    }

    @Test func aPartitionPast4GiBIsReadAtItsOffset() throws {
        let (db, uuid, expected) = try Self.corpus.get().root("gpt.img")
        let far = try #require(expected.volumes.first { $0.start > Int(UInt32.max) })
        #expect(try db.strings("SELECT type FROM fs_info WHERE content_uuid = ? AND \"offset\" = ?", [uuid, far.start]) == ["fat32"])
        #expect(try db.strings("SELECT count(*) FROM fs_entries WHERE content_uuid = ? AND volume = ? AND emitted = 1", [uuid, far.volume]).first != "0")
    }

    /// The report draws mbr.img's file systems as folder trees (headless Chromium, as
    /// AnalystViewTests drives it): its ext4 partition's folders and files, the deleted one struck through.
    @Test func theReportShowsAFileSystemAsAFolderTree() throws {
        let corpus = try Self.corpus.get()
        let dir = Harness.temporaryDirectory()
        #expect(try Command.wadup(["report", corpus.output, "--output", dir + "/report.html"]).run().status == 0)
        let spec = #"{"expand": ["mbr.img"], "fs": ["p2", "folder"]}"#
        let output = try pythonFile(Harness.path("Tests/Support/report_browser.py"), [dir + "/report.html", dir + "/report.png", spec])
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let lines = try #require(seen["fs"] as? [[String: Any]])
        let names = lines.compactMap { ($0["text"] as? String)?.split(separator: " ").first.map(String.init) }
        #expect(names.starts(with: ["p1", "p2", "folder", "nested", "hardlink-to-readme.txt"]), "\(names)")
        #expect(names.contains("data.bin") && names.contains("p3"))
        let deleted = lines.filter { $0["deleted"] as? Bool == true }.compactMap { $0["text"] as? String }
        #expect(deleted.count == 1 && deleted[0].hasPrefix("deleted.txt deleted"), "\(deleted)")
    }

    /// `wadup timeline` over the run: for every image and volume, its body-file lines (the image's
    /// path and volume taken off the names) read by Debian's `mactime -b -d -y` are the lines
    /// `mactime` prints for `fls -r -p -m /` on that volume.
    @Test func theTimelineIsWhatMactimeMakesOfFls() throws {
        let corpus = try Self.corpus.get()
        let dir = Harness.temporaryDirectory()
        #expect(try Command.wadup(["timeline", corpus.output, "--format", "bodyfile", "--output", dir + "/body.txt"]).run().status == 0)
        let body = try String(contentsOfFile: dir + "/body.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        var compared = 0
        for file in Self.files {
            guard let expected = corpus.expected[file] else { continue }
            for fs in expected.filesystems {
                guard let timeline = fs.timeline, !(fs.entries ?? []).isEmpty else { continue }
                let prefix = "0|" + file + (fs.volume.isEmpty ? "" : "/" + fs.volume)
                let lines = body.filter { $0.hasPrefix(prefix + "/") }.map { "0|" + $0.dropFirst(prefix.count) }
                let volumeBody = dir + "/\(file)-\(fs.volume.replacingOccurrences(of: "/", with: "-")).body"  // APFS volumes: p2/v1
                try (lines.joined(separator: "\n") + "\n").write(toFile: volumeBody, atomically: true, encoding: .utf8)
                let mactime = try Command("/usr/bin/mactime", ["-b", volumeBody, "-d", "-y"]).adding(["TZ": "UTC"]).output()
                #expect(mactime.split(separator: "\n").map(String.init) == timeline, "\(file) \(fs.volume)")
                compared += 1
            }
        }
        #expect(compared >= 20)
    }
}
