import ArgumentParser
import Foundation
import Logging
import WADUPInspect
import WADUPPostgres
import WADUPStore

/// `wadup export DB --format jsonl|csv [--table NAME] [--output FILE]`
package struct ExportCommand: InspectCommand {
    package static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the run: JSON Lines (one object per content with its rows) or one table as CSV.")

    @Argument(help: "The run's database.")
    var database: String

    @Option(help: "jsonl (one object per content) or csv (one table).")
    var format: Exporter.Format

    @Option(help: "The table for csv: a module table or __wadup_content (the default).")
    var table: String?

    @Option(name: .shortAndLong, help: "The file to write (default: standard output).")
    var output: String?

    package init() {}

    package func validate() throws {
        if table != nil && format == .jsonl { throw ValidationError("--table applies to --format csv (jsonl holds every table)") }
    }

    func inspect(_ db: RunDatabase) throws(InspectError) {
        let sink = try output.map { path throws(InspectError) in try OutputSink(path: path) } ?? OutputSink()
        switch format {
        case .jsonl: try Exporter(database: db).jsonLines(to: sink)
        case .csv: try Exporter(database: db).csv(table: table, to: sink)
        }
        try sink.close()
    }
}

extension Exporter.Format: ExpressibleByArgument {}
