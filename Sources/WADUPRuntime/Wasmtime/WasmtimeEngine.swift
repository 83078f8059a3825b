import Crypto
import CWasmtime
import Foundation
import Logging
import Synchronization
import WADUPCore

/// wasmtime (Cranelift, ahead of time) as a ``WasmEngine``: WADUP's default engine.
///
/// One `wasm_engine_t` and one linker are shared by every thread; each module is compiled once
/// (or loaded from the compile cache) into an instance-pre, and each thread instantiates its own
/// store from it. Limits: fuel per module-run, memory through a host memory creator that refuses
/// growth past `--max-memory` (and remembers it did), the wasm stack through `max_wasm_stack`,
/// and wall-clock time through epoch interruption (a ticker thread advances the epoch every
/// ``tickInterval``; each running store checks its deadline and the interrupt flag on every tick).
public final class WasmtimeEngine: WasmEngine {
    /// How often the epoch advances; a timeout or an interrupt takes effect within one tick.
    public static let tickInterval: Double = 0.01

    let handle: EngineHandle
    let limits: RunLimits
    let logger: Logger
    let cache: CompiledModuleCache?
    /// What loading found, kept beside the compiled modules (``ProbeCache``); `nil` without a cache.
    let probes: ProbeCache?
    let interruptFlag = InterruptFlag()
    private let ticker: EpochTicker
    /// Defines the host functions and WASI once; used only while loading modules.
    private let linker: Linker

    public var description: String { "wasmtime \(handle.library.version)" }
    public var canInterrupt: Bool { epochs }
    /// Whether epoch checks are compiled in: always, except when ``Tuning/epochChecks`` asks for an
    /// engine without them, only to measure what they cost (no timeout, no Ctrl-C interrupt).
    let epochs: Bool
    var library: WasmtimeLibrary { handle.library }
    var api: UnsafePointer<wadup_wasmtime_api> { handle.library.api }

