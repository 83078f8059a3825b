import Foundation
import Logging
import Synchronization
import WADUPCore
import WADUPRuntime
import WADUPStore

/// What to run: the folders, the output and the limits.
public struct RunConfiguration: Sendable, Codable {
    public var modulesDirectory: String
    public var input: String
    public var output: String
    public var threads: Int
    public var limits: RunLimits
    public var overwrite: Bool
    /// Process each distinct content once; repeats are linked to it (`duplicate_of`).
    public var dedup: Bool
    /// Follow symbolic links under the input (loops are recorded, not followed).
    public var followSymlinks: Bool
    /// Continue the run recorded in the output instead of starting one.
    public var resume: Bool
    /// Process only this part of the inputs (`--shard K/N`); `wadup merge` combines the parts.
    public var shard: Shard?

    public init(
        modulesDirectory: String, input: String, output: String, threads: Int, limits: RunLimits = RunLimits(), overwrite: Bool = false,
        dedup: Bool = true, followSymlinks: Bool = false, resume: Bool = false, shard: Shard? = nil
    ) {
        self.shard = shard
        self.dedup = dedup
        self.followSymlinks = followSymlinks
        self.resume = resume
        self.modulesDirectory = modulesDirectory
        self.input = input
        self.output = output
        self.threads = threads
        self.limits = limits
        self.overwrite = overwrite
    }
}

/// How a run ended.
public struct RunSummary: Sendable {
    public enum Outcome: String, Sendable { case complete, interrupted }
    public let outcome: Outcome
    public let statistics: RunStatistics.Snapshot
    public let seconds: Double
    /// Sub-contents queued but not processed because the run was interrupted.
    public let abandoned: Int
    /// For a resumed run: what it continued from.
    public let resumed: ResumePoint?
}

/// The settings a run records in `__wadup_run.settings`; a resumed run must match them.
struct RecordedSettings: Codable, Equatable {
    struct Module: Codable, Equatable {
        var name: String
        var sha256: String
    }

    var input: String
    var output: String
    var modulesDirectory: String
    var modules: [Module]
    var threads: Int
    var limits: RunLimits
    var dedup: Bool
    var followSymlinks: Bool
    /// `nil` for a whole run (and in the settings of runs before shards existed).
    var shard: Shard?

    /// What differs from `earlier` in a way that changes results (`threads` and paths of the output may differ).
    func differences(from earlier: RecordedSettings) -> [String] {
        var out: [String] = []
        if Self.canonical(input) != Self.canonical(earlier.input) { out.append("input \(input) (the run has \(earlier.input))") }
        if modules != earlier.modules {
            let describe = { (m: [Module]) in m.map { "\($0.name) \($0.sha256.prefix(12))" }.joined(separator: ", ") }
            out.append("modules [\(describe(modules))] (the run has [\(describe(earlier.modules))])")
        }
        if limits != earlier.limits { out.append("limits \(Self.json(limits)) (the run has \(Self.json(earlier.limits)))") }
        if dedup != earlier.dedup { out.append("dedup \(dedup) (the run has \(earlier.dedup))") }
        if followSymlinks != earlier.followSymlinks { out.append("follow-symlinks \(followSymlinks) (the run has \(earlier.followSymlinks))") }
        if shard != earlier.shard { out.append("shard \(shard.map { "\($0)" } ?? "none") (the run has \(earlier.shard.map { "\($0)" } ?? "none"))") }
        return out
    }

    static func canonical(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path }
    static func json<T: Encodable>(_ value: T) -> String { (try? String(decoding: JSONEncoder.sorted.encode(value), as: UTF8.self)) ?? "?" }
}

/// What a progress display measures a run against.
public enum ProgressTotals: Sendable, Equatable {
    /// Not known yet: the count has not ended (or the run has not started).
    case counting
    /// The inputs this process has to do (this shard's, those a resume has left) and their bytes.
    case counted(files: Int, bytes: Int)
    /// A run shared through a server: this process does only the part it claims, so there is no
    /// total of its own (`wadup status` shows the whole run's).
    case shared
}

/// One run: loads the modules, walks the inputs, processes them on all workers, writes the database.
public final class Pipeline: Sendable {
    public static let version = "0.1.0"

