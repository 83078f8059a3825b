import WADUPCore
import GRDB

/// SQL spellings of the ABI's names and types: the stores write SQL with them, and the read-only
/// views (`WADUPInspect`) quote table names with ``quoted(_:)``.
public enum SQL {
    /// `name` as a quoted SQL identifier. Only ever applied to names that passed
    /// `Identifier.isValid`; the quotes are doubled anyway so that quoting alone is safe.
    public static func quoted(_ name: String) -> String {
        "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    /// The SQL type a column of `type` is stored with.
    static func type(_ type: ColumnType) -> String {
        switch type {
        case .int64: "INTEGER"
        case .float64: "REAL"
        case .string: "TEXT"
        }
    }

    /// The column type stored as `sql` (the inverse of ``type(_:)``).
    static func columnType(_ sql: String) -> ColumnType? { ColumnType.allCases.first { type($0) == sql.uppercased() } }
}

extension StoreError {
    /// A failed SQLite call on `path`: ``Kind/full`` when SQLite says the disk (or the page limit)
    /// is full, by its result code rather than its message.
    init(path: String, error: any Error) {
        let full = (error as? DatabaseError)?.resultCode == .SQLITE_FULL
        self.init(full ? .full : .failed, path: path, "\(error)")
    }
}
