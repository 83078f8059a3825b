import Synchronization

/// How many bytes of one input its module-runs have read so far.
///
/// A disk image or a large archive is one content that one module reads for minutes; counted only
/// when it starts or ends, it would hold the progress line still. Every `read_content` adds its
/// length here (one relaxed atomic add), and the progress line counts the input as read up to that
/// many bytes (never past its size: a module may read a range twice).
public final class ReadProgress: Sendable {
    private let total = Atomic<Int>(0)

    public init() {}

    /// Bytes read so far, ranges read twice counted twice.
    public var bytesRead: Int { total.load(ordering: .relaxed) }

    package func add(_ count: Int) { total.wrappingAdd(count, ordering: .relaxed) }
}