    public let configuration: RunConfiguration
    public let statistics = RunStatistics()
    /// The totals a progress display measures ``statistics`` against, counted in the background
    /// once the run's store is open, by a walk with the run's own rules (shard, exclusions, inputs
    /// a resume skips), so that the first content starts at once.
    public var progressTotals: ProgressTotals { totals.withLock { $0 } }
    private let totals = Mutex<ProgressTotals>(.counting)
    private let countsTotals: Bool
    /// Cleared by ``cancel()``: the count stops early (its walk is never longer than the run's own).
    private let counting = Atomic<Bool>(true)
    /// Opens the run's result store for the run's first record (``sqlite(path:resume:)`` by default).
    public typealias StoreFactory = @Sendable (StoreRequest) throws(StoreError) -> any ResultStore
    let makeStore: StoreFactory

    /// The SQLite database at `path` (which ``run()`` has checked and cleared before).
    public static func sqlite(path: String, resume: Bool = false) -> StoreFactory {
        { request throws(StoreError) in
            resume ? try SQLiteStore(resuming: path, run: request.run) : try SQLiteStore(path: path, run: request.run)
        }
    }

    /// The most inputs a process of a shared run claims at a time.
    static let claimBatch = 2048

    /// The engine that runs the modules (``EngineSelection/make(kind:limits:timeoutIsDefault:cacheDirectory:logger:library:)``).
    public let engine: any WasmEngine
    let logger: Logger
    private let state = Mutex<(scheduler: Scheduler?, cancelled: Bool, storeError: StoreError?)>((nil, false, nil))
    /// How input files are read: `pread`, or a test's stand-in that truncates or fails them.
    let reader: FileReader

    /// `countsTotals`: count ``progressTotals`` (a second walk of the inputs, sizes only), for a
    /// progress display; without one nothing is counted.
    /// `reader`: how input files are read (tests inject faults).
    public init(
        configuration: RunConfiguration, engine: any WasmEngine, logger: Logger, store: StoreFactory? = nil, countsTotals: Bool = false,
        reader: FileReader = .system
    ) {
        self.configuration = configuration
        self.reader = reader
        self.countsTotals = countsTotals
        self.engine = engine
        self.makeStore = store ?? Self.sqlite(path: configuration.output, resume: configuration.resume)
        self.logger = logger
    }

    /// Stops the run: no new work is taken, queued sub-content is abandoned. On an engine that can
    /// interrupt (wasmtime), module-runs in progress stop at once and their contents are not
    /// recorded; otherwise contents in progress finish and are committed.
    public func cancel() {
        let scheduler = state.withLock { state -> Scheduler? in
            state.cancelled = true
            return state.scheduler
        }
        counting.store(false, ordering: .relaxed)
        engine.interrupt()
        scheduler?.cancel()
    }

