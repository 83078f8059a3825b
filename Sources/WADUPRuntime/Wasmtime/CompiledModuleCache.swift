import CWasmtime
import Crypto
import Foundation
import Logging
import WADUPCore

/// Compiled modules on disk, so that a run does not compile its modules again.
///
/// A compiled artifact is native code that wasmtime loads without checking it, so an entry is used
/// only when it is exactly what this program wrote: its name is the SHA-256 of the module, the
/// engine version and the engine settings; its content starts with a SHA-256 of the rest; the
/// folder must be the user's own and not writable by others. A corrupt, foreign or unreadable
/// entry is ignored (and replaced), never trusted.
struct CompiledModuleCache: Sendable {
    let directory: String
    let engine: String
    let settings: String
    let logger: Logger

    static let magic = Array("WADUPCWASM1\n".utf8)

    /// A cache in `directory` (created 0700 if missing), or `nil` with a warning if the folder cannot be trusted.
    /// `spelling` names the settings a warning's remedy mentions.
    init?(directory: String, engine: String, settings: String, logger: Logger, spelling: SettingSpelling = \.rawValue) {
        let remedy = "use \(spelling(.cacheDirectory)) or \(spelling(.noCache))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var st = stat()
        guard stat(directory, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            logger.warning("compile cache \(directory) cannot be created; compiling every module (\(remedy))")
            return nil
        }
        guard st.st_uid == geteuid(), st.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            logger.warning("compile cache \(directory) is not owned by this user or is writable by others; not using it (\(remedy))")
            return nil
        }
        self.directory = directory
        self.engine = engine
        self.settings = settings
        self.logger = logger
    }

    /// The entry's file for the module whose bytes' SHA-256 is `digest` (hashed once per load, for
    /// this cache and ``ProbeCache`` both).
    func path(for digest: SHA256.Digest) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("WADUPCWASM2\0".utf8))
        hasher.update(data: Array(digest))
        hasher.update(data: Array("\0\(engine)\0\(settings)".utf8))
        return directory + "/" + hasher.finalize().map { String(format: "%02x", $0) }.joined() + ".cwasm"
    }

    /// The cached compilation of `bytes`, if a valid entry exists.
    func load(digest: SHA256.Digest, library: WasmtimeLibrary, engine: OpaquePointer) -> OpaquePointer? {
        let file = path(for: digest)
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        let header = Self.magic.count + 32
        guard data.count > header, Array(data.prefix(Self.magic.count)) == Self.magic,
            Array(data[Self.magic.count..<header]) == Array(SHA256.hash(data: data.dropFirst(header)))
        else {
            logger.debug("compile cache: ignoring corrupt entry \(file)")
            unlink(file)
            return nil
        }
        var module: OpaquePointer?
        let error = data.dropFirst(header).withUnsafeBytes { raw in
            library.api.pointee.wasmtime_module_deserialize(engine, raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &module)
        }
        if let error {
            logger.debug("compile cache: ignoring \(file): \(library.consume(error: error))")
            unlink(file)
            return nil
        }
        return module
    }

    /// Writes the compiled `module` for `bytes` (atomically: a temporary file, then a rename).
    func store(digest: SHA256.Digest, module: OpaquePointer, library: WasmtimeLibrary) {
        var serialized = wasm_byte_vec_t()
        if let error = library.api.pointee.wasmtime_module_serialize(module, &serialized) {
            logger.debug("compile cache: cannot serialize: \(library.consume(error: error))")
            return
        }
        defer { library.api.pointee.wasm_byte_vec_delete(&serialized) }
        let payload = UnsafeRawBufferPointer(start: serialized.data, count: serialized.size)
        var data = Data(Self.magic)
        data.append(contentsOf: SHA256.hash(data: payload))
        data.append(contentsOf: payload)
        let file = path(for: digest)
        do {
            try Self.write(data, to: file)
        } catch {
            logger.debug("compile cache: cannot write \(file): \(error)")
        }
    }

    /// Writes `data` to `file` readable by the user only, atomically: a temporary file beside it,
    /// then a rename, so that a concurrent run reads the old entry or the new one, never half.
    static func write(_ data: Data, to file: String) throws {
        let temporary = file + ".\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp"
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
            chmod(temporary, 0o600)
            guard rename(temporary, file) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}
