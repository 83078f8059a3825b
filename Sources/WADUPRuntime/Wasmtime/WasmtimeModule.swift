import CWasmtime
import Dispatch
import Foundation
import Logging
import WADUPCore

/// A compiled module and its instance-pre (imports resolved once), shared by every thread.
final class WasmtimeModule: LoadedModule, @unchecked Sendable {  // Safe: wasmtime modules and instance-pres are immutable and thread-safe; `initialization` is set once by the engine's `load`, before the module is shared.
    let name: String
    var initialization = ModuleInitialization.ready
    var exportedManifest: String?
    let path: String
    let engine: WasmtimeEngine
    let module: OpaquePointer
    let pre: OpaquePointer
    let usesWASI: Bool
    /// The folders preopened read-only in every instance's WASI (the data folder, a Python module's).
    let mounts: [GuestMount]

    init(name: String, path: String, engine: WasmtimeEngine, module: OpaquePointer, pre: OpaquePointer, usesWASI: Bool, mounts: [GuestMount]) {
        self.name = name
        self.path = path
        self.engine = engine
        self.module = module
        self.pre = pre
        self.usesWASI = usesWASI
        self.mounts = mounts
    }

    deinit {
        engine.api.pointee.wasmtime_instance_pre_delete(pre)
        engine.api.pointee.wasmtime_module_delete(module)
    }

    func instantiate(abi: HostABI) throws(ModuleLoadError) -> any ModuleInstance {
        try WasmtimeInstance(module: self, abi: abi)
    }
}

/// One store and instance of a module, confined to the thread that made it.
final class WasmtimeInstance: ModuleInstance {
    enum Stop { case timeout, interrupted }

    let abi: HostABI
    let module: WasmtimeModule
    let memoryLimit: MemoryLimit
    let stdout: CapturedOutput
    let stderr: CapturedOutput
    private(set) var store: OpaquePointer!
    private(set) var context: OpaquePointer!
    /// The `memory` export; read by host calls (through the store's data pointer, this object).
    var memory = wasmtime_memory_t()
    var hasMemory = false
    private var processFunction = wasmtime_func_t()
    private(set) var initialization = ModuleInitialization.ready
    private(set) var exportedManifest: String?
    /// Wall-clock deadline of the call in progress (uptime nanoseconds), if `--timeout` applies.
    private var deadline: UInt64?
    private var stop: Stop?
    /// Size of the content of the call in progress (its time limit and a timeout's detail depend on it).
    private var callContentSize = 0

    private var api: UnsafePointer<wadup_wasmtime_api> { module.engine.api }
    private var limits: RunLimits { module.engine.limits }
    private var logger: Logger { module.engine.logger }

