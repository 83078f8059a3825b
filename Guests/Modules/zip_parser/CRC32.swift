/// CRC-32 (IEEE 802.3, reflected, as ZIP uses), 8 bytes per step through four 16-bit tables.
///
/// In an interpreter the cost is the number of instructions, so the usual slicing-by-8 (eight
/// byte lookups per 8 bytes) is folded into four lookups of 16-bit tables (1 MiB, built once per
/// instance on first use): U3[b0|b1<<8] = T7[b0]^T6[b1], and so on.
struct CRC32 {
    private let wide: UnsafeMutablePointer<UInt32>
    private let bytewise: UnsafeMutablePointer<UInt32>

    init() {
        let t = UnsafeMutablePointer<UInt32>.allocate(capacity: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k * 256 + i] = (t[(k - 1) * 256 + i] >> 8) ^ t[Int(t[(k - 1) * 256 + i] & 0xFF)] }
        }
        bytewise = t
        wide = .allocate(capacity: 4 * 65536)
        for k in 0..<4 {
            let high = t + (2 * k + 1) * 256  // table of the first byte of the pair
            let low = t + (2 * k) * 256
            let out = wide + k * 65536
            for x in 0..<65536 { out[x] = high[x & 0xFF] ^ low[x >> 8] }
        }
    }

    /// Continues `crc` (start with 0) over `count` bytes at `bytes`.
    func update(_ crc: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt32 {
        let u0 = wide
        let u1 = wide + 65536
        let u2 = wide + 2 * 65536
        let u3 = wide + 3 * 65536
        var c = ~crc
        var p = UnsafeRawPointer(bytes)
        var n = count
        while n >= 8 {
            let v = p.loadUnaligned(as: UInt64.self)
            let lo = UInt32(truncatingIfNeeded: v) ^ c
            let hi = UInt32(truncatingIfNeeded: v &>> 32)
            c = u3[Int(lo & 0xFFFF)] ^ u2[Int(lo &>> 16)] ^ u1[Int(hi & 0xFFFF)] ^ u0[Int(hi &>> 16)]
            p += 8
            n &-= 8
        }
        let t = bytewise
        var b = p.assumingMemoryBound(to: UInt8.self)
        while n > 0 {
            c = t[Int((c ^ UInt32(b[0])) & 0xFF)] ^ (c &>> 8)
            b += 1
            n &-= 1
        }
        return ~c
    }
}
