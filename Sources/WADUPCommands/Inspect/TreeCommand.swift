import ArgumentParser
import Foundation
import Logging
import WADUPInspect
import WADUPPostgres
import WADUPStore

/// `wadup tree DB [PATH|UUID] [--failed] [--max-depth N]`
package struct TreeCommand: InspectCommand {
    package static let configuration = CommandConfiguration(
        commandName: "tree", abstract: "Print the content tree: name, size, status and rows per module, indented by depth.")

    @Argument(help: "The run's database.")
    var database: String

    @Argument(help: "Start at this content (uuid, sha256 or path from its input) instead of the whole run.")
    var start: String?

    @Flag(help: "Only failed contents and the contents above them.")
    var failed = false

    @Option(name: .customLong("max-depth"), help: "Levels shown below the start.")
    var maxDepth: Int?

    package init() {}

    package func validate() throws {
        guard (maxDepth ?? 0) >= 0 else { throw ValidationError("--max-depth must not be negative") }
    }

    func inspect(_ db: RunDatabase) throws(InspectError) {
        try TreeView(database: db, start: start, failedOnly: failed, maxDepth: maxDepth, palette: .standardOutput).render(to: OutputSink())
    }
}
