import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WADUPCore
import WADUPRuntime

/// The modules of a run, loaded and validated once before any input is touched.
public struct ModuleSet: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let path: String
        public let sha256: String
        public let size: Int
        public let module: any LoadedModule
        /// What the module says it accepts (``ModuleManifest/everything`` without a manifest).
        public let manifest: ModuleManifest
        /// The module's read-only data folder, if it has one.
        public let data: ModuleData?
    }

    public let entries: [Entry]
    /// The modules whose `init` declined (nothing to do in this configuration: a rule scanner
    /// without rules), in file-name order, each with the one line it logged; they are not loaded.
    public var declined: [(name: String, message: String)] = []

    init(entries: [Entry], declined: [(name: String, message: String)] = []) {
        self.entries = entries
        self.declined = declined
    }

    /// The line the host prints for a module whose `init` declined: `NAME: MESSAGE; not loaded`.
    public static func declinedLine(module name: String, message: String) -> String {
        "\(name): \(message); not loaded"
    }

    /// Loads every `*.wasm` file directly in `directory`, in file-name order; the name is the file stem.
    ///
    /// A module `NAME` gets the data folder `data[NAME]`, else `NAME.d` beside its file when that
    /// exists (``ModuleData``); `data` naming no module is refused.
    public static func load(directory: String, engine: any WasmEngine, data: [String: String] = [:]) throws(WADUPError) -> ModuleSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WADUPError(.usage, "\(WADUPError.Setting.modules) \(directory): not a directory; give the folder that holds the .wasm modules")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".wasm") }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard !names.isEmpty else {
            throw WADUPError(.usage, "\(WADUPError.Setting.modules) \(directory): no .wasm files found; build or copy modules there first")
        }
        let moduleNames = Set(names.map { String($0.dropLast(5)) })
        if let unknown = data.keys.sorted().first(where: { !moduleNames.contains($0) }) {
            throw WADUPError(
                .usage,
                "\(WADUPError.Setting.moduleData) \(unknown)=\(data[unknown]!): no module \(unknown) in \(directory) (its modules: \(moduleNames.sorted().joined(separator: ", ")))")
        }
        var entries: [Entry] = []
        var declined: [(name: String, message: String)] = []
        for file in names {
            let path = directory + "/" + file
            let name = String(file.dropLast(5))
            let dataDirectory = data[name] ?? Self.defaultData(module: name, in: directory)
            let moduleData = try dataDirectory.map { (folder) throws(WADUPError) in try ModuleData.load(directory: folder, module: name) }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw WADUPError(.io, "cannot read module \(path)")
            }
            let bytes = [UInt8](data)
            do {
                let manifest = try ManifestReader.manifest(bytes: bytes, path: path)
                let module = try engine.load(name: name, bytes: bytes, path: path, dataDirectory: moduleData?.directory)
                if case .declined(let message) = module.initialization {
                    declined.append((name, message))
                    continue
                }
                entries.append(
                    Entry(
                        name: name, path: path, sha256: SHA256.hash(data: bytes).hex, size: bytes.count, module: module, manifest: manifest,
                        data: moduleData))
            } catch {
                throw WADUPError(.invalidModule, "\(error)")
            }
        }
        // Identifiers run first, so that the others are dispatched on the type they report.
        return ModuleSet(
            entries: entries.filter { $0.manifest.role == .identify } + entries.filter { $0.manifest.role != .identify }, declined: declined)
    }

    /// The data folder of the single module file `modulePath` (`wadup try`, `wadup check`): `given`,
    /// else `NAME.d` beside the file when that exists, checked and digested.
    public static func data(forModule modulePath: String, given: String?) throws(WADUPError) -> ModuleData? {
        let url = URL(fileURLWithPath: modulePath)
        let name = url.deletingPathExtension().lastPathComponent
        guard let folder = given ?? defaultData(module: name, in: url.deletingLastPathComponent().path) else { return nil }
        return try ModuleData.load(directory: folder, module: name)
    }

    /// `NAME.d` beside `NAME.wasm` when it exists (a folder or anything else: ``ModuleData`` says
    /// what is wrong with it), else `nil`.
    static func defaultData(module name: String, in directory: String) -> String? {
        let path = ModuleData.defaultDirectory(module: name, in: directory)
        var info = stat()
        return lstat(path, &info) == 0 ? path : nil
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
