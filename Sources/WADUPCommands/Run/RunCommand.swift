import ArgumentParser
import Dispatch
import Foundation
import Logging
import Synchronization
import WADUPPipeline
import WADUPCore
import WADUPPostgres
import WADUPRuntime
import WADUPStore

/// `wadup run` (the default command): runs every file under `--input` through every module under
/// `--modules` into one SQLite database.
package struct RunCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run sandboxed WebAssembly modules over a folder of files into one SQLite database (the default command).",
        discussion: """
            Engines: wasmtime (default) and wasmkit (pure Swift, the fallback when wasmtime's library is \
            missing; no --timeout).

            Sizes take units: 4096, 64KiB, 256MiB, 2GB, 1.5GiB. Durations: seconds (30, 2.5) or 30s, 5m, 1h30m, 500ms.

            Exit codes: 0 the run completed (module failures are recorded, not fatal); 1 the run itself failed \
            (I/O, database); 2 usage error, invalid module, the output exists or is in use; 130 interrupted (Ctrl-C), \
            143 stopped by SIGTERM, 129 by SIGHUP (each ends the run as interrupted: --resume continues it).
            """)

    @OptionGroup(title: "Input and output")
    var files: FileOptions

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    @OptionGroup(title: "Engine")
    var engineOptions: EngineOptions

    @Flag(name: .shortAndLong, help: "Log at debug level (module output, each failure).")
    var verbose = false

    /// Switches for tests and benchmarks (`KEY=VALUE`, see ``Tuning/parse(_:)``); hidden from users.
    @Option(name: .customLong("tuning"), help: .hidden)
    var tuningSettings: [String] = []

    /// The tuning the hidden `--tuning` options ask for.
    var tuning: Tuning {
        get throws {
            switch Tuning.parse(tuningSettings) {
            case .success(let tuning): return tuning
            case .failure(let error): throw ValidationError("--tuning: \(error)")
            }
        }
    }

    package init() {}

    package func validate() throws {
        _ = try tuning
        guard engineOptions.threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard (limits.fuel ?? 1) >= 1 else { throw ValidationError("--fuel must be at least 1") }
        guard (limits.maxMemory?.bytes ?? 65536) >= 65536 else { throw ValidationError("--max-memory must be at least 65536 (64KiB, one wasm page)") }
        let stack = limits.maxStack?.bytes
        guard (stack ?? 4096) >= 4096, (stack ?? 0) <= 1 << 30 else { throw ValidationError("--max-stack must be between 4096 (4KiB) and 1073741824 (1GiB)") }
        guard limits.maxRecursionDepth >= 0 else { throw ValidationError("--max-recursion-depth must not be negative") }
        guard limits.maxSubcontent >= 0, limits.maxRows >= 0, limits.maxInputContents >= 0 else {
            throw ValidationError("--max-subcontent, --max-rows and --max-input-contents must not be negative")
        }
        _ = try ModuleDataOption.parse(files.moduleData)
        guard !(files.resume && files.overwrite) else { throw ValidationError("--resume continues the run in --output and --overwrite replaces it: give one of them") }
        if case .server = RunOutput.Location(files.output) {
            do {
                _ = try PostgresLocation(url: files.output)
            } catch {
                throw ValidationError("--output \(error)")
            }
            guard files.shard == nil else { throw ValidationError("--shard splits a run into SQLite databases for wadup merge; processes writing to PostgreSQL share the work without it") }
        }
        guard files.leaseTimeout.seconds >= 1 else { throw ValidationError("--lease-timeout must be at least 1 second") }
        if let problem = temporaryFolder.problem() {
            throw ValidationError("--temp-dir \(temporaryFolder.path): \(problem) (it must be a writable folder)")
        }
        let t = limits.timeout?.seconds ?? 0
        guard t >= 0, t.isFinite, t <= 31_536_000 else { throw ValidationError("--timeout must be between 0 (none) and 31536000 seconds (365 days)") }
    }

    /// The compile cache folder, or `nil` with `--no-cache`.
    var cacheDirectory: String? {
        if engineOptions.noCache { return nil }
        return engineOptions.cacheDir ?? EngineOptions.defaultCacheDirectory
    }

    var runConfiguration: RunConfiguration {
        let timeout = limits.timeout?.seconds ?? RunLimits.defaultTimeout
        return RunConfiguration(
            modulesDirectory: files.modules ?? StandardModules.directory, input: files.input, output: files.output, threads: engineOptions.threads,
            limits: RunLimits(
                fuel: limits.fuel, maxMemory: limits.maxMemory?.bytes, maxStack: limits.maxStack?.bytes, maxRecursionDepth: limits.maxRecursionDepth,
                maxSubcontent: limits.maxSubcontent, maxSubcontentBytes: limits.maxSubcontentBytes.bytes,
                timeout: timeout > 0 ? timeout : nil,
                maxRows: limits.maxRows, maxInputBytes: limits.maxInputBytes.bytes, maxInputContents: limits.maxInputContents),
            overwrite: files.overwrite, dedup: !files.noDedup, followSymlinks: files.followSymlinks, resume: files.resume,
            shard: files.shard, tuning: (try? tuning) ?? .standard, dispatch: !files.noDispatch, temporaryFolder: temporaryFolder,
            moduleData: (try? ModuleDataOption.parse(files.moduleData)) ?? [:], python: StandardModules.python)
    }

    /// `--temp-dir`, or `$TMPDIR`, or `/tmp`; the remedy a full folder's failure names.
    var temporaryFolder: TemporaryFolder {
        TemporaryFolder(
            path: files.tempDir ?? TemporaryFolder.standardPath,
            remedy: "free space there, or give another folder with --temp-dir")
    }

    package func run() throws {
        var logger = Logger(label: "wadup") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .info
        let configuration = runConfiguration
        let engine: any WasmEngine
        do {
            engine = try EngineSelection.make(
                kind: engineOptions.engine, limits: configuration.limits,
                timeoutIsDefault: limits.timeout == nil || limits.timeout?.seconds == RunLimits.defaultTimeout || limits.timeout?.seconds == 0,
                cacheDirectory: cacheDirectory, logger: logger, tuning: configuration.tuning,
                spelling: Self.flag)
        } catch {
            FileHandle.standardError.write(Data("wadup: error: \(error.text.rendered(Self.flag))\n".utf8))
            throw ExitCode(error.code.exitStatus)
        }
        let showsProgress = isatty(STDERR_FILENO) != 0
        let pipeline = Pipeline(
            configuration: configuration, engine: engine, logger: logger, output: runOutput(logger: logger, tuning: configuration.tuning),
            countsTotals: showsProgress)
        let received = Mutex<TerminationSignal?>(nil)
        let interrupts = InterruptHandler { signal in
            received.withLock { $0 = signal }
            let what = engine.canInterrupt ? "stopping module-runs in progress" : "finishing contents in progress"
            let by = signal == .interrupt ? "" : " by \(signal.name)"
            FileHandle.standardError.write(Data("\nwadup: interrupted\(by); \(what) (\(signal.again) to quit at once)\n".utf8))
            PostgresInterrupt.interrupt()
            pipeline.cancel()
        }
        let progress = showsProgress ? ProgressLine(pipeline: pipeline) : nil
        let summary: RunSummary
        do {
            summary = try pipeline.run()
        } catch {
            progress?.stop()
            interrupts.cancel()
            FileHandle.standardError.write(Data("wadup: error: \(error.text.rendered(Self.flag))\n".utf8))
            throw ExitCode(error.code.exitStatus)
        }
        progress?.stop()
        interrupts.cancel()
        FileHandle.standardError.write(Data(summary.report.utf8))
        if summary.outcome == .interrupted { throw ExitCode((received.withLock { $0 } ?? .interrupt).exitStatus) }
    }

    /// The run's output: an SQLite file, or a PostgreSQL server whose store this command links in.
    func runOutput(logger: Logger, tuning: Tuning) -> RunOutput {
        let (overwrite, resume) = (files.overwrite, files.resume)
        guard case .server(let url) = RunOutput.Location(files.output) else {
            return RunOutput(files.output, overwrite: overwrite, resume: resume, tuning: tuning)
        }
        let (leaseTimeout, reconnectTimeout) = (files.leaseTimeout.seconds, files.reconnectTimeout.seconds)
        return RunOutput(url, overwrite: overwrite, resume: resume, tuning: tuning) { request throws(StoreError) in
            let location: PostgresLocation
            do {
                location = try PostgresLocation(url: url)
            } catch {
                throw StoreError(.refused, path: url, "\(error)")
            }
            return try PostgresStore(
                request: request,
                options: .init(
                    location: location, leaseTimeout: leaseTimeout, overwrite: overwrite, resume: resume, reconnectTimeout: reconnectTimeout,
                    settingName: Self.flag),
                logger: logger)
        }
    }

    /// The command-line flag of a run setting: the one place that knows the flags' spelling.
    static func flag(_ setting: WADUPError.Setting) -> String {
        switch setting {
        case .input: "--input"
        case .output: "--output"
        case .modules: "--modules"
        case .threads: "--threads"
        case .engine: "--engine"
        case .timeout: "--timeout"
        case .fuel: "--fuel"
        case .overwrite: "--overwrite"
        case .resume: "--resume"
        case .leaseTimeout: "--lease-timeout"
        case .cacheDirectory: "--cache-dir"
        case .noCache: "--no-cache"
        case .moduleData: "--module-data"
        }
    }
}

