/// The limits one run applies to every module-run.
public struct RunLimits: Sendable, Equatable, Codable {
    /// Fuel per module per content; `nil` meters nothing (and runs a little faster).
    public var fuel: UInt64?
    /// Largest linear memory of one instance, in bytes; `nil` allows the wasm32 maximum.
    public var maxMemory: Int?
    /// Interpreter stack of one instance, in bytes; `nil` keeps the engine default (512 KiB).
    public var maxStack: Int?
    /// Deepest sub-content processed (roots are depth 0); deeper ones are recorded `skipped`.
    public var maxRecursionDepth: Int
    /// Sub-contents one module-run may emit.
    public var maxSubcontent: Int
    /// Bytes one module-run may copy out with `emit_subcontent_bytes`.
    public var maxSubcontentBytes: Int
    /// Wall-clock seconds one module-run may take; `nil` for no limit. Only engines that can
    /// interrupt running guest code (wasmtime) apply it.
    public var timeout: Double?

    public static let defaultMaxRecursionDepth = 100
    public static let defaultMaxSubcontent = 100_000
    public static let defaultMaxSubcontentBytes = 1 << 30
    public static let defaultTimeout: Double = 60

    public init(
        fuel: UInt64? = nil, maxMemory: Int? = nil, maxStack: Int? = nil,
        maxRecursionDepth: Int = RunLimits.defaultMaxRecursionDepth,
        maxSubcontent: Int = RunLimits.defaultMaxSubcontent,
        maxSubcontentBytes: Int = RunLimits.defaultMaxSubcontentBytes,
        timeout: Double? = nil
    ) {
        self.timeout = timeout
        self.fuel = fuel
        self.maxMemory = maxMemory
        self.maxStack = maxStack
        self.maxRecursionDepth = maxRecursionDepth
        self.maxSubcontent = maxSubcontent
        self.maxSubcontentBytes = maxSubcontentBytes
    }
}
