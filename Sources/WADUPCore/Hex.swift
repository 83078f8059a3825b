/// Hexadecimal text, as the database stores digests and PostgreSQL sends bytes.
public enum Hex {
    /// The bytes of `text` (digits in either case), or `nil` if it is not an even run of hex digits.
    public static func bytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var out = [UInt8](repeating: 0, count: utf8.count / 2)
        for i in out.indices {
            guard let high = nibble(utf8[2 * i]), let low = nibble(utf8[2 * i + 1]) else { return nil }
            out[i] = high << 4 | low
        }
        return out
    }
}
