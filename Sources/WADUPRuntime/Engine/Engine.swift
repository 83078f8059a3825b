import Logging
import WADUPCore

/// A WebAssembly engine behind WADUP's ABI: loads and validates modules, makes instances.
///
/// The ABI (``HostABI``, bound through ``HostABI/bindings``), the limits and the failure kinds do not
/// depend on the engine: ``WasmtimeEngine`` (the default) and ``WasmKitEngine`` implement these three
/// protocols and nothing else.
public protocol WasmEngine: Sendable, CustomStringConvertible {
    /// Validates and compiles one module, checking its imports and exports against the ABI.
    ///
    /// `dataDirectory`, when given, is the module's data folder: every instance sees it through
    /// WASI at ``ModuleDataMount/guestPath``, read-only (a module without WASI imports cannot see it).
    func load(name: String, bytes: [UInt8], path: String, dataDirectory: String?) throws(ModuleLoadError) -> any LoadedModule
    /// Whether the engine can stop guest code that is running (so can apply `RunLimits.timeout`
    /// and ``interrupt()``).
    var canInterrupt: Bool { get }
    /// Stops every module-run in progress, and every later one, with ``ModuleRunOutcome/interrupted``.
    /// An engine that cannot interrupt does nothing.
    func interrupt()
    /// `name version`, as recorded in `__wadup_run.engine`.
    var description: String { get }
}

extension WasmEngine {
    /// Loads a module that has no data folder.
    public func load(name: String, bytes: [UInt8], path: String) throws(ModuleLoadError) -> any LoadedModule {
        try load(name: name, bytes: bytes, path: path, dataDirectory: nil)
    }
}

/// Where a module's data folder appears to the module.
///
/// The folder is the only part of the host's file system a module can see, and only through WASI
/// preview 1 (a preopened directory): read-only on both engines, nothing above it reachable.
public enum ModuleDataMount {
    /// The guest path of the preopened data folder.
    public static let guestPath = "/data"
}

/// A validated module, shared by all threads.
public protocol LoadedModule: Sendable {
    var name: String { get }
    /// A new instance bound to `abi`, for use on the calling thread only.
    func instantiate(abi: HostABI) throws(ModuleLoadError) -> any ModuleInstance
}

/// One instance of a module: thread-confined, reused from one content to the next.
public protocol ModuleInstance: AnyObject {
    var abi: HostABI { get }
    /// Runs `process` on `context`. After a failure the instance must not be used again.
    func process(_ context: RunContext) -> ModuleRunOutcome
}

/// A module that cannot be used: the file, and what is wrong with it.
public struct ModuleLoadError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    /// The failure recorded when an instance cannot be made during a run (it was made once at load).
    public let failureKind: FailureKind

    public init(path: String, reason: String, failureKind: FailureKind = .abiError) {
        self.path = path
        self.reason = reason
        self.failureKind = failureKind
    }

    public var description: String { "invalid module \(path): \(reason)" }
}
