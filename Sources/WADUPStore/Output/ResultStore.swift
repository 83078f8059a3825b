import WADUPCore

/// Where results go. The pipeline speaks only this protocol; SQL stays behind it.
///
/// A PostgreSQL store for several machines implements the same three calls.
public protocol ResultStore: Sendable {
    /// Creates module table `id`, defined by `module`. Called before any row of it is submitted; a
    /// failure surfaces from the next ``submit(_:)`` or ``finish(run:modules:)``.
    func createTable(_ schema: TableSchema, id: Int32, module: String)
    /// Queues one content with its rows; blocks only when the writer is far behind.
    func submit(_ record: ContentRecord) throws(StoreError)
    /// Queues the end of one input's tree: every content under it was submitted before. `note`
    /// (a budget that was reached) is added to the input's own record. A resumed run skips it.
    func completeInput(path: [UInt8], rootUUID: String, note: String?) throws(StoreError)
    /// Writes everything queued, then the run's provenance, and closes the store.
    func finish(run: RunRecord, modules: [ModuleRecord]) throws(StoreError)
}

/// One content and the rows of its successful module-runs, written in one transaction.
public struct ContentRecord: Sendable {
    public typealias Status = ContentStatus

    public var uuid: String
    public var filename: String
    public var parentUUID: String?
    public var processedAt: Int64
    public var status: Status
    public var errorMessage: String?
    public var depth: Int
    /// `nil` when unknown (a path that is not a regular file).
    public var size: Int?
    /// `nil` when the bytes were not read.
    public var sha256: String?
    /// The uuid of the processed content with the same bytes, for a ``Status/duplicate``.
    public var duplicateOf: String?
    /// The exact bytes of an input's path when they are not valid UTF-8 (``filename`` escapes them).
    public var filenameBytes: [UInt8]?
    /// The type an identifying module reported (`set_content_type`); `nil` when none did.
    public var type: ContentType?
    /// The input tree this content ends, written with it (the common case of a file without sub-contents).
    public var completesInput: InputCompletion?
    public var rows: [(tableID: Int32, values: [CellValue])]
    /// Rows of the parent content, inserted by this content's decoding run (an encoded
    /// sub-content, docs/modules/ABI.md): written under ``parentUUID``, with this record.
    public var parentRows: [(tableID: Int32, values: [CellValue])] = []
    /// `false` for an encoded sub-content its decoding run did not emit: no content is written,
    /// only its ``parentRows`` and ``completesInput``.
    public var isContent = true

    public init(
        uuid: String, filename: String, parentUUID: String?, processedAt: Int64, status: Status, errorMessage: String?,
        depth: Int, size: Int?, sha256: String?, duplicateOf: String? = nil, filenameBytes: [UInt8]? = nil,
        rows: [(tableID: Int32, values: [CellValue])] = []
    ) {
        self.duplicateOf = duplicateOf
        self.filenameBytes = filenameBytes
        self.uuid = uuid
        self.filename = filename
        self.parentUUID = parentUUID
        self.processedAt = processedAt
        self.status = status
        self.errorMessage = errorMessage
        self.depth = depth
        self.size = size
        self.sha256 = sha256
        self.rows = rows
    }
}

/// The end of one input's tree: every content under it is recorded.
public struct InputCompletion: Sendable {
    /// The input's path under the run's input, as bytes.
    public var path: [UInt8]
    public var rootUUID: String
    /// Added to the input's own record (a budget that refused sub-contents).
    public var note: String?

    public init(path: [UInt8], rootUUID: String, note: String?) {
        self.path = path
        self.rootUUID = rootUUID
        self.note = note
    }
}

/// The run's provenance row.
public struct RunRecord: Sendable {
    public var startedAt: Int64
    public var finishedAt: Int64
    public var version: String
    public var engine: String
    /// The settings as JSON text.
    public var settings: String
    public var outcome: RunOutcome
    public var inputs: Int
    public var contents: Int
    public var failed: Int
    public var skipped: Int
    /// Repeats linked to a processed content instead of processed.
    public var duplicates: Int
    /// Sub-contents refused because their input's budget was reached.
    public var refused: Int

