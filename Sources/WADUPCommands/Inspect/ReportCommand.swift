import ArgumentParser
import Foundation
import Logging
import WADUPInspect
import WADUPPostgres
import WADUPStore

/// `wadup report DB [--output FILE.html]`
package struct ReportCommand: InspectCommand {
    package static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML report of a run: summary, modules, failures and the content tree.")

    @Argument(help: "The run's database.")
    var database: String

    @Option(name: .shortAndLong, help: "The HTML file to write (default: the database's name with .html).")
    var output: String?

    package init() {}

    func inspect(_ db: RunDatabase) throws(InspectError) {
        let path = output ?? (database.hasSuffix(".db") ? String(database.dropLast(3)) : database) + ".html"
        guard path != database else { throw InspectError(.output, "\(path): the report would replace the database; give --output") }
        let start = Date()
        let sink = try OutputSink(path: path)
        let count = try HTMLReport(database: db).write(to: sink)
        try sink.close()
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        FileHandle.standardError.write(Data(String(format: "wadup: report of %d contents written to %@ (%.1f MB) in %.2f s\n",
                                                   count, path, Double(size) / 1e6, Date().timeIntervalSince(start)).utf8))
    }
}
