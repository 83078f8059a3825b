import Crypto
import Foundation
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
    }

    public let entries: [Entry]

    /// Loads every `*.wasm` file directly in `directory`, in file-name order; the name is the file stem.
    public static func load(directory: String, engine: any WasmEngine) throws(WADUPError) -> ModuleSet {
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
        var entries: [Entry] = []
        for file in names {
            let path = directory + "/" + file
            let name = String(file.dropLast(5))
            guard let data = FileManager.default.contents(atPath: path) else {
                throw WADUPError(.io, "cannot read module \(path)")
            }
            let bytes = [UInt8](data)
            do {
                let manifest = try ManifestReader.manifest(bytes: bytes, path: path)
                let module = try engine.load(name: name, bytes: bytes, path: path)
                entries.append(
                    Entry(name: name, path: path, sha256: SHA256.hash(data: bytes).hex, size: bytes.count, module: module, manifest: manifest))
            } catch {
                throw WADUPError(.invalidModule, "\(error)")
            }
        }
        // Identifiers run first, so that the others are dispatched on the type they report.
        return ModuleSet(entries: entries.filter { $0.manifest.role == .identify } + entries.filter { $0.manifest.role != .identify })
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
