import Foundation
import Logging
import WADUPCore
@_spi(Fuzzing) import WasmKit
@_spi(WASIPlatform) import WASI
import WasmKitWASI

/// A parsed module, shared by every thread; instances are made per thread.
struct WasmKitModule: LoadedModule {
    let name: String
    var initialization = ModuleInitialization.ready
    var exportedManifest: String?
    let path: String
    let module: Module
    let engine: Engine
    let limits: RunLimits
    let logger: Logger
    /// The folders preopened read-only in every instance's WASI (the data folder, a Python module's).
    let mounts: [GuestMount]

    var usesWASI: Bool { module.imports.contains { $0.module == ABI.wasiModule } }

    func instantiate(abi: HostABI) throws(ModuleLoadError) -> any ModuleInstance {
        try WasmKitInstance(module: self, abi: abi)
    }
}

/// Refuses memory growth past `--max-memory` and remembers that it did.
final class MemoryLimiter: ResourceLimiter, @unchecked Sendable {  // Safe: used only by its store's thread.
    let maxBytes: Int?
    var refused = false

    init(maxBytes: Int?) { self.maxBytes = maxBytes }

    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        guard let maxBytes, desired > maxBytes else { return true }
        refused = true
        return false
    }
}

/// The `memory` export, known once the instance exists (host calls from a start function look it up).
final class MemoryBox {
    var memory: Memory?
}

/// One WasmKit instance of a module, confined to the thread that made it.
final class WasmKitInstance: ModuleInstance {
    let abi: HostABI
    let module: WasmKitModule
    let store: Store
    let limiter: MemoryLimiter
    let memoryBox = MemoryBox()
    let stdout: CapturedOutput
    let stderr: CapturedOutput
    var instance: Instance!
    var processFunction: Function!
    var stack: ExecutionStack
    var wasi: WASIBridgeToHost?
    private(set) var initialization = ModuleInitialization.ready
    private(set) var exportedManifest: String?

    init(module: WasmKitModule, abi: HostABI) throws(ModuleLoadError) {
        self.abi = abi
        self.module = module
        self.store = Store(engine: module.engine)
        self.limiter = MemoryLimiter(maxBytes: module.limits.maxMemory)
        self.stack = ExecutionStack(engine: module.engine)
        self.stdout = CapturedOutput(stream: "stdout", abi: abi, logger: module.logger)
        self.stderr = CapturedOutput(stream: "stderr", abi: abi, logger: module.logger)
        store.resourceLimiter = limiter
        var imports = Imports()
        defineHostFunctions(&imports)
        do {
            if module.usesWASI {
                let debug = module.logger.logLevel <= .debug
                let (out, err) = (debug ? stdout : CapturedOutput.discard, debug ? stderr : CapturedOutput.discard)
                if !module.mounts.isEmpty {
                    // The host's file system, but only the mounted folders, and read-only (``ReadOnlyWASI``).
                    let bridge = try WASIBridgeToHost(
                        args: [], environment: [:],
                        fileSystem: .host().withStdio(stdin: CapturedOutput.discard, stdout: out, stderr: err)
                            .withPreopens(module.mounts.map { .init(guestPath: $0.guestPath, hostPath: $0.hostPath) }))
                    wasi = bridge
                    ReadOnlyWASI.link(bridge, to: &imports, store: store)
                } else {
                    let bridge = try WASIBridgeToHost(
                        args: [], environment: [:],
                        fileSystem: .memory(MemoryFileSystem()).withStdio(stdin: CapturedOutput.discard, stdout: out, stderr: err))
                    wasi = bridge
                    bridge.link(to: &imports, store: store)
                }
            }
            if let fuel = module.limits.fuel { store.fuel = Fuel(remaining: fuel) }
            instance = try module.module.instantiate(store: store, imports: imports)
            guard let process = instance.exports[function: ABI.processExport] else {
                throw ModuleLoadError(path: module.path, reason: "missing export \"process\"")
            }
            guard process.type.parameters.isEmpty, process.type.results == [.i32] else {
                throw ModuleLoadError(path: module.path, reason: "export \"process\" has type \(process.type), expected () -> i32")
            }
            processFunction = process
            memoryBox.memory = instance.exports[memory: ABI.memoryExport]
            if let initialize = instance.exports[function: ABI.initializeExport] {
                try initialize.invoke([], on: &stack)
            }
        } catch let error as ModuleLoadError {
            throw error
        } catch {
            throw instantiationError(error, during: "instantiation")
        }
        try runInit()
        try readExportedManifest()
    }

