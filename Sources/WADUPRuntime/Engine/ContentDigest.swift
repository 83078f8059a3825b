import Crypto
import Dispatch
import WADUPCore

/// The SHA-256 of one emitted sub-content, started on another core the moment it is emitted.
///
/// A module unpacking one large archive keeps one core busy; hashing what it emits on the other
/// core while it goes on decoding takes the hashing off the run's critical path (a fifth of the
/// time of a `.tar.zst` run). Small contents are hashed when first asked for: a dispatch costs
/// more than their hash. A slice of an input file that changed or failed has no digest: the
/// error names the file and the offset.
public final class ContentDigest: @unchecked Sendable {  // Safe: `value` is written once, before `done` is left, and read only after waiting on `done`.
    /// Sub-contents at least this large are hashed in the background.
    public static let backgroundThreshold = 256 << 10

    private let data: ContentBuffer
    private let done: DispatchGroup?
    private var value: Result<[UInt8], ContentReadError> = .success([])

    public init(_ data: ContentBuffer) {
        self.data = data
        guard data.count >= Self.backgroundThreshold else {
            done = nil
            return
        }
        let group = DispatchGroup()
        done = group
        DispatchQueue.global(qos: .userInitiated).async(group: group) { self.value = Result { () throws(ContentReadError) in try data.sha256Digest() } }
    }

    /// A digest computed only if it is asked for: an encoded sub-content, whose bytes are hashed
    /// once they are decoded.
    init(deferred data: ContentBuffer) {
        self.data = data
        done = nil
    }

    /// A digest computed already (a stream hashed as it was written).
    init(_ data: ContentBuffer, known: [UInt8]) {
        self.data = data
        let group = DispatchGroup()
        done = group
        value = .success(known)
    }

    /// The 32 bytes of the digest, or why the bytes could not be read; waits for the background
    /// hash if it is still running.
    public var result: Result<[UInt8], ContentReadError> {
        guard let done else { return Result { () throws(ContentReadError) in try data.sha256Digest() } }
        done.wait()
        return value
    }
}

extension ContentBuffer {
    /// SHA-256 of the bytes.
    public func sha256Digest() throws(ContentReadError) -> [UInt8] {
        var hasher = SHA256()
        try forEachWindow { hasher.update(bufferPointer: $0) }
        return Array(hasher.finalize())
    }
}
