/// What became of one content: the `status` column of `__wadup_content`, in every store and view.
///
/// The one place the stored spellings are written: SQL text, views and the report use
/// ``rawValue`` and ``sqlList`` rather than string literals.
public enum ContentStatus: String, Sendable, CaseIterable, Codable {
    /// Every module ran on it (a module that said "not mine" is a success).
    case success
    /// A module failed on it, or its bytes could not be read; `error_message` says why.
    case failed
    /// Not processed: not a regular file, outside a budget, or left out by the walk.
    case skipped
    /// The same bytes as a content processed in this run (`duplicate_of`), not processed again.
    case duplicate

    /// The value as an SQL string literal (`'failed'`).
    public var sql: String { "'\(rawValue)'" }

    /// Every status as an SQL list (`'success', 'failed', …`), for `CHECK` and `IN` clauses.
    public static let sqlList = allCases.map(\.sql).joined(separator: ", ")

    /// Statuses of contents whose modules ran: their rows and bytes are the run's answers.
    public static let processed: [ContentStatus] = [.success, .failed]
}
