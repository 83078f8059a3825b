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
    public func run() throws {
        do {
            try inspect(try RunDatabase(path: database))
        } catch {
            FileHandle.standardError.write(Data("wadup: error: \(error.text.rendered(RunCommand.flag))\n".utf8))
            throw ExitCode(error.code.exitStatus)
        }
    }
}

/// `wadup report DB [--output FILE.html]`
public struct ReportCommand: InspectCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML report of a run: summary, modules, failures and the content tree.")

    @Argument(help: "The run's database.")
    var database: String

    @Option(name: .shortAndLong, help: "The HTML file to write (default: the database's name with .html).")
    var output: String?

    public init() {}

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

/// `wadup tree DB [PATH|UUID] [--failed] [--max-depth N]`
public struct TreeCommand: InspectCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tree", abstract: "Print the content tree: name, size, status and rows per module, indented by depth.")

    @Argument(help: "The run's database.")
    var database: String

    @Argument(help: "Start at this content (uuid, sha256 or path from its input) instead of the whole run.")
    var start: String?

    @Flag(help: "Only failed contents and the contents above them.")
    var failed = false

    @Option(name: .customLong("max-depth"), help: "Levels shown below the start.")
    var maxDepth: Int?

    public init() {}

    public func validate() throws {
        guard (maxDepth ?? 0) >= 0 else { throw ValidationError("--max-depth must not be negative") }
    }

    func inspect(_ db: RunDatabase) throws(InspectError) {
        try TreeView(database: db, start: start, failedOnly: failed, maxDepth: maxDepth, palette: .standardOutput).render(to: OutputSink())
    }
}

/// `wadup show DB UUID|SHA256|PATH`
public struct ShowCommand: InspectCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print one content: its record, parent chain, children and every module's rows.")

    @Argument(help: "The run's database.")
    var database: String

    @Argument(help: "The content: its uuid, its sha256 or its path from its input (a/b.zip/c.txt).")
    var content: String

    public init() {}

    func inspect(_ db: RunDatabase) throws(InspectError) {
        try ShowView(database: db, reference: content, palette: .standardOutput).render(to: OutputSink())
    }
}

/// `wadup stats DB`
public struct StatsCommand: InspectCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print the run's summary: counts, failures by kind, time per module.")

    @Argument(help: "The run's database.")
    var database: String

    public init() {}

    func inspect(_ db: RunDatabase) throws(InspectError) {
        try StatsView(database: db, palette: .standardOutput).render(to: OutputSink())
    }
}

/// `wadup export DB --format jsonl|csv [--table NAME] [--output FILE]`
public struct ExportCommand: InspectCommand {
    public static let configuration = CommandConfiguration(
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

    public init() {}

    public func validate() throws {
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

/// `wadup merge A.db B.db … --output ALL.db`
public struct MergeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
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

    public init() {}

    public func run() throws {
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
