import ArgumentParser
import Foundation
import Logging
import Synchronization
import WADUPPipeline
import WADUPCore
import WADUPInspect
import WADUPRuntime

/// `wadup check MODULE.wasm`: the module against the ABI, without running it.
public struct CheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a module against WADUP's ABI without running it: imports, exports, memory, WASI use, size.",
        discussion: "Exit codes: 0 the module can run; 2 it cannot (each problem is listed with its remedy), or the file is not a module.")

    @Argument(help: "The .wasm module.")
    var module: String

    @Option(help: "Also instantiate it on this engine, as a run would (default: wasmtime, else wasmkit).")
    var engine: EngineKind?

    public init() {}

    public func run() throws {
        let bytes = try ModuleFile.read(module)
        let check: ModuleCheck
        do {
            check = try ModuleCheck(bytes: bytes, path: module)
        } catch {
            throw ModuleFile.fail("\(module): \(error.reason)")
        }
        var text = "\(module): \(check.size) bytes\n"
        text += "imports:\n" + (check.imports.isEmpty ? "  (none)\n" : check.imports.map { "  \($0.ok ? "ok " : "BAD") \($0.module).\($0.name) \($0.kind)\n" }.joined())
        text += "exports:\n" + (check.exports.isEmpty ? "  (none)\n" : check.exports.map { "  \($0.name) \($0.kind)\n" }.joined())
        if let memory = check.memory {
            text += "memory: \(memory.initial) pages (\(ByteSize.describe(Int(memory.initial) * 65536))) initial, "
            text += memory.maximum.map { "at most \($0) pages (\(ByteSize.describe(Int($0) * 65536)))" } ?? "no maximum (WADUP's --max-memory applies)"
            text += "\n"
        }
        text += "WASI: " + (check.wasi.isEmpty ? "not used" : check.wasi.joined(separator: ", ") + " (served with no files and no network; stdout and stderr go to the log)") + "\n"
        var problems = check.problems
        if problems.isEmpty {
            // The same loading as a run: compile, instantiate a probe, check `process`'s type and the WASI names.
            do {
                let engine = try EngineSelection.make(
                    kind: engine, limits: RunLimits(), timeoutIsDefault: true, cacheDirectory: nil, logger: QuietLogger.logger)
                _ = try engine.load(name: URL(fileURLWithPath: module).deletingPathExtension().lastPathComponent, bytes: bytes, path: module)
                text += "loads on \(engine)\n"
            } catch let error as ModuleLoadError {
                problems.append(.init(message: error.reason, remedy: "see docs/modules/ABI.md and Guests/README.md"))
            } catch {
                problems.append(.init(message: "\(error)", remedy: "see docs/modules/ABI.md"))
            }
        }
        if problems.isEmpty {
            text += "ok: \(module) can run under wadup\n"
            print(text, terminator: "")
            return
        }
        text += "\(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
        for p in problems { text += "  - \(p.message)\n    remedy: \(p.remedy)\n" }
        print(text, terminator: "")
        throw ExitCode(2)
    }
}