    public init(
        startedAt: Int64, finishedAt: Int64, version: String, engine: String, settings: String, outcome: RunOutcome,
        inputs: Int, contents: Int, failed: Int, skipped: Int, duplicates: Int = 0, refused: Int = 0
    ) {
        self.duplicates = duplicates
        self.refused = refused
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.version = version
        self.engine = engine
        self.settings = settings
        self.outcome = outcome
        self.inputs = inputs
        self.contents = contents
        self.failed = failed
        self.skipped = skipped
    }
}

/// One module's provenance row: what ran, and how it fared.
public struct ModuleRecord: Sendable {
    public var name: String
    public var sha256: String
    public var size: Int
    public var runs: Int
    public var failures: Int
    public var totalTimeMs: Double
    /// Contents the module was offered, and those its manifest accepted (the ones it ran on).
    public var offered: Int
    public var accepted: Int
    /// The digest of the module's data folder (``RunSettings/Module/dataSha256``), `nil` without one.
    public var dataSha256: String?
    /// The runtime a Python module ran on (``RunSettings/Module/runtime``), `nil` for a `.wasm` module.
    public var runtime: String?

    public init(
        name: String, sha256: String, size: Int, runs: Int, failures: Int, totalTimeMs: Double, offered: Int = 0, accepted: Int = 0,
        dataSha256: String? = nil, runtime: String? = nil
    ) {
        self.offered = offered
        self.accepted = accepted
        self.dataSha256 = dataSha256
        self.runtime = runtime
        self.name = name
        self.sha256 = sha256
        self.size = size
        self.runs = runs
        self.failures = failures
        self.totalTimeMs = totalTimeMs
    }
}

/// Why the output could not be opened, written or finished: a stable kind, the database it
/// concerns, and a message whose settings (``RunSetting``) the command layer spells as flags.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is; the command layer picks the exit code and remedy from it.
    public enum Kind: String, Sendable {
        /// The store refused to open before writing anything (unreachable, refused credentials, a
        /// database holding another run): like any other bad setting (exit 2).
        case refused
        /// The disk (or the database's page limit) is full: the remedy is space.
        case full
        /// Anything else that stopped a write.
        case failed
    }

    public let kind: Kind
    /// The database file or the server's endpoint.
    public let path: String
    public let text: SettingMessage

    public init(_ kind: Kind = .failed, path: String, _ text: SettingMessage) {
        self.kind = kind
        self.path = path
        self.text = text
    }

    /// What went wrong, settings by their plain names.
    public var message: String { text.description }

    public var description: String { "database \(path): \(message)" }

    /// Whether the store refused before writing anything.
    public var refused: Bool { kind == .refused }

    /// Whether the failure is a full disk (or the database's page limit).
    public var isFull: Bool { kind == .full }

    /// The whole text with settings named by `name`.
    public func rendered(_ name: (RunSetting) -> String) -> String { "database \(path): \(text.rendered(name))" }
}

/// What a resumed run continues from: the attempt it follows, the inputs already complete, the
/// processed contents (for dedup) and the module tables, after the partial trees were rolled back.
public struct ResumePoint: Sendable {
    /// The previous attempt's `__wadup_run.id`.
    public var previousAttempt: Int64
    /// The outcome of the previous attempt.
    public var previousOutcome: String
    /// Relative paths (bytes) of the inputs whose trees are complete.
    public var completedInputs: Set<[UInt8]>
    /// (sha256, uuid) of every processed content kept.
    public var processed: [(sha256: String, uuid: String)]
    /// The module tables, in the order of their ids.
    public var tables: [TableSchema]
    /// Contents rolled back, and the partial input trees they formed.
    public var rolledBackContents: Int
    public var rolledBackTrees: Int

    public init(
        previousAttempt: Int64, previousOutcome: String, completedInputs: Set<[UInt8]>, processed: [(sha256: String, uuid: String)],
        tables: [TableSchema], rolledBackContents: Int, rolledBackTrees: Int
    ) {
        self.previousAttempt = previousAttempt
        self.previousOutcome = previousOutcome
        self.completedInputs = completedInputs
        self.processed = processed
        self.tables = tables
        self.rolledBackContents = rolledBackContents
        self.rolledBackTrees = rolledBackTrees
    }
}
