import WADUPCore
import WasmKit
import WasmParser

/// `wadup check`: a module's imports, exports and memory against the ABI, without running it,
/// with every problem found (not only the first) and a remedy for each.
public struct ModuleCheck: Sendable {
    public struct Problem: Sendable, Equatable {
        public let message: String
        public let remedy: String

        public init(message: String, remedy: String) {
            self.message = message
            self.remedy = remedy
        }
    }

    public struct Item: Sendable, Equatable {
        public let module: String
        public let name: String
        /// `(i32, i32) -> i32`, `memory`, `table`, `global`.
        public let kind: String
        public let ok: Bool
    }

    public let path: String
    public let size: Int
    public private(set) var imports: [Item] = []
    public private(set) var exports: [Item] = []
    /// The memory the module defines: initial and maximum pages (64 KiB each).
    public private(set) var memory: (initial: UInt64, maximum: UInt64?)?
    public private(set) var problems: [Problem] = []

    /// Parses `bytes`; throws only when they are not a WebAssembly module at all.
    public init(bytes: [UInt8], path: String) throws(ModuleLoadError) {
        self.path = path
        size = bytes.count
        var types: [FunctionType?] = []
        var importedFunctions: [UInt32] = []
        var definedFunctions: [UInt32] = []
        var rawImports: [Import] = []
        var rawExports: [Export] = []
        var memories: [MemoryType] = []
        do {
            var parser = Parser(bytes: bytes)
            while let payload = try parser.parseNext() {
                switch payload {
                case .typeSection(let groups):
                    for group in groups {
                        for sub in group.types {
                            if case .function(let f) = sub.body { types.append(f) } else { types.append(nil) }
                        }
                    }
                case .importSection(let imports):
                    rawImports = imports
                    for item in imports { if case .function(let t) = item.descriptor { importedFunctions.append(t) } }
                case .functionSection(let indices): definedFunctions = indices
                case .memorySection(let defined): memories = defined.map(\.type)
                case .exportSection(let exports): rawExports = exports
                default: break
                }
            }
        } catch {
            throw ModuleLoadError(path: path, reason: "not a WebAssembly module (\(ModuleInterface.firstLine(error)))")
        }
        func type(_ index: UInt32) -> FunctionType? { Int(index) < types.count ? types[Int(index)] : nil }
        let allFunctions = importedFunctions + definedFunctions

        let known = Dictionary(uniqueKeysWithValues: ABI.hostFunctions.map { ($0.name, $0) })
        for item in rawImports {
            switch item.descriptor {
            case .function(let t):
                let actual = type(t)
                let text = actual.map(Self.signature) ?? "?"
                switch item.module {
                case ABI.importModule:
                    guard let function = known[item.name] else {
                        imports.append(Item(module: item.module, name: item.name, kind: text, ok: false))
                        problems.append(Problem(
                            message: "imports env.\(item.name), which is not a WADUP host function",
                            remedy: "call only the ABI's functions (docs/modules/ABI.md: \(ABI.hostFunctions.map(\.name).joined(separator: ", "))), declared as the SDKs declare them"))
                        continue
                    }
                    let expected = FunctionType(parameters: function.parameters.map(\.wasm), results: [function.result.wasm])
                    let ok = actual == expected
                    imports.append(Item(module: item.module, name: item.name, kind: text, ok: ok))
                    if !ok {
                        problems.append(Problem(
                            message: "imports env.\(item.name) with type \(text); the ABI's is \(Self.signature(expected))",
                            remedy: "declare it as docs/modules/ABI.md does (Guests/C/wadup.h, the Swift SDK and the Rust crate do)"))
                    }
                case ABI.wasiModule:
                    imports.append(Item(module: item.module, name: item.name, kind: text, ok: true))
                default:
                    imports.append(Item(module: item.module, name: item.name, kind: text, ok: false))
                    problems.append(Problem(
                        message: "imports \(item.module).\(item.name); only \"env\" and \"wasi_snapshot_preview1\" may be imported",
                        remedy: "build for wasm32-wasi (preview 1) or wasm32-unknown-unknown and remove the dependency that imports it"))
                }
            default:
                let kind = Self.kind(of: item.descriptor)
                imports.append(Item(module: item.module, name: item.name, kind: kind, ok: false))
                problems.append(Problem(
                    message: "imports \(item.module).\(item.name), a \(kind); only functions may be imported",
                    remedy: kind == "memory" ? "let the module define and export its own memory (do not link with --import-memory)" : "define it in the module instead"))
            }
        }
        var process: FunctionType??
        var hasMemory = false
        var hasStart = false
        for export in rawExports {
            switch export.descriptor {
            case .function(let index):
                let t = Int(index) < allFunctions.count ? type(allFunctions[Int(index)]) : nil
                exports.append(Item(module: "", name: export.name, kind: t.map(Self.signature) ?? "function", ok: true))
                if export.name == ABI.processExport { process = .some(t) }
                if export.name == "_start" { hasStart = true }
            case .memory:
                exports.append(Item(module: "", name: export.name, kind: "memory", ok: true))
                if export.name == ABI.memoryExport { hasMemory = true }
            default:
                exports.append(Item(module: "", name: export.name, kind: Self.kind(of: export.descriptor), ok: true))
            }
        }
        if let limits = memories.first { memory = (limits.min, limits.max) }
        let wanted = FunctionType(parameters: [], results: [.i32])
        switch process {
        case nil where hasStart:
            problems.append(Problem(
                message: "exports _start but not process: this is a command (a program with main), not a reactor",
                remedy: "build a reactor that exports process() -> i32: C `-mexec-model=reactor -Wl,--export=process`; Rust `crate-type = [\"cdylib\"]` and `#[no_mangle] pub extern \"C\" fn process() -> i32`; Swift `@_cdecl(\"process\")` and `-Xlinker --export=process` (wadup new makes all three)"))
        case nil:
            problems.append(Problem(
                message: "does not export process",
                remedy: "export a function process() -> i32 that returns 0 on success (C: -Wl,--export=process; see Guests/README.md)"))
        case .some(let t) where t != wanted:
            problems.append(Problem(
                message: "exports process with type \(t.map(Self.signature) ?? "?")",
                remedy: "process takes nothing and returns an i32: 0 for success, anything else is a recorded failure"))
        default: break
        }
        if !hasMemory {
            problems.append(Problem(
                message: "does not export its memory as \"memory\"",
                remedy: "export the linear memory (wasm-ld does by default; do not rename it or link with --import-memory)"))
        }
        if memories.first?.isMemory64 == true {
            problems.append(Problem(message: "defines a 64-bit memory", remedy: "build for wasm32: WADUP's ABI passes 32-bit pointers"))
        }
    }

    /// The WASI functions the module imports (served with no files, no network, no clock beyond time).
    public var wasi: [String] { imports.filter { $0.module == ABI.wasiModule }.map(\.name) }

    static func signature(_ t: FunctionType) -> String {
        "(" + t.parameters.map { "\($0)" }.joined(separator: ", ") + ") -> " + (t.results.isEmpty ? "()" : t.results.map { "\($0)" }.joined(separator: ", "))
    }

    static func kind(of descriptor: ImportDescriptor) -> String {
        switch descriptor {
        case .function: "function"
        case .memory: "memory"
        case .table: "table"
        case .global: "global"
        default: "import"
        }
    }

    static func kind(of descriptor: ExportDescriptor) -> String {
        switch descriptor {
        case .function: "function"
        case .memory: "memory"
        case .table: "table"
        case .global: "global"
        default: "export"
        }
    }
}
