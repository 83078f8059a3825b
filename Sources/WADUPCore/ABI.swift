/// The guest ABI: host function names, signatures and error codes.
///
/// This file and `Guests/C/wadup.h` are the two machine-readable copies of `docs/modules/ABI.md`;
/// `ABIConsistencyTests` keeps all three in step.
public enum ABI {
    /// The version of this interface, shown by `wadup --version`: raised when a host function is
    /// added or changes, so that a module author can tell which hosts run a module.
    public static let version = 3
    /// The import module every WADUP host function lives in.
    public static let importModule = "env"
    /// The WASI preview 1 import module, served with no file system and no network.
    public static let wasiModule = "wasi_snapshot_preview1"
    /// The export the host calls once per content: `() -> i32`, 0 meaning success.
    public static let processExport = "process"
    /// The memory every pointer and length refers to.
    public static let memoryExport = "memory"
    /// A WASI reactor's initializer, called once after instantiation when exported.
    public static let initializeExport = "_initialize"
    /// The optional configuration check: `() -> i32`, called once per instance after
    /// `_initialize` and before any `process`; 0 ready, 1 declines (not loaded), else an error.
    public static let initExport = "init"
    /// The optional manifest export, for a module whose manifest is known only once `init` ran (a
    /// Python module's `ACCEPTS`): `() -> i32`, called once after `init`, returning the address of
    /// NUL-terminated manifest JSON in memory, or 0 for none. A `wadup.manifest` section wins.
    public static let acceptsExport = "wadup_accepts"

    /// A wasm value type of the ABI: every parameter and result is one of these.
    public enum ValueType: String, Sendable, Hashable {
        case i32, i64
    }

    /// One host function: its name, its parameter types and its result type.
    public struct HostFunction: Sendable, Hashable {
        public let name: String
        public let parameters: [ValueType]
        public let result: ValueType

        public init(name: String, parameters: [ValueType], result: ValueType = .i32) {
            self.name = name
            self.parameters = parameters
            self.result = result
        }

        public var parameterCount: Int { parameters.count }
    }

    /// Every host function of the `env` module, in the order of `docs/modules/ABI.md`.
    public static let hostFunctions: [HostFunction] = [
        HostFunction(name: "get_content_size", parameters: []),
        HostFunction(name: "read_content", parameters: [.i32, .i32, .i32]),
        HostFunction(name: "get_content_uuid", parameters: [.i32]),
        HostFunction(name: "get_content_filename", parameters: [.i32, .i32]),
        HostFunction(name: "define_table", parameters: [.i32, .i32, .i32, .i32]),
        HostFunction(name: "insert_row", parameters: [.i32, .i32, .i32]),
        HostFunction(name: "emit_subcontent_bytes", parameters: [.i32, .i32, .i32, .i32]),
        HostFunction(name: "emit_subcontent_slice", parameters: [.i32, .i32, .i32, .i32]),
        HostFunction(name: "log_message", parameters: [.i32, .i32, .i32]),
        HostFunction(name: "get_content_size64", parameters: [], result: .i64),
        HostFunction(name: "read_content64", parameters: [.i64, .i32, .i32]),
        HostFunction(name: "emit_subcontent_slice64", parameters: [.i64, .i64, .i32, .i32]),
        HostFunction(name: "set_content_type", parameters: [.i32, .i32, .i32, .i32]),
        HostFunction(name: "get_content_type", parameters: [.i32, .i32]),
        HostFunction(name: "emit_stream_begin", parameters: [.i32, .i32]),
        HostFunction(name: "emit_stream_write", parameters: [.i32, .i32, .i32]),
        HostFunction(name: "emit_stream_skip", parameters: [.i32, .i64]),
        HostFunction(name: "emit_stream_end", parameters: [.i32]),
        HostFunction(name: "emit_stream_abort", parameters: [.i32]),
        HostFunction(name: "emit_subcontent_extents", parameters: [.i32, .i32, .i32, .i32]),
        HostFunction(name: "emit_subcontent_encoded", parameters: [.i64, .i64, .i64, .i64, .i32, .i32]),
        HostFunction(name: "get_encoding", parameters: [.i32]),
    ]