extension RunSummary {
    /// The final summary printed on stderr.
    package var report: String {
        let s = statistics
        let mb = Double(s.bytes) / 1_000_000
        var text = "wadup: \(outcome.rawValue) in \(String(format: "%.2f", seconds)) s: \(s.inputs) inputs, \(s.contents) contents "
        text += "(\(s.succeeded) success, \(s.failed) failed, \(s.skipped) skipped, \(s.duplicates) duplicate), "
        text += String(format: "%.1f MB, %.1f MB/s, %.0f contents/s\n", mb, mb / max(seconds, 1e-9), Double(s.contents) / max(seconds, 1e-9))
        if !s.failureKinds.isEmpty {
            let kinds = FailureKind.allCases.compactMap { kind in s.failureKinds[kind].map { "\(kind.rawValue) \($0)" } }
            text += "wadup: failed module-runs: " + kinds.joined(separator: ", ") + "\n"
        }
        if s.refused > 0 { text += "wadup: \(s.refused) sub-contents refused by input budgets (see the inputs' error_message)\n" }
        if let resumed {
            text += "wadup: resumed: \(resumed.completedInputs.count) inputs kept from earlier attempts, \(resumed.rolledBackTrees) partial input trees (\(resumed.rolledBackContents) contents) redone\n"
        }
        if abandoned > 0 { text += "wadup: \(abandoned) queued sub-contents abandoned by the interrupt\n" }
        return text
    }
}