    /// Runs to completion (or until ``cancel()``); throws only for problems that stop the run itself.
    public func run() throws(WADUPError) -> RunSummary {
        let config = configuration
        let started = Date()
        guard config.threads >= 1 else { throw WADUPError(.usage, "\(WADUPError.Setting.threads) must be at least 1") }
        guard FileManager.default.fileExists(atPath: config.input) else {
            throw WADUPError(.usage, "\(WADUPError.Setting.input) \(config.input): no such file or directory")
        }
        // Loading instantiates each module once (start functions, `_initialize`): guest code, so it
        // runs on a stack as large as a worker's.
        let engine = self.engine
        let loaded = Self.onGuestStack(limits: config.limits) { () -> Result<ModuleSet, WADUPError> in
            Result { () throws(WADUPError) in try ModuleSet.load(directory: config.modulesDirectory, engine: engine) }
        }
        let modules: ModuleSet
        switch loaded {
        case .success(let set):
            modules = set
        case .failure(let error):
            // A signal during compilation or instantiation stops them: the run was interrupted,
            // the modules are not at fault. Nothing was written.
            guard state.withLock({ $0.cancelled }) else { throw error }
            return RunSummary(outcome: .interrupted, statistics: statistics.snapshot, seconds: Date().timeIntervalSince(started), abandoned: 0, resumed: nil)
        }
        let shared = StoreURL.isServer(config.output)
        var outputStat = stat()
        if !shared, lstat(config.output, &outputStat) == 0, outputStat.st_mode & S_IFMT == S_IFREG, Self.sameFile(config.input, config.output) {
            throw WADUPError(.usage, "\(WADUPError.Setting.input) \(config.input) is the output database itself; give the folder of the evidence and a new \(WADUPError.Setting.output) path")
        }
        let recorded = RecordedSettings(
            input: config.input, output: config.output, modulesDirectory: config.modulesDirectory,
            modules: modules.entries.map { .init(name: $0.name, sha256: $0.sha256) }, threads: config.threads, limits: config.limits,
            dedup: config.dedup, followSymlinks: config.followSymlinks, shard: config.shard)
        let settings = RecordedSettings.json(recorded)
        // Held until the run returns: no other run or merge replaces or writes this output meanwhile.
        let lock: OutputLock?
        do {
            lock = shared ? nil : try OutputLock.acquire(database: config.output)
        } catch {
            throw error.isHeld
                ? WADUPError(.outputInUse, "\(WADUPError.Setting.output) \(error)")
                : WADUPError(.database, "\(error); check that the folder exists and is writable")
        }
        defer { lock?.release() }
        if shared {
            // The store checks the run the server holds (several processes share it).
        } else if config.resume {
            guard try checkResumable(recorded) else {
                return RunSummary(outcome: .complete, statistics: statistics.snapshot, seconds: 0, abandoned: 0, resumed: nil)
            }
        } else {
            try prepareOutput()
        }

        let store: any ResultStore
        do {
            let run = RunRecord(
                startedAt: Int64(started.timeIntervalSince1970), finishedAt: 0, version: Self.version, engine: engine.description,
                settings: settings, outcome: "running", inputs: 0, contents: 0, failed: 0, skipped: 0)
            store = try makeStore(
                StoreRequest(
                    run: run,
                    differences: { json in
                        (try? JSONDecoder().decode(RecordedSettings.self, from: Data(json.utf8))).map { recorded.differences(from: $0) }
                    },
                    enumerate: { each in
                        var walker = InputWalker(root: config.input, followSymlinks: config.followSymlinks, shard: config.shard, opensFiles: false)
                        while let input = walker.next() {
                            switch input {
                            case .file(let file): try each(QueuedInput(path: file.name.bytes, reason: nil, size: file.size))
                            case .record(let name, let reason, let size): try each(QueuedInput(path: name.bytes, reason: reason, size: size))
                            }
                        }
                    }))
        } catch {
            if error.refused { throw WADUPError(.usage, "\(error)") }
            throw WADUPError(.database, "\(error); \(error.isFull ? "free space on its disk" : "check that the folder exists and is writable")")
        }
        // What the output path names now: the run checks at its end that it still does.
        let written = shared ? nil : Self.identity(config.output)
        let sharedStore = store as? any SharedRunStore
        let resumed = (store as? SQLiteStore)?.resumePoint
        if let resumed {
            logger.info("resuming attempt \(resumed.previousAttempt) (\(resumed.previousOutcome)): \(resumed.completedInputs.count) inputs complete, \(resumed.rolledBackTrees) partial input trees (\(resumed.rolledBackContents) contents) rolled back")
        }
        let existing = resumed ?? sharedStore?.joined
        let registry = TableRegistry(existing: existing?.tables ?? []) { schema, id, module in store.createTable(schema, id: id, module: module) }
        let dedup = config.dedup ? DedupIndex(processed: existing?.processed ?? [], scope: sharedStore == nil ? .run : .committed) : nil
        let inputs: any InputSource
        let queue: QueueInputs?
        let counted = DispatchGroup()
        let exclusion = InputWalker.Exclusion(
            files: Self.outputCompanions(config.output) + [OutputLock.path(for: config.output)], reason: "the output database of this run")
        if let sharedStore {
            totals.withLock { $0 = .shared }
            queue = QueueInputs(store: sharedStore, root: config.input, followSymlinks: config.followSymlinks, maxBatch: Self.claimBatch)
            inputs = queue!
        } else {
            inputs = InputWalker(root: config.input, excluding: exclusion, followSymlinks: config.followSymlinks, skipping: resumed?.completedInputs ?? [], shard: config.shard)
            queue = nil
        }
        if sharedStore == nil && countsTotals {
            counted.enter()
            let counter = Thread { [self] in
                defer { counted.leave() }
                var walker = InputWalker(
                    root: config.input, excluding: exclusion, followSymlinks: config.followSymlinks, skipping: resumed?.completedInputs ?? [],
                    shard: config.shard, opensFiles: false)
                var files = 0
                var bytes = 0
                while counting.load(ordering: .relaxed), let input = walker.next() {
                    files += 1
                    if case .file(let file) = input { bytes += file.size }
                }
                if counting.load(ordering: .relaxed) { totals.withLock { $0 = .counted(files: files, bytes: bytes) } }
            }
            counter.name = "wadup-count"
            counter.start()
        }
        let scheduler = Scheduler(workers: config.threads, inputs: inputs)
        sharedStore?.onCommit { processed in
            dedup?.publish(processed)
            scheduler.wake()
        }
        let cancelledEarly = state.withLock { state -> Bool in
            state.scheduler = scheduler
            return state.cancelled
        }
        if cancelledEarly { scheduler.cancel() }

        let workers = (0..<config.threads).map { index in
            Worker(
                index: index, modules: modules, registry: registry, store: store, scheduler: scheduler, statistics: statistics,
                limits: config.limits, logger: logger, dedup: dedup, reader: reader,
                onStoreFailure: { [self] error in
                    state.withLock { if $0.storeError == nil { $0.storeError = error } }
                    scheduler.cancel()
                })
        }
        let group = DispatchGroup()
        for worker in workers {
            group.enter()
            // Guest code runs on the interpreter's own stack; a large native stack covers deep host recursion.
            let thread = Thread {
                worker.run()
                group.leave()
            }
            thread.stackSize = Self.guestStackSize(config.limits)
            thread.name = "wadup-worker-\(worker.index)"
            thread.start()
        }
        group.wait()
        counted.wait()

        for (path, reason) in scheduler.excludedInputs { logger.info("left out \(path): \(reason)") }
        if let failure = queue?.failure { state.withLock { if $0.storeError == nil { $0.storeError = failure } } }
        let (cancelled, storeError) = state.withLock { ($0.cancelled, $0.storeError) }
        let snapshot = statistics.snapshot
        let outcome: RunSummary.Outcome = cancelled || storeError != nil ? .interrupted : .complete
        var moduleRecords: [ModuleRecord] = []
        for (i, entry) in modules.entries.enumerated() {
            let total = workers.map { $0.counters[i] }.reduce(ModuleCounters(), +)
            moduleRecords.append(
                ModuleRecord(
                    name: entry.name, sha256: entry.sha256, size: entry.size, runs: total.runs, failures: total.failures,
                    totalTimeMs: Double(total.nanoseconds) / 1e6))
        }
        let finished = Date()
        do {
            try store.finish(
                run: RunRecord(
                    startedAt: Int64(started.timeIntervalSince1970), finishedAt: Int64(finished.timeIntervalSince1970),
                    version: Self.version, engine: engine.description, settings: settings, outcome: outcome.rawValue,
                    inputs: snapshot.inputs, contents: snapshot.contents, failed: snapshot.failed, skipped: snapshot.skipped,
                    duplicates: snapshot.duplicates, refused: snapshot.refused),
                modules: moduleRecords)
        } catch {
            throw WADUPError(.database, "\(error); \(Self.remedy(error, shared: shared))")
        }
        if let storeError { throw WADUPError(.database, "\(storeError); \(Self.remedy(storeError, shared: shared))") }
        if let written, Self.identity(config.output) != written {
            throw WADUPError(
                .outputLost,
                "\(WADUPError.Setting.output) \(config.output) was removed or replaced while the run wrote it: this run's results (\(snapshot.contents) contents, \(outcome.rawValue)) are not in the file at that path now; run again into a path nothing else writes")
        }
        return RunSummary(
            outcome: outcome, statistics: snapshot, seconds: finished.timeIntervalSince(started),
            abandoned: scheduler.pendingCount + snapshot.interrupted, resumed: resumed)
    }

