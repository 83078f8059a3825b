/// Where one chunk of a shared run's inputs stands: the `state` column of `__wadup_chunks`.
///
/// The one place the stored spellings are written: the schema, the queue's statements and
/// `wadup status` use ``sql`` and ``sqlList`` rather than string literals.
enum PostgresChunkState: String, Sendable, CaseIterable {
    /// Never claimed, or given back (a process ended or was interrupted before committing it).
    case pending
    /// Leased to one process (`lease_owner`) until `lease_until`; renewed while it works, claimed
    /// again by another process once the lease expires.
    case claimed
    /// Every input of the chunk is committed (`done_by` names the process that finished it).
    case done

    /// The value as an SQL string literal (`'claimed'`).
    var sql: String { "'\(rawValue)'" }

    /// Every state as an SQL list (`'pending', 'claimed', 'done'`), for the `CHECK` clause.
    static let sqlList = allCases.map(\.sql).joined(separator: ", ")
}
