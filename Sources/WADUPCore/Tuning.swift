/// Switches that exist for tests and benchmarks, never for users: passed down from the caller
/// (a test, or the command layer's hidden `--tuning` option) instead of read from the environment
/// inside the library.
///
/// ``standard`` is what every user's run uses.
public struct Tuning: Sendable, Equatable, Codable {
    /// SQLite: `PRAGMA max_page_count`, so that a test can fill the "disk" at a known size.
    public var sqliteMaxPageCount: Int?
    /// PostgreSQL: a tree with more buffered records than this is written in parts (tests use a
    /// tiny value to exercise the parts).
    public var postgresSpillLimit: Int
    /// wasmtime: compile epoch checks in (`false` only to measure what they cost).
    public var epochChecks: Bool
    /// Record each input in `__wadup_input` (`false` only to measure what the records cost).
    public var recordsInputs: Bool

    public init(sqliteMaxPageCount: Int? = nil, postgresSpillLimit: Int = 4096, epochChecks: Bool = true, recordsInputs: Bool = true) {
        self.sqliteMaxPageCount = sqliteMaxPageCount
        self.postgresSpillLimit = postgresSpillLimit
        self.epochChecks = epochChecks
        self.recordsInputs = recordsInputs
    }

    /// Every user's run.
    public static let standard = Tuning()

    /// Parses `KEY=VALUE` settings (`max-page-count=1024`, `pg-spill-limit=3`, `no-epoch`,
    /// `no-input-records`); `nil` names the first one that is not understood.
    public static func parse(_ settings: [String]) -> Result<Tuning, TuningError> {
        var tuning = Tuning.standard
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            switch (parts.first ?? "", parts.count == 2 ? Int(parts[1]) : nil) {
            case ("max-page-count", let value?) where value > 0: tuning.sqliteMaxPageCount = value
            case ("pg-spill-limit", let value?) where value > 0: tuning.postgresSpillLimit = value
            case ("no-epoch", nil) where parts.count == 1: tuning.epochChecks = false
            case ("no-input-records", nil) where parts.count == 1: tuning.recordsInputs = false
            default: return .failure(TuningError(setting: setting))
            }
        }
        return .success(tuning)
    }
}

/// A tuning setting that is not understood.
public struct TuningError: Error, Sendable, CustomStringConvertible {
    public let setting: String
    public var description: String {
        "unknown tuning \(setting) (known: max-page-count=N, pg-spill-limit=N, no-epoch, no-input-records)"
    }
}
