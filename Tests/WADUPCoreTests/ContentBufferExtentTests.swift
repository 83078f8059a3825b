import Testing
import WADUPCore

/// A content made of extents reads as its pieces one after the other, holes as zeros, through
/// every way a content is read: copies at any offset, windows, and slices of it.
struct ContentBufferExtentTests {
    static let parent = ContentBuffer(Array(0..<200).map { UInt8($0) })
    static let pieces: [ContentBuffer.Extent] = [
        .range(of: parent, offset: 10, count: 30), .hole(count: 17), .range(of: parent, offset: 0, count: 5), .hole(count: 0),
        .range(of: parent, offset: 150, count: 50), .hole(count: 3),
    ]
    static let expected: [UInt8] =
        Array(10..<40).map { UInt8($0) } + [UInt8](repeating: 0, count: 17) + Array(0..<5).map { UInt8($0) }
        + Array(150..<200).map { UInt8($0) } + [0, 0, 0]

    static func bytes(_ buffer: ContentBuffer, from offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: count)
        try out.withUnsafeMutableBytes { try buffer.copy(from: offset, count: count, to: $0.baseAddress!) }
        return out
    }

    @Test func everyRangeReadsAsThePiecesInOrder() throws {
        let buffer = ContentBuffer(extents: Self.pieces)
        #expect(buffer.count == Self.expected.count)
        for start in 0...buffer.count {
            for count in [0, 1, 7, buffer.count - start] where count <= buffer.count - start {
                #expect(try Self.bytes(buffer, from: start, count: count) == Array(Self.expected[start..<start + count]), "\(start) \(count)")
            }
        }
    }

    @Test func windowsAndSlicesReadTheSameBytes() throws {
        let buffer = ContentBuffer(extents: Self.pieces)
        var windows: [UInt8] = []
        try buffer.forEachWindow(size: 16) { windows += $0 }
        #expect(windows == Self.expected)
        let slice = buffer.slice(offset: 25, count: 40)
        #expect(try Self.bytes(slice, from: 0, count: 40) == Array(Self.expected[25..<65]))
        var sliceWindows: [UInt8] = []
        try slice.forEachWindow(size: 7) { sliceWindows += $0 }
        #expect(sliceWindows == Array(Self.expected[25..<65]))
    }

    @Test func noExtentsIsAnEmptyContent() throws {
        let buffer = ContentBuffer(extents: [])
        #expect(buffer.count == 0)
        var windows = 0
        try buffer.forEachWindow { windows += 1; #expect($0.count == 0) }
        #expect(windows == 1)
    }
}
