import WADUPGuestRuntime

/// CRC-32 (IEEE 802.3, reflected), the checksum of ZIP, gzip and PNG.
///
/// In C in the SDK runtime: its tables are static there, so each lookup costs one instruction
/// less than from Swift, and a checksum over every inflated byte is a large share of a parser's time.
public enum CRC32 {
    /// Continues `crc` (start with 0) over `bytes`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return wadup_crc32(crc, base, bytes.count)
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { update(0, bytes) }
}