    init(module: WasmtimeModule, abi: HostABI) throws(ModuleLoadError) {
        self.abi = abi
        self.module = module
        memoryLimit = MemoryLimit(maxBytes: module.engine.limits.maxMemory)
        let debug = module.engine.logger.logLevel <= .debug
        stdout = CapturedOutput(stream: "stdout", abi: abi, logger: debug ? module.engine.logger : nil)
        stderr = CapturedOutput(stream: "stderr", abi: abi, logger: debug ? module.engine.logger : nil)
        let api = module.engine.api
        store = api.pointee.wasmtime_store_new(module.engine.handle.pointer, Unmanaged.passUnretained(self).toOpaque(), nil)
        context = api.pointee.wasmtime_store_context(store)
        api.pointee.wasmtime_store_epoch_deadline_callback(store, epochCallback, Unmanaged.passUnretained(self).toOpaque(), nil)
        if module.usesWASI {
            let wasi = api.pointee.wasi_config_new()!
            api.pointee.wasi_config_set_stdout_custom(wasi, capturedOutputCallback, Unmanaged.passUnretained(stdout).toOpaque(), nil)
            api.pointee.wasi_config_set_stderr_custom(wasi, capturedOutputCallback, Unmanaged.passUnretained(stderr).toOpaque(), nil)
            // Read-only (`fs_mutable` false): wasmtime grants the directory and its files read
            // permissions only, and resolves every path inside it (no `..`, no symlink out).
            for mount in module.mounts where !api.pointee.wasi_config_preopen_dir(wasi, mount.hostPath, mount.guestPath, false) {
                api.pointee.wasi_config_delete(wasi)
                throw ModuleLoadError(path: module.path, reason: "WASI setup failed: cannot open the folder \(mount.hostPath) (the module's \(mount.guestPath))")
            }
            if let error = api.pointee.wasmtime_context_set_wasi(context, wasi) {
                throw ModuleLoadError(path: module.path, reason: "WASI setup failed: \(module.engine.library.consume(error: error))")
            }
        }
        prepareCall()
        var instance = wasmtime_instance_t()
        var trap: OpaquePointer?
        let error = memoryLimit.whileInstantiating { api.pointee.wasmtime_instance_pre_instantiate(module.pre, context, &instance, &trap) }
        if let failure = failure(error: error, trap: trap) { throw loadError(failure) }

        var item = wasmtime_extern_t()
        guard export(&instance, ABI.processExport, &item), item.kind == UInt8(WADUP_WASMTIME_EXTERN_FUNC) else {
            throw ModuleLoadError(path: module.path, reason: "missing export \"process\"")
        }
        processFunction = item.of.func
        guard hasType(processFunction, parameters: [], results: [wasm_valkind_t(WADUP_WASM_I32)]) else {
            throw ModuleLoadError(path: module.path, reason: "export \"process\" has type other than () -> i32, expected () -> i32")
        }
        if export(&instance, ABI.memoryExport, &item), item.kind == UInt8(WADUP_WASMTIME_EXTERN_MEMORY) {
            memory = item.of.memory
            hasMemory = true
        }
        if export(&instance, ABI.initializeExport, &item), item.kind == UInt8(WADUP_WASMTIME_EXTERN_FUNC) {
            var initialize = item.of.func
            var slot = wasmtime_val_raw_t()
            prepareCall()
            var trap: OpaquePointer?
            let error = api.pointee.wasmtime_func_call_unchecked(context, &initialize, &slot, 1, &trap)
            stdout.flush()
            stderr.flush()
            if let failure = failure(error: error, trap: trap) { throw loadError(failure) }
        }
        if export(&instance, ABI.initExport, &item), item.kind == UInt8(WADUP_WASMTIME_EXTERN_FUNC) {
            var initFunction = item.of.func
            guard hasType(initFunction, parameters: [], results: [wasm_valkind_t(WADUP_WASM_I32)]) else {
                throw ModuleLoadError(path: module.path, reason: "export \"init\" has a type other than () -> i32, expected () -> i32")
            }
            // The larger init budget (RunLimits.initFuel, initTimeout): compiling rules costs more than a content.
            prepareCall(forInit: true)
            abi.initLog = []
            defer { abi.initLog = nil }
            var slot = wasmtime_val_raw_t()
            var trap: OpaquePointer?
            let error = api.pointee.wasmtime_func_call_unchecked(context, &initFunction, &slot, 1, &trap)
            stdout.flush()
            stderr.flush()
            if let failure = failure(error: error, trap: trap, forInit: true) { throw loadError(failure, during: "init") }
            initialization = try ModuleInitialization.interpret(code: slot.i32, log: abi.initLog ?? [], name: module.name, path: module.path)
        }
        if initialization == .ready, export(&instance, ABI.acceptsExport, &item), item.kind == UInt8(WADUP_WASMTIME_EXTERN_FUNC) {
            var acceptsFunction = item.of.func
            guard hasType(acceptsFunction, parameters: [], results: [wasm_valkind_t(WADUP_WASM_I32)]) else {
                throw ModuleLoadError(path: module.path, reason: "export \"\(ABI.acceptsExport)\" has a type other than () -> i32, expected () -> i32")
            }
            prepareCall(forInit: true)
            var slot = wasmtime_val_raw_t()
            var trap: OpaquePointer?
            let error = api.pointee.wasmtime_func_call_unchecked(context, &acceptsFunction, &slot, 1, &trap)
            stdout.flush()
            stderr.flush()
            if let failure = failure(error: error, trap: trap, forInit: true) { throw loadError(failure, during: ABI.acceptsExport) }
            let address = UInt32(bitPattern: slot.i32)
            if address != 0 {
                guard hasMemory else { throw ModuleLoadError(path: module.path, reason: "\(ABI.acceptsExport) returned an address but the module exports no memory") }
                let memory = UnsafeMutableRawBufferPointer(
                    start: api.pointee.wasmtime_memory_data(context, &self.memory), count: api.pointee.wasmtime_memory_data_size(context, &self.memory))
                exportedManifest = try HostABI.exportedManifest(memory, at: address, path: module.path)
            }
        }
    }

