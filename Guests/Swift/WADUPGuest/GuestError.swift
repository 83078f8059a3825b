import WADUPGuestABI

/// A host call that failed, with the ABI's error code (see `docs/modules/ABI.md`).
public struct GuestError: Error, Equatable {
    public let code: Int32

    public init(code: Int32) { self.code = code }

    public static let outOfBounds = GuestError(code: WADUP_E_OUT_OF_BOUNDS)
    public static let invalidUTF8 = GuestError(code: WADUP_E_INVALID_UTF8)
    public static let invalidJSON = GuestError(code: WADUP_E_INVALID_JSON)
    public static let invalidIdentifier = GuestError(code: WADUP_E_INVALID_IDENTIFIER)
    public static let schemaConflict = GuestError(code: WADUP_E_SCHEMA_CONFLICT)
    public static let unknownTable = GuestError(code: WADUP_E_UNKNOWN_TABLE)
    public static let arityMismatch = GuestError(code: WADUP_E_ARITY_MISMATCH)
    public static let typeMismatch = GuestError(code: WADUP_E_TYPE_MISMATCH)
    public static let limitReached = GuestError(code: WADUP_E_LIMIT_REACHED)
    public static let invalidArgument = GuestError(code: WADUP_E_INVALID_ARGUMENT)
    public static let noContent = GuestError(code: WADUP_E_NO_CONTENT)
    public static let inputUnavailable = GuestError(code: WADUP_E_INPUT_UNAVAILABLE)
    public static let unknownStream = GuestError(code: WADUP_E_UNKNOWN_STREAM)
    public static let temporaryStorage = GuestError(code: WADUP_E_TEMPORARY_STORAGE)
    /// Not a host error: the module found its input malformed (returned from `process` as 1).
    public static let malformed = GuestError(code: 1)
    /// Not a host error: a column name the table does not have, or a value of the wrong type (SDK-side check).
    public static let unknownColumn = GuestError(code: 2)

    @inline(__always)
    static func check(_ result: Int32) throws(GuestError) {
        if result < 0 { throw GuestError(code: result) }
    }
}

/// Runs a module's work and turns a thrown error into `process`'s return code (0 on success).
///
/// ```swift
/// @_expose(wasm, "process") @_cdecl("process")
/// public func process() -> Int32 { run { try MyModule.process() } }
/// ```
@inline(__always)
public func run(_ body: () throws(GuestError) -> Void) -> Int32 {
    do {
        try body()
        return 0
    } catch {
        return error.code == 0 ? 1 : error.code
    }
}
