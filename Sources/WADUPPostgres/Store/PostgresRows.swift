import NIOCore
import PostgresNIO
import WADUPCore
import WADUPStore

/// Rows for one table, sent as one JSON value bound to one `INSERT … SELECT … FROM
/// json_populate_recordset(…)` statement (``PostgresSession/insert(_:)``). Values travel as data,
/// never as SQL text, and each is converted by the column's own type on the server, as COPY would.
///
/// Why not COPY: PostgresNIO traps (a precondition, in its copy-in state machine) when the server
/// ends the connection between its `CopyInResponse` and the client's data, which a
/// `pg_terminate_backend` or a server restart can do at any moment; an ordinary statement on a
/// lost connection fails as a lost connection, and the reconnector runs it again.
///
/// PostgreSQL's TEXT cannot hold U+0000 (SQLite's can): such a character is written as U+FFFD.
package struct PostgresRows {
    package let table: String
    package let columns: [String]
    /// `{"name":` for the first column, `,"name":` for the others.
    private let keys: [[UInt8]]
    private(set) var buffer = ByteBufferAllocator().buffer(capacity: 1 << 16)
    /// The next column of the row being written.
    private var column = 0
    /// Rows written so far.
    private(set) var count = 0
    /// A row with more values than columns (never written: the insert refuses the batch).
    private(set) var overfull = false

    package init(table: String, columns: [String]) {
        self.table = table
        self.columns = columns
        var keys: [[UInt8]] = []
        for (i, name) in columns.enumerated() {
            var key = ByteBufferAllocator().buffer(capacity: name.utf8.count + 4)
            key.writeStaticString(i == 0 ? "{" : ",")
            Self.string(name, into: &key)
            key.writeStaticString(":")
            keys.append(Array(key.readableBytesView))
        }
        self.keys = keys
        buffer.writeStaticString("[")
    }

    package var isEmpty: Bool { count == 0 }

    /// The JSON array of the rows written (a copy; the insert binds the rows without one).
    package var json: ByteBuffer {
        var copy = buffer
        copy.writeStaticString("]")
        return copy
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    package mutating func text(_ value: String?) {
        guard key() else { return }
        guard let value else { buffer.writeStaticString("null"); return }
        Self.string(value, into: &buffer)
    }

    package mutating func int(_ value: Int64?) {
        guard key() else { return }
        guard let value else { buffer.writeStaticString("null"); return }
        buffer.writeString(String(value))
    }

    /// A double; NaN and the infinities as the strings float8's input reads.
    package mutating func double(_ value: Double) {
        guard key() else { return }
        if value.isNaN {
            buffer.writeStaticString("\"NaN\"")
        } else if value.isInfinite {
            buffer.writeStaticString(value < 0 ? "\"-Infinity\"" : "\"Infinity\"")
        } else {
            buffer.writeString("\(value)")
        }
    }

    /// A BYTEA value: the string `\x` and hex digits, which bytea's input reads.
    package mutating func bytes(_ value: [UInt8]?) {
        guard key() else { return }
        guard let value else { buffer.writeStaticString("null"); return }
        buffer.writeStaticString("\"\\\\x")
        for byte in value {
            buffer.writeInteger(Self.hexDigits[Int(byte >> 4)])
            buffer.writeInteger(Self.hexDigits[Int(byte & 15)])
        }
        buffer.writeStaticString("\"")
    }

    package mutating func cell(_ value: CellValue) {
        switch value {
        case .null: text(nil)
        case .int64(let v): int(v)
        case .float64(let v): double(v)
        case .string(let v): text(v)
        }
    }

    package mutating func endRow() {
        if column == 0 {  // a row of no values: every column NULL (or its default)
            buffer.writeStaticString(count == 0 ? "{}" : ",{}")
        } else {
            buffer.writeStaticString("}")
        }
        column = 0
        count += 1
    }

    /// Writes the key of the next value (and the separator before the row); false if the row is full.
    private mutating func key() -> Bool {
        guard column < keys.count else {
            overfull = true
            return false
        }
        if column == 0 && count > 0 { buffer.writeStaticString(",") }
        buffer.writeBytes(keys[column])
        column += 1
        return true
    }

    /// `value` as a JSON string: quotes, backslashes and control characters escaped, U+0000 as U+FFFD.
    private static func string(_ value: String, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("\"")
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[start..<i]))
                switch byte {
                case 0x22: buffer.writeStaticString("\\\"")
                case 0x5C: buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x09: buffer.writeStaticString("\\t")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x00: buffer.writeStaticString("\u{FFFD}")
                default:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hexDigits[Int(byte >> 4)])
                    buffer.writeInteger(hexDigits[Int(byte & 15)])
                }
                start = i + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[start...]))
        }
        buffer.writeStaticString("\"")
    }
}

/// The rows bound as one `json` parameter (its binary form is the text itself): written into the
/// statement's buffer with the closing bracket, not copied into a `String` or a second buffer first.
extension PostgresRows: PostgresNonThrowingEncodable {
    package static var psqlType: PostgresDataType { .json }
    package static var psqlFormat: PostgresFormat { .binary }

    package func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeImmutableBuffer(buffer)
        byteBuffer.writeStaticString("]")
    }
}
