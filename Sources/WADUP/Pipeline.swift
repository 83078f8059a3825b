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

    public init(modulesDirectory: String, input: String, output: String, threads: Int, limits: RunLimits = RunLimits(), overwrite: Bool = false) {
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
}

/// One run: loads the modules, walks the inputs, processes them on all workers, writes the database.
public final class Pipeline: Sendable {
    public static let version = "0.1.0"

    public let configuration: RunConfiguration
    public let statistics = RunStatistics()
    let logger: Logger
    private let state = Mutex<(scheduler: Scheduler?, cancelled: Bool, storeError: StoreError?)>((nil, false, nil))

    public init(configuration: RunConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Stops taking new work: contents in progress finish and are committed, queued sub-content is abandoned.
    public func cancel() {
        let scheduler = state.withLock { state -> Scheduler? in
            state.cancelled = true
            return state.scheduler
        }
        scheduler?.cancel()
    }

    /// Runs to completion (or until ``cancel()``); throws only for problems that stop the run itself.
    public func run() throws(WADUPError) -> RunSummary {
        let config = configuration
        let started = Date()
        guard config.threads >= 1 else { throw WADUPError(.usage, "--threads must be at least 1") }
        guard FileManager.default.fileExists(atPath: config.input) else {
            throw WADUPError(.usage, "--input \(config.input): no such file or directory")
        }
        let engine = WasmKitEngine(limits: config.limits, logger: logger)
        let modules = try ModuleSet.load(directory: config.modulesDirectory, engine: engine)
        try prepareOutput()

        let settings = (try? String(decoding: JSONEncoder.sorted.encode(config), as: UTF8.self)) ?? "{}"
        let store: SQLiteStore
        do {
            store = try SQLiteStore(
                path: config.output,
                run: RunRecord(
                    startedAt: Int64(started.timeIntervalSince1970), finishedAt: 0, version: Self.version, engine: "wasmkit",
                    settings: settings, outcome: "running", inputs: 0, contents: 0, failed: 0, skipped: 0))
        } catch {
            throw WADUPError(.database, "\(error); check that the folder exists and is writable")
        }
        let registry = TableRegistry { schema, id in store.createTable(schema, id: id) }
        let scheduler = Scheduler(workers: config.threads, inputs: InputWalker(root: config.input))
        let cancelledEarly = state.withLock { state -> Bool in
            state.scheduler = scheduler
            return state.cancelled
        }
        if cancelledEarly { scheduler.cancel() }

        let workers = (0..<config.threads).map { index in
            Worker(
                index: index, modules: modules, registry: registry, store: store, scheduler: scheduler, statistics: statistics,
                limits: config.limits, logger: logger,
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
            thread.stackSize = 16 << 20
            thread.name = "wadup-worker-\(worker.index)"
            thread.start()
        }
        group.wait()

        for (path, reason) in scheduler.skippedInputs { logger.warning("skipping input \(path): \(reason)") }
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
                    version: Self.version, engine: "wasmkit", settings: settings, outcome: outcome.rawValue,
                    inputs: snapshot.inputs, contents: snapshot.contents, failed: snapshot.failed, skipped: snapshot.skipped),
                modules: moduleRecords)
        } catch {
            throw WADUPError(.database, "\(error)")
        }
        if let storeError { throw WADUPError(.database, "\(storeError)") }
        return RunSummary(
            outcome: outcome, statistics: snapshot, seconds: finished.timeIntervalSince(started), abandoned: scheduler.pendingCount)
    }

    /// Refuses an existing output unless `--overwrite`, in which case it and its WAL files are removed.
    private func prepareOutput() throws(WADUPError) {
        let path = configuration.output
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard configuration.overwrite else {
            throw WADUPError(.outputExists, "--output \(path) already exists; choose another path or pass --overwrite")
        }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            do {
                try FileManager.default.removeItem(atPath: path + suffix)
            } catch {
                throw WADUPError(.io, "cannot remove \(path + suffix) for --overwrite: \(error.localizedDescription)")
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
