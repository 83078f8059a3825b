import CWasmtime
import Foundation

/// `--max-memory` for one wasmtime instance, and whether the current run was refused a growth.
///
/// The memory creator finds it through a thread-local set while the instance is made (memories
/// are created during instantiation, on the instantiating thread); each memory keeps it after.
final class MemoryLimit: @unchecked Sendable {  // Safe: used only by the thread that owns its instance.
    let maxBytes: Int
    var refused = false

    init(maxBytes: Int?) { self.maxBytes = maxBytes ?? Int.max }

    /// Runs `body` with this limit as the one new memories on this thread get.
    func whileInstantiating<T>(_ body: () throws -> T) rethrows -> T {
        wadup_wasmtime_set_current(Unmanaged.passUnretained(self).toOpaque())
        defer { wadup_wasmtime_set_current(nil) }
        return try body()
    }
}

/// A wasm linear memory that WADUP allocates for wasmtime: the whole reservation is mapped
/// inaccessible up front (so it never moves, and the guard region traps), and growth makes pages
/// accessible, unless it would pass `--max-memory`: then the growth is refused (`memory.grow`
/// returns -1 to the guest) and the instance's ``MemoryLimit`` remembers it.
final class GuestMemory {
    let library: WasmtimeLibrary
    let base: UnsafeMutableRawPointer
    let mapped: Int
    let maximum: Int
    var size: Int
    let limit: MemoryLimit?

    private init(library: WasmtimeLibrary, base: UnsafeMutableRawPointer, mapped: Int, maximum: Int, size: Int, limit: MemoryLimit?) {
        self.library = library
        self.base = base
        self.mapped = mapped
        self.maximum = maximum
        self.size = size
        self.limit = limit
    }

    deinit { munmap(base, mapped) }

    /// The creator to install in an engine's configuration.
    static func creator(library: WasmtimeLibrary) -> wasmtime_memory_creator_t {
        wasmtime_memory_creator_t(env: Unmanaged.passUnretained(library).toOpaque(), new_memory: newMemory, finalizer: nil)
    }

    static let wasm32Maximum = 1 << 32

    private static let newMemory: wasmtime_new_memory_callback_t = { env, _, minimum, maximum, reserved, guardSize, result in
        let library = Unmanaged<WasmtimeLibrary>.fromOpaque(env!).takeUnretainedValue()
        let limit = wadup_wasmtime_get_current().map { Unmanaged<MemoryLimit>.fromOpaque($0).takeUnretainedValue() }
        let maxBytes = limit?.maxBytes ?? Int.max
        if minimum > maxBytes {
            limit?.refused = true
            return library.api.pointee.wasmtime_error_new("initial memory of \(minimum) bytes is over the memory limit of \(maxBytes) bytes")
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // wasmtime refuses growth past the reported maximum without asking: report the module's own
        // maximum, so that growth past --max-memory reaches growMemory and is seen to be refused.
        let typeMaximum = min(maximum, wasm32Maximum)
        let reservation = (max(reserved, min(typeMaximum, maxBytes), minimum) + page - 1) / page * page
        let mapped = reservation + guardSize
        guard let base = mmap(nil, mapped, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), base != MAP_FAILED else {
            return library.api.pointee.wasmtime_error_new("cannot reserve \(mapped) bytes for a linear memory: \(String(cString: strerror(errno)))")
        }
        if minimum > 0, mprotect(base, minimum, PROT_READ | PROT_WRITE) != 0 {
            munmap(base, mapped)
            return library.api.pointee.wasmtime_error_new("cannot commit \(minimum) bytes of linear memory: \(String(cString: strerror(errno)))")
        }
        let memory = GuestMemory(library: library, base: base, mapped: mapped, maximum: min(typeMaximum, reservation), size: minimum, limit: limit)
        result!.pointee = wasmtime_linear_memory_t(
            env: Unmanaged.passRetained(memory).toOpaque(), get_memory: getMemory, grow_memory: growMemory,
            finalizer: { Unmanaged<GuestMemory>.fromOpaque($0!).release() })
        return nil
    }

    private static let getMemory: wasmtime_memory_get_callback_t = { env, size, maximum in
        let memory = Unmanaged<GuestMemory>.fromOpaque(env!).takeUnretainedValue()
        size?.pointee = memory.size
        maximum?.pointee = memory.maximum
        return memory.base.assumingMemoryBound(to: UInt8.self)
    }

    private static let growMemory: wasmtime_memory_grow_callback_t = { env, newSize in
        let memory = Unmanaged<GuestMemory>.fromOpaque(env!).takeUnretainedValue()
        guard newSize <= memory.limit?.maxBytes ?? Int.max, newSize <= memory.maximum else {
            memory.limit?.refused = true
            return memory.library.api.pointee.wasmtime_error_new("memory growth to \(newSize) bytes is over the memory limit")
        }
        if newSize > memory.size {
            guard mprotect(memory.base + memory.size, newSize - memory.size, PROT_READ | PROT_WRITE) == 0 else {
                return memory.library.api.pointee.wasmtime_error_new("cannot commit linear memory: \(String(cString: strerror(errno)))")
            }
            memory.size = newSize
        }
        return nil
    }
}