    /// Longest log message kept, in bytes; longer messages are truncated (not refused).
    public static let maxLogMessageBytes = 4096
    /// Log lines a single module-run may write; past it `log_message` returns ``ABIError/limitReached``.
    public static let maxLogMessagesPerRun = 1000
    /// Longest sub-content name, in bytes.
    public static let maxSubcontentNameBytes = 4096
    /// Most bytes of row JSON a single module-run may insert (bounds the memory one run can hold).
    public static let maxRowBytesPerRun = 256 << 20
    /// Most columns in one table.
    public static let maxColumns = 1000
    /// Longest MIME type `set_content_type` records, in bytes.
    public static let maxMIMEBytes = 255
    /// Longest type description kept, in bytes; a longer one is cut at a character boundary.
    public static let maxTypeDescriptionBytes = 4096
    /// The custom section that holds a module's manifest (JSON; see ``ModuleManifest``).
    public static let manifestSection = "wadup.manifest"
    /// Largest manifest read, in bytes.
    public static let maxManifestBytes = 64 << 10
    /// Streams one module-run may have open at once (begun, not yet ended or aborted).
    public static let maxOpenStreams = 16
    /// Most extents in one `emit_subcontent_extents` call (the array is then at most 1 MiB).
    public static let maxExtents = 65536
    /// The offset of an extent that is a hole: it reads as zeros.
    public static let holeOffset: Int64 = -1
}

/// A negative return value of a host function: stable, documented, never a trap.
public enum ABIError: Int32, Error, Sendable, CaseIterable, CustomStringConvertible {
    /// A pointer/length pair outside guest memory, or an offset/length outside the content.
    case outOfBounds = -1
    /// A name, a string or a JSON text is not valid UTF-8.
    case invalidUTF8 = -2
    /// Column or row JSON that does not parse or does not have the documented shape.
    case invalidJSON = -3
    /// A table or column name that is not `[A-Za-z_][A-Za-z0-9_]*` of at most 63 bytes, or is reserved.
    case invalidIdentifier = -4
    /// A table already defined with other columns.
    case schemaConflict = -5
    /// A table id this instance never received from `define_table`.
    case unknownTable = -6
    /// A row with a different number of values than the table has columns.
    case arityMismatch = -7
    /// A value whose type is not its column's type.
    case typeMismatch = -8
    /// A per-run limit (sub-contents, sub-content bytes, log lines, rows, row bytes) is reached.
    case limitReached = -9
    /// A negative length or capacity, or an unknown log level.
    case invalidArgument = -10
    /// A content function called outside `process` (from a start function or `_initialize`).
    case noContent = -11
    /// The content's bytes could not be read: its input file changed or failed while it was read.
    /// The content is recorded as failed (`input_changed` or `read_error`) whatever the module does
    /// next; the module should return.
    case inputUnavailable = -12
    /// A stream handle this run never received from `emit_stream_begin`, or one already ended or aborted.
    case unknownStream = -13
    /// The host could not write a stream's temporary file (the temporary folder is full or failing):
    /// the module-run fails whatever the module returns; the module should return.
    case temporaryStorage = -14

    /// The stable lowercase name used in docs and logs.
    public var name: String {
        switch self {
        case .outOfBounds: "out_of_bounds"
        case .invalidUTF8: "invalid_utf8"
        case .invalidJSON: "invalid_json"
        case .invalidIdentifier: "invalid_identifier"
        case .schemaConflict: "schema_conflict"
        case .unknownTable: "unknown_table"
        case .arityMismatch: "arity_mismatch"
        case .typeMismatch: "type_mismatch"
        case .limitReached: "limit_reached"
        case .invalidArgument: "invalid_argument"
        case .noContent: "no_content"
        case .inputUnavailable: "input_unavailable"
        case .unknownStream: "unknown_stream"
        case .temporaryStorage: "temporary_storage"
        }
    }

    public var description: String { "\(name) (\(rawValue))" }
}
