import WADUPGuestABI

/// Sub-content: new contents that WADUP processes like files, recursively.
public enum SubContent {
    /// Emits `bytes` as a new content named `name` (copied out once).
    public static func emit(bytes: UnsafeRawBufferPointer, name: String) throws(GuestError) {
        var nameBytes = Array(name.utf8)
        let result = nameBytes.withUnsafeMutableBytes { n in
            emit_subcontent_bytes(bytes.baseAddress, UInt32(bytes.count), n.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(n.count))
        }
        try GuestError.check(result)
    }

    public static func emit(bytes: [UInt8], name: String) throws(GuestError) {
        var failure: GuestError?
        bytes.withUnsafeBytes { raw in
            do throws(GuestError) { try emit(bytes: raw, name: name) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Emits `count` bytes of the current content from `offset` as a new content: zero-copy, at any
    /// offset (`emit_subcontent_slice64`).
    public static func emitSlice(offset: Int64, count: Int64, name: String) throws(GuestError) {
        guard offset >= 0, count >= 0 else { throw .outOfBounds }
        var nameBytes = Array(name.utf8)
        let result = nameBytes.withUnsafeMutableBytes { n in
            emit_subcontent_slice64(offset, count, n.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(n.count))
        }
        try GuestError.check(result)
    }

    /// Emits `count` bytes of the current content from `offset` as a new content: zero-copy.
    public static func emitSlice(offset: Int, count: Int, name: String) throws(GuestError) {
        try emitSlice(offset: Int64(offset), count: Int64(count), name: name)
    }
}

/// Log lines, tagged by WADUP with the module and the content.
public enum Log {
    public static func debug(_ message: String) { write(WADUP_LOG_DEBUG, message) }
    public static func info(_ message: String) { write(WADUP_LOG_INFO, message) }
    public static func warning(_ message: String) { write(WADUP_LOG_WARNING, message) }
    public static func error(_ message: String) { write(WADUP_LOG_ERROR, message) }

    static func write(_ level: Int32, _ message: String) {
        var bytes = Array(message.utf8)
        _ = bytes.withUnsafeMutableBytes { log_message(level, $0.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32($0.count)) }
    }
}
