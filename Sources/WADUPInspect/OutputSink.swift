import Foundation
import GRDB

/// Buffered bytes to a file or standard output; a write error becomes an ``InspectError/Code/output``.
package final class OutputSink {
    private let handle: FileHandle
    private let name: String
    private let closes: Bool
    private var buffer: [UInt8] = []

    /// Standard output.
    package init() {
        handle = FileHandle.standardOutput
        name = "standard output"
        closes = false
        buffer.reserveCapacity(1 << 16)
    }

    /// Creates (or truncates) `path`.
    package init(path: String) throws(InspectError) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw InspectError(.output, "\(path): cannot create the file (\(String(cString: strerror(errno))))")
        }
        self.handle = handle
        name = path
        closes = true
        buffer.reserveCapacity(1 << 16)
    }

    package func write(_ text: String) throws(InspectError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    package func write(bytes: [UInt8]) throws(InspectError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    package func flush() throws(InspectError) {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw InspectError(.output, "\(name): cannot write: \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and closes a file.
    package func close() throws(InspectError) {
        try flush()
        if closes { try? handle.close() }
    }
}

/// JSON text of values, with `<`, `>`, `&`, U+2028 and U+2029 escaped too, so that the text is also
/// safe inside an HTML `<script>` element.
enum JSONText {
    static func string(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += String(format: "\\u%04x", scalar.value)
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func optional(_ s: String?) -> String { s.map(string) ?? "null" }

    static func number(_ d: Double) -> String {
        guard d.isFinite else { return d.isNaN ? "null" : (d > 0 ? "\"Infinity\"" : "\"-Infinity\"") }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) + ".0" }
        return "\(d)"
    }

    /// A database value: integers and reals as numbers, text as a string, a blob as base64 text.
    static func value(_ v: DatabaseValue) -> String {
        switch v.storage {
        case .null: "null"
        case .int64(let i): String(i)
        case .double(let d): number(d)
        case .string(let s): string(s)
        case .blob(let data): string(data.base64EncodedString())
        }
    }
}
