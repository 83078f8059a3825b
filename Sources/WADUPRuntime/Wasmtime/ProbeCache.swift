import Crypto
import Foundation
import Logging
import WADUPCore

/// What loading a module found when it made its first instance (its `init` was ready, and the
/// manifest its `wadup_accepts` export gave), kept beside the compile cache so that the next run
/// with the same module, data and limits does not instantiate it just to ask again.
///
/// That first instance costs little for a C or Rust module but about a quarter of a second for a
/// Python one (the interpreter starts and imports the script and its packages): the default set's
/// three Python modules made every run, even of one text file, 0.7 s longer. With the answer kept,
/// an instance is made only by a worker that has a content for the module.
///
/// The key is everything the first instance's answer can depend on: the module's bytes (the
/// interpreter's, for a Python module), the engine and its settings, the run's limits, and every
/// mounted folder's files (path and size; the bytes of those up to 1 MiB, the modification time
/// of larger ones), so a changed script, data folder or limit probes again. Only a ready `init`
/// is kept: an `init` that fails or declines is asked on every run, and a refusal at load stays
/// an error at load. A wrong entry (edited by hand) can only make dispatch wrong, as a lying
/// manifest can: each worker's instance still runs `init`, and a failing one fails its contents.
struct ProbeCache: Sendable {
    let directory: String
    let identity: String
    let logger: Logger

    static let maxHashedFile = 1 << 20
    static let maxFiles = 100_000

    /// The cached answer's file for the module whose bytes' SHA-256 is `digest`, with `mounts`, or
    /// `nil` when a mounted folder cannot be read whole (then nothing is cached).
    func path(digest: SHA256.Digest, mounts: [GuestMount]) -> String? {
        var hasher = SHA256()
        hasher.update(data: Array("WADUPPROBE2\0\(identity)\0".utf8))
        hasher.update(data: Array(digest))
        for mount in mounts {
            hasher.update(data: Array("\0mount\0\(mount.guestPath)\0".utf8))
            guard Self.fingerprint(folder: mount.hostPath, into: &hasher) else { return nil }
        }
        return directory + "/" + hasher.finalize().map { String(format: "%02x", $0) }.joined() + ".probe"
    }

    /// The manifest a ready module exported (`.some(nil)`: ready, no manifest), if an entry exists.
    func load(_ file: String) -> String?? {
        guard let data = FileManager.default.contents(atPath: file),
            let entry = try? JSONDecoder().decode(Entry.self, from: data), entry.ready
        else { return nil }
        return .some(entry.manifest)
    }

    /// Keeps a ready module's answer (atomically: a temporary file, then a rename).
    func store(_ file: String, manifest: String?) {
        guard let data = try? JSONEncoder().encode(Entry(ready: true, manifest: manifest)) else { return }
        do {
            try CompiledModuleCache.write(data, to: file)
        } catch {
            logger.debug("probe cache: cannot write \(file): \(error)")
        }
    }

    struct Entry: Codable {
        let ready: Bool
        let manifest: String?
    }

    /// Every regular file under `folder`, sorted by relative path, into `hasher`; `false` if the
    /// folder cannot be listed or holds more than ``maxFiles`` files.
    static func fingerprint(folder: String, into hasher: inout SHA256) -> Bool {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return false }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            files.append(relative)
            if files.count > maxFiles { return false }
        }
        for relative in files.sorted() {
            let path = folder + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { return false }
            guard (info.st_mode & S_IFMT) == S_IFREG else { continue }
            hasher.update(data: Array("\0\(relative)\0\(info.st_size)\0".utf8))
            if info.st_size <= maxHashedFile {
                guard let data = FileManager.default.contents(atPath: path) else { return false }
                hasher.update(data: SHA256.hash(data: data).map { $0 })
            } else {
                hasher.update(data: Array("\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)".utf8))
            }
        }
        return true
    }
}