    deinit { api.pointee.wasmtime_store_delete(store) }

    private func export(_ instance: inout wasmtime_instance_t, _ name: String, _ item: inout wasmtime_extern_t) -> Bool {
        api.pointee.wasmtime_instance_export_get(context, &instance, name, name.utf8.count, &item)
    }

    private func hasType(_ function: wasmtime_func_t, parameters: [wasm_valkind_t], results: [wasm_valkind_t]) -> Bool {
        var function = function
        guard let type = api.pointee.wasmtime_func_type(context, &function) else { return false }
        defer { api.pointee.wasm_functype_delete(type) }
        func kinds(_ vec: UnsafePointer<wasm_valtype_vec_t>?) -> [wasm_valkind_t] {
            guard let vec else { return [] }
            return (0..<vec.pointee.size).map { api.pointee.wasm_valtype_kind(vec.pointee.data[$0]) }
        }
        return kinds(api.pointee.wasm_functype_params(type)) == parameters && kinds(api.pointee.wasm_functype_results(type)) == results
    }

    /// Fuel, epoch deadline and wall-clock deadline for the next call (`init`'s larger budget when
    /// `forInit`; a run's time limit grows with the size of its content, `RunLimits.timeout(forContentSize:)`).
    private func prepareCall(forInit: Bool = false, contentSize: Int = 0) {
        memoryLimit.refused = false
        stop = nil
        callContentSize = contentSize
        if let fuel = forInit ? limits.initFuel : limits.fuel {
            _ = api.pointee.wasmtime_context_set_fuel(context, fuel).map { module.engine.library.consume(error: $0) }
        }
        deadline = (forInit ? limits.initTimeout : limits.timeout(forContentSize: contentSize)).map { DispatchTime.now().uptimeNanoseconds + UInt64($0 * 1e9) }
        api.pointee.wasmtime_context_set_epoch_deadline(context, 1)
    }

    /// Called by the epoch callback on every tick of a running call: `nil` to continue.
    fileprivate func checkStop() -> Stop? {
        if module.engine.interruptFlag.isSet { stop = .interrupted }
        else if let deadline, DispatchTime.now().uptimeNanoseconds >= deadline { stop = .timeout }
        return stop
    }

    func process(_ context: RunContext) -> ModuleRunOutcome {
        if module.engine.interruptFlag.isSet { return .interrupted }
        abi.context = context
        defer {
            stdout.flush()
            stderr.flush()
            abi.context = nil
        }
        prepareCall(contentSize: context.content.count)
        var slot = wasmtime_val_raw_t()
        var trap: OpaquePointer?
        let error = api.pointee.wasmtime_func_call_unchecked(self.context, &processFunction, &slot, 1, &trap)
        if let budget = limits.fuel {
            var left: UInt64 = 0
            if api.pointee.wasmtime_context_get_fuel(self.context, &left) == nil {
                context.fuelUsed = budget - left
            }
        }
        if let failure = failure(error: error, trap: trap) { return failure }
        let code = slot.i32
        if code == 0 { return .success }
        if memoryLimit.refused { return .failure(.memoryLimit, limits.memoryLimitDetail(then: "process returned \(code)")) }
        return .failure(.nonzeroReturn, context.nonzeroReturnDetail(code))
    }