    /// A new engine on `library` with the run's limits; `cacheDirectory` holds compiled modules
    /// (`nil`: compile every time).
    /// `spelling` names settings in warnings (the command layer passes its flags).
    public init(
        library: WasmtimeLibrary, limits: RunLimits, cacheDirectory: String?, logger: Logger, tuning: Tuning = .standard,
        spelling: SettingSpelling = \.rawValue
    ) {
        self.limits = limits
        self.logger = logger
        let api = library.api
        let config = api.pointee.wasm_config_new()!
        api.pointee.wasmtime_config_consume_fuel_set(config, limits.fuel != nil)
        epochs = tuning.epochChecks
        api.pointee.wasmtime_config_epoch_interruption_set(config, epochs)
        let maxStack = limits.maxStack ?? RunLimits.defaultMaxStack
        // wasmtime refuses a wasm stack larger than its async stack (2 MiB by default), even unused.
        api.pointee.wasmtime_config_async_stack_size_set(config, max(2 << 20, maxStack + (1 << 20)))
        api.pointee.wasmtime_config_max_wasm_stack_set(config, maxStack)
        var creator = GuestMemory.creator(library: library)
        api.pointee.wasmtime_config_host_memory_creator_set(config, &creator)
        // Copy-on-write images need wasmtime's own mmap memories; ours are initialised by copying.
        api.pointee.wasmtime_config_memory_init_cow_set(config, false)
        // For profiling modules with Linux perf: `WADUP_WASMTIME_PROFILER=perfmap` writes
        // /tmp/perf-PID.map, naming the compiled wasm functions (use with --no-cache).
        switch ProcessInfo.processInfo.environment["WADUP_WASMTIME_PROFILER"] {
        case "perfmap": api.pointee.wasmtime_config_profiler_set(config, 3)
        case "jitdump": api.pointee.wasmtime_config_profiler_set(config, 1)
        default: break
        }
        handle = EngineHandle(library: library, pointer: api.pointee.wasm_engine_new_with_config(config)!)
        ticker = EpochTicker(handle: handle, interval: Self.tickInterval)
        linker = Linker(handle: handle)
        let settings = "fuel=\(limits.fuel != nil) epoch=\(epochs) stack=\(limits.maxStack ?? RunLimits.defaultMaxStack) memory=host cow=false"
        cache = cacheDirectory.flatMap { CompiledModuleCache(directory: $0, engine: "wasmtime-\(library.version)", settings: settings, logger: logger, spelling: spelling) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let limitsJSON = (try? encoder.encode(limits)).map { String(decoding: $0, as: UTF8.self) } ?? "\(limits)"
        probes = cache.map { ProbeCache(directory: $0.directory, identity: "wasmtime-\(library.version)\0\(settings)\0\(limitsJSON)", logger: logger) }
    }

    deinit { ticker.stop() }

    public func interrupt() { interruptFlag.set() }

    public func load(name: String, bytes: [UInt8], path: String, mounts: [GuestMount]) throws(ModuleLoadError) -> any LoadedModule {
        let parsed = try ModuleInterface.check(bytes: bytes, path: path)
        let usesWASI = parsed.imports.contains { $0.module == ABI.wasiModule }
        // Hashed once, for the compile cache and the probe cache; not at all without a cache.
        let digest = cache == nil ? nil : SHA256.hash(data: bytes)
        let compiled = try compile(bytes: bytes, digest: digest, path: path)
        let pre: OpaquePointer
        do {
            pre = try linker.instantiatePre(compiled, path: path)
        } catch {
            api.pointee.wasmtime_module_delete(compiled)
            throw error
        }
        let module = WasmtimeModule(
            name: name, path: path, engine: self, module: compiled, pre: pre, usesWASI: usesWASI, mounts: mounts)
        // One instance now, so that unknown WASI imports, a bad `process` type, an initial
        // memory over --max-memory and an `init` that reports an error are refused before any
        // input is touched (and a module whose `init` declines is known as such); unless a run
        // with the same module, folders and limits found it ready (``ProbeCache``).
        let entry = digest.flatMap { probes?.path(digest: $0, mounts: mounts) }
        if let entry, let manifest = probes?.load(entry) {
            module.initialization = .ready
            module.exportedManifest = manifest
            logger.debug("ready when last loaded with the same module, folders and limits: not instantiated", metadata: ["module": "\(name)"])
            return module
        }
        let probe = try module.instantiate(abi: HostABI(moduleName: name, registry: TableRegistry(), logger: logger))
        module.initialization = probe.initialization
        module.exportedManifest = probe.exportedManifest
        if let entry, probe.initialization == .ready { probes?.store(entry, manifest: probe.exportedManifest) }
        return module
    }

    /// The compiled module: from the cache when a valid entry exists, else compiled (and cached).
    private func compile(bytes: [UInt8], digest: SHA256.Digest?, path: String) throws(ModuleLoadError) -> OpaquePointer {
        if let cache, let digest, let module = cache.load(digest: digest, library: library, engine: handle.pointer) { return module }
        var module: OpaquePointer?
        let error = bytes.withUnsafeBufferPointer { api.pointee.wasmtime_module_new(handle.pointer, $0.baseAddress, $0.count, &module) }
        if let error {
            throw ModuleLoadError(path: path, reason: "not a valid WebAssembly module (\(library.consume(error: error)))")
        }
        if let cache, let digest { cache.store(digest: digest, module: module!, library: library) }
        return module!
    }
}

/// A `wasm_engine_t`, deleted when its last user (engine, modules, ticker) lets go.
final class EngineHandle: @unchecked Sendable {  // Safe: the pointer never changes; wasmtime engines are thread-safe.
    let library: WasmtimeLibrary
    let pointer: OpaquePointer

    init(library: WasmtimeLibrary, pointer: OpaquePointer) {
        self.library = library
        self.pointer = pointer
    }

