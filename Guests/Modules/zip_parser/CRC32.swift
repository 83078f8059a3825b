/// CRC-32 (IEEE 802.3, reflected, as ZIP uses), slicing by 4 bytes.
struct CRC32 {
    private var tables: [UInt32]

    init() {
        tables = [UInt32](repeating: 0, count: 1024)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            tables[i] = c
        }
        for i in 0..<256 {
            for t in 1..<4 { tables[t * 256 + i] = (tables[(t - 1) * 256 + i] >> 8) ^ tables[Int(tables[(t - 1) * 256 + i] & 0xFF)] }
        }
    }

    /// Continues `crc` (start with 0) over `bytes`.
    func update(_ crc: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt32 {
        var c = ~crc
        tables.withUnsafeBufferPointer { t in
            var p = bytes
            var n = count
            while n >= 4 {
                c ^= UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24
                c = t[768 + Int(c & 0xFF)] ^ t[512 + Int((c >> 8) & 0xFF)] ^ t[256 + Int((c >> 16) & 0xFF)] ^ t[Int(c >> 24)]
                p += 4
                n -= 4
            }
            while n > 0 {
                c = t[Int((c ^ UInt32(p[0])) & 0xFF)] ^ (c >> 8)
                p += 1
                n -= 1
            }
        }
        return ~c
    }
}