    /// The outcome of a call that returned `error` or `trap` (both consumed), or `nil` if neither.
    private func failure(error: OpaquePointer?, trap: OpaquePointer?, forInit: Bool = false) -> ModuleRunOutcome? {
        var limits = self.limits
        if forInit { (limits.fuel, limits.timeout) = (limits.initFuel, limits.initTimeout) }
        let library = module.engine.library
        if let error {
            var status: Int32 = 0
            let exited = api.pointee.wasmtime_error_exit_status(error, &status)
            let message = library.consume(error: error)
            switch stop {
            case .interrupted: return .interrupted
            case .timeout: return .failure(.timeout, limits.timeoutDetail(contentSize: forInit ? 0 : callContentSize))
            case nil: break
            }
            if exited {
                if status == 0 { return nil }
                return .failure(memoryLimit.refused ? .memoryLimit : .nonzeroReturn, "proc_exit(\(status))")
            }
            return .failure(.abiError, Self.firstLine(message))
        }
        guard let trap else { return nil }
        let (code, message) = library.consume(trap: trap)
        if logger.logLevel <= .debug {
            let frames = message.split(separator: "\n", maxSplits: 12).prefix(12).joined(separator: "\n")
            logger.debug("trap in \(module.name): \(frames)")
        }
        switch code.map(Int.init) ?? -1 {
        case WADUP_TRAP_OUT_OF_FUEL: return .failure(.fuelExhausted, limits.fuelExhaustedDetail())
        case WADUP_TRAP_STACK_OVERFLOW:
            return .failure(.stackOverflow, limits.stackOverflowDetail())
        case WADUP_TRAP_INTERRUPT:
            return stop == .interrupted ? .interrupted : .failure(.timeout, limits.timeoutDetail(contentSize: forInit ? 0 : callContentSize))
        default:
            let detail = code.flatMap { Self.trapNames[Int($0)] } ?? Self.firstLine(message)
            if memoryLimit.refused { return .failure(.memoryLimit, limits.memoryLimitDetail(then: "then trap: \(detail)")) }
            return .failure(.trap, detail)
        }
    }

    /// Trap codes named as in the WebAssembly spec's test suite (and as WasmKit names them).
    static let trapNames: [Int: String] = [
        1: "out of bounds memory access", 2: "misaligned memory access", 3: "out of bounds table access",
        4: "uninitialized element", 5: "indirect call type mismatch", 6: "integer overflow",
        7: "integer divide by zero", 8: "invalid conversion to integer", 9: "unreachable",
    ]


    static func firstLine(_ text: String) -> String {
        var line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? text
        if line.hasPrefix("wasm trap: ") { line.removeFirst("wasm trap: ".count) }
        return line
    }


    private func loadError(_ outcome: ModuleRunOutcome, during step: String = "instantiation") -> ModuleLoadError {
        if memoryLimit.refused {
            return ModuleLoadError(path: module.path, reason: limits.instantiationMemoryDetail(), failureKind: .memoryLimit)
        }
        switch outcome {
        case .failure(.memoryLimit, _):
            return ModuleLoadError(
                path: module.path, reason: limits.instantiationMemoryDetail(), failureKind: .memoryLimit)
        case .failure(let kind, let detail):
            return ModuleLoadError(path: module.path, reason: "\(step) failed: \(detail)", failureKind: kind == .trap ? .abiError : kind)
        case .interrupted:
            return ModuleLoadError(path: module.path, reason: "\(step) interrupted")
        case .success:
            return ModuleLoadError(path: module.path, reason: "\(step) failed")
        }
    }
}

/// The epoch callback of every store: continue for one more tick, or stop (timeout, interrupt).
private let epochCallback: wasmtime_epoch_callback_t = { _, data, delta, kind in
    let instance = Unmanaged<WasmtimeInstance>.fromOpaque(data!).takeUnretainedValue()
    if let stop = instance.checkStop() {
        return instance.module.engine.api.pointee.wasmtime_error_new(stop == .timeout ? "timeout" : "interrupted")
    }
    delta!.pointee = 1
    kind!.pointee = wasmtime_update_deadline_kind_t(WADUP_UPDATE_DEADLINE_CONTINUE)
    return nil
}

/// WASI stdout/stderr of a store: kept by the instance's ``CapturedOutput``.
private let capturedOutputCallback: wasi_output_callback_t = { data, bytes, count in
    let output = Unmanaged<CapturedOutput>.fromOpaque(data!).takeUnretainedValue()
    output.append(UnsafeRawBufferPointer(start: bytes, count: count))
    return count
}
