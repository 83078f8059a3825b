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
    /// `mounts` are the host folders every instance sees through WASI, read-only (a module without
    /// WASI imports cannot see them): the module's data folder at ``ModuleDataMount/guestPath``,
    /// and for a Python module its script and the interpreter's library (``GuestMount``).
    func load(name: String, bytes: [UInt8], path: String, mounts: [GuestMount]) throws(ModuleLoadError) -> any LoadedModule
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
        try load(name: name, bytes: bytes, path: path, mounts: [])
    }

    /// Loads a module whose only folder is its data folder, `dataDirectory` (none when `nil`).
    public func load(name: String, bytes: [UInt8], path: String, dataDirectory: String?) throws(ModuleLoadError) -> any LoadedModule {
        try load(name: name, bytes: bytes, path: path, mounts: dataDirectory.map { [GuestMount(guestPath: ModuleDataMount.guestPath, hostPath: $0)] } ?? [])
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

/// A host folder a module's instances see through WASI preview 1 at `guestPath`, read-only.
public struct GuestMount: Sendable, Equatable {
    /// The absolute path the guest opens (`/data`, `/python`, `/module`).
    public let guestPath: String
    /// The host folder, without symbolic links inside it.
    public let hostPath: String

    public init(guestPath: String, hostPath: String) {
        self.guestPath = guestPath
        self.hostPath = hostPath
    }
}

/// A validated module, shared by all threads.
public protocol LoadedModule: Sendable {
    var name: String { get }
    /// What the module's `init` said when it was loaded (``ModuleInitialization/ready`` without one).
    var initialization: ModuleInitialization { get }
    /// The manifest JSON the module's `wadup_accepts` export gave after `init` when it was loaded
    /// (docs/modules/ABI.md, "Manifest"), `nil` without that export or when it returned 0.
    var exportedManifest: String? { get }
    /// A new instance bound to `abi`, for use on the calling thread only.
    func instantiate(abi: HostABI) throws(ModuleLoadError) -> any ModuleInstance
}

/// One instance of a module: thread-confined, reused from one content to the next.
public protocol ModuleInstance: AnyObject {
    var abi: HostABI { get }
    /// What this instance's `init` returned (an error code is thrown by `instantiate` instead).
    var initialization: ModuleInitialization { get }
    /// What this instance's `wadup_accepts` export returned after `init` (``LoadedModule/exportedManifest``).
    var exportedManifest: String? { get }
    /// Runs `process` on `context`. After a failure the instance must not be used again.
    func process(_ context: RunContext) -> ModuleRunOutcome
}

/// A module that cannot be used: the file, and what is wrong with it.
public struct ModuleLoadError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    /// The failure recorded when an instance cannot be made during a run (it was made once at load).
    public let failureKind: FailureKind
    /// Whether the module's `init` reported a configuration error: `reason` is then
    /// `NAME: what the module logged at error level`, shown as it is.
    public let isInitError: Bool

    public init(path: String, reason: String, failureKind: FailureKind = .abiError, isInitError: Bool = false) {
        self.path = path
        self.reason = reason
        self.failureKind = failureKind
        self.isInitError = isInitError
    }

    public var description: String { isInitError ? reason : "invalid module \(path): \(reason)" }
}

/// What a module's optional `init` export said about the run's configuration
/// (docs/modules/ABI.md, "Initialization"). An error code is not a case: it is thrown as a
/// ``ModuleLoadError`` whose ``ModuleLoadError/isInitError`` is set.
public enum ModuleInitialization: Sendable, Equatable {
    /// No `init` export, or it returned 0: the module runs.
    case ready
    /// `init` returned 1: nothing to do in this configuration (a rule scanner without rules). The
    /// module is not loaded for the run; `message` is what it logged (info level or above), the
    /// one line the host prints.
    case declined(message: String)

    /// The return code that means ready.
    public static let readyCode: Int32 = 0
    /// The return code that means declined.
    public static let declinedCode: Int32 = 1

    /// Interprets `code`, returned by `init` of module `name` (file `path`), with the lines the
    /// module logged during the call.
    static func interpret(code: Int32, log: [InitLogLine], name: String, path: String) throws(ModuleLoadError) -> ModuleInitialization {
        switch code {
        case readyCode:
            return .ready
        case declinedCode:
            let said = log.filter { $0.level >= .info }.map(\.text)
            return .declined(message: said.isEmpty ? "init declined (returned 1)" : said.joined(separator: "; "))
        default:
            let errors = log.filter { $0.level >= .error }.map(\.text)
            let said = errors.isEmpty ? log.filter { $0.level >= .warning }.map(\.text) : errors
            let message = said.isEmpty ? "init returned \(code)" : said.joined(separator: "\n")
            throw ModuleLoadError(path: path, reason: "\(name): \(message)", failureKind: .abiError, isInitError: true)
        }
    }
}

/// A line a module logged while its `init` ran: kept, not logged, until the host knows what init
/// returned (a decline prints one line; an error becomes the run's error message).
public struct InitLogLine: Sendable, Equatable {
    public let level: Logger.Level
    public let text: String
}

extension RunLimits {
    /// How many times a content's fuel and wall-clock time `init` gets: compiling a module's
    /// configuration (thousands of YARA rules) can cost far more than one content.
    public static let initBudgetFactor: UInt64 = 10

    /// The fuel of one `init` call: ``initBudgetFactor`` times `--fuel` (saturating).
    public var initFuel: UInt64? {
        fuel.map { $0.multipliedReportingOverflow(by: Self.initBudgetFactor).overflow ? UInt64.max : $0 * Self.initBudgetFactor }
    }

    /// The wall-clock limit of one `init` call, in seconds: ``initBudgetFactor`` times `--timeout`.
    public var initTimeout: Double? { timeout.map { $0 * Double(Self.initBudgetFactor) } }
}