    deinit { library.api.pointee.wasm_engine_delete(pointer) }
}

/// A flag set once and read from any thread: Ctrl-C for the engine's stores, stop for the ticker.
final class InterruptFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// Advances the engine's epoch every `interval` seconds until stopped.
final class EpochTicker: Sendable {
    private let stopped = InterruptFlag()

    init(handle: EngineHandle, interval: Double) {
        let thread = Thread { [stopped] in
            let micros = useconds_t(interval * 1e6)
            while !stopped.isSet {
                usleep(micros)
                handle.library.api.pointee.wasmtime_engine_increment_epoch(handle.pointer)
            }
        }
        thread.name = "wadup-epoch"
        thread.start()
    }

    func stop() { stopped.set() }
}

/// The engine's linker: every ABI function (through ``HostABI/bindings``) and WASI preview 1.
final class Linker: @unchecked Sendable {  // Safe: defined once in init; after that only read (`instantiate_pre` takes a const linker).
    let handle: EngineHandle
    let pointer: OpaquePointer
    /// One per host function, passed to the callback as its environment; kept alive by the linker.
    let functions: [HostFunctionContext]

    init(handle: EngineHandle) {
        self.handle = handle
        let api = handle.library.api
        pointer = api.pointee.wasmtime_linker_new(handle.pointer)!
        if let error = api.pointee.wasmtime_linker_define_wasi(pointer) {
            fatalError("wasmtime: defining WASI failed: \(handle.library.consume(error: error))")
        }
        functions = HostABI.bindings.map { HostFunctionContext(library: handle.library, binding: $0) }
        for context in functions {
            let function = context.binding.function
            let type = handle.library.functionType(parameters: function.parameters, result: function.result)
            defer { api.pointee.wasm_functype_delete(type) }
            let error = ABI.importModule.withCString { module in
                function.name.withCString { name in
                    api.pointee.wasmtime_linker_define_func_unchecked(
                        pointer, module, strlen(module), name, strlen(name), type, hostFunctionCallback,
                        Unmanaged.passUnretained(context).toOpaque(), nil)
                }
            }
            if let error { fatalError("wasmtime: defining env.\(function.name) failed: \(handle.library.consume(error: error))") }
        }
    }

    deinit { handle.library.api.pointee.wasmtime_linker_delete(pointer) }

    func instantiatePre(_ module: OpaquePointer, path: String) throws(ModuleLoadError) -> OpaquePointer {
        var pre: OpaquePointer?
        if let error = handle.library.api.pointee.wasmtime_linker_instantiate_pre(pointer, module, &pre) {
            throw ModuleLoadError(path: path, reason: "instantiation failed: \(handle.library.consume(error: error))")
        }
        return pre!
    }
}

/// What a host-function callback needs, without copying the whole API table on every call.
final class HostFunctionContext: @unchecked Sendable {  // Safe: immutable after init.
    let binding: HostABI.Binding
    let returnsI64: Bool
    let callerContext: @convention(c) (OpaquePointer?) -> OpaquePointer?
    let contextData: @convention(c) (OpaquePointer?) -> UnsafeMutableRawPointer?
    let callerExport: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<wasmtime_extern_t>?) -> Bool
    let memoryData: @convention(c) (OpaquePointer?, UnsafePointer<wasmtime_memory_t>?) -> UnsafeMutablePointer<UInt8>?
    let memorySize: @convention(c) (OpaquePointer?, UnsafePointer<wasmtime_memory_t>?) -> Int

    init(library: WasmtimeLibrary, binding: HostABI.Binding) {
        self.binding = binding
        returnsI64 = binding.function.result == .i64
        let api = library.api
        callerContext = api.pointee.wasmtime_caller_context
        contextData = api.pointee.wasmtime_context_get_data
        callerExport = api.pointee.wasmtime_caller_export_get
        memoryData = api.pointee.wasmtime_memory_data
        memorySize = api.pointee.wasmtime_memory_data_size
    }
}

