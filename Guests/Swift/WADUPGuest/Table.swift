import WADUPGuestABI

/// A column type of a module table.
public enum ColumnType {
    case int64, float64, string

    var jsonName: StaticString {
        switch self {
        case .int64: "Int64"
        case .float64: "Float64"
        case .string: "String"
        }
    }
}

/// A value of a row.
public enum Value {
    case int64(Int64)
    case float64(Double)
    case string(String)
    case null

    var type: ColumnType? {
        switch self {
        case .int64: .int64
        case .float64: .float64
        case .string: .string
        case .null: nil
        }
    }
}

extension Value: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByNilLiteral {
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(floatLiteral value: Double) { self = .float64(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// Declares a table: `TableBuilder("file_sizes").column("size", .int64).define()`.
public struct TableBuilder {
    let name: String
    var columns: [(name: String, type: ColumnType)] = []

    public init(_ name: String) { self.name = name }

    public func column(_ name: String, _ type: ColumnType) -> TableBuilder {
        var copy = self
        copy.columns.append((name, type))
        return copy
    }

    /// Defines the table (or finds the identical one) and returns it.
    public func define() throws(GuestError) -> Table {
        var json = JSONWriter()
        json.raw("[")
        for (i, column) in columns.enumerated() {
            if i > 0 { json.raw(",") }
            json.raw("{\"name\":")
            json.string(column.name)
            json.raw(",\"data_type\":\"")
            json.raw(column.type.jsonName)
            json.raw("\"}")
        }
        json.raw("]")
        var nameBytes = Array(name.utf8)
        let id = nameBytes.withUnsafeMutableBytes { n in
            json.bytes.withUnsafeBytes { c in
                define_table(
                    n.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(n.count),
                    c.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(c.count))
            }
        }
        try GuestError.check(id)
        return Table(id: id, columns: columns)
    }
}

/// A defined table; rows are checked against its columns before they reach the host.
public struct Table {
    public let id: Int32
    public let columns: [(name: String, type: ColumnType)]

    /// Inserts a row given as values in column order.
    public func insert(_ values: [Value]) throws(GuestError) {
        guard values.count == columns.count else { throw .arityMismatch }
        var json = JSONWriter()
        json.raw("[")
        for (i, value) in values.enumerated() {
            if let type = value.type, type != columns[i].type { throw .typeMismatch }
            if i > 0 { json.raw(",") }
            json.value(value)
        }
        json.raw("]")
        let result = json.bytes.withUnsafeBytes { insert_row(id, $0.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32($0.count)) }
        try GuestError.check(result)
    }

    /// Starts a row filled by column name: `table.row().set("size", 3).insert()`.
    public func row() -> RowBuilder { RowBuilder(table: self) }
}

/// A row filled by column name; unset columns are `null`.
public struct RowBuilder {
    let table: Table
    var values: [Value]
    var failure: GuestError?

    init(table: Table) {
        self.table = table
        self.values = Array(repeating: .null, count: table.columns.count)
    }

    public func set(_ column: String, _ value: Value) -> RowBuilder {
        var copy = self
        let wanted = Array(column.utf8)
        guard let index = table.columns.firstIndex(where: { Array($0.name.utf8) == wanted }) else {
            copy.failure = .unknownColumn
            return copy
        }
        if let type = value.type, type != table.columns[index].type { copy.failure = .typeMismatch }
        copy.values[index] = value
        return copy
    }

    public func insert() throws(GuestError) {
        if let failure { throw failure }
        try table.insert(values)
    }
}

/// Builds the ABI's JSON texts without Foundation.
struct JSONWriter {
    var bytes: [UInt8] = []

    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        let hex: StaticString = "0123456789abcdef"
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(hex.utf8Start[Int(b >> 4)])
                bytes.append(hex.utf8Start[Int(b & 0xF)])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func integer(_ v: Int64) {
        if v == Int64.min {
            raw("-9223372036854775808")
            return
        }
        var n = v < 0 ? -v : v
        var digits: [UInt8] = []
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(n % 10))
            n /= 10
        } while n > 0
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        bytes.append(contentsOf: digits.reversed())
    }

    mutating func double(_ v: Double) {
        // Exact for integral values; otherwise 17 significant digits round-trip.
        guard v.isFinite else {
            raw("null")
            return
        }
        if v == v.rounded(), abs(v) < 9.0e15 {
            integer(Int64(v))
            return
        }
        var x = abs(v)
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var exponent = 0
        while x >= 10 {
            x /= 10
            exponent += 1
        }
        while x < 1 {
            x *= 10
            exponent -= 1
        }
        var mantissa = Int64((x * 1e16).rounded())
        if mantissa >= 100_000_000_000_000_000 {
            mantissa /= 10
            exponent += 1
        }
        var digits: [UInt8] = []
        for _ in 0..<17 {
            digits.append(UInt8(ascii: "0") + UInt8(mantissa % 10))
            mantissa /= 10
        }
        digits.reverse()
        bytes.append(digits[0])
        bytes.append(UInt8(ascii: "."))
        bytes.append(contentsOf: digits[1...])
        bytes.append(UInt8(ascii: "e"))
        integer(Int64(exponent))
    }

    mutating func value(_ value: Value) {
        switch value {
        case .null: raw("null")
        case .int64(let v):
            raw("{\"Int64\":")
            integer(v)
            raw("}")
        case .float64(let v):
            if v.isFinite {
                raw("{\"Float64\":")
                double(v)
                raw("}")
            } else {
                raw("null")
            }
        case .string(let s):
            raw("{\"String\":")
            string(s)
            raw("}")
        }
    }
}
