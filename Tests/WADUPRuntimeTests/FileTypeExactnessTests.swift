import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPTestSupport

/// `file_type` gives both of its answers from one scan of the soft magic (the pinned libmagic with
/// Guests/Formats/file_type/patches/share-scans.patch): its two columns must still be exactly what
/// `file --mime-type -b` and `file -b` print, both Debian's `file` and the unpatched one built from
/// the module's own source (.build/formats/bin/file with .build/formats/magic.mgc), on thousands of
/// real files of this machine and on every file of the format corpus and the test fixtures.
/// Needs `scripts/build-guests.sh` (which runs build-formats.sh).
@Suite(.serialized)
struct FileTypeExactnessTests {
    /// Regular readable files under `root` of at most 16 MiB, sorted; not setuid, setgid or sticky
    /// (`file` reads those bits from the file's stat; a content has none).
    static func files(under root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let next = walker.nextObject() as? String {
            let path = "\(root)/\(next)"
            guard let attributes = walker.fileAttributes, attributes[.type] as? FileAttributeType == .typeRegular,
                  (attributes[.size] as? Int ?? 0) <= 16 << 20, (attributes[.posixPermissions] as? Int ?? 0) & 0o7000 == 0,
                  FileManager.default.isReadableFile(atPath: path) else { continue }
            files.append(path)
        }
        return files.sorted()
    }

    @Test func fileTypeEqualsDebiansAndTheSameSourcesFileOnThousandsOfRealFilesAndTheFormatCorpus() throws {
        let system = ["/usr/bin", "/usr/sbin", "/usr/lib", "/usr/share", "/etc"].flatMap { Self.files(under: $0) }
        let step = max(1, system.count / 3000)
        let picked = stride(from: 0, to: system.count, by: step).map { system[$0] }
            + Self.files(under: try FormatCorpus.inputs()) + Self.files(under: Harness.path("Tests/Fixtures"))
        #expect(picked.count >= 3000)
        let input = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: input) }
        let names = picked.indices.map { String(format: "%05d", $0) }
        for (name, path) in zip(names, picked) {
            try FileManager.default.createSymbolicLink(atPath: "\(input)/\(name)", withDestinationPath: path)
        }
        let outcome = try Harness.run(
            modulesDirectory: try BuiltModules.folder(["file_type"]), input: input, threads: 2, dedup: false, followSymlinks: true,
            engine: .wasmtime)
        let got = try outcome.db.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT c.filename, f.mime, f.description FROM file_types f JOIN __wadup_content c ON c.uuid = f.content_uuid").map {
                ($0["filename"] as String, "\($0["mime"] as String)\n\($0["description"] as String)")
            })
        }
        #expect(got.count == names.count)
        let natives = [("Debian's file", "/usr/bin/file", [String]()),
                       ("file built from the module's source", Harness.path(".build/formats/bin/file"), ["-m", Harness.path(".build/formats/magic.mgc")])]
        for (label, file, options) in natives {
            let mime = try Self.file(file, options + ["--mime-type"], picked)
            let description = try Self.file(file, options, picked)
            var differ = 0
            for (i, name) in names.enumerated() where got[name] != "\(mime[i])\n\(description[i])" {
                differ += 1
                if differ <= 20 { Issue.record("\(picked[i]): file_type says \(got[name] ?? "nothing"), \(label) says \(mime[i]) / \(description[i])") }
            }
            #expect(differ == 0, "\(differ) of \(names.count) files differ from \(label)")
        }
    }

    /// `file -b` of `file` over `paths` (one line per file, in order), in UTC as the module is.
    static func file(_ file: String, _ options: [String], _ paths: [String]) throws -> [String] {
        let output = try Command(file, ["-b"] + options + ["--"] + paths, environment: ["TZ": "UTC", "LC_ALL": "C", "PATH": "/usr/bin:/bin"]).output()
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        try #require(lines.count == paths.count, "\(file) printed \(lines.count) lines for \(paths.count) files")
        return lines
    }
}
