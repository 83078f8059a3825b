import Foundation
import Logging
import WADUPCore
@_spi(Fuzzing) import WasmKit
import WasmKitWASI

/// The WasmKit interpreter as a ``WasmEngine``.
///
/// One `Engine` and one parsed `Module` per module file are shared by every thread; each thread
/// instantiates its own `Store`, which never leaves it.
public struct WasmKitEngine: WasmEngine {
    /// WasmKit cannot stop running guest code from outside: no wall-clock limit, no interrupt.
    public var canInterrupt: Bool { false }
    public func interrupt() {}

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

    public var description: String { "wasmkit \(Self.version)" }

    /// The WasmKit release this build links (Package.swift pins it).
    public static let version = "0.4.2"

    public func load(name: String, bytes: [UInt8], path: String, mounts: [GuestMount]) throws(ModuleLoadError) -> any LoadedModule {
        let module = try ModuleInterface.check(bytes: bytes, path: path)
        var loaded = WasmKitModule(
            name: name, path: path, module: module, engine: engine, limits: limits, logger: logger, mounts: mounts)
        // Instantiate once with eager compilation, so that invalid function bodies, unknown WASI
        // imports and an initial memory over --max-memory are refused now, not on the first content.
        let probe = WasmKitModule(
            name: name, path: path, module: module,
            engine: Engine(configuration: Self.configuration(limits, mode: .eager)), limits: limits, logger: logger,
            mounts: mounts)
        // `init` runs here too: an error is thrown, a decline is kept on the module.
        let instance = try probe.instantiate(abi: HostABI(moduleName: name, registry: TableRegistry(), logger: logger))
        loaded.initialization = instance.initialization
        loaded.exportedManifest = instance.exportedManifest
        return loaded
    }
}
