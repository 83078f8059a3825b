import WADUPCore
@_spi(Fuzzing) import WasmKit
import WasmParser

/// The checks every engine makes before compiling a module: it parses, it exports `process` and
/// `memory`, and it imports only ABI functions (with their exact types) and WASI.
///
/// One parser (WasmKit's) for both engines, so that a module is accepted or refused, with the
/// same message, whichever engine runs it.
enum ModuleInterface {
    /// Parses `bytes` and checks the interface; the parsed module is WasmKit's engine's input.
    static func check(bytes: [UInt8], path: String) throws(ModuleLoadError) -> Module {
        let module: Module
        do {
            module = try parseWasm(bytes: bytes)
        } catch {
            throw ModuleLoadError(path: path, reason: "not a valid WebAssembly module (\(firstLine(error)))")
        }
        try checkImportsAndExports(module, path: path)
        return module
    }

    static func checkImportsAndExports(_ module: Module, path: String) throws(ModuleLoadError) {
        let known = Dictionary(uniqueKeysWithValues: ABI.hostFunctions.map { ($0.name, $0) })
        for item in module.imports {
            guard case .function(let typeIndex) = item.descriptor else {
                throw ModuleLoadError(path: path, reason: "imports \(item.module).\(item.name), which is not a function; only ABI functions may be imported")
            }
            switch item.module {
            case ABI.importModule:
                guard let function = known[item.name] else {
                    throw ModuleLoadError(path: path, reason: "imports unknown host function env.\(item.name)")
                }
                let expected = FunctionType(parameters: function.parameters.map(\.wasm), results: [function.result.wasm])
                let actual = module.functionType(at: typeIndex)
                guard actual == expected else {
                    throw ModuleLoadError(path: path, reason: "imports env.\(item.name) with type \(actual.map { "\($0)" } ?? "?"), expected \(expected)")
                }
            case ABI.wasiModule:
                continue  // names and types are checked by the probe instantiation
            default:
                throw ModuleLoadError(path: path, reason: "imports \(item.module).\(item.name); only \"env\" and \"wasi_snapshot_preview1\" may be imported")
            }
        }
        var hasMemory = false
        var hasProcess = false
        for export in module.exports {
            switch (export.name, export.descriptor) {
            case (ABI.memoryExport, .memory): hasMemory = true
            case (ABI.processExport, .function): hasProcess = true  // its type is checked on the probe instance
            default: break
            }
        }
        guard hasProcess else { throw ModuleLoadError(path: path, reason: "missing export \"process\" (a function () -> i32)") }
        guard hasMemory else { throw ModuleLoadError(path: path, reason: "missing export \"memory\" (a linear memory)") }
    }

    static func firstLine(_ error: any Error) -> String {
        let text = "\(error)"
        return text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? text
    }
}

extension ABI.ValueType {
    var wasm: WasmTypes.ValueType {
        switch self {
        case .i32: .i32
        case .i64: .i64
        }
    }
}
