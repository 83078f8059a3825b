import ArgumentParser
import Foundation
import Logging
import Synchronization
import WADUPPipeline
import WADUPCore
import WADUPInspect
import WADUPRuntime

/// `wadup try MODULE.wasm FILE…`: one module on files, no database: the module author's inner loop.
package struct TryCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
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

    @Option(help: "Wall-clock time per run, plus 1s per 8 MiB of the content (wasmtime only; default 60s).")
    var timeout: TimeSpan?

    @Option(name: .customLong("max-depth"), help: "With --recursive: the deepest sub-content run (default 10).")
    var maxDepth = 10

    @Option(help: "wasmtime (default; falls back to wasmkit) or wasmkit.")
    var engine: EngineKind?

    @Option(help: ArgumentHelp("The content type to dispatch on, as an identifying module would report it (default: none, which every MIME pattern accepts).", valueName: "mime"))
    var mime: String?

    @Flag(name: .customLong("no-dispatch"), help: "Run the module on every file, whatever its manifest accepts.")
    var noDispatch = false
    @Option(
        name: .customLong("module-data"),
        help: ArgumentHelp("The module's read-only data folder, seen at /data (default: NAME.d beside NAME.wasm).", valueName: "DIR"))
    var moduleData: String?

    package init() {}

    package func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file to run the module on") }
        guard fuel >= 1 else { throw ValidationError("--fuel must be at least 1") }
        guard (maxMemory?.bytes ?? 65536) >= 65536 else { throw ValidationError("--max-memory must be at least 64KiB") }
        guard maxDepth >= 0 else { throw ValidationError("--max-depth must not be negative") }
        if let mime, !ContentType.isValidMIME(mime) { throw ValidationError("--mime \(mime) is not a MIME type (type/subtype)") }
    }

    package func run() throws {
        let isPython = module.hasSuffix("." + PythonRuntime.scriptExtension)
        let bytes = isPython ? try ModuleFile.readScript(module) : try ModuleFile.read(module)
        let lines = LogLines()
        var logger = Logger(label: "wadup-try") { _ in CollectingLogHandler(lines: lines) }
        logger.logLevel = .debug
        let limits = RunLimits(fuel: fuel, maxMemory: maxMemory?.bytes, timeout: (timeout?.seconds ?? RunLimits.defaultTimeout) > 0 ? (timeout?.seconds ?? RunLimits.defaultTimeout) : nil)
        let wasmEngine: any WasmEngine
        let entry: ModuleSet.Entry
        let name = URL(fileURLWithPath: module).deletingPathExtension().lastPathComponent
        let data: ModuleData?
        do {
            data = try ModuleSet.data(forModule: module, given: moduleData)
        } catch {
            throw ModuleFile.fail(error.text.rendered(RunCommand.flag))
        }
        do {
            // The Python interpreter is the same 8 MB on every try: compiled once, kept in the run's
            // compile cache. A `.wasm` module under development is compiled each time, not cached.
            wasmEngine = try EngineSelection.make(
                kind: engine, limits: limits, timeoutIsDefault: timeout == nil, cacheDirectory: isPython ? EngineOptions.defaultCacheDirectory : nil,
                logger: logger)
        } catch {
            throw ModuleFile.fail("\(error)")
        }
        var interpreter: PythonRuntime.Interpreter?
        do {
            switch try ModuleSet.loadModule(path: module, name: name, engine: wasmEngine, data: data, python: StandardModules.python, interpreter: &interpreter) {
            case .ready(let loaded):
                entry = loaded
            case .declined(let message):
                _ = lines.take()
                print(ModuleSet.declinedLine(module: name, message: message))
                return
            }
        } catch {
            let message = error.text.rendered(RunCommand.flag)
            throw ModuleFile.fail(message.hasPrefix("invalid module") ? "\(message) (wadup check \(module) lists every problem)" : message)
        }
        _ = lines.take()
        let (loaded, manifest) = (entry.module, entry.manifest)
        let registry = TableRegistry()
        // The same module-run code as a run's workers: instance kept, rebuilt after a failure.
        let runner = ModuleRunner(name: name, module: loaded, manifest: manifest, registry: registry, logger: logger)
        let type = mime.map { ContentType(mime: $0, description: "") }
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
        print("manifest: \(ManifestText.summary(manifest, declared: ManifestReader.hasManifest(bytes: bytes) || loaded.exportedManifest != nil))")
        if let data { print("data \(data.directory) at \(ModuleDataMount.guestPath): \(data.files) files, \(data.bytes) bytes, sha256 \(data.sha256)") }
        while let (file, data, depth) = pending.popLast() {
            do {
                try runner.prepare()
            } catch {
                throw ModuleFile.fail("\(error)")
            }
            let indent = String(repeating: "  ", count: depth)
            let probe = ModuleManifest.Candidate(size: Int64(data.count), filename: file, mime: type?.mime, bytes: ContentProbe(data))
            guard runner.offer(probe, dispatch: !noDispatch) else {
                print("\n\(indent)== \(file) (\(data.count) bytes): not accepted by the manifest; a run would not offer it (--no-dispatch runs it anyway)")
                continue
            }
            let context = RunContext(
                content: data, uuid: UUID(), filename: file, limits: limits, contentType: type, mayIdentify: manifest.role == .identify)
            var outcome = runner.run(context)
            if case .inputFault(let fault) = outcome { outcome = .failure(ModuleFailure(module: name, kind: fault.kind ?? .readError, detail: fault.description)) }
            let ms = Double(runner.lastNanoseconds) / 1e6
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
            if case .success = outcome, let reported = context.reportedType {
                text += "\(indent)type: \(reported.mime) (\(reported.description))\n"
            }
            let tables = registry.all
            if tables.count > shownTables {
                text += "\(indent)tables defined:\n" + tables[shownTables...].map { "\(indent)  \($0.schema.signature)\n" }.joined()
                shownTables = tables.count
            }
            // Encoded sub-contents are decoded now, as a run's workers would: what users see is
            // the decoded bytes, and the rows their decoding runs insert are this content's.
            var rows = context.rows
            var children: [EmittedContent] = []
            if case .success = outcome {
                for child in context.children {
                    guard let encoding = child.encoding else {
                        children.append(child)
                        continue
                    }
                    switch runner.decode(child.data, uuid: UUID(), filename: child.name, encoding: encoding, limits: limits) {
                    case .decoded(let decoded, let decodedRows):
                        rows += decodedRows
                        children.append(EmittedContent(name: child.name, data: decoded.data))
                    case .nothing(let decodedRows): rows += decodedRows
                    case .failed(let failure):
                        failures += 1
                        text += "\(indent)FAILED decoding \(child.name): \(failure.kind.rawValue): \(failure.detail)\n"
                    case .inputFault(let fault, _): text += "\(indent)FAILED decoding \(child.name): \(fault.description)\n"
                    case .interrupted: text += "\(indent)interrupted\n"
                    }
                }
            }
            if case .success = outcome {
                var byTable: [Int32: [[CellValue]]] = [:]
                for row in rows { byTable[row.tableID, default: []].append(row.values) }
                for (id, rows) in byTable.sorted(by: { $0.key < $1.key }) {
                    guard let schema = registry.schema(for: id) else { continue }
                    text += "\(indent)\(schema.name): \(rows.count) row\(rows.count == 1 ? "" : "s")\n"
                    text += TextTable(schema.columns.map(\.name), rows: rows.map { $0.map(Self.cell) }).render(indent: indent + "  ")
                }
                if !children.isEmpty {
                    text += "\(indent)sub-contents: \(children.count)\n"
                    text += TextTable(["name", "size", "sha256"], rows: children.map { [$0.name, String($0.data.count), (try? $0.digest.result.get().hex) ?? "unreadable"] }).render(indent: indent + "  ")
                }
                if recursive && depth < maxDepth {
                    for child in children.reversed() { pending.append((file + "/" + child.name, child.data, depth + 1)) }
                }
            }
            if !log.isEmpty { text += "\(indent)log and output:\n" + log.map { "\(indent)  \($0)\n" }.joined() }
            print(text, terminator: "")
        }
        print("\noffered \(runner.counters.offered), accepted \(runner.counters.accepted)")
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
