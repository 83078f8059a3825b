#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import WADUPCore

/// Where a module-run's small streamed sub-contents go once those kept in memory pass the
/// temporary folder's memory budget: appended to one unlinked temporary file (a segment, up to
/// ``segmentSize``), each sub-content a range of it.
///
/// A run's sub-contents are held until the run ends, so a module that streams many small files (the
/// `disk` module unpacking an E01 of 500,000 files) would otherwise hold them all in memory. One file
/// per segment, not per sub-content: the descriptors stay few whatever the count.
final class StreamArena {
    /// The bytes of finished streams a run keeps in memory before the rest go to the arena.
    static let defaultMemoryBudget = 64 << 20
    /// A segment is sealed (becomes a content the waiting sub-contents are ranges of) at this size.
    static let segmentSize = 64 << 20

    let folder: TemporaryFolder
    let memoryBudget: Int
    /// Bytes of finished streams kept in memory so far.
    private(set) var heldBytes = 0
    private var fd: Int32 = -1
    private var size = 0
    /// The sub-contents waiting for the current segment: their index among the run's children, name, range.
    private var waiting: [(child: Int, name: String, offset: Int, count: Int)] = []

    init(folder: TemporaryFolder) {
        self.folder = folder
        memoryBudget = folder.memoryBudget ?? Self.defaultMemoryBudget
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Whether a finished stream of `count` bytes stays in memory (counted if so).
    func keepsInMemory(_ count: Int) -> Bool {
        guard heldBytes + count <= memoryBudget else { return false }
        heldBytes += count
        return true
    }

    /// Appends a finished stream's bytes for the child at `index` of the run's children (a
    /// placeholder until its segment is sealed); seals the segment once it is full.
    func append(_ bytes: UnsafeRawBufferPointer, name: String, child index: Int, children: inout [EmittedContent]) throws(SubcontentStream.StorageFault) {
        if fd < 0 {
            do {
                fd = try TemporaryFolder.makeFile(in: folder.path)
            } catch {
                throw SubcontentStream.StorageFault(folder: folder, code: error.code)
            }
        }
        try SubcontentStream.write(bytes, to: fd, at: size, in: folder)
        waiting.append((index, name, size, bytes.count))
        size += bytes.count
        if size >= Self.segmentSize { try seal(into: &children) }
    }

    /// The current segment as one content: each waiting child becomes a range of it.
    func seal(into children: inout [EmittedContent]) throws(SubcontentStream.StorageFault) {
        guard fd >= 0 else { return }
        let segment: ContentBuffer
        do {
            segment = try ContentBuffer.read(fd: fd, path: "\(folder.path)/(temporary file of streamed sub-contents)")
        } catch {
            throw SubcontentStream.StorageFault(folder: folder, code: EIO)
        }
        for w in waiting where w.child < children.count {
            children[w.child] = EmittedContent(name: w.name, data: ContentBuffer(extents: [.range(of: segment, offset: w.offset, count: w.count)]))
        }
        close(fd)
        fd = -1
        size = 0
        waiting = []
    }
}
