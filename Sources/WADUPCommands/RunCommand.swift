import ArgumentParser
import Dispatch
import Foundation
import Logging
import WADUP
import WADUPCore
import WADUPRuntime

/// `wadup run` (the default command): runs every file under `--input` through every module under
/// `--modules` into one SQLite database.
public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run sandboxed WebAssembly modules over a folder of files into one SQLite database (the default command).",
        discussion: """
            Engines: wasmtime (default) and wasmkit (pure Swift, the fallback when wasmtime's library is \
            missing; no --timeout).

            Exit codes: 0 the run completed (module failures are recorded, not fatal); 1 the run itself failed \
            (I/O, database); 2 usage error, invalid module, or the output exists; 130 interrupted (Ctrl-C).
            """)

    @Option(help: "Folder of .wasm modules, run in file-name order (default: the standard modules).")
    var modules: String?

    @Option(help: "Folder (searched recursively) or single file to process.")
    var input: String

    @Option(help: "SQLite database to create (or, with --resume, the run to continue).")
    var output: String

    @Option(help: "Worker threads (default: the number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Fuel (CPU budget) per module per content; unlimited when absent.")
    var fuel: UInt64?

    @Option(name: .customLong("max-memory"), help: "Largest linear memory of one module instance, in bytes.")
    var maxMemory: Int?

    @Option(name: .customLong("max-stack"), help: "Interpreter stack of one module instance, in bytes (default 524288).")
    var maxStack: Int?

    @Option(name: .customLong("max-recursion-depth"), help: "Deepest sub-content processed; deeper ones are recorded as skipped.")
    var maxRecursionDepth: Int = RunLimits.defaultMaxRecursionDepth

    @Option(name: .customLong("max-subcontent"), help: "Sub-contents one module-run may emit.")
    var maxSubcontent: Int = RunLimits.defaultMaxSubcontent

    @Option(name: .customLong("max-subcontent-bytes"), help: "Bytes one module-run may copy out as sub-content.")
    var maxSubcontentBytes: Int = RunLimits.defaultMaxSubcontentBytes

    @Option(name: .customLong("max-rows"), help: "Rows one module-run may insert (held in memory until the run succeeds).")
    var maxRows: Int = RunLimits.defaultMaxRows

    @Option(help: "Wall-clock seconds one module-run may take, 0 for none (wasmtime only; default 60).")
    var timeout: Double?

    @Option(help: "WebAssembly engine: wasmtime (default; falls back to wasmkit if its library is missing) or wasmkit.")
    var engine: EngineKind?

    @Option(name: .customLong("cache-dir"), help: "Folder of compiled modules (wasmtime; default $XDG_CACHE_HOME/wadup or ~/.cache/wadup).")
    var cacheDir: String?

    @Flag(name: .customLong("no-cache"), help: "Compile every module at start instead of using the compile cache.")
    var noCache = false

    @Option(name: .customLong("max-input-bytes"), help: "Bytes of sub-content under one input, all depths (16 GiB).")
    var maxInputBytes: Int = RunLimits.defaultMaxInputBytes

    @Option(name: .customLong("max-input-contents"), help: "Sub-contents under one input, all depths.")
    var maxInputContents: Int = RunLimits.defaultMaxInputContents

    @Flag(help: "Replace the output if it is a WADUP database (never a folder or another file).")
    var overwrite = false

    @Flag(help: "Continue the run recorded in --output (interrupted, killed or failed): complete inputs are kept, partial ones redone.")
    var resume = false

    @Flag(name: .customLong("no-dedup"), help: "Process every occurrence of the same content (default: once, repeats linked by duplicate_of).")
    var noDedup = false

    @Flag(name: .customLong("follow-symlinks"), help: "Follow symbolic links under --input (loops are recorded, not followed).")
    var followSymlinks = false

    @Flag(name: .shortAndLong, help: "Log at debug level (module output, each failure).")
    var verbose = false

    public init() {}

    public func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard (fuel ?? 1) >= 1 else { throw ValidationError("--fuel must be at least 1") }
        guard (maxMemory ?? 65536) >= 65536 else { throw ValidationError("--max-memory must be at least 65536 (one wasm page)") }
        guard (maxStack ?? 4096) >= 4096, (maxStack ?? 0) <= 1 << 30 else { throw ValidationError("--max-stack must be between 4096 and 1073741824 (1 GiB)") }
        guard maxRecursionDepth >= 0 else { throw ValidationError("--max-recursion-depth must not be negative") }
        guard maxSubcontent >= 0, maxSubcontentBytes >= 0, maxRows >= 0, maxInputBytes >= 0, maxInputContents >= 0 else {
            throw ValidationError("--max-subcontent, --max-subcontent-bytes, --max-rows, --max-input-bytes and --max-input-contents must not be negative")
        }
        guard !(resume && overwrite) else { throw ValidationError("--resume continues the run in --output and --overwrite replaces it: give one of them") }
        let t = timeout ?? 0
        guard t >= 0, t.isFinite, t <= 31_536_000 else { throw ValidationError("--timeout must be between 0 (none) and 31536000 seconds") }
    }

    /// The compile cache folder, or `nil` with `--no-cache`.
    var cacheDirectory: String? {
        if noCache { return nil }
        if let cacheDir { return cacheDir }
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/wadup" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/wadup"
    }

    var runConfiguration: RunConfiguration {
        RunConfiguration(
            modulesDirectory: modules ?? StandardModules.directory, input: input, output: output, threads: threads,
            limits: RunLimits(
                fuel: fuel, maxMemory: maxMemory, maxStack: maxStack, maxRecursionDepth: maxRecursionDepth,
                maxSubcontent: maxSubcontent, maxSubcontentBytes: maxSubcontentBytes,
                timeout: (timeout ?? RunLimits.defaultTimeout) > 0 ? (timeout ?? RunLimits.defaultTimeout) : nil,
                maxRows: maxRows, maxInputBytes: maxInputBytes, maxInputContents: maxInputContents),
            overwrite: overwrite, dedup: !noDedup, followSymlinks: followSymlinks, resume: resume)
    }

    public func run() throws {
        var logger = Logger(label: "wadup") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .info
        let configuration = runConfiguration
        let engine: any WasmEngine
        do {
            engine = try EngineSelection.make(
                kind: self.engine, limits: configuration.limits, timeoutIsDefault: timeout == nil || timeout == RunLimits.defaultTimeout || timeout == 0,
                cacheDirectory: cacheDirectory, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("wadup: error: \(error.text.rendered(Self.flag))\n".utf8))
            throw ExitCode(error.code.exitCode)
        }
        let pipeline = Pipeline(configuration: configuration, engine: engine, logger: logger)
        let interrupts = InterruptHandler {
            let what = engine.canInterrupt ? "stopping module-runs in progress" : "finishing contents in progress"
            FileHandle.standardError.write(Data("\nwadup: interrupted; \(what) (Ctrl-C again to quit at once)\n".utf8))
            pipeline.cancel()
        }
        let progress = isatty(STDERR_FILENO) != 0 ? ProgressLine(statistics: pipeline.statistics, input: input, followSymlinks: followSymlinks) : nil
        let summary: RunSummary
        do {
            summary = try pipeline.run()
        } catch {
            progress?.stop()
            interrupts.cancel()
            FileHandle.standardError.write(Data("wadup: error: \(error.text.rendered(Self.flag))\n".utf8))
            throw ExitCode(error.code.exitCode)
        }
        progress?.stop()
        interrupts.cancel()
        FileHandle.standardError.write(Data(summary.report.utf8))
        if summary.outcome == .interrupted { throw ExitCode(130) }
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
        }
    }
}

extension RunSummary {
    /// The final summary printed on stderr.
    public var report: String {
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
