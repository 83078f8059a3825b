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

/// A sub-content of any size written piece by piece (`emit_stream_*`): the host keeps a small one
/// in memory and a large one in an unlinked temporary file. Call ``end()`` to emit it; one never
/// ended is discarded when `process` returns.
public struct SubContentStream {
    public let handle: Int32

    /// Begins a stream named `name`.
    public init(name: String) throws(GuestError) {
        var nameBytes = Array(name.utf8)
        let result = nameBytes.withUnsafeMutableBytes { n in
            emit_stream_begin(n.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(n.count))
        }
        try GuestError.check(result)
        handle = result
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(GuestError) {
        try GuestError.check(emit_stream_write(handle, bytes.baseAddress, UInt32(bytes.count)))
    }

    public func write(_ bytes: [UInt8]) throws(GuestError) {
        var failure: GuestError?
        bytes.withUnsafeBytes { raw in
            do throws(GuestError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Appends `count` zero bytes without sending them (a hole: no disk, no copy on the host).
    public func skip(_ count: Int64) throws(GuestError) {
        try GuestError.check(emit_stream_skip(handle, count))
    }

    /// Emits the stream as a sub-content, after those emitted before.
    public func end() throws(GuestError) { try GuestError.check(emit_stream_end(handle)) }

    /// Discards the stream.
    public func abort() throws(GuestError) { try GuestError.check(emit_stream_abort(handle)) }
}

extension SubContent {
    /// One piece of an extents sub-content: a range of the current content, or a hole of zeros.
    public enum Extent {
        case range(offset: Int64, count: Int64)
        case hole(count: Int64)
    }

    /// Emits a zero-copy sub-content made of ranges of the current content and holes, in order
    /// (`emit_subcontent_extents`; at most 65536 extents).
    public static func emitExtents(_ extents: [Extent], name: String) throws(GuestError) {
        var array: [wadup_extent] = extents.map { extent in
            switch extent {
            case .range(let offset, let count): wadup_extent(offset: offset, length: count)
            case .hole(let count): wadup_extent(offset: Int64(WADUP_HOLE), length: count)
            }
        }
        var nameBytes = Array(name.utf8)
        let result = array.withUnsafeMutableBufferPointer { a in
            nameBytes.withUnsafeMutableBytes { n in
                emit_subcontent_extents(a.baseAddress, UInt32(a.count), n.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(n.count))
            }
        }
        try GuestError.check(result)
    }
}

extension SubContent {
    /// Emits `count` bytes of the current content from `offset` undecoded
    /// (`emit_subcontent_encoded`): this module decodes them later, in a decoding run of its own
    /// on any worker, where ``decoding()`` returns `encoding` and `decodedSize`. Counted now as
    /// `decodedSize` bytes emitted.
    public static func emitEncoded(offset: Int64, count: Int64, decodedSize: Int64, encoding: Int64, name: String) throws(GuestError) {
        var nameBytes = Array(name.utf8)
        let result = nameBytes.withUnsafeMutableBytes { n in
            emit_subcontent_encoded(offset, count, decodedSize, encoding, n.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(n.count))
        }
        try GuestError.check(result)
    }

    /// In a decoding run, the token and decoded size given to ``emitEncoded(offset:count:decodedSize:encoding:name:)``;
    /// `nil` in an ordinary run. The content is then the encoded range, and the one sub-content the
    /// run may emit is the decoded bytes.
    public static func decoding() throws(GuestError) -> (encoding: Int64, decodedSize: Int64)? {
        var value = wadup_encoding(encoding: 0, decoded_size: 0)
        let result = get_encoding(&value)
        try GuestError.check(result)
        return result == 1 ? (value.encoding, value.decoded_size) : nil
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
