/// Sizes and durations as people type them on a command line.
///
/// Sizes: a plain byte count (`4096`) or a number with a unit: SI (`kB`, `MB`, `GB`, `TB`: powers
/// of 1000) or IEC (`KiB`, `MiB`, `GiB`, `TiB`: powers of 1024), `B` for bytes; letters in any case,
/// a space before the unit allowed, fractions allowed when the result is a whole number of bytes
/// (`1.5GiB`). Durations: seconds (`30`, `2.5`) or numbers with units `ms`, `s`, `m`, `h`, also
/// combined (`1h30m`, `1m30s`).
public enum Units {
    static let sizeUnits: [String: Double] = [
        "": 1, "b": 1,
        "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
        "ki": 1024, "kib": 1024, "mi": 1_048_576, "mib": 1_048_576, "gi": 1_073_741_824, "gib": 1_073_741_824,
        "ti": 1_099_511_627_776, "tib": 1_099_511_627_776,
    ]

    /// The byte count `text` names, or `nil` if it is not a size (or not a whole, representable number of bytes).
    public static func bytes(_ text: String) -> Int? {
        let trimmed = text.trimmed
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = trimmed.dropFirst(number.count).trimmed.lowercased()
        guard !number.isEmpty, number.filter({ $0 == "." }).count <= 1, let factor = sizeUnits[unit] else { return nil }
        if !number.contains("."), let whole = Int(number) {
            let (product, overflow) = whole.multipliedReportingOverflow(by: Int(factor))
            return overflow ? nil : product
        }
        guard let value = Double(number) else { return nil }
        let bytes = value * factor
        guard bytes.isFinite, bytes < 9.2e18, bytes == bytes.rounded() else { return nil }
        return Int(bytes)
    }

    /// The seconds `text` names, or `nil` if it is not a duration.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmed.lowercased()
        if trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let plain = Double(trimmed) { return plain }
        var rest = Substring(trimmed)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number), value.isFinite else { return nil }
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
        }
        return total
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces.
    fileprivate var trimmed: String {
        let start = firstIndex { $0 != " " } ?? endIndex
        let end = lastIndex { $0 != " " }.map { index(after: $0) } ?? start
        return String(self[start..<end])
    }
}
