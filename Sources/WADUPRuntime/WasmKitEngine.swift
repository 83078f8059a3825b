import Foundation
import Logging
import WADUPCore
@_spi(Fuzzing) import WasmKit
import WasmKitWASI
import WasmParser

/// The WasmKit interpreter as a ``WasmEngine``.
///
/// One `Engine` and one parsed `Module` per module file are shared by every thread; each thread
/// instantiates its own `Store`, which never leaves it.
public struct WasmKitEngine: WasmEngine {
    let engine: Engine
    let limits: RunLimits
    let logger: Logger

    public init(limits: RunLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
        self.engine = Engine(configuration: Self.configuration(limits, mode: .lazy))
    }

    static func configuration(_ limits: RunLimits, mode: EngineConfiguration.CompilationMode) -> EngineConfiguration {
        EngineConfiguration(compilationMode: mode, stackSize: limits.maxStack, fuelMetering: limits.fuel != nil)
    }

    public func load(name: String, bytes: [UInt8], path: String) throws(ModuleLoadError) -> any LoadedModule {
        let module: Module
        do {
            module = try parseWasm(bytes: bytes)
        } catch {
            throw ModuleLoadError(path: path, reason: "not a valid WebAssembly module (\(Self.firstLine(error)))")
        }
        try Self.checkInterface(module, path: path)
        let loaded = WasmKitModule(name: name, path: path, module: module, engine: engine, limits: limits, logger: logger)
        // Instantiate once with eager compilation, so that invalid function bodies, unknown WASI
        // imports and an initial memory over --max-memory are refused now, not on the first content.
        let probe = WasmKitModule(
            name: name, path: path, module: module,
            engine: Engine(configuration: Self.configuration(limits, mode: .eager)), limits: limits, logger: logger)
        _ = try probe.instantiate(abi: HostABI(moduleName: name, registry: TableRegistry(), logger: logger))
        return loaded
    }

    /// Checks that `module` exports `process: () -> i32` and `memory`, and imports only ABI functions.
    static func checkInterface(_ module: Module, path: String) throws(ModuleLoadError) {
        let known = Dictionary(uniqueKeysWithValues: ABI.hostFunctions.map { ($0.name, $0.parameterCount) })
        for item in module.imports {
            guard case .function(let typeIndex) = item.descriptor else {
                throw ModuleLoadError(path: path, reason: "imports \(item.module).\(item.name), which is not a function; only ABI functions may be imported")
            }
            switch item.module {
            case ABI.importModule:
                guard let count = known[item.name] else {
                    throw ModuleLoadError(path: path, reason: "imports unknown host function env.\(item.name)")
                }
                let expected = FunctionType(parameters: Array(repeating: .i32, count: count), results: [.i32])
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
