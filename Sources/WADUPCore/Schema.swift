/// The type of a module table's column, as named in the ABI's column JSON.
public enum ColumnType: String, Sendable, Codable, CaseIterable {
    case int64 = "Int64"
    case float64 = "Float64"
    case string = "String"
}

/// One declared column of a module table.
public struct Column: Sendable, Equatable, Codable {
    public let name: String
    public let type: ColumnType

    public init(name: String, type: ColumnType) {
        self.name = name
        self.type = type
    }
}

/// A module table: a validated name and its declared columns (`content_uuid` comes first, implicitly).
public struct TableSchema: Sendable, Equatable {
    public let name: String
    public let columns: [Column]

    public init(name: String, columns: [Column]) {
        self.name = name
        self.columns = columns
    }

    /// The definition as text, for messages: `name(a Int64, b String)`.
    public var signature: String {
        "\(name)(" + columns.map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ", ") + ")"
    }
}

/// One value of a row; `null` is allowed in every column.
public enum CellValue: Sendable, Equatable {
    case null
    case int64(Int64)
    case float64(Double)
    case string(String)
}

/// Table and column names a module may use.
public enum Identifier {
    public static let maxBytes = 63

    /// Whether `name` is `[A-Za-z_][A-Za-z0-9_]*`, at most 63 bytes, and not reserved
    /// (`content_uuid`, or starting with `__wadup` or `sqlite_`, compared without case as SQLite does).
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= maxBytes else { return false }
        func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }
        guard isLetter(first) else { return false }
        for b in bytes.dropFirst() where !(isLetter(b) || (b >= 0x30 && b <= 0x39)) { return false }
        let lower = name.lowercased()
        return lower != "content_uuid" && !lower.hasPrefix("__wadup") && !lower.hasPrefix("sqlite_")
    }
}
