import WADUPCore

/// The bytes dispatch matches manifests' magic against: the content's head and tail, each read
/// once per content whatever the number of modules, and any other place read when asked; bytes in
/// memory are matched in place.
///
/// A read that fails (the input changed under it) matches nothing; the module-runs that follow
/// meet the same fault and record it.
package final class ContentProbe: ContentBytes {
    let data: ContentBuffer
    private var head: [UInt8]?
    private var tail: [UInt8]?
    /// Most magic numbers are in the first bytes ...
    static let headSize = 4096
    /// ... or in the last ones (a ZIP's end record and its comment).
    static let tailSize = 65_557 + 22

    package init(_ data: ContentBuffer) { self.data = data }

    package func withBytes(at offset: Int64, count: Int, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        let size = data.count
        guard offset >= 0, count >= 0, offset <= Int64(size), Int64(count) <= Int64(size) - offset else { return false }
        let start = Int(offset)
        if let memory = data.bytesInMemory {
            // Emitted bytes (most sub-contents) are looked at where they are: no head or tail copy.
            return body(UnsafeRawBufferPointer(rebasing: memory[start..<start + count]))  // `data` (a property) keeps them alive
        }
        if start + count <= Self.headSize {
            if head == nil { head = bytes(at: 0, count: min(Self.headSize, size)) ?? [] }
            guard let head, start + count <= head.count else { return false }
            return head.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<start + count])) }
        }
        let tailStart = max(0, size - Self.tailSize)
        if start >= tailStart {
            if tail == nil { tail = bytes(at: tailStart, count: size - tailStart) ?? [] }
            guard let tail, start - tailStart + count <= tail.count else { return false }
            return tail.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[(start - tailStart)..<(start - tailStart + count)])) }
        }
        guard let bytes = bytes(at: start, count: count) else { return false }
        return bytes.withUnsafeBytes(body)
    }

    private func bytes(at offset: Int, count: Int) -> [UInt8]? {
        guard count > 0 else { return [] }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 8)
        defer { buffer.deallocate() }
        do {
            try data.copy(from: offset, count: count, to: buffer)
        } catch {
            return nil
        }
        return Array(UnsafeRawBufferPointer(start: buffer, count: count))
    }
}