    /// Calls the module's `init` export, if it has one (docs/modules/ABI.md, "Initialization").
    private func runInit() throws(ModuleLoadError) {
        guard let initFunction = instance.exports[function: ABI.initExport] else { return }
        guard initFunction.type.parameters.isEmpty, initFunction.type.results == [.i32] else {
            throw ModuleLoadError(path: module.path, reason: "export \"init\" has type \(initFunction.type), expected () -> i32")
        }
        // The larger init budget (RunLimits.initFuel): compiling rules costs more than a content.
        limiter.refused = false
        if let fuel = module.limits.initFuel { store.fuel = Fuel(remaining: fuel) }
        abi.initLog = []
        defer {
            abi.initLog = nil
            stdout.flush()
            stderr.flush()
        }
        let code: Int32
        do {
            let results = try initFunction.invoke([], on: &stack)
            guard case .i32(let raw) = results.first else { throw ModuleLoadError(path: module.path, reason: "init returned \(results)") }
            code = Int32(bitPattern: raw)
        } catch let error as ModuleLoadError {
            throw error
        } catch let exit as WASIExitCode {
            code = Int32(bitPattern: exit.code)
        } catch let trap as Trap {
            var limits = module.limits
            limits.fuel = limits.initFuel
            switch Self.classify(trap, limits: limits, refused: limiter.refused, logger: module.logger, name: module.name) {
            case .failure(let kind, let detail):
                throw ModuleLoadError(path: module.path, reason: "init failed: \(detail)", failureKind: kind == .trap ? .abiError : kind)
            default:
                throw ModuleLoadError(path: module.path, reason: "init failed")
            }
        } catch {
            throw instantiationError(error, during: "init")
        }
        initialization = try ModuleInitialization.interpret(code: code, log: abi.initLog ?? [], name: module.name, path: module.path)
    }

    /// Calls the module's `wadup_accepts` export after a ready `init`, if it has one, and keeps the manifest text.
    private func readExportedManifest() throws(ModuleLoadError) {
        guard initialization == .ready, let accepts = instance.exports[function: ABI.acceptsExport] else { return }
        guard accepts.type.parameters.isEmpty, accepts.type.results == [.i32] else {
            throw ModuleLoadError(path: module.path, reason: "export \"\(ABI.acceptsExport)\" has type \(accepts.type), expected () -> i32")
        }
        let address: UInt32
        do {
            guard case .i32(let raw) = try accepts.invoke([], on: &stack).first else {
                throw ModuleLoadError(path: module.path, reason: "\(ABI.acceptsExport) returned no i32")
            }
            address = raw
        } catch let error as ModuleLoadError {
            throw error
        } catch {
            throw instantiationError(error, during: ABI.acceptsExport)
        }
        guard address != 0 else { return }
        guard let memory = memoryBox.memory else {
            throw ModuleLoadError(path: module.path, reason: "\(ABI.acceptsExport) returned an address but the module exports no memory")
        }
        let text = memory.withUnsafeMutableBufferPointer(offset: 0, count: memory.byteCount) { buffer in
            Result { () throws(ModuleLoadError) in try HostABI.exportedManifest(buffer, at: address, path: module.path) }
        }
        exportedManifest = try text.get()
    }

    private func instantiationError(_ error: any Error, during step: String) -> ModuleLoadError {
        let detail = ModuleInterface.firstLine(error)
        if limiter.refused || detail.contains("memory") && module.limits.maxMemory != nil {
            return ModuleLoadError(path: module.path, reason: "\(module.limits.instantiationMemoryDetail()): \(detail)", failureKind: .memoryLimit)
        }
        return ModuleLoadError(path: module.path, reason: "\(step) failed: \(detail)")
    }

    deinit { try? wasi?.close() }

