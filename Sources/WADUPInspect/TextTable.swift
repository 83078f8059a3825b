import WADUPCore
import Foundation
import GRDB

/// Aligned columns for the terminal views and `wadup try`: numbers right-aligned, text left-aligned.
package struct TextTable {
    package var header: [String]
    package var rows: [[String]] = []

    package init(_ header: [String], rows: [[String]] = []) {
        self.header = header
        self.rows = rows
    }

    package mutating func append(_ row: [String]) { rows.append(row) }

    /// The table as lines, each prefixed by `indent`; a column is right-aligned when every value in it is a number.
    package func render(indent: String = "  ") -> String {
        let columns = header.count
        var widths = header.map(\.count)
        var numeric = Array(repeating: true, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() where i < columns {
                widths[i] = max(widths[i], cell.count)
                if !cell.isEmpty, Double(cell) == nil { numeric[i] = false }
            }
        }
        func line(_ cells: [String]) -> String {
            var out = indent
            for i in 0..<columns {
                let cell = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                let last = i == columns - 1
                out += numeric[i] ? pad + cell : cell + (last ? "" : pad)
                if !last { out += "  " }
            }
            return out.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }
        return line(header) + rows.map(line).joined()
    }
}

/// Text of one stored value for the terminal: control characters escaped, long text cut.
func displayText(_ value: DatabaseValue, limit: Int = 80) -> String {
    switch value.storage {
    case .null: return "NULL"
    case .int64(let i): return String(i)
    case .double(let d): return "\(d)"
    case .blob(let data): return "x'" + data.prefix(limit / 2).map { String(format: "%02x", $0) }.joined() + (data.count > limit / 2 ? "…'" : "'")
    case .string(let s): return displayText(s, limit: limit)
    }
}

func displayText(_ s: String, limit: Int = 80) -> String {
    var out = ""
    for scalar in s.unicodeScalars {
        if scalar.value < 0x20 || scalar.value == 0x7F {
            out += String(format: "\\x%02x", scalar.value)
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out.count > limit ? String(out.prefix(limit - 1)) + "…" : out
}

/// A byte count for people: `406 B`, `12.3 kB`, `1.2 MB` (powers of 1000, as the run's summary).
func byteText(_ n: Int64?) -> String {
    guard let n else { return "-" }
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(n)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
}

/// ANSI colours for statuses, only when writing to a terminal.
package struct Palette: Sendable {
    package let enabled: Bool

    package init(enabled: Bool) {
        self.enabled = enabled
    }

    /// Colours when standard output is a terminal and `NO_COLOR` is not set.
    package static var standardOutput: Palette {
        Palette(enabled: isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
    }

    func status(_ status: ContentStatus) -> String {
        guard enabled else { return status.rawValue }
        let code = switch status {
        case .success: "32"
        case .failed: "31"
        case .skipped: "33"
        case .duplicate: "36"
        }
        return "\u{1B}[\(code)m\(status.rawValue)\u{1B}[0m"
    }

    func dim(_ text: String) -> String { enabled ? "\u{1B}[2m\(text)\u{1B}[0m" : text }
    package func bold(_ text: String) -> String { enabled ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
}

/// Seconds since 1970 as `2026-11-27 11:26:32 UTC`.
func timeText(_ seconds: Int64?) -> String {
    guard let seconds else { return "-" }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
}