/// Every host function's entry point: finds the instance (the store's data) and its memory, and
/// runs the binding. Never traps: ABI errors are return values.
private let hostFunctionCallback: wasmtime_func_unchecked_callback_t = { env, caller, slots, _ in
    let host = Unmanaged<HostFunctionContext>.fromOpaque(env!).takeUnretainedValue()
    let context = host.callerContext(caller)
    let instance = Unmanaged<WasmtimeInstance>.fromOpaque(host.contextData(context)!).takeUnretainedValue()
    var memory = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    if instance.hasMemory {
        memory = UnsafeMutableRawBufferPointer(start: host.memoryData(context, &instance.memory), count: host.memorySize(context, &instance.memory))
    } else {
        // From a start function or `_initialize`, before the instance's exports are known.
        var item = wasmtime_extern_t()
        if host.callerExport(caller, ABI.memoryExport, ABI.memoryExport.utf8.count, &item), item.kind == UInt8(WADUP_WASMTIME_EXTERN_MEMORY) {
            memory = UnsafeMutableRawBufferPointer(start: host.memoryData(context, &item.of.memory), count: host.memorySize(context, &item.of.memory))
        }
    }
    let result = host.binding.call(instance.abi, memory, HostArguments(base: UnsafeRawPointer(slots!), stride: MemoryLayout<wasmtime_val_raw_t>.stride))
    // Raw i32 results are zero-extended to the slot's 64 bits.
    slots![0].i64 = host.returnsI64 ? result : Int64(UInt32(truncatingIfNeeded: result))
    return nil
}

extension WasmtimeLibrary {
    /// The message of `error`, which is deleted.
    func consume(error: OpaquePointer) -> String {
        var bytes = wasm_byte_vec_t()
        api.pointee.wasmtime_error_message(error, &bytes)
        let text = self.text(&bytes)
        api.pointee.wasmtime_error_delete(error)
        return text
    }

    /// The message of `trap`, which is deleted.
    func consume(trap: OpaquePointer) -> (code: wasmtime_trap_code_t?, message: String) {
        var code: wasmtime_trap_code_t = 0
        let hasCode = api.pointee.wasmtime_trap_code(trap, &code)
        var bytes = wasm_byte_vec_t()
        api.pointee.wasm_trap_message(trap, &bytes)
        let text = self.text(&bytes)
        api.pointee.wasm_trap_delete(trap)
        return (hasCode ? code : nil, text)
    }

    /// A byte vector's text (without the NUL that wasm-c-api messages carry); the vector is freed.
    private func text(_ bytes: inout wasm_byte_vec_t) -> String {
        var count = bytes.size
        if count > 0, bytes.data[count - 1] == 0 { count -= 1 }
        let text = count > 0 ? String(decoding: UnsafeBufferPointer(start: bytes.data, count: count), as: UTF8.self) : ""
        api.pointee.wasm_byte_vec_delete(&bytes)
        return text
    }

    /// `(params) -> result` as a new `wasm_functype_t` (the caller deletes it).
    func functionType(parameters: [ABI.ValueType], result: ABI.ValueType) -> OpaquePointer {
        func kind(_ type: ABI.ValueType) -> wasm_valkind_t { type == .i32 ? wasm_valkind_t(WADUP_WASM_I32) : wasm_valkind_t(WADUP_WASM_I64) }
        var params = wasm_valtype_vec_t()
        var results = wasm_valtype_vec_t()
        let paramTypes: [OpaquePointer?] = parameters.map { api.pointee.wasm_valtype_new(kind($0)) }
        paramTypes.withUnsafeBufferPointer { api.pointee.wasm_valtype_vec_new(&params, $0.count, $0.baseAddress) }
        let resultTypes: [OpaquePointer?] = [api.pointee.wasm_valtype_new(kind(result))]
        resultTypes.withUnsafeBufferPointer { api.pointee.wasm_valtype_vec_new(&results, 1, $0.baseAddress) }
        return api.pointee.wasm_functype_new(&params, &results)!
    }
}