extension EngineKind: ExpressibleByArgument {}

extension Shard: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// `--module-data NAME=DIR`, given once per module.
enum ModuleDataOption {
    /// The folders by module name; a value without `=`, an empty side or a module named twice is a usage error.
    static func parse(_ values: [String]) throws(ValidationError) -> [String: String] {
        var folders: [String: String] = [:]
        for value in values {
            guard let equals = value.firstIndex(of: "="), equals != value.startIndex, value.index(after: equals) != value.endIndex else {
                throw ValidationError("--module-data \(value): give NAME=DIR (the module's name, without .wasm, and its data folder)")
            }
            let name = String(value[..<equals])
            guard folders[name] == nil else { throw ValidationError("--module-data \(name) is given twice: give one folder per module") }
            folders[name] = String(value[value.index(after: equals)...])
        }
        return folders
    }
}

/// `--input`, `--output`, `--modules` and what decides what is done with them.
struct FileOptions: ParsableArguments {
    @Option(help: "Folder (searched recursively) or single file to process.")
    var input: String

    @Option(help: "SQLite database to create (or, with --resume, the run to continue), or postgres://USER@HOST:PORT/DB to write to PostgreSQL and share the run with every process given the same command.")
    var output: String

    @Option(help: "Folder of .wasm modules, run in file-name order (default: the standard modules).")
    var modules: String?

    @Option(
        name: .customLong("module-data"),
        help: ArgumentHelp("A module's read-only data folder, seen by the module at /data (repeatable; default: NAME.d beside NAME.wasm).", valueName: "NAME=DIR"))
    var moduleData: [String] = []

    @Flag(help: "Replace the output if it is a WADUP database (never a folder or another file).")
    var overwrite = false

    @Flag(help: "Continue the run recorded in --output (interrupted, killed or failed): complete inputs are kept, partial ones redone.")
    var resume = false

    @Flag(name: .customLong("no-dedup"), help: "Process every occurrence of the same content (default: once, repeats linked by duplicate_of).")
    var noDedup = false

    @Flag(name: .customLong("follow-symlinks"), help: "Follow symbolic links under --input (loops are recorded, not followed).")
    var followSymlinks = false

    @Flag(
        name: .customLong("no-dispatch"),
        help: "Run every module on every content, whatever its manifest accepts (default: a module sees only the contents it accepts).")
    var noDispatch = false

    @Option(
        name: .customLong("lease-timeout"),
        help: ArgumentHelp("PostgreSQL output: how long an input claimed by a process that stopped answering stays its own before another process redoes it.", valueName: "duration"))
    var leaseTimeout = TimeSpan(seconds: 60)

