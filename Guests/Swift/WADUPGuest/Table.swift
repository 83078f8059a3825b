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
            json.withBytes { c in
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
        let result = json.withBytes { insert_row(id, $0.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32($0.count)) }
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
///
/// Into one growable buffer, byte stores and `memory.copy` only: a row is built for every
/// content a module records, and array appends and per-number arrays cost many times the
/// bytes they write in an interpreter.
struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// The text written so far.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(start: base, count: count))
    }

    @inline(__always)
    private mutating func reserve(_ n: Int) {
        if n > capacity &- count { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        UnsafeMutableRawPointer(newBase).copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count &+= 1
    }

    mutating func raw(_ text: StaticString) {
        bytes(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func bytes(_ text: UnsafeRawBufferPointer) {
        reserve(text.count)
        if let source = text.baseAddress { UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: text.count) }
        count &+= text.count
    }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            // Room for the quotes and every byte escaped as \u00XX.
            reserve(utf8.count &* 6 &+ 2)
            var out = base + count
            out.pointee = UInt8(ascii: "\"")
            out += 1
            let hex: StaticString = "0123456789abcdef"
            for b in utf8 {
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    out[0] = UInt8(ascii: "\\")
                    out[1] = b
                    out += 2
                case 0..<0x20:
                    out[0] = UInt8(ascii: "\\")
                    out[1] = UInt8(ascii: "u")
                    out[2] = UInt8(ascii: "0")
                    out[3] = UInt8(ascii: "0")
                    out[4] = hex.utf8Start[Int(b >> 4)]
                    out[5] = hex.utf8Start[Int(b & 0xF)]
                    out += 6
                default:
                    out.pointee = b
                    out += 1
                }
            }
            out.pointee = UInt8(ascii: "\"")
            count = out + 1 - base
        }
    }

    mutating func integer(_ v: Int64) {
        // At most 20 characters; digits are written backwards from the end of that room.
        reserve(20)
        var n = v.magnitude
        var digits = 0
        let end = base + count + 20
        repeat {
            digits &+= 1
            end[-digits] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: n % 10)
            n /= 10
        } while n > 0
        if v < 0 {
            digits &+= 1
            end[-digits] = UInt8(ascii: "-")
        }
        UnsafeMutableRawPointer(base + count).copyMemory(from: end - digits, byteCount: digits)
        count &+= digits
    }

    /// Writes `v` exactly: every finite double is `m × 2^e`, whose decimal expansion is finite
    /// (`m × 5^-e × 10^e` when `e < 0`), so the host's correctly rounded parse gives back the same
    /// bits. Integral values below 2^53 are written as integers.
    mutating func double(_ v: Double) {
        guard v.isFinite else {
            raw("null")
            return
        }
        if v == v.rounded(), abs(v) < 9.0e15 {
            integer(Int64(v))
            return
        }
        if v.sign == .minus { byte(UInt8(ascii: "-")) }
        var m = v.significandBitPattern | (v.isNormal ? 1 << 52 : 0)
        var e = v.isNormal ? Int(v.exponentBitPattern) - 1075 : -1074
        while m & 1 == 0 && e < 0 {
            m >>= 1
            e += 1
        }
        // Little-endian base-2^32 digits of m × 2^e (e ≥ 0) or m × 5^-e (e < 0).
        var words: [UInt32] = [UInt32(truncatingIfNeeded: m), UInt32(truncatingIfNeeded: m >> 32)]
        func multiply(_ factor: UInt32) {
            var carry: UInt64 = 0
            for i in 0..<words.count {
                let product = UInt64(words[i]) &* UInt64(factor) &+ carry  // < 2^64: no overflow
                words[i] = UInt32(truncatingIfNeeded: product)
                carry = product >> 32
            }
            if carry != 0 { words.append(UInt32(carry)) }
        }
        var k = abs(e)
        while k > 0 {
            let step = min(k, e > 0 ? 31 : 13)  // 5^13 < 2^32
            var factor: UInt32 = 1
            for _ in 0..<step { factor *= e > 0 ? 2 : 5 }
            multiply(factor)
            k -= step
        }
        // Decimal chunks of 9 digits, least significant first.
        var chunks: [UInt32] = []
        while words.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for i in stride(from: words.count - 1, through: 0, by: -1) {
                let current = remainder << 32 | UInt64(words[i])
                words[i] = UInt32(current / 1_000_000_000)
                remainder = current % 1_000_000_000
            }
            chunks.append(UInt32(remainder))
        }
        integer(Int64(chunks[chunks.count - 1]))
        for i in stride(from: chunks.count - 2, through: 0, by: -1) {
            var chunk = chunks[i]
            reserve(9)
            for d in stride(from: 8, through: 0, by: -1) {
                base[count + d] = UInt8(ascii: "0") + UInt8(chunk % 10)
                chunk /= 10
            }
            count &+= 9
        }
        if e < 0 {
            byte(UInt8(ascii: "e"))
            integer(Int64(e))
        }
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
