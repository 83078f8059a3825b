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
    /// Test and benchmark switches; ``Tuning/standard`` for every user's run.
    public var tuning: Tuning
    /// Offer a content only to the modules whose manifest accepts it; `false` runs every module on
    /// every content (`--no-dispatch`).
    public var dispatch: Bool
    /// Where streamed sub-contents too large for memory are written (unlinked files).
    public var temporaryFolder: TemporaryFolder
    /// Data folders given by name (`--module-data NAME=DIR`), over each module's `NAME.d`.
    public var moduleData: [String: String] = [:]
    /// The interpreter `.py` modules run on (``PythonRuntime``).
    public var python: PythonRuntime?

    public init(
        modulesDirectory: String, input: String, output: String, threads: Int, limits: RunLimits = RunLimits(), overwrite: Bool = false,
        dedup: Bool = true, followSymlinks: Bool = false, resume: Bool = false, shard: Shard? = nil,
        tuning: Tuning = .standard, dispatch: Bool = true, temporaryFolder: TemporaryFolder = .standard, moduleData: [String: String] = [:],
        python: PythonRuntime? = nil
    ) {
        self.python = python
        self.temporaryFolder = temporaryFolder
        self.moduleData = moduleData
        self.tuning = tuning
        self.dispatch = dispatch
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
    /// ``RunOutcome/complete`` or ``RunOutcome/interrupted``.
    public let outcome: RunOutcome
    public let statistics: RunStatistics.Snapshot
    public let seconds: Double
    /// Sub-contents queued but not processed because the run was interrupted.
    public let abandoned: Int
    /// For a resumed run: what it continued from.
    public let resumed: ResumePoint?
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
    /// The run's output: checked, locked and opened by ``RunOutput`` alone.
    let output: RunOutput

    /// The most inputs a process of a shared run claims at a time.
    static let claimBatch = 2048

    /// The engine that runs the modules (``EngineSelection/make(kind:limits:timeoutIsDefault:cacheDirectory:logger:library:)``).
    public let engine: any WasmEngine
    let logger: Logger
    private let state = Mutex<(scheduler: Scheduler?, cancelled: Bool, storeError: StoreError?)>((nil, false, nil))
    /// How input files are read: `pread`, or a test's stand-in that truncates or fails them.
    let reader: FileReader

    /// `output`: where results go (by default the SQLite database `configuration.output`; a
    /// caller that links a server store passes a ``RunOutput`` that can open it).
    /// `countsTotals`: count ``progressTotals`` (a second walk of the inputs, sizes only), for a
    /// progress display; without one nothing is counted.
    /// `reader`: how input files are read (tests inject faults).
    public init(
        configuration: RunConfiguration, engine: any WasmEngine, logger: Logger, output: RunOutput? = nil, countsTotals: Bool = false,
        reader: FileReader = .system
    ) {
        self.configuration = configuration
        self.reader = reader
        self.countsTotals = countsTotals
        self.engine = engine
        self.output =
            output ?? RunOutput(configuration.output, overwrite: configuration.overwrite, resume: configuration.resume, tuning: configuration.tuning)
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
        let started = Date()
        try checkInput()
        guard let modules = try loadModules() else {
            // A signal during compilation or instantiation stopped them: nothing was written.
            return RunSummary(outcome: .interrupted, statistics: statistics.snapshot, seconds: Date().timeIntervalSince(started), abandoned: 0, resumed: nil)
        }
        let settings = runSettings(modules)
        guard let opened = try openOutput(settings: settings, started: started) else {
            logger.notice("the run in \(configuration.output) is already complete; nothing to resume")
            return RunSummary(outcome: .complete, statistics: statistics.snapshot, seconds: 0, abandoned: 0, resumed: nil)
        }
        defer { opened.close() }
        let work = schedule(opened: opened, modules: modules)
        return try finish(work, opened: opened, modules: modules, settings: settings, started: started)
    }

    /// The settings checks that need no module and no output.
    private func checkInput() throws(WADUPError) {
        guard configuration.threads >= 1 else { throw WADUPError(.usage, "\(RunSetting.threads) must be at least 1") }
        guard FileManager.default.fileExists(atPath: configuration.input) else {
            throw WADUPError(.usage, "\(RunSetting.input) \(configuration.input): no such file or directory")
        }
    }

    /// Loads the modules; `nil` when a signal stopped the loading (the modules are not at fault).
    ///
    /// Loading instantiates each module once (start functions, `_initialize`): guest code, so it
    /// runs on a stack as large as a worker's.
    private func loadModules() throws(WADUPError) -> ModuleSet? {
        let (engine, directory, data, python) = (self.engine, configuration.modulesDirectory, configuration.moduleData, configuration.python)
        let loaded = Self.onGuestStack(limits: configuration.limits) { () -> Result<ModuleSet, WADUPError> in
            Result { () throws(WADUPError) in try ModuleSet.load(directory: directory, engine: engine, data: data, python: python) }
        }
        switch loaded {
        case .success(let set):
            for (name, message) in set.declined { logger.info("\(ModuleSet.declinedLine(module: name, message: message))") }
            return set
        case .failure(let error):
            guard state.withLock({ $0.cancelled }) else { throw error }
            return nil
        }
    }

    /// What the run records as its settings (and a resumed or joined run must match).
    private func runSettings(_ modules: ModuleSet) -> RunSettings {
        let config = configuration
        return RunSettings(
            input: config.input, output: config.output, modulesDirectory: config.modulesDirectory,
            // In file-name order, as every run recorded them (identifiers run first, but that order is the run's, not a setting).
            modules: modules.entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }.map {
                .init(name: $0.name, sha256: $0.sha256, dataSha256: $0.data?.sha256, runtime: $0.runtime)
            },
            threads: config.threads, limits: config.limits,
            dedup: config.dedup, followSymlinks: config.followSymlinks, shard: config.shard, dispatch: config.dispatch)
    }

    /// Opens the output for this attempt; `nil` when `--resume` finds the run complete.
    private func openOutput(settings: RunSettings, started: Date) throws(WADUPError) -> OpenedRun? {
        let config = configuration
        let run = RunRecord(
            startedAt: Int64(started.timeIntervalSince1970), finishedAt: 0, version: Self.version, engine: engine.description,
            settings: settings.json, outcome: .running, inputs: 0, contents: 0, failed: 0, skipped: 0)
        let listing = InputListingWalk(root: config.input, followSymlinks: config.followSymlinks, shard: config.shard)
        let opened: OpenedRun?
        do {
            opened = try output.open(input: config.input, run: run, settings: settings, inputs: listing)
        } catch {
            throw WADUPError(output: error)
        }
        if let resumed = opened?.resumed {
            logger.info("resuming attempt \(resumed.previousAttempt) (\(resumed.previousOutcome)): \(resumed.completedInputs.count) inputs complete, \(resumed.rolledBackTrees) partial input trees (\(resumed.rolledBackContents) contents) rolled back")
        }
        return opened
    }

    /// The run's work once it has ended: its workers (with their counters), scheduler and queue.
    private struct Work {
        let workers: [Worker]
        let scheduler: Scheduler
        let queue: QueueInputs?
    }

    /// Processes every input on the workers until the inputs end or the run is cancelled.
    private func schedule(opened: OpenedRun, modules: ModuleSet) -> Work {
        let config = configuration
        let store = opened.store
        let existing = opened.existing
        let registry = TableRegistry(existing: existing?.tables ?? []) { schema, id, module in store.createTable(schema, id: id, module: module) }
        let dedup = config.dedup ? DedupIndex(processed: existing?.processed ?? [], scope: opened.isShared ? .committed : .run) : nil
        let exclusion = InputWalker.Exclusion(files: opened.excluded, reason: "the output database of this run")
        let inputs: any InputSource
        let queue: QueueInputs?
        let counted = DispatchGroup()
        switch opened.work {
        case .shared(let shared):
            totals.withLock { $0 = .shared }
            let claims = QueueInputs(store: shared, root: config.input, followSymlinks: config.followSymlinks, maxBatch: Self.claimBatch)
            (inputs, queue) = (claims, claims)
        case .local(let completed):
            inputs = InputWalker(root: config.input, excluding: exclusion, followSymlinks: config.followSymlinks, skipping: completed, shard: config.shard)
            queue = nil
            if countsTotals { countTotals(excluding: exclusion, skipping: completed, group: counted) }
        }
        let scheduler = Scheduler(workers: config.threads, inputs: inputs)
        if case .shared(let shared) = opened.work {
            shared.onCommit { processed in
                dedup?.publish(processed)
                scheduler.wake()
            }
        }
        let cancelledEarly = state.withLock { state -> Bool in
            state.scheduler = scheduler
            return state.cancelled
        }
        if cancelledEarly { scheduler.cancel() }

        let workers = (0..<config.threads).map { index in
            Worker(
                index: index, modules: modules, registry: registry, store: store, scheduler: scheduler, statistics: statistics,
                limits: config.limits, logger: logger, dedup: dedup, dispatch: config.dispatch, reader: reader,
                recordsInputs: config.tuning.recordsInputs, temporaryFolder: config.temporaryFolder,
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
        return Work(workers: workers, scheduler: scheduler, queue: queue)
    }

    /// Counts ``progressTotals`` in the background: a walk with the run's own rules, sizes only.
    private func countTotals(excluding exclusion: InputWalker.Exclusion?, skipping: Set<[UInt8]>, group: DispatchGroup) {
        let config = configuration
        group.enter()
        let counter = Thread { [self] in
            defer { group.leave() }
            var walker = InputWalker(
                root: config.input, excluding: exclusion, followSymlinks: config.followSymlinks, skipping: skipping, shard: config.shard,
                opensFiles: false)
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

    /// Writes the run's provenance, checks the output is still where the user will look, and sums up.
    private func finish(_ work: Work, opened: OpenedRun, modules: ModuleSet, settings: RunSettings, started: Date) throws(WADUPError) -> RunSummary {
        for (path, reason) in work.scheduler.excludedInputs { logger.info("left out \(path): \(reason)") }
        if let failure = work.queue?.failure { state.withLock { if $0.storeError == nil { $0.storeError = failure } } }
        let (cancelled, storeError) = state.withLock { ($0.cancelled, $0.storeError) }
        let snapshot = statistics.snapshot
        let outcome: RunOutcome = cancelled || storeError != nil ? .interrupted : .complete
        let moduleRecords = modules.entries.enumerated().map { i, entry in
            let total = work.workers.map { $0.counters[i] }.reduce(ModuleCounters(), +)
            return ModuleRecord(
                name: entry.name, sha256: entry.sha256, size: entry.size, runs: total.runs, failures: total.failures,
                totalTimeMs: Double(total.nanoseconds) / 1e6, offered: total.offered, accepted: total.accepted, dataSha256: entry.data?.sha256,
                runtime: entry.runtime)
        }
        let finished = Date()
        do {
            try opened.store.finish(
                run: RunRecord(
                    startedAt: Int64(started.timeIntervalSince1970), finishedAt: Int64(finished.timeIntervalSince1970),
                    version: Self.version, engine: engine.description, settings: settings.json, outcome: outcome,
                    inputs: snapshot.inputs, contents: snapshot.contents, failed: snapshot.failed, skipped: snapshot.skipped,
                    duplicates: snapshot.duplicates, refused: snapshot.refused),
                modules: moduleRecords)
        } catch {
            throw WADUPError(store: error, shared: opened.isShared)
        }
        if let storeError { throw WADUPError(store: storeError, shared: opened.isShared) }
        do {
            try opened.checkStillThere(contents: snapshot.contents, outcome: outcome)
        } catch {
            throw WADUPError(output: error)
        }
        return RunSummary(
            outcome: outcome, statistics: snapshot, seconds: finished.timeIntervalSince(started),
            abandoned: work.scheduler.pendingCount + snapshot.interrupted, resumed: opened.resumed)
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

}
