/// Decoding of the ABI's column and row JSON into checked values.
public enum ABICodec {
    /// Decodes `[{"name":"size","data_type":"Int64"}, ...]`: at least one column, each name a valid
    /// identifier, no name twice (without case, as SQLite compares), exactly the two keys.
    public static func decodeColumns(_ json: JSONValue) throws(ABIError) -> [Column] {
        guard case .array(let items) = json, !items.isEmpty, items.count <= ABI.maxColumns else { throw .invalidJSON }
        var columns: [Column] = []
        var seen = Set<String>()
        for item in items {
            guard case .object(let members) = item, members.count == 2 else { throw .invalidJSON }
            var name: String?
            var type: ColumnType?
            for (key, value) in members {
                guard case .string(let text) = value else { throw .invalidJSON }
                switch key {
                case "name" where name == nil: name = text
                case "data_type" where type == nil:
                    guard let t = ColumnType(rawValue: text) else { throw .invalidJSON }
                    type = t
                default: throw .invalidJSON
                }
            }
            guard let name, let type else { throw .invalidJSON }
            guard Identifier.isValid(name) else { throw .invalidIdentifier }
            guard seen.insert(name.lowercased()).inserted else { throw .invalidIdentifier }
            columns.append(Column(name: name, type: type))
        }
        return columns
    }

    /// Decodes `[{"Int64":1},{"Float64":0.5},{"String":"x"},null]` against `columns`:
    /// one value per column, in order, each of its column's type or `null`.
    public static func decodeRow(_ json: JSONValue, columns: [Column]) throws(ABIError) -> [CellValue] {
        guard case .array(let items) = json else { throw .invalidJSON }
        var values: [CellValue] = []
        values.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .null:
                values.append(.null)
            case .object(let members):
                guard members.count == 1 else { throw .invalidJSON }
                let (tag, payload) = members[0]
                switch (tag, payload) {
                case ("Int64", .number(let text)):
                    guard let v = Int64(text) else { throw .typeMismatch }
                    values.append(.int64(v))
                case ("Float64", .number(let text)):
                    guard let v = Double(text), v.isFinite else { throw .typeMismatch }
                    values.append(.float64(v))
                case ("String", .string(let s)):
                    values.append(.string(s))
                case ("Int64", _), ("Float64", _), ("String", _):
                    throw .typeMismatch
                default:
                    throw .invalidJSON
                }
            default:
                throw .invalidJSON
            }
        }
        guard values.count == columns.count else { throw .arityMismatch }
        for (value, column) in zip(values, columns) {
            switch (value, column.type) {
            case (.null, _), (.int64, .int64), (.float64, .float64), (.string, .string): continue
            default: throw .typeMismatch
            }
        }
        return values
    }
}
