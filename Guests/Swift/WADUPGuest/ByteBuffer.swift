import WADUPGuestRuntime

/// Raw bytes whose size comes from the input: allocation fails with `nil` instead of trapping,
/// so a module can refuse a lying size instead of dying on it.
public final class ByteBuffer {
    public let pointer: UnsafeMutablePointer<UInt8>
    public let capacity: Int

    public init?(capacity: Int) {
        guard capacity >= 0, let raw = wadup_try_alloc(max(capacity, 1)) else { return nil }
        self.pointer = raw.assumingMemoryBound(to: UInt8.self)
        self.capacity = capacity
    }

    deinit { wadup_free(pointer) }

    /// Fills the whole buffer from the content at `offset`.
    public func read(from offset: Int64) throws(GuestError) {
        try Content.read(offset: offset, into: UnsafeMutableRawBufferPointer(start: pointer, count: capacity))
    }

    public var rawBuffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: capacity) }

    /// Bytes allocated from the heap so far (grows only when freed blocks cannot be reused).
    public static var heapSize: Int { Int(wadup_heap_size()) }
}
