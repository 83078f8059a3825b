import WADUPGuestABI

/// The content being processed: its bytes, uuid and filename.
public enum Content {
    /// Size in bytes, exact at any size (`get_content_size64`).
    public static var size64: Int64 { get_content_size64() }

    /// Size in bytes as an `Int` (32-bit on wasm32: contents past 2 GiB report Int.max; use ``size64``).
    public static var size: Int { Int(clamping: size64) }

    /// Copies `buffer.count` bytes from `offset` into `buffer` (`read_content64`: any offset).
    @inline(__always)
    public static func read(offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(GuestError) {
        guard offset >= 0, buffer.count > 0 else {
            if offset < 0 { throw .outOfBounds }
            return
        }
        try GuestError.check(read_content64(offset, UInt32(truncatingIfNeeded: buffer.count), buffer.baseAddress))
    }

    /// Copies `buffer.count` bytes from `offset` into `buffer`.
    @inline(__always)
    public static func read(offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(GuestError) {
        try read(offset: Int64(offset), into: buffer)
    }

    /// `count` bytes from `offset`.
    public static func read(offset: Int64, count: Int) throws(GuestError) -> [UInt8] {
        guard count >= 0 else { throw .outOfBounds }
        var bytes = [UInt8](repeating: 0, count: count)
        var failure: GuestError?
        bytes.withUnsafeMutableBytes { buffer in
            do throws(GuestError) { try read(offset: offset, into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Every byte of the content.
    public static func readAll() throws(GuestError) -> [UInt8] { try read(offset: 0, count: size) }

    /// `count` bytes from `offset`.
    public static func read(offset: Int, count: Int) throws(GuestError) -> [UInt8] { try read(offset: Int64(offset), count: count) }

    /// The 16 bytes of the content's UUID.
    public static var uuid: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { _ = get_content_uuid($0.baseAddress) }
        return bytes
    }

    /// The content's filename: its path under `--input`, or the name its parent module gave it.
    public static var filename: String { text(capacity: 256, get_content_filename) ?? "" }

    /// The text a `get_*(dest, capacity) -> length` host function gives, asked again with the full
    /// length when the first buffer was too small; `nil` for an error.
    private static func text(capacity: Int, _ get: (UnsafeMutablePointer<CChar>?, UInt32) -> Int32) -> String? {
        var capacity = capacity
        while true {
            var bytes = [UInt8](repeating: 0, count: capacity)
            let length = bytes.withUnsafeMutableBytes { Int(get($0.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(capacity))) }
            if length < 0 { return nil }
            if length <= capacity { return String(decoding: bytes[0..<length], as: UTF8.self) }
            capacity = length
        }
    }

    /// The MIME type the run's identifying module reported for this content; `nil` when none did.
    public static var mime: String? {
        guard let mime = text(capacity: 128, get_content_type), !mime.isEmpty else { return nil }
        return mime
    }

    /// Reports the content's type (`set_content_type`): for identifying modules only (manifest
    /// role `identify`); the other modules are dispatched on it.
    public static func setType(mime: String, description: String) throws(GuestError) {
        var mime = mime
        var description = description
        let code = mime.withUTF8 { m in
            description.withUTF8 { d in
                set_content_type(
                    UnsafeRawPointer(m.baseAddress)?.assumingMemoryBound(to: CChar.self), UInt32(m.count),
                    UnsafeRawPointer(d.baseAddress)?.assumingMemoryBound(to: CChar.self), UInt32(d.count))
            }
        }
        if code < 0 { throw GuestError(code: code) }
    }

    /// A cursor over the content that reads through a buffer.
    public static func reader(bufferSize: Int = 64 << 10) -> ContentReader { ContentReader(bufferSize: bufferSize) }
}

/// Sequential and random access to the content through a small buffer; little-endian integers.
/// Positions are 64-bit: contents of any size (disk images, archives past 4 GiB) are addressable.
public struct ContentReader {
    public let size: Int64
    /// Position of the next byte.
    public var position: Int64 = 0
    private var buffer: [UInt8]
    private var bufferStart: Int64 = 0
    private var bufferCount = 0

    init(bufferSize: Int) {
        size = Content.size64
        buffer = [UInt8](repeating: 0, count: max(bufferSize, 16))
    }

    public var remaining: Int64 { size - position }

    private mutating func fill(_ offset: Int64) throws(GuestError) {
        let count = Int(min(Int64(buffer.count), size - offset))
        guard count > 0 else { throw .malformed }
        var failure: GuestError?
        buffer.withUnsafeMutableBytes { raw in
            do throws(GuestError) { try Content.read(offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count])) } catch { failure = error }
        }
        if let failure { throw failure }
        bufferStart = offset
        bufferCount = count
    }

    /// The byte at `offset`; throws ``GuestError/malformed`` past the end.
    public mutating func byte(at offset: Int64) throws(GuestError) -> UInt8 {
        guard offset >= 0, offset < size else { throw .malformed }
        if offset < bufferStart || offset >= bufferStart + Int64(bufferCount) { try fill(offset) }
        return buffer[Int(offset - bufferStart)]
    }

    /// `count` bytes at `offset`.
    public mutating func bytes(at offset: Int64, count: Int) throws(GuestError) -> [UInt8] {
        guard offset >= 0, count >= 0, Int64(count) <= size - offset else { throw .malformed }
        if offset >= bufferStart && offset + Int64(count) <= bufferStart + Int64(bufferCount) {
            let start = Int(offset - bufferStart)
            return Array(buffer[start..<(start + count)])
        }
        return try Content.read(offset: offset, count: count)
    }

    public mutating func u16(at offset: Int64) throws(GuestError) -> UInt16 {
        UInt16(try byte(at: offset)) | UInt16(try byte(at: offset + 1)) << 8
    }

    public mutating func u32(at offset: Int64) throws(GuestError) -> UInt32 {
        UInt32(try u16(at: offset)) | UInt32(try u16(at: offset + 2)) << 16
    }

    public mutating func u64(at offset: Int64) throws(GuestError) -> UInt64 {
        UInt64(try u32(at: offset)) | UInt64(try u32(at: offset + 4)) << 32
    }

    /// Big-endian reads, for formats such as SQLite.
    public mutating func u16BE(at offset: Int64) throws(GuestError) -> UInt16 {
        UInt16(try byte(at: offset)) << 8 | UInt16(try byte(at: offset + 1))
    }

    public mutating func u32BE(at offset: Int64) throws(GuestError) -> UInt32 {
        UInt32(try u16BE(at: offset)) << 16 | UInt32(try u16BE(at: offset + 2))
    }

    /// Reads the next byte and advances.
    public mutating func readByte() throws(GuestError) -> UInt8 {
        let b = try byte(at: position)
        position += 1
        return b
    }

    /// Reads the next `count` bytes and advances.
    public mutating func read(_ count: Int) throws(GuestError) -> [UInt8] {
        let b = try bytes(at: position, count: count)
        position += Int64(count)
        return b
    }
}
