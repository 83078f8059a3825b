import Foundation
import WADUPCore

/// The run's output: where results go, and the one owner of everything done to it.
///
/// It parses the `--output` text once (an SQLite file or a PostgreSQL URL), checks it against the
/// run (a new database, `--overwrite` of a WADUP database, `--resume` of a matching run, or a
/// shared run on a server to join), takes the output lock, and opens the store. The pipeline
/// gets an ``OpenedRun`` and never looks at files or store types itself.
public struct RunOutput: Sendable {
    /// Where the results go.
    public enum Location: Sendable, Equatable, CustomStringConvertible {
        /// An SQLite database file.
        case file(String)
        /// A database server (`postgres://` or `postgresql://` URL), shared by several processes.
        case server(String)

        /// The location `text` names: the one place that decides whether an output is a server.
        public init(_ text: String) {
            self = Self.isServer(text) ? .server(text) : .file(text)
        }

        /// Whether `text` is a PostgreSQL URL (`postgres://` or `postgresql://`).
        public static func isServer(_ text: String) -> Bool { text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") }

        /// The text it was given as.
        public var description: String {
            switch self {
            case .file(let path): path
            case .server(let url): url
            }
        }
    }

    /// Opens a shared store on a server (the `WADUPPostgres` target provides one).
    public typealias ServerOpener = @Sendable (StoreRequest) throws(StoreError) -> any SharedRunStore

    public let location: Location
    let overwrite: Bool
    let resume: Bool
    let tuning: Tuning
    let openServer: ServerOpener?

    /// `overwrite` replaces an existing WADUP database (never anything else); `resume` continues
    /// the run recorded in it. A server location needs `server`, which opens its store.
    public init(_ text: String, overwrite: Bool = false, resume: Bool = false, tuning: Tuning = .standard, server: ServerOpener? = nil) {
        location = Location(text)
        self.overwrite = overwrite
        self.resume = resume
        self.tuning = tuning
        openServer = server
    }

    /// Checks the output against the run and opens it; `nil` when `--resume` finds the run
    /// already complete (nothing to do, nothing written).
    ///
    /// `input` is the run's input (refused when it is the output database itself); `run` is the
    /// first record of this attempt, `settings` what it records; a process that registers a
    /// shared run lists `inputs` into its work queue.
    public func open(input: String, run: RunRecord, settings: RunSettings, inputs: any InputListing) throws(OutputError) -> OpenedRun? {
        let request = StoreRequest(run: run, settings: settings, inputs: inputs, tuning: tuning)
        switch location {
        case .server(let url):
            guard let openServer else { throw OutputError(.unavailable, "\(RunSetting.output) \(url): this build has no PostgreSQL store") }
            do {
                let store = try openServer(request)
                return OpenedRun(store: store, work: .shared(store), existing: store.joined, resumed: nil, excluded: [], lock: nil, identity: nil, path: url)
            } catch {
                throw OutputError(store: error)
            }
        case .file(let path):
            return try openFile(path, input: input, request: request)
        }
    }

    private func openFile(_ path: String, input: String, request: StoreRequest) throws(OutputError) -> OpenedRun? {
        var st = stat()
        if lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, Self.sameFile(input, path) {
            throw OutputError(
                .usage, "\(RunSetting.input) \(input) is the output database itself; give the folder of the evidence and a new \(RunSetting.output) path")
        }
        // Held until the run closes: no other run or merge replaces or writes this output meanwhile.
        let lock: OutputLock
        do {
            lock = try OutputLock.acquire(database: path)
        } catch {
            throw error.isHeld
                ? OutputError(.inUse, "\(RunSetting.output) \(error)")
                : OutputError(.unwritable, "\(error); check that the folder exists and is writable")
        }
        do {
            let store: SQLiteStore
            if resume {
                guard try checkResumable(path, settings: request.settings) else {
                    lock.release()
                    return nil
                }
                store = try SQLiteStore(resuming: path, run: request.run, tuning: tuning)
            } else {
                try prepare(path)
                store = try SQLiteStore(path: path, run: request.run, tuning: tuning)
            }
            let resumed = store.resumePoint
            return OpenedRun(
                store: store, work: .local(skipping: resumed?.completedInputs ?? []), existing: resumed, resumed: resumed,
                excluded: Self.companions(path) + [OutputLock.path(for: path)], lock: lock, identity: Self.identity(path), path: path)
        } catch let error as OutputError {
            lock.release()
            throw error
        } catch let error as StoreError {
            lock.release()
            throw OutputError(store: error)
        } catch {
            lock.release()
            throw OutputError(.unwritable, "\(error)")
        }
    }

