import ArgumentParser
import Foundation
import Logging
import Synchronization
import WADUPPipeline
import WADUPCore
import WADUPInspect
import WADUPRuntime

/// `wadup check MODULE.wasm`: the module against the ABI, without running it.
package struct CheckCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a module against WADUP's ABI without running it: imports, exports, memory, WASI use, size.",
        discussion: "Exit codes: 0 the module can run; 2 it cannot (each problem is listed with its remedy), or the file is not a module.")

    @Argument(help: "The .wasm module, or a .py Python module.")
    var module: String

    @Option(help: "Also instantiate it on this engine, as a run would (default: wasmtime, else wasmkit).")
    var engine: EngineKind?

    @Option(
        name: .customLong("module-data"),
        help: ArgumentHelp("Check this folder as the module's data (default: NAME.d beside NAME.wasm, when it exists).", valueName: "DIR"))
    var moduleData: String?

    package init() {}

    package func run() throws {
        if module.hasSuffix("." + PythonRuntime.scriptExtension) { return try checkPython() }
        let bytes = try ModuleFile.read(module)
        let check: ModuleCheck
        do {
            check = try ModuleCheck(bytes: bytes, path: module)
        } catch {
            throw ModuleFile.fail("\(module): \(error.reason)")
        }
        var problems = check.problems
        var text = "\(module): \(check.size) bytes\n"
        text += "imports:\n" + (check.imports.isEmpty ? "  (none)\n" : check.imports.map { "  \($0.ok ? "ok " : "BAD") \($0.module).\($0.name) \($0.kind)\n" }.joined())
        text += "exports:\n" + (check.exports.isEmpty ? "  (none)\n" : check.exports.map { "  \($0.name) \($0.kind)\n" }.joined())
        if let memory = check.memory {
            text += "memory: \(memory.initial) pages (\(ByteSize.describe(Int(memory.initial) * 65536))) initial, "
            text += memory.maximum.map { "at most \($0) pages (\(ByteSize.describe(Int($0) * 65536)))" } ?? "no maximum (WADUP's --max-memory applies)"
            text += "\n"
        }
        do {
            text += "manifest: \(ManifestText.summary(try ManifestReader.manifest(bytes: bytes, path: module), declared: ManifestReader.hasManifest(bytes: bytes)))\n"
        } catch {
            text += "manifest: malformed\n"
            problems.append(.init(message: error.reason, remedy: "fix the \(ABI.manifestSection) section's JSON (docs/modules/ABI.md, Manifest)"))
        }
        text += "WASI: " + (check.wasi.isEmpty ? "not used" : check.wasi.joined(separator: ", ") + " (served with no network and no files but the module's data folder, read-only at /data; stdout and stderr go to the log)") + "\n"
        var data: ModuleData?
        do {
            data = try ModuleSet.data(forModule: module, given: moduleData)
            if let data {
                text += "data: \(data.directory), read-only at \(ModuleDataMount.guestPath) (\(data.files) files, \(data.bytes) bytes, sha256 \(data.sha256))\n"
            }
        } catch {
            problems.append(.init(message: error.text.rendered(RunCommand.flag), remedy: "see docs/guide/module-data.md"))
        }
        if problems.isEmpty {
            // The same loading as a run: compile, instantiate a probe, check `process`'s type and the WASI names.
            do {
                let engine = try EngineSelection.make(
                    kind: engine, limits: RunLimits(), timeoutIsDefault: true, cacheDirectory: nil, logger: QuietLogger.logger)
                let name = URL(fileURLWithPath: module).deletingPathExtension().lastPathComponent
                let loaded = try engine.load(name: name, bytes: bytes, path: module, dataDirectory: data?.directory)
                text += "loads on \(engine)\n"
                if case .declined(let message) = loaded.initialization {
                    text += "init declines: \(ModuleSet.declinedLine(module: name, message: message)) (a run leaves it out)\n"
                }
            } catch let error as ModuleLoadError where error.isInitError {
                problems.append(.init(message: "init: \(error.reason)", remedy: "fix the module's configuration (its data folder, docs/guide/module-data.md)"))
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

    /// A `.py` module: the runtime it needs, then the same loading as a run (the interpreter starts,
    /// imports the script, finds `process` and reads `ACCEPTS`).
    private func checkPython() throws {
        let script = try ModuleFile.readScript(module)
        let python = StandardModules.python
        let name = URL(fileURLWithPath: module).deletingPathExtension().lastPathComponent
        var text = "\(module): Python module \(name), \(script.count) bytes\n"
        text += "runtime: \(python.version ?? "version unknown") in \(python.directory); its lib/ read-only at \(PythonRuntime.libraryMount)\n"
        var problem: (message: String, remedy: String)?
        do throws(WADUPError) {
            let data = try ModuleSet.data(forModule: module, given: moduleData)
            if let data {
                text += "data: \(data.directory), read-only at \(ModuleDataMount.guestPath) (\(data.files) files, \(data.bytes) bytes, sha256 \(data.sha256))\n"
            }
            let engine = try EngineSelection.make(
                kind: engine, limits: RunLimits(), timeoutIsDefault: true, cacheDirectory: EngineOptions.defaultCacheDirectory, logger: QuietLogger.logger)
            var interpreter: PythonRuntime.Interpreter?
            switch try ModuleSet.loadModule(path: module, name: name, engine: engine, data: data, python: python, interpreter: &interpreter) {
            case .ready(let entry):
                text += "manifest: \(ManifestText.summary(entry.manifest, declared: entry.module.exportedManifest != nil))\n"
                text += "loads on \(engine)\n"
            case .declined(let message):
                text += "init declines: \(ModuleSet.declinedLine(module: name, message: message)) (a run leaves it out)\n"
            }
        } catch {
            problem = (error.text.rendered(RunCommand.flag), "fix the script or its data folder (docs/modules/python.md)")
        }
        guard let problem else {
            print(text + "ok: \(module) can run under wadup\n", terminator: "")
            return
        }
        print(text + "1 problem:\n  - \(problem.message)\n    remedy: \(problem.remedy)\n", terminator: "")
        throw ExitCode(2)
    }
}