    /// What to do after a store failure: every committed input tree is kept. A run shared through a
    /// server is continued by the same command (the server keeps the run; there is no `--resume`).
    static func remedy(_ error: StoreError, shared: Bool) -> WADUPError.Message {
        if shared { return "the server holds every input committed so far; once it answers, run the same command again to finish the run" }
        return error.isFull
            ? "free space on its disk, then continue with \(WADUPError.Setting.resume) (every input committed so far is kept)"
            : "the database holds every input committed so far; fix the cause, then continue with \(WADUPError.Setting.resume)"
    }

    /// Checks that the output records a run these settings continue; `false` if it is already complete.
    private func checkResumable(_ settings: RecordedSettings) throws(WADUPError) -> Bool {
        let path = configuration.output
        guard let run = SQLiteStore.recordedRun(path: path) else {
            throw WADUPError(.usage, "\(WADUPError.Setting.output) \(path) is not a WADUP database, so there is no run to resume; drop \(WADUPError.Setting.resume) to start one")
        }
        guard let earlier = try? JSONDecoder().decode(RecordedSettings.self, from: Data(run.settings.utf8)) else {
            throw WADUPError(.usage, "\(WADUPError.Setting.output) \(path) records a run of another WADUP version (its settings cannot be read); start a new run")
        }
        let differences = settings.differences(from: earlier)
        guard differences.isEmpty else {
            throw WADUPError(.resumeMismatch, "cannot resume the run in \(path): \(differences.joined(separator: "; ")); the database was left untouched; resume with the run's own input, modules and limits")
        }
        if run.outcome == "complete" {
            logger.notice("the run in \(path) is already complete; nothing to resume")
            return false
        }
        return true
    }

