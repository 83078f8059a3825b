/// One of N deterministic parts of a run's inputs, for batch schedulers (`--shard K/N`).
///
/// An input belongs to shard K (0 ≤ K < N) when the FNV-1a 64-bit hash of its path under `--input`
/// (its exact bytes) modulo N is K: the same on every machine and every run, whatever the order of
/// the folder listing, so N jobs of an array together process every input exactly once.
public struct Shard: Sendable, Codable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// `K/N`, as on the command line.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether the input at `path` (relative to `--input`, exact bytes) is in this shard.
    public func contains(_ path: [UInt8]) -> Bool {
        Self.fnv1a(path) % UInt64(count) == UInt64(index)
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            hash ^= UInt64(b)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
