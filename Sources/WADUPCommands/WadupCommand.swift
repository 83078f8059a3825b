import ArgumentParser
import Foundation
import WADUPPipeline
import WADUPCore
import WADUPRuntime

/// `wadup`: the one binary. Running modules is the default command, so `wadup --input … --output …`
/// works as it always did; the other subcommands read a run's database.
package struct WadupCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "wadup",
        abstract: "Run sandboxed WebAssembly modules over a folder of files into one SQLite database, and look at the results.",
        discussion: """
            `wadup --input DIR --output DB` runs (the `run` subcommand is the default). The other subcommands \
            read a run's database read-only, also while the run is in progress.

            Exit codes: 0 done; 1 the run or the output failed (I/O, database); 2 usage error, invalid module, \
            the output exists, or a database that is missing, not WADUP's or newer than this wadup; 130 interrupted.
            """,
        version: Pipeline.version,
        subcommands: [
            RunCommand.self, ReportCommand.self, TreeCommand.self, ShowCommand.self, StatsCommand.self, ExportCommand.self, TimelineCommand.self,
            MergeCommand.self, StatusCommand.self, NewCommand.self, CheckCommand.self, TryCommand.self, ManifestCommand.self,
        ],
        defaultSubcommand: RunCommand.self)

    package init() {}

    /// `wadup --version`: WADUP's version, the guest ABI's, and each engine with its version and where it comes from.
    package static var versionText: String {
        let wasmtime = switch WasmtimeLibrary.shared {
        case .success(let library): "wasmtime \(library.version) (\(library.path))"
        case .failure: "wasmtime not found (set \(WasmtimeLibrary.environmentVariable), or run scripts/install-wasmtime.sh)"
        }
        let runtime = StandardModules.python
        let python = runtime.version.map { "\($0) (\(runtime.directory))" }
            ?? "no runtime in \(runtime.directory) (set WADUP_PYTHON, or build it: scripts/build-formats.sh)"
        return """
            wadup \(Pipeline.version)
            guest ABI \(ABI.version): \(ABI.hostFunctions.count) host functions in "\(ABI.importModule)", WASI preview 1 (\(ABI.wasiModule))
            engines: \(wasmtime); wasmkit \(WasmKitEngine.version) (built in)
            python modules: \(python)

            """
    }

    /// Parses `arguments` and runs, returning the process exit code (usage errors are 2, not 64).
    package static func execute(_ arguments: [String]) -> Int32 {
        if arguments == ["--version"] {
            print(versionText, terminator: "")
            return 0
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return 0
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            return 2
        }
    }
}
