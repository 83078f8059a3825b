import ArgumentParser
import Foundation
import Logging
import WADUPInspect
import WADUPPostgres
import WADUPStore

/// What every read-only subcommand shares: the database argument and how errors end the process.
protocol InspectCommand: ParsableCommand {
    var database: String { get }
    func inspect(_ db: RunDatabase) throws(InspectError)
}

extension InspectCommand {
    package func run() throws {
        do {
            try inspect(try RunDatabase(path: database))
        } catch {
            FileHandle.standardError.write(Data("wadup: error: \(error.text.rendered(RunCommand.flag))\n".utf8))
            throw ExitCode(error.code.exitStatus)
        }
    }
}