    /// Checks that the output records a run these settings continue; `false` if it is already complete.
    private func checkResumable(_ path: String, settings: RunSettings) throws(OutputError) -> Bool {
        guard let run = SQLiteStore.recordedRun(path: path) else {
            throw OutputError(
                .usage, "\(RunSetting.output) \(path) is not a WADUP database, so there is no run to resume; drop \(RunSetting.resume) to start one")
        }
        guard let earlier = RunSettings(json: run.settings) else {
            throw OutputError(
                .usage, "\(RunSetting.output) \(path) records a run of another WADUP version (its settings cannot be read); start a new run")
        }
        let differences = settings.differences(from: earlier)
        guard differences.isEmpty else {
            throw OutputError(
                .resumeMismatch(differences),
                "cannot resume the run in \(path): \(differences.map(\.description).joined(separator: "; ")); the database was left untouched; resume with the run's own input, modules (and Python runtime), module data and limits")
        }
        return run.outcome != RunOutcome.complete.rawValue
    }

    /// Refuses an existing output unless `--overwrite`, and then replaces only a WADUP database.
    ///
    /// A folder, a link, or any file that is not a database WADUP wrote is never removed, with or
    /// without `--overwrite`: the output path may be mistyped onto evidence.
    private func prepare(_ path: String) throws(OutputError) {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            // No database, but SQLite would adopt a stale journal lying beside it.
            let stale = Self.companions(path).dropFirst().filter { lstat($0, &st) == 0 }
            guard stale.isEmpty else {
                throw OutputError(.exists, "\(RunSetting.output) \(path) does not exist but \(stale.joined(separator: ", ")) does; remove it or choose another path")
            }
            return
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            throw OutputError(
                .exists,
                "\(RunSetting.output) \(path) is a folder; it was left untouched (\(RunSetting.overwrite) never removes a folder); give a database file path such as \(path)/wadup.db")
        case S_IFREG:
            break
        case S_IFLNK:
            throw OutputError(
                .exists,
                "\(RunSetting.output) \(path) is a symbolic link; it was left untouched (\(RunSetting.overwrite) replaces only a WADUP database, never through a link); give the path of the file itself")
        default:
            throw OutputError(.exists, "\(RunSetting.output) \(path) exists and is not a regular file; it was left untouched; choose another path")
        }
        guard overwrite else {
            throw OutputError(.exists, "\(RunSetting.output) \(path) already exists; choose another path or pass \(RunSetting.overwrite)")
        }
        guard SQLiteStore.isWADUPDatabase(path: path) else {
            throw OutputError(
                .exists,
                "\(RunSetting.output) \(path) exists and is not a WADUP database (no __wadup_content and __wadup_run tables); it was left untouched, because \(RunSetting.overwrite) replaces only a database WADUP wrote; choose another path")
        }
        for file in Self.companions(path) where lstat(file, &st) == 0 {
            guard unlink(file) == 0 else {
                throw OutputError(.io, "cannot remove \(file) for \(RunSetting.overwrite): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The database file and the companions SQLite keeps beside it.
    static func companions(_ path: String) -> [String] { [path, path + "-wal", path + "-shm", path + "-journal"] }

    /// The device and inode `path` names, or `nil` if it names nothing.
    static func identity(_ path: String) -> FileIdentity? {
        var st = stat()
        return stat(path, &st) == 0 ? FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) : nil
    }

    /// Whether `a` and `b` name one existing file (same device and inode).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        guard let ia = identity(a) else { return false }
        return ia == identity(b)
    }
}

/// A file's device and inode: what a path names.
struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
}

/// An output opened for one run: its store, how its inputs are found, and what it already holds.
public final class OpenedRun: Sendable {
    /// How this process finds its inputs.
    public enum Work: Sendable {
        /// It walks the input itself, leaving out those a resumed run completed.
        case local(skipping: Set<[UInt8]>)
        /// It claims inputs from the shared run's work queue.
        case shared(any SharedRunStore)
    }

