import WADUPCore

/// The bytes dispatch looks at to match manifests' magic: the head of the content read once,
/// other places read when a manifest asks for them.
///
/// A read that fails (the input changed under it) matches nothing; the module-runs that follow
/// meet the same fault and record it.
final class ContentProbe {
    let data: ContentBuffer
    private var head: [UInt8]?
    /// The head kept for every manifest of the run: most magic numbers are in the first bytes.
    static let headSize = 4096

    init(_ data: ContentBuffer) { self.data = data }

    func read(_ offset: Int64, _ count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0, offset <= Int64(data.count), Int64(count) <= Int64(data.count) - offset else { return nil }
        let start = Int(offset)
        if start + count <= Self.headSize {
            if head == nil { head = bytes(at: 0, count: min(Self.headSize, data.count)) }
            guard let head, start + count <= head.count else { return nil }
            return Array(head[start..<start + count])
        }
        return bytes(at: start, count: count)
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