/// `wadup try MODULE.wasm FILE…`: one module on files, no database: the module author's inner loop.
public struct TryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "try",
        abstract: "Run one module on files without a database: its tables, rows, sub-contents, log and stdout, fuel, time.",
        discussion: "Exit codes: 0 every run succeeded; 1 a module-run failed (its kind is printed); 2 the module or a file cannot be used.")

    @Argument(help: "The .wasm module.")
    var module: String

    @Argument(help: "Files to run it on.")
    var files: [String]

    @Flag(help: "Feed the sub-contents back through the same module, depth-first.")
    var recursive = false

    @Option(help: "Fuel (CPU budget) per run; reported as used (default 10000000000).")
    var fuel: UInt64 = 10_000_000_000

    @Option(name: .customLong("max-memory"), help: "Largest linear memory of the instance (default 4GiB).")
    var maxMemory: ByteSize?

    @Option(help: "Wall-clock time per run (wasmtime only; default 60s).")
    var timeout: TimeSpan?

    @Option(name: .customLong("max-depth"), help: "With --recursive: the deepest sub-content run (default 10).")
    var maxDepth = 10

    @Option(help: "wasmtime (default; falls back to wasmkit) or wasmkit.")
    var engine: EngineKind?

    public init() {}

    public func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file to run the module on") }
        guard fuel >= 1 else { throw ValidationError("--fuel must be at least 1") }
        guard (maxMemory?.bytes ?? 65536) >= 65536 else { throw ValidationError("--max-memory must be at least 64KiB") }
        guard maxDepth >= 0 else { throw ValidationError("--max-depth must not be negative") }
    }

    public func run() throws {
        let bytes = try ModuleFile.read(module)
        let lines = LogLines()
        var logger = Logger(label: "wadup-try") { _ in CollectingLogHandler(lines: lines) }
        logger.logLevel = .debug
        let limits = RunLimits(fuel: fuel, maxMemory: maxMemory?.bytes, timeout: (timeout?.seconds ?? RunLimits.defaultTimeout) > 0 ? (timeout?.seconds ?? RunLimits.defaultTimeout) : nil)
        let wasmEngine: any WasmEngine
        let loaded: any LoadedModule
        let name = URL(fileURLWithPath: module).deletingPathExtension().lastPathComponent
        do {
            wasmEngine = try EngineSelection.make(kind: engine, limits: limits, timeoutIsDefault: timeout == nil, cacheDirectory: nil, logger: logger)
            loaded = try wasmEngine.load(name: name, bytes: bytes, path: module)
        } catch let error as ModuleLoadError {
            throw ModuleFile.fail("\(error) (wadup check \(module) lists every problem)")
        } catch {
            throw ModuleFile.fail("\(error)")
        }
        _ = lines.take()
        let registry = TableRegistry()
        // The same module-run code as a run's workers: instance kept, rebuilt after a failure.
        let runner = ModuleRunner(name: name, module: loaded, registry: registry, logger: logger)
        var failures = 0
        var pending: [(name: String, data: ContentBuffer, depth: Int)] = []
        for file in files.reversed() {
            do {
                pending.append((file, try ContentBuffer.open(path: file), 0))
            } catch {
                throw ModuleFile.fail("\(file): \(error)")
            }
        }
        var shownTables = 0
        print("module \(name) (\(module), \(bytes.count) bytes) on \(wasmEngine)")
        while let (file, data, depth) = pending.popLast() {
            do {
                try runner.prepare()
            } catch {
                throw ModuleFile.fail("\(error)")
            }
            let context = RunContext(content: data, uuid: UUID(), filename: file, limits: limits)
            var outcome = runner.run(context)
            if case .inputFault(let fault) = outcome { outcome = .failure(ModuleFailure(module: name, kind: fault.kind ?? .readError, detail: fault.description)) }
            let ms = Double(runner.lastNanoseconds) / 1e6
            let indent = String(repeating: "  ", count: depth)
            var text = "\n\(indent)== \(file) (\(data.count) bytes, sha256 \((try? data.sha256Digest().hex.prefix(16) + "…") ?? "unreadable"))\n"
            let log = lines.take()
            switch outcome {
            case .success: text += "\(indent)success in \(String(format: "%.3f", ms)) ms"
            case .failure(let failure):
                failures += 1
                text += "\(indent)FAILED \(failure.kind.rawValue): \(failure.detail) (after \(String(format: "%.3f", ms)) ms)"
            case .interrupted, .inputFault: text += "\(indent)interrupted"
            }
            text += runner.lastFuelUsed.map { ", fuel used \($0)" } ?? ""
            text += "\n"
            let tables = registry.all
            if tables.count > shownTables {
                text += "\(indent)tables defined:\n" + tables[shownTables...].map { "\(indent)  \($0.schema.signature)\n" }.joined()
                shownTables = tables.count
            }
            if case .success = outcome {
                var byTable: [Int32: [[CellValue]]] = [:]
                for row in context.rows { byTable[row.tableID, default: []].append(row.values) }
                for (id, rows) in byTable.sorted(by: { $0.key < $1.key }) {
                    guard let schema = registry.schema(for: id) else { continue }
                    text += "\(indent)\(schema.name): \(rows.count) row\(rows.count == 1 ? "" : "s")\n"
                    text += TextTable(schema.columns.map(\.name), rows: rows.map { $0.map(Self.cell) }).render(indent: indent + "  ")
                }
                if !context.children.isEmpty {
                    text += "\(indent)sub-contents: \(context.children.count)\n"
                    text += TextTable(["name", "size", "sha256"], rows: context.children.map { [$0.name, String($0.data.count), (try? $0.digest.result.get().hex) ?? "unreadable"] }).render(indent: indent + "  ")
                }
                if recursive && depth < maxDepth {
                    for child in context.children.reversed() { pending.append((file + "/" + child.name, child.data, depth + 1)) }
                }
            }
            if !log.isEmpty { text += "\(indent)log and output:\n" + log.map { "\(indent)  \($0)\n" }.joined() }
            print(text, terminator: "")
        }
        if failures > 0 { throw ExitCode(1) }
    }

    static func cell(_ value: CellValue) -> String {
        switch value {
        case .null: "NULL"
        case .int64(let i): String(i)
        case .float64(let d): "\(d)"
        case .string(let s): s.count > 120 ? String(s.prefix(119)) + "…" : s
        }
    }
}

/// Reading a module file for `check` and `try`, with one-line errors and exit 2.
enum ModuleFile {
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("\(path): cannot read the file") }
        guard data.count >= 8, data.prefix(4) == Data([0, 0x61, 0x73, 0x6D]) else {
            throw fail("\(path) is not a WebAssembly module (no \\0asm header)")
        }
        return [UInt8](data)
    }

    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("wadup: error: \(message)\n".utf8))
        return ExitCode(2)
    }
}

/// A logger that drops everything (`wadup check`'s probe load).
enum QuietLogger {
    static var logger: Logger {
        var logger = Logger(label: "wadup-check") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        return logger
    }
}

/// Log lines collected for `wadup try` (module log lines, stdout and stderr, trap frames).
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// The lines so far, emptied.
    func take() -> [String] { lines.withLock { l in defer { l.removeAll() }; return l } }
}

struct CollectingLogHandler: LogHandler {
    let lines: LogLines
    var logLevel: Logger.Level = .debug
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lines.append("[\(level)] \(message)")
    }
}
