import ArgumentParser
import Foundation
import Logging
import WADUPInspect
import WADUPPostgres
import WADUPStore

/// `wadup merge A.db B.db … --output ALL.db`
package struct MergeCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the databases of one run's shards (--shard K/N) or pieces into one new database.",
        discussion: """
            The parts must be complete and record the same input, modules (sha256), limits and dedup; their inputs \
            must not overlap. Every part's attempts are kept in __wadup_run. Exit 2 when they cannot be merged.

            Given one postgres://… URL instead, copies that complete PostgreSQL run into the new SQLite database, \
            for report, tree, show, stats and export.
            """)

    @Argument(help: "The databases to combine.")
    var parts: [String]

    @Option(name: .shortAndLong, help: "The database to create (must not exist).")
    var output: String

    package init() {}

    package func run() throws {
        // Held while the new database is written: a run or another merge on the same path is refused.
        let lock: OutputLock
        do {
            lock = try OutputLock.acquire(database: output)
        } catch {
            FileHandle.standardError.write(Data("wadup: error: --output \(error)\n".utf8))
            throw ExitCode(error.isHeld ? 2 : 1)
        }
        defer { lock.release() }
        if parts.contains(where: { if case .server = RunOutput.Location($0) { true } else { false } }) {
            guard parts.count == 1, let url = parts.first else {
                FileHandle.standardError.write(Data("wadup: error: a PostgreSQL run is copied alone: wadup merge postgres://… --output RUN.db\n".utf8))
                throw ExitCode(2)
            }
            do {
                let location = try PostgresLocation(url: url)
                var logger = Logger(label: "wadup")
                logger.logLevel = .warning
                let summary = try PostgresRunCopy.copy(from: location, into: output, logger: logger)
                FileHandle.standardError.write(Data("wadup: copied the run in \(location) (\(summary.inputs) inputs, \(summary.contents) contents) into \(output)\n".utf8))
            } catch let error as PostgresLocationError {
                FileHandle.standardError.write(Data("wadup: error: \(url): \(error)\n".utf8))
                throw ExitCode(2)
            } catch let error as StoreError {
                FileHandle.standardError.write(Data("wadup: error: \(error.rendered(RunCommand.flag))\n".utf8))
                throw ExitCode(error.refused ? 2 : 1)
            }
            return
        }
        do {
            let summary = try SQLiteMerge.merge(parts, into: output)
            FileHandle.standardError.write(Data("wadup: merged \(summary.parts) databases (\(summary.inputs) inputs, \(summary.contents) contents) into \(output)\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("wadup: error: \(error.text.rendered(RunCommand.flag))\n".utf8))
            throw ExitCode(2)
        }
    }
}