    func process(_ context: RunContext) -> ModuleRunOutcome {
        abi.context = context
        defer {
            stdout.flush()
            stderr.flush()
            if let budget = module.limits.fuel, let left = store.fuel?.remaining {
                context.fuelUsed = budget - left
            }
            abi.context = nil
        }
        limiter.refused = false
        if let fuel = module.limits.fuel { store.fuel = Fuel(remaining: fuel) }
        do {
            let results = try processFunction.invoke([], on: &stack)
            guard case .i32(let raw) = results.first else { return .failure(.abiError, "process returned \(results)") }
            let code = Int32(bitPattern: raw)
            if code == 0 { return .success }
            if limiter.refused { return .failure(.memoryLimit, module.limits.memoryLimitDetail(then: "process returned \(code)")) }
            return .failure(.nonzeroReturn, context.nonzeroReturnDetail(code))
        } catch let exit as WASIExitCode {
            if exit.code == 0 { return .success }
            return .failure(limiter.refused ? .memoryLimit : .nonzeroReturn, "proc_exit(\(exit.code))")
        } catch let trap as Trap {
            return Self.classify(trap, limits: module.limits, refused: limiter.refused, logger: module.logger, name: module.name)
        } catch {
            return .failure(.abiError, ModuleInterface.firstLine(error))
        }
    }

    /// The failure a trap stands for (fuel, stack, memory limit, or another trap).
    static func classify(_ trap: Trap, limits: RunLimits, refused: Bool, logger: Logger, name: String) -> ModuleRunOutcome {
        var message = ModuleInterface.firstLine(trap)
        if logger.logLevel <= .debug {
            // The innermost frames only: a runaway recursion's backtrace can have 100,000 lines.
            let frames = "\(trap)".split(separator: "\n", maxSplits: 12).prefix(12).joined(separator: "\n")
            logger.debug("trap in \(name): \(frames)")
        }
        // WasmKit 0.4.2 keeps a trap's reason package-internal (`Trap.reason`), so its two limit
        // traps are told apart by their fixed text; wasmtime's engine uses `wasmtime_trap_code`.
        // FailureKindTests runs every kind on both engines, so a changed text fails a test.
        if message.hasPrefix("Trap: ") { message.removeFirst(6) }
        if message == "out of fuel" { return .failure(.fuelExhausted, limits.fuelExhaustedDetail()) }
        if message == "call stack exhausted" {
            return .failure(.stackOverflow, limits.stackOverflowDetail())
        }
        if refused { return .failure(.memoryLimit, limits.memoryLimitDetail(then: "then trap: \(message)")) }
        return .failure(.trap, message)
    }


    /// Runs `body` on the whole guest memory; an instance without one gets an empty buffer.
    @inline(__always)
    static func withGuestMemory<T>(_ box: MemoryBox, _ caller: borrowing Caller, _ body: (UnsafeMutableRawBufferPointer) -> T) -> T {
        guard let memory = box.memory ?? caller.instance?.exports[memory: ABI.memoryExport], memory.byteCount > 0 else {
            return body(UnsafeMutableRawBufferPointer(start: nil, count: 0))
        }
        return memory.withUnsafeMutableBufferPointer(offset: 0, count: memory.byteCount, body)
    }

    /// Binds every host function of ``HostABI/bindings``; arguments are copied into 8-byte slots.
    private func defineHostFunctions(_ imports: inout Imports) {
        let abi = self.abi
        let box = memoryBox
        for binding in HostABI.bindings {
            let function = binding.function
            imports.define(
                module: ABI.importModule, name: function.name,
                Function(store: store, parameters: function.parameters.map(\.wasm), results: [function.result.wasm]) { caller, args, results in
                    var slots: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
                    let value = withUnsafeMutableBytes(of: &slots) { raw in
                        for i in 0..<min(args.count, 6) { raw.storeBytes(of: args[i].bits, toByteOffset: i * 8, as: UInt64.self) }
                        return Self.withGuestMemory(box, caller) { binding.call(abi, $0, HostArguments(base: UnsafeRawPointer(raw.baseAddress!), stride: 8)) }
                    }
                    results[0] = function.result == .i32 ? .i32(UInt32(truncatingIfNeeded: value)) : .i64(UInt64(bitPattern: value))
                })
        }
    }
}

extension Value {
    /// The integer payload as 64 bits; host functions take only i32 and i64 arguments.
    @inline(__always)
    var bits: UInt64 {
        switch self {
        case .i32(let v): UInt64(v)
        case .i64(let v): v
        default: 0
        }
    }
}