    @Option(
        name: .customLong("reconnect-timeout"),
        help: ArgumentHelp("PostgreSQL output: how long a process that lost the server keeps reconnecting (with back-off) before it exits non-zero; run the same command again then.", valueName: "duration"))
    var reconnectTimeout = TimeSpan(seconds: 60)

    @Option(
        name: .customLong("temp-dir"),
        help: ArgumentHelp("Folder for streamed sub-contents too large for memory (unlinked files; default $TMPDIR, else /tmp).", valueName: "folder"))
    var tempDir: String?

    @Option(help: ArgumentHelp("Process only part K of N of the inputs (0 <= K < N; by a hash of each path), for job arrays; combine with wadup merge.", valueName: "K/N"))
    var shard: Shard?
}

/// What one module-run, and one input, may take.
struct LimitOptions: ParsableArguments {
    @Option(help: "Fuel (CPU budget) per module per content; unlimited when absent.")
    var fuel: UInt64?

    @Option(name: .customLong("max-memory"), help: ArgumentHelp("Largest linear memory of one module instance (default: 4GiB, all of wasm32).", valueName: "size"))
    var maxMemory: ByteSize?

    @Option(name: .customLong("max-stack"), help: ArgumentHelp("Wasm stack of one module instance (default 512KiB).", valueName: "size"))
    var maxStack: ByteSize?

    @Option(help: ArgumentHelp("Wall-clock time one module-run may take, plus 1s per 8 MiB of its content; 0 for none (wasmtime only; default 60s).", valueName: "duration"))
    var timeout: TimeSpan?

    @Option(name: .customLong("max-recursion-depth"), help: "Deepest sub-content processed; deeper ones are recorded as skipped.")
    var maxRecursionDepth: Int = RunLimits.defaultMaxRecursionDepth

    @Option(name: .customLong("max-subcontent"), help: "Sub-contents one module-run may emit.")
    var maxSubcontent: Int = RunLimits.defaultMaxSubcontent

    @Option(name: .customLong("max-subcontent-bytes"), help: ArgumentHelp("Bytes one module-run may copy out as sub-content.", valueName: "size"))
    var maxSubcontentBytes = ByteSize(bytes: RunLimits.defaultMaxSubcontentBytes)

    @Option(name: .customLong("max-rows"), help: "Rows one module-run may insert (held in memory until the run succeeds).")
    var maxRows: Int = RunLimits.defaultMaxRows

    @Option(name: .customLong("max-input-bytes"), help: ArgumentHelp("Bytes of sub-content under one input, all depths.", valueName: "size"))
    var maxInputBytes = ByteSize(bytes: RunLimits.defaultMaxInputBytes)

    @Option(name: .customLong("max-input-contents"), help: "Sub-contents under one input, all depths.")
    var maxInputContents: Int = RunLimits.defaultMaxInputContents
}

/// Which engine runs the modules, on how many threads, with which compile cache.
struct EngineOptions: ParsableArguments {
    @Option(help: "WebAssembly engine: wasmtime (default; falls back to wasmkit if its library is missing) or wasmkit.")
    var engine: EngineKind?

    @Option(help: "Worker threads (default: the number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("cache-dir"), help: "Folder of compiled modules (wasmtime; default $XDG_CACHE_HOME/wadup or ~/.cache/wadup).")
    var cacheDir: String?

    @Flag(name: .customLong("no-cache"), help: "Compile every module at start instead of using the compile cache.")
    var noCache = false

    /// `$XDG_CACHE_HOME/wadup`, else `~/.cache/wadup`: where compiled modules are kept by default.
    static var defaultCacheDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/wadup" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/wadup"
    }
}

/// A size on the command line: bytes, or a number with a unit (`256MiB`, `2GB`).
struct ByteSize: ExpressibleByArgument, Sendable {
    let bytes: Int

    init(bytes: Int) {
        self.bytes = bytes
    }

    init?(argument: String) {
        guard let bytes = Units.bytes(argument) else { return nil }
        self.bytes = bytes
    }

    var defaultValueDescription: String { Self.describe(bytes) }

    /// `1073741824` as `1GiB`: the largest IEC unit that divides it.
    static func describe(_ bytes: Int) -> String {
        for (unit, size) in [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return String(bytes)
    }
}

/// A duration on the command line: seconds, or numbers with units (`30s`, `5m`, `1h30m`, `500ms`).
struct TimeSpan: ExpressibleByArgument, Sendable {
    let seconds: Double

    init(seconds: Double) {
        self.seconds = seconds
    }

    var defaultValueDescription: String { seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s" }

    init?(argument: String) {
        guard let seconds = Units.seconds(argument), seconds.isFinite, seconds >= 0 else { return nil }
        self.seconds = seconds
    }
}
