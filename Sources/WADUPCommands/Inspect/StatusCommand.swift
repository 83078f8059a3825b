import WADUPCore
import ArgumentParser
import Foundation
import Logging
import WADUPInspect
import WADUPPostgres
import WADUPStore

/// `wadup status --output postgres://…`: where a run shared through PostgreSQL stands.
package struct StatusCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a PostgreSQL run's progress: input roots done, claimed and pending, live processes, throughput, failures by kind.",
        discussion: """
            Reads only. For an SQLite database, use wadup stats. Exit 2 if the server cannot be reached or \
            holds no run.
            """)

    @Option(help: "The run's database: postgres://USER@HOST:PORT/DB (the password from PGPASSWORD or ~/.pgpass).")
    var output: String

    package init() {}

    package func validate() throws {
        guard case .server = RunOutput.Location(output) else { throw ValidationError("--output must be a postgres:// URL; for an SQLite database use wadup stats") }
    }

    package func run() throws {
        var logger = Logger(label: "wadup") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        let status: PostgresRunStatus
        do {
            status = try PostgresRunStatus.read(try PostgresLocation(url: output), logger: logger)
        } catch {
            FileHandle.standardError.write(Data("wadup: error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        print(Self.render(status, palette: .standardOutput), terminator: "")
    }

    /// The status as text: counts first, then processes and failures as tables.
    static func render(_ s: PostgresRunStatus, palette: Palette) -> String {
        var text = palette.bold("Run") + (s.complete ? " complete" : " in progress") + "\n"
        var queue = TextTable(["inputs", "done", "claimed", "expired leases", "pending"])
        queue.append([String(s.inputs), String(s.done), String(s.claimed), String(s.expired), String(s.pending)])
        text += queue.render()
        let statuses = ContentStatus.allCases.map { "\($0.rawValue) \(s.contentsByStatus[$0.rawValue] ?? 0)" }.joined(separator: ", ")
        text += "contents: \(s.contents) (\(statuses))\n"
        let rate = s.seconds > 0 ? Double(s.contents) / s.seconds : 0
        text += String(format: "throughput: %.0f contents/s over %.0f s; %lld contents in the last minute\n", rate, s.seconds, s.lastMinute)
        let live = s.processes.filter(\.live)
        text += "\n" + palette.bold("Processes") + " (\(live.count) live of \(s.processes.count))\n"
        var processes = TextTable(["id", "host", "pid", "state", "heartbeat", "trees", "contents"])
        for p in s.processes {
            let state = p.live ? "live" : p.ended ? "ended" : "lost"
            processes.append([String(p.runID), p.host, String(p.pid), state, String(format: "%.0f s ago", p.secondsSinceHeartbeat), String(p.trees), String(p.contents)])
        }
        text += processes.render()
        var kinds: [String: Int64] = [:]
        for (message, count) in s.failureMessages {
            for failure in RecordedFailure.parse(message) { kinds[failure.kind, default: 0] += count }
        }
        if !kinds.isEmpty {
            text += "\n" + palette.bold("Failed module-runs by kind") + "\n"
            var table = TextTable(["kind", "runs"])
            for (kind, n) in kinds.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) { table.append([kind, String(n)]) }
            text += table.render()
        }
        return text
    }
}
