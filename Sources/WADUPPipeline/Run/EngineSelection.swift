import Logging
import WADUPCore
import WADUPRuntime

/// Which WebAssembly engine runs the modules.
public enum EngineKind: String, Sendable, Codable, CaseIterable {
    /// wasmtime through its C API (compiled code, interruptible): the default.
    case wasmtime
    /// The WasmKit interpreter, pure Swift: the fallback where wasmtime's library is missing.
    case wasmkit
}

/// Makes the engine of a run: the one asked for, or wasmtime with WasmKit as the fallback.
public enum EngineSelection {
    /// The engine for `kind` (`nil`: the default, wasmtime, falling back to WasmKit with a warning
    /// naming the paths tried). An explicit `wasmtime` that cannot load, or a `timeout` WasmKit
    /// cannot apply, is a usage error.
    ///
    /// - Parameter timeoutIsDefault: `true` when `limits.timeout` is the default rather than the user's
    ///   choice: WasmKit then runs without it (and says so) instead of refusing.
    public static func make(
        kind: EngineKind?, limits: RunLimits, timeoutIsDefault: Bool, cacheDirectory: String?, logger: Logger, tuning: Tuning = .standard,
        spelling: SettingSpelling = \.rawValue, library: @autoclosure () -> Result<WasmtimeLibrary, WasmtimeLibrary.LoadError> = WasmtimeLibrary.shared
    ) throws(WADUPError) -> any WasmEngine {
        if kind == .wasmkit { return try wasmKit(limits: limits, timeoutIsDefault: timeoutIsDefault, logger: logger) }
        switch (kind, library()) {
        case (.wasmtime?, .success(let library)), (nil, .success(let library)):
            return WasmtimeEngine(library: library, limits: limits, cacheDirectory: cacheDirectory, logger: logger, tuning: tuning, spelling: spelling)
        case (.wasmtime?, .failure(let error)):
            throw WADUPError(.usage, "\(WADUPError.Setting.engine) wasmtime: \(error)")
        case (nil, .failure(let error)):
            logger.warning("\(error); running on the WasmKit interpreter instead (slower, and without a wall-clock limit)")
            return try wasmKit(limits: limits, timeoutIsDefault: timeoutIsDefault, logger: logger)
        case (.wasmkit?, _):
            return try wasmKit(limits: limits, timeoutIsDefault: timeoutIsDefault, logger: logger)  // handled above
        }
    }

    private static func wasmKit(limits: RunLimits, timeoutIsDefault: Bool, logger: Logger) throws(WADUPError) -> any WasmEngine {
        var limits = limits
        if limits.timeout != nil {
            guard timeoutIsDefault else {
                throw WADUPError(.usage, "\(WADUPError.Setting.timeout): the WasmKit engine cannot interrupt a running module, so it cannot apply a wall-clock limit; use \(WADUPError.Setting.engine) wasmtime, or \(WADUPError.Setting.fuel) to bound CPU")
            }
            logger.info("the WasmKit engine cannot interrupt a running module: no wall-clock limit applies (a fuel limit bounds CPU)")
            limits.timeout = nil
        }
        return WasmKitEngine(limits: limits, logger: logger)
    }
}
