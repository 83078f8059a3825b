/// Why a module-run failed: stable lowercase kinds, recorded as data.
public enum FailureKind: String, Sendable, CaseIterable, Codable {
    /// The run used its whole `--fuel` budget.
    case fuelExhausted = "fuel_exhausted"
    /// A memory growth was refused by `--max-memory` during the run, and the run then failed.
    case memoryLimit = "memory_limit"
    /// The interpreter stack (`--max-stack`) was exhausted.
    case stackOverflow = "stack_overflow"
    /// Any other WebAssembly trap (unreachable, out-of-bounds access, division by zero, ...).
    case trap
    /// `process` returned a value other than 0 (or a WASI module called `proc_exit` with one).
    case nonzeroReturn = "nonzero_return"
    /// The module could not be run as the ABI requires (instantiation or compilation failed at run time).
    case abiError = "abi_error"
    /// The run went past `--timeout` seconds of wall-clock time.
    case timeout
    /// The input file changed while it was read (shorter, longer, or written to): the bytes the
    /// modules would see are not the file's. Not the module's fault; recorded for the content.
    case inputChanged = "input_changed"
    /// Reading the input file failed (EIO: a failing disk, a device removed, a network file system
    /// gone). Not the module's fault; recorded for the content.
    case readError = "read_error"
    /// A streamed sub-content could not be written to the temporary folder (full or failing):
    /// the module-run fails, the run goes on. Not the content's fault.
    case temporaryStorage = "temporary_storage"
}

/// A failed module-run: the module, the kind and a one-line detail.
public struct ModuleFailure: Sendable, Equatable, CustomStringConvertible {
    public let module: String
    public let kind: FailureKind
    public let detail: String

    public init(module: String, kind: FailureKind, detail: String) {
        self.module = module
        self.kind = kind
        self.detail = detail
    }

    /// `module: kind: detail`, the form stored in `__wadup_content.error_message`.
    public var description: String { "\(module): \(kind.rawValue): \(detail)" }
}
