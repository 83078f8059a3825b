import Foundation
import Logging
import WADUPCore
@_spi(Fuzzing) import WasmKit
@_spi(WASIPlatform) import WASI
import WasmKitWASI

/// A parsed module, shared by every thread; instances are made per thread.
struct WasmKitModule: LoadedModule {
    let name: String
    let path: String
    let module: Module
    let engine: Engine
    let limits: RunLimits
    let logger: Logger

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
                let bridge = try WASIBridgeToHost(
                    args: [], environment: [:],
                    fileSystem: .memory(MemoryFileSystem()).withStdio(
                        stdin: CapturedOutput.discard, stdout: debug ? stdout : CapturedOutput.discard, stderr: debug ? stderr : CapturedOutput.discard))
                bridge.link(to: &imports, store: store)
                wasi = bridge
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
            let detail = WasmKitEngine.firstLine(error)
            if limiter.refused || detail.contains("memory") && module.limits.maxMemory != nil {
                throw ModuleLoadError(path: module.path, reason: "instantiation exceeds --max-memory \(module.limits.maxMemory ?? 0) bytes: \(detail)", failureKind: .memoryLimit)
            }
            throw ModuleLoadError(path: module.path, reason: "instantiation failed: \(detail)")
        }
    }

    deinit { try? wasi?.close() }

    func process(_ context: RunContext) -> RunOutcome {
        abi.context = context
        defer {
            stdout.flush()
            stderr.flush()
            if let budget = module.limits.fuel, let left = store.fuel?.remaining, module.logger.logLevel <= .debug {
                module.logger.debug("fuel used: \(budget - left)", metadata: ["module": "\(module.name)", "content": "\(context.uuid.uuidString.lowercased())"])
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
            if limiter.refused { return .failure(.memoryLimit, memoryDetail("process returned \(code)")) }
            return .failure(.nonzeroReturn, "process returned \(code)")
        } catch let exit as WASIExitCode {
            if exit.code == 0 { return .success }
            return .failure(limiter.refused ? .memoryLimit : .nonzeroReturn, "proc_exit(\(exit.code))")
        } catch let trap as Trap {
            var message = WasmKitEngine.firstLine(trap)
            if module.logger.logLevel <= .debug {
                // The innermost frames only: a runaway recursion's backtrace can have 100,000 lines.
                let frames = "\(trap)".split(separator: "\n", maxSplits: 12).prefix(12).joined(separator: "\n")
                module.logger.debug("trap in \(module.name): \(frames)")
            }
            if message.hasPrefix("Trap: ") { message.removeFirst(6) }
            if message == "out of fuel" { return .failure(.fuelExhausted, "all \(module.limits.fuel ?? 0) fuel consumed") }
            if message == "call stack exhausted" {
                return .failure(.stackOverflow, "call stack exhausted (--max-stack \(module.limits.maxStack ?? (1 << 19)) bytes)")
            }
            if limiter.refused { return .failure(.memoryLimit, memoryDetail("then trap: \(message)")) }
            return .failure(.trap, message)
        } catch {
            return .failure(.abiError, WasmKitEngine.firstLine(error))
        }
    }

    private func memoryDetail(_ then: String) -> String {
        "memory growth past --max-memory \(module.limits.maxMemory ?? 0) bytes was refused, \(then)"
    }

    /// Runs `body` on the whole guest memory; an instance without one gets an empty buffer.
    @inline(__always)
    static func withGuestMemory(_ box: MemoryBox, _ caller: borrowing Caller, _ body: (UnsafeMutableRawBufferPointer) -> Int32) -> Int32 {
        guard let memory = box.memory ?? caller.instance?.exports[memory: ABI.memoryExport], memory.byteCount > 0 else {
            return body(UnsafeMutableRawBufferPointer(start: nil, count: 0))
        }
        return memory.withUnsafeMutableBufferPointer(offset: 0, count: memory.byteCount, body)
    }

    private func defineHostFunctions(_ imports: inout Imports) {
        let abi = self.abi
        let box = memoryBox
        func define(_ name: String, _ arity: Int, _ body: @escaping (UnsafeMutableRawBufferPointer, UnsafeBufferPointer<Value>) -> Int32) {
            imports.define(
                module: ABI.importModule, name: name,
                Function(store: store, parameters: Array(repeating: .i32, count: arity), results: [.i32]) { caller, args, results in
                    results[0] = .i32(UInt32(bitPattern: Self.withGuestMemory(box, caller) { body($0, args) }))
                })
        }
        define("get_content_size", 0) { _, _ in abi.getContentSize() }
        define("read_content", 3) { m, a in abi.readContent(m, offset: a[0].u32, length: a[1].u32, dest: a[2].u32) }
        define("get_content_uuid", 1) { m, a in abi.getContentUUID(m, dest: a[0].u32) }
        define("get_content_filename", 2) { m, a in abi.getContentFilename(m, dest: a[0].u32, capacity: a[1].u32) }
        define("define_table", 4) { m, a in abi.defineTable(m, name: a[0].u32, nameLength: a[1].u32, columns: a[2].u32, columnsLength: a[3].u32) }
        define("insert_row", 3) { m, a in abi.insertRow(m, table: Int32(bitPattern: a[0].u32), row: a[1].u32, rowLength: a[2].u32) }
        define("emit_subcontent_bytes", 4) { m, a in
            abi.emitSubcontentBytes(m, data: a[0].u32, dataLength: a[1].u32, name: a[2].u32, nameLength: a[3].u32)
        }
        define("emit_subcontent_slice", 4) { m, a in
            abi.emitSubcontentSlice(m, offset: a[0].u32, length: a[1].u32, name: a[2].u32, nameLength: a[3].u32)
        }
        define("log_message", 3) { m, a in abi.logMessage(m, level: Int32(bitPattern: a[0].u32), message: a[1].u32, length: a[2].u32) }
    }
}

extension Value {
    /// The i32 payload as unsigned; host functions are only ever called with i32 arguments.
    @inline(__always)
    var u32: UInt32 {
        if case .i32(let v) = self { return v }
        return 0
    }
}
