import ArgumentParser
import Foundation
import Logging
import WADUPInspect
import WADUPPostgres
import WADUPStore

/// `wadup show DB UUID|SHA256|PATH`
package struct ShowCommand: InspectCommand {
    package static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print one content: its record, parent chain, children and every module's rows.")

    @Argument(help: "The run's database.")
    var database: String

    @Argument(help: "The content: its uuid, its sha256 or its path from its input (a/b.zip/c.txt).")
    var content: String

    package init() {}

    func inspect(_ db: RunDatabase) throws(InspectError) {
        try ShowView(database: db, reference: content, palette: .standardOutput).render(to: OutputSink())
    }
}
