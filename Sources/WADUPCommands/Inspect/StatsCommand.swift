import ArgumentParser
import Foundation
import Logging
import WADUPInspect
import WADUPPostgres
import WADUPStore

/// `wadup stats DB`
package struct StatsCommand: InspectCommand {
    package static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print the run's summary: counts, failures by kind, time per module.")

    @Argument(help: "The run's database.")
    var database: String

    package init() {}

    func inspect(_ db: RunDatabase) throws(InspectError) {
        try StatsView(database: db, palette: .standardOutput).render(to: OutputSink())
    }
}
