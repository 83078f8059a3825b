/// How a run (one attempt) ended: the `outcome` column of `__wadup_run`.
///
/// The one place the stored spellings are written; SQL text and views use ``rawValue``/``sql``.
public enum RunOutcome: String, Sendable, CaseIterable, Codable {
    /// The attempt is in progress (or its process died without a word: see ``killed``).
    case running
    /// Every input was processed.
    case complete
    /// Stopped by a signal or a store failure; `--resume` (or the same command, on a server) continues it.
    case interrupted
    /// Found `running` by a later attempt: the process died (SIGKILL, power loss).
    case killed
    /// The store failed while finishing: the provenance row could not be completed.
    case failed

    /// The value as an SQL string literal (`'complete'`).
    public var sql: String { "'\(rawValue)'" }
}
