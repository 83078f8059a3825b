import Foundation
import GRDB

/// A run's SQLite database looked at while `wadup` writes it, as an analyst's reader would: read
/// only (opening it never creates it before `wadup` does), giving up at once on a lock.
public enum LiveDatabase {
    /// The integer `sql` gives on the database at `path`, or `nil` if it cannot be read now.
    public static func integer(_ sql: String, in path: String) -> Int? {
        var configuration = Configuration()
        configuration.readonly = true
        guard FileManager.default.fileExists(atPath: path), let db = try? DatabaseQueue(path: path, configuration: configuration) else { return nil }
        defer { try? db.close() }
        let value: Int?? = try? db.read { try Int.fetchOne($0, sql: sql) }
        return value ?? nil
    }

    /// Waits until `sql` on the database at `path` gives a value above 0 (or `seconds` pass); returns whether it did.
    @discardableResult
    public static func waitFor(_ sql: String, in path: String, seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            if let n = integer(sql, in: path), n > 0 { return true }
        }
        return false
    }

    /// Whether `path` is a run's database (it has `__wadup_content`).
    public static func isRunDatabase(_ path: String) -> Bool {
        (try? DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM __wadup_content") }) != nil
    }
}
