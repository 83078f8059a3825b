import ArgumentParser
import Foundation
import WADUP

/// `wadup`: the one binary. Running modules is the default command, so `wadup --input … --output …`
/// works as it always did; the other subcommands read a run's database.
public struct WadupCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "wadup",
        abstract: "Run sandboxed WebAssembly modules over a folder of files into one SQLite database, and look at the results.",
        discussion: """
            `wadup --input DIR --output DB` runs (the `run` subcommand is the default). The other subcommands \
            read a run's database read-only, also while the run is in progress.

            Exit codes: 0 done; 1 the run or the output failed (I/O, database); 2 usage error, invalid module, \
            the output exists, or a database that is missing, not WADUP's or newer than this wadup; 130 interrupted.
            """,
        version: Pipeline.version,
        subcommands: [RunCommand.self, ReportCommand.self, TreeCommand.self, ShowCommand.self, StatsCommand.self, ExportCommand.self],
        defaultSubcommand: RunCommand.self)

    public init() {}

    /// Parses `arguments` and runs, returning the process exit code (usage errors are 2, not 64).
    public static func execute(_ arguments: [String]) -> Int32 {
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