    public let store: any ResultStore
    public let work: Work
    /// What the output held when the run opened it (a resumed or joined run): module tables and
    /// processed contents.
    public let existing: ResumePoint?
    /// For a resumed SQLite run: what it continues from.
    public let resumed: ResumePoint?
    /// Files the walk leaves out: the output database, its companions and its lock.
    public let excluded: [String]
    private let lock: OutputLock?
    private let identity: FileIdentity?
    private let path: String

    init(
        store: any ResultStore, work: Work, existing: ResumePoint?, resumed: ResumePoint?, excluded: [String], lock: OutputLock?,
        identity: FileIdentity?, path: String
    ) {
        self.store = store
        self.work = work
        self.existing = existing
        self.resumed = resumed
        self.excluded = excluded
        self.lock = lock
        self.identity = identity
        self.path = path
    }

    /// Whether a shared store (a server) holds the run: a failure's remedy is to run the same
    /// command again rather than `--resume`.
    public var isShared: Bool { if case .shared = work { true } else { false } }

    /// Checks that the output path still names the database this run wrote (nothing removed or
    /// replaced it during the run).
    public func checkStillThere(contents: Int, outcome: RunOutcome) throws(OutputError) {
        guard let identity, RunOutput.identity(path) != identity else { return }
        throw OutputError(
            .lost,
            "\(RunSetting.output) \(path) was removed or replaced while the run wrote it: this run's results (\(contents) contents, \(outcome.rawValue)) are not in the file at that path now; run again into a path nothing else writes")
    }

    /// Releases the output lock (idempotent; also when this object goes).
    public func close() { lock?.release() }

    deinit { lock?.release() }
}

/// Why the output could not be opened or was lost: a stable kind and a message whose settings
/// (``RunSetting``) the command layer spells as flags.
public struct OutputError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A setting that cannot work (the input is the output, no run to resume).
        case usage
        /// The output exists and may not be replaced.
        case exists
        /// Another live process (a run or a merge) writes the output.
        case inUse
        /// `--resume` with settings other than the run's: each that differs.
        case resumeMismatch([RunSettings.Difference])
        /// The output path no longer names the database the run wrote.
        case lost
        /// The output (or its lock) cannot be created or written.
        case unwritable
        /// Removing the files of a database to overwrite failed.
        case io
        /// The store refused to open (a server refused, or holds another run).
        case refused
        /// This build cannot open the location (no PostgreSQL store linked in).
        case unavailable
    }

    public let kind: Kind
    public let text: SettingMessage
    /// The store's error, when opening the store failed (its kind tells a full disk).
    public let store: StoreError?

    public init(_ kind: Kind, _ text: SettingMessage) {
        self.kind = kind
        self.text = text
        store = nil
    }

    /// The store failed to open: refused (exit 2, like a bad setting) or failed.
    init(store error: StoreError) {
        kind = error.refused ? .refused : .unwritable
        text = error.refused
            ? "\(error.text.prefixed(by: "database \(error.path): "))"
            : "\(error.text.prefixed(by: "database \(error.path): ")); \(error.isFull ? "free space on its disk" : "check that the folder exists and is writable")"
        store = error
    }

    public var description: String { text.description }
}