    /// The native stack of a thread that runs guest code: wasmtime runs wasm on it, so room for the
    /// wasm stack limit plus the host's own frames.
    static func guestStackSize(_ limits: RunLimits) -> Int {
        max(16 << 20, (limits.maxStack ?? RunLimits.defaultMaxStack) + (8 << 20))
    }

    /// Runs `body` on a new thread with ``guestStackSize(_:)`` and waits for it.
    static func onGuestStack<T: Sendable>(limits: RunLimits, _ body: @escaping @Sendable () -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let value = body()
            result.withLock { $0 = value }
            done.signal()
        }
        thread.stackSize = guestStackSize(limits)
        thread.name = "wadup-load"
        thread.start()
        done.wait()
        return result.withLock { $0! }
    }

    /// The device and inode `path` names, or `nil` if it names nothing.
    static func identity(_ path: String) -> [UInt64]? {
        var st = stat()
        return stat(path, &st) == 0 ? [UInt64(st.st_dev), UInt64(st.st_ino)] : nil
    }

    /// Whether `a` and `b` name one existing file (same device and inode).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat()
        var sb = stat()
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// The database file and the companions SQLite keeps beside it.
    static func outputCompanions(_ path: String) -> [String] { [path, path + "-wal", path + "-shm", path + "-journal"] }

    /// Refuses an existing output unless `--overwrite`, and then replaces only a WADUP database.
    ///
    /// A folder, a link, or any file that is not a database WADUP wrote is never removed, with or
    /// without `--overwrite`: the output path may be mistyped onto evidence.
    private func prepareOutput() throws(WADUPError) {
        let path = configuration.output
        var st = stat()
        guard lstat(path, &st) == 0 else {
            // No database, but SQLite would adopt a stale journal lying beside it.
            let stale = Self.outputCompanions(path).dropFirst().filter { lstat($0, &st) == 0 }
            guard stale.isEmpty else {
                throw WADUPError(.outputExists, "\(WADUPError.Setting.output) \(path) does not exist but \(stale.joined(separator: ", ")) does; remove it or choose another path")
            }
            return
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            throw WADUPError(.outputExists, "\(WADUPError.Setting.output) \(path) is a folder; it was left untouched (\(WADUPError.Setting.overwrite) never removes a folder); give a database file path such as \(path)/wadup.db")
        case S_IFREG:
            break
        case S_IFLNK:
            throw WADUPError(.outputExists, "\(WADUPError.Setting.output) \(path) is a symbolic link; it was left untouched (\(WADUPError.Setting.overwrite) replaces only a WADUP database, never through a link); give the path of the file itself")
        default:
            throw WADUPError(.outputExists, "\(WADUPError.Setting.output) \(path) exists and is not a regular file; it was left untouched; choose another path")
        }
        guard configuration.overwrite else {
            throw WADUPError(.outputExists, "\(WADUPError.Setting.output) \(path) already exists; choose another path or pass \(WADUPError.Setting.overwrite)")
        }
        guard SQLiteStore.isWADUPDatabase(path: path) else {
            throw WADUPError(.outputExists, "\(WADUPError.Setting.output) \(path) exists and is not a WADUP database (no __wadup_content and __wadup_run tables); it was left untouched, because \(WADUPError.Setting.overwrite) replaces only a database WADUP wrote; choose another path")
        }
        for file in Self.outputCompanions(path) where lstat(file, &st) == 0 {
            guard unlink(file) == 0 else {
                throw WADUPError(.io, "cannot remove \(file) for \(WADUPError.Setting.overwrite): \(String(cString: strerror(errno)))")
            }
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
