import Foundation

/// Random (version 4) UUIDs for sub-contents, from a xoshiro256** generator seeded once from the
/// system's random source.
///
/// Foundation's `UUID()` asks the kernel for randomness on every call: on an archive of 15,000
/// small entries that was a twentieth of the run. 122 random bits from a 256-bit state seeded by
/// the system are as unlikely to collide, within a run or across the runs `wadup merge` joins. One
/// per worker, used by its thread only.
struct UUIDGenerator {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init() {
        var system = SystemRandomNumberGenerator()
        state = (system.next(), system.next(), system.next(), system.next())
        if state == (0, 0, 0, 0) { state.0 = 1 }  // the one state xoshiro never leaves
    }

    private mutating func next() -> UInt64 {
        let result = (state.1 &* 5).rotatedLeft(7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3.rotatedLeft(45)
        return result
    }

    /// A new UUID, with the version (4) and variant (RFC 4122) bits set.
    mutating func uuid() -> UUID {
        let high = next()
        let low = next()
        var bytes = (
            UInt8(truncatingIfNeeded: high >> 56), UInt8(truncatingIfNeeded: high >> 48), UInt8(truncatingIfNeeded: high >> 40),
            UInt8(truncatingIfNeeded: high >> 32), UInt8(truncatingIfNeeded: high >> 24), UInt8(truncatingIfNeeded: high >> 16),
            UInt8(truncatingIfNeeded: high >> 8), UInt8(truncatingIfNeeded: high),
            UInt8(truncatingIfNeeded: low >> 56), UInt8(truncatingIfNeeded: low >> 48), UInt8(truncatingIfNeeded: low >> 40),
            UInt8(truncatingIfNeeded: low >> 32), UInt8(truncatingIfNeeded: low >> 24), UInt8(truncatingIfNeeded: low >> 16),
            UInt8(truncatingIfNeeded: low >> 8), UInt8(truncatingIfNeeded: low))
        bytes.6 = bytes.6 & 0x0F | 0x40
        bytes.8 = bytes.8 & 0x3F | 0x80
        return UUID(uuid: bytes)
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ k: UInt64) -> UInt64 { self << k | self >> (64 - k) }
}

extension UUID {
    /// The canonical lowercase text form stored in the database (`uuidString.lowercased()`,
    /// written directly: a few per content, and Foundation's goes through `snprintf`).
    package var lowercasedString: String {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                digits.withUTF8Buffer { hex in
                    var i = 0
                    for (n, byte) in bytes.enumerated() {
                        if n == 4 || n == 6 || n == 8 || n == 10 {
                            out[i] = UInt8(ascii: "-")
                            i += 1
                        }
                        out[i] = hex[Int(byte >> 4)]
                        out[i + 1] = hex[Int(byte & 15)]
                        i += 2
                    }
                    return i
                }
            }
        }
    }
}
