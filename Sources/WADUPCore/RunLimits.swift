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
    /// Rows one module-run may insert: rows are held in host memory until the run succeeds.
    public var maxRows: Int
    /// Wall-clock seconds one module-run may take; `nil` for no limit. Only engines that can
    /// interrupt running guest code (wasmtime) apply it.
    public var timeout: Double?
    /// Total bytes of sub-content under one input (all depths); past it, emits return `limit_reached`.
    public var maxInputBytes: Int
    /// Sub-contents under one input (all depths); past it, emits return `limit_reached`.
    public var maxInputContents: Int

    public static let defaultMaxRecursionDepth = 100
    public static let defaultMaxSubcontent = 100_000
    public static let defaultMaxSubcontentBytes = 1 << 30
    public static let defaultTimeout: Double = 60
    public static let defaultMaxRows = 1_000_000
    public static let defaultMaxInputBytes = 16 << 30
    public static let defaultMaxInputContents = 1_000_000

    public init(
        fuel: UInt64? = nil, maxMemory: Int? = nil, maxStack: Int? = nil,
        maxRecursionDepth: Int = RunLimits.defaultMaxRecursionDepth,
        maxSubcontent: Int = RunLimits.defaultMaxSubcontent,
        maxSubcontentBytes: Int = RunLimits.defaultMaxSubcontentBytes,
        timeout: Double? = nil,
        maxRows: Int = RunLimits.defaultMaxRows,
        maxInputBytes: Int = RunLimits.defaultMaxInputBytes,
        maxInputContents: Int = RunLimits.defaultMaxInputContents
    ) {
        self.maxInputBytes = maxInputBytes
        self.maxInputContents = maxInputContents
        self.maxRows = maxRows
        self.timeout = timeout
        self.fuel = fuel
        self.maxMemory = maxMemory
        self.maxStack = maxStack
        self.maxRecursionDepth = maxRecursionDepth
        self.maxSubcontent = maxSubcontent
        self.maxSubcontentBytes = maxSubcontentBytes
    }
}

extension RunLimits {
    /// The wasm stack when `maxStack` is not given, on both engines.
    public static let defaultMaxStack = 512 << 10

    // The details recorded in `__wadup_content.error_message` when a limit ends a run: one wording
    // for both engines, naming the limit and its value, not a command-line flag (the database
    // outlives the command that wrote it).

    public func fuelExhaustedDetail() -> String { "all \(fuel ?? 0) fuel consumed" }

    public func stackOverflowDetail() -> String { "call stack exhausted (stack limit \(maxStack ?? Self.defaultMaxStack) bytes)" }

    /// A growth past the memory limit was refused, and then `then` happened.
    public func memoryLimitDetail(then: String) -> String {
        "memory growth past the memory limit of \(maxMemory ?? 0) bytes was refused, \(then)"
    }

    public func instantiationMemoryDetail() -> String { "instantiation exceeds the memory limit of \(maxMemory ?? 0) bytes" }

    /// Bytes of a content that add one second to ``timeout`` for a run on it: a module that reads
    /// every byte (hashes, YARA) at a modest 8 MiB/s is not cut off on a multi-GB content by a limit
    /// meant for ordinary ones, and a module stuck in a loop is still stopped in time proportionate
    /// to what it was given.
    public static let timeoutBytesPerExtraSecond = 8 << 20

    /// The wall-clock limit of a run on a content of `size` bytes: ``timeout`` plus one second per
    /// ``timeoutBytesPerExtraSecond``; `nil` when there is no limit.
    public func timeout(forContentSize size: Int) -> Double? {
        timeout.map { $0 + Double(max(0, size) / Self.timeoutBytesPerExtraSecond) }
    }

    public func timeoutDetail(contentSize: Int = 0) -> String {
        func text(_ seconds: Double) -> String { (seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)) + " s" }
        let base = timeout ?? 0
        let applied = timeout(forContentSize: contentSize) ?? 0
        guard applied > base else { return text(base) }
        return "\(text(applied)) (\(text(base)) + 1 s per \(Self.timeoutBytesPerExtraSecond >> 20) MiB of the \(contentSize)-byte content)"
    }

    /// What an input's record says when a budget refused sub-contents under it.
    public func inputBudgetDetail(bytesHit: Bool, contentsHit: Bool, refused: Int) -> String {
        var budgets: [String] = []
        if contentsHit { budgets.append("\(maxInputContents) sub-contents") }
        if bytesHit { budgets.append("\(maxInputBytes) bytes of sub-content") }
        return "wadup: input budget reached (\(budgets.joined(separator: " and "))): \(refused) sub-contents refused"
    }

    /// Why a sub-content at `depth` is recorded `skipped`.
    public func depthDetail(_ depth: Int) -> String { "wadup: depth \(depth) exceeds the recursion limit \(maxRecursionDepth)" }
}
