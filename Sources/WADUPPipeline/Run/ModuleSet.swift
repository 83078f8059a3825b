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
        /// A Python module's private script folder, kept as long as the module.
        public let script: PythonScriptFolder?
        /// The runtime a Python module runs on (``PythonRuntime/Interpreter/provenance``),
        /// `nil` for a `.wasm` module: with ``sha256`` (the script's) and the data folder's digest,
        /// what made a Python module's results.
        public let runtime: String?
    }

    /// One module file loaded: ready to run, or declined by its `init`.
    public enum Loaded: Sendable {
        case ready(Entry)
        case declined(message: String)
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

    /// Loads every `*.wasm` and `*.py` file directly in `directory`, in file-name order; the name is
    /// the file stem (one name, one file). A `.py` module runs on `python` (``PythonRuntime``).
    ///
    /// A module `NAME` gets the data folder `data[NAME]`, else `NAME.d` beside its file when that
    /// exists (``ModuleData``); `data` naming no module is refused.
    public static func load(
        directory: String, engine: any WasmEngine, data: [String: String] = [:], python: PythonRuntime? = nil
    ) throws(WADUPError) -> ModuleSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WADUPError(.usage, "\(WADUPError.Setting.modules) \(directory): not a directory; give the folder that holds the .wasm modules")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".wasm") || $0.hasSuffix("." + PythonRuntime.scriptExtension) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard !names.isEmpty else {
            throw WADUPError(.usage, "\(WADUPError.Setting.modules) \(directory): no .wasm or .py files found; build or copy modules there first")
        }
        let stems = names.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        if let twice = Dictionary(grouping: stems, by: { $0 }).filter({ $0.value.count > 1 }).keys.sorted().first {
            throw WADUPError(.usage, "\(WADUPError.Setting.modules) \(directory): \(twice).wasm and \(twice).py are both there; a module name is one file, rename or remove one")
        }
        let moduleNames = Set(stems)
        if let unknown = data.keys.sorted().first(where: { !moduleNames.contains($0) }) {
            throw WADUPError(
                .usage,
                "\(WADUPError.Setting.moduleData) \(unknown)=\(data[unknown]!): no module \(unknown) in \(directory) (its modules: \(moduleNames.sorted().joined(separator: ", ")))")
        }
        var entries: [Entry] = []
        var declined: [(name: String, message: String)] = []
        var interpreter: PythonRuntime.Interpreter?
        for file in names {
            let path = directory + "/" + file
            let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let dataDirectory = data[name] ?? Self.defaultData(module: name, in: directory)
            let moduleData = try dataDirectory.map { (folder) throws(WADUPError) in try ModuleData.load(directory: folder, module: name) }
            switch try loadModule(path: path, name: name, engine: engine, data: moduleData, python: python, interpreter: &interpreter) {
            case .ready(let entry): entries.append(entry)
            case .declined(let message): declined.append((name, message))
            }
        }
        // Identifiers run first, so that the others are dispatched on the type they report.
        return ModuleSet(
            entries: entries.filter { $0.manifest.role == .identify } + entries.filter { $0.manifest.role != .identify }, declined: declined)
    }

    /// Loads the module file `path` (`.wasm`, or `.py` on `python`) as module `name` with its data
    /// folder: compiled, instantiated once, its `init` run and its manifest read. `interpreter`
    /// keeps the Python interpreter (read and digested once) from one Python module to the next.
    public static func loadModule(
        path: String, name: String, engine: any WasmEngine, data: ModuleData?, python: PythonRuntime?, interpreter: inout PythonRuntime.Interpreter?
    ) throws(WADUPError) -> Loaded {
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw WADUPError(.io, "cannot read module \(path)")
        }
        let fileBytes = [UInt8](contents)
        var mounts = data.map { [GuestMount(guestPath: ModuleDataMount.guestPath, hostPath: $0.directory)] } ?? []
        var script: PythonScriptFolder?
        var runtime: String?
        let wasm: [UInt8]
        if path.hasSuffix("." + PythonRuntime.scriptExtension) {
            guard let python else {
                throw WADUPError(.usage, "\(path): a Python module needs the Python runtime; set WADUP_PYTHON to the folder holding \(PythonRuntime.interpreterFile)")
            }
            if interpreter == nil { interpreter = try python.interpreter(for: path) }
            let loaded = interpreter!  // just read
            wasm = loaded.bytes
            runtime = loaded.provenance
            let folder = try PythonScriptFolder(script: path, name: name, bytes: fileBytes)
            script = folder
            mounts += [
                GuestMount(guestPath: PythonRuntime.libraryMount, hostPath: python.library),
                GuestMount(guestPath: PythonRuntime.scriptMount, hostPath: folder.path),
            ]
        } else {
            wasm = fileBytes
        }
        do {
            let module = try engine.load(name: name, bytes: wasm, path: path, mounts: mounts)
            if case .declined(let message) = module.initialization { return .declined(message: message) }
            let manifest = try ManifestReader.manifest(bytes: wasm, path: path, exported: module.exportedManifest)
            return .ready(
                Entry(
                    name: name, path: path, sha256: SHA256.hash(data: fileBytes).hex, size: fileBytes.count, module: module, manifest: manifest,
                    data: data, script: script, runtime: runtime))
        } catch {
            throw WADUPError(.invalidModule, "\(error)")
        }
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
