import WADUPCore
import Foundation
import GRDB

/// A run's summary, from its database alone: what `wadup stats` prints and the report shows.
package struct RunOverview: Sendable {
    package let runs: [RunDatabase.Run]
    package let modules: [RunDatabase.Module]
    package let inputs: Int
    package let inputBytes: Int64
    package let contents: Int
    package let bytes: Int64
    /// Contents per status (`success`, `failed`, `skipped`, `duplicate`).
    package let statuses: [String: Int]
    /// Failed module-runs per kind.
    package let failureKinds: [String: Int]

    package init(_ database: RunDatabase) throws(InspectError) {
        runs = try database.runs()
        modules = try database.modules()
        (inputs, inputBytes, contents, bytes, statuses) = try database.read { db in
            let totals = try Row.fetchOne(
                db, sql: "SELECT count(*), coalesce(sum(size), 0), coalesce(sum(CASE WHEN parent_uuid IS NULL THEN 1 END), 0), coalesce(sum(CASE WHEN parent_uuid IS NULL THEN size END), 0) FROM __wadup_content")!
            var statuses: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, count(*) FROM __wadup_content GROUP BY status") { statuses[row[0]] = row[1] }
            return (totals[2], totals[3], totals[0], totals[1], statuses)
        }
        var kinds: [String: Int] = [:]
        try database.read { db in
            let cursor = try String.fetchCursor(db, sql: "SELECT error_message FROM __wadup_content WHERE status = \(ContentStatus.failed.sql) AND error_message IS NOT NULL")
            while let message = try cursor.next() {
                for failure in RecordedFailure.parse(message) { kinds[failure.kind, default: 0] += 1 }
            }
        }
        failureKinds = kinds
    }

    /// Seconds from the first attempt's start to the last one's end (or now, for a run in progress).
    package var seconds: Double {
        guard let first = runs.first, let last = runs.last else { return 0 }
        let end = last.finishedAt ?? Int64(Date().timeIntervalSince1970)
        return Double(max(end - first.startedAt, 0))
    }

    /// The outcome of the last attempt.
    package var outcome: String { runs.last.map { $0.outcome?.rawValue ?? "unknown" } ?? "unknown" }
}

/// `wadup stats`: the run's summary as the end of a run prints it, from the database alone.
package struct StatsView {
    package let database: RunDatabase
    package var palette = Palette(enabled: false)

    package init(database: RunDatabase, palette: Palette = Palette(enabled: false)) {
        self.database = database
        self.palette = palette
    }

    package func render(to sink: OutputSink) throws(InspectError) {
        let o = try RunOverview(database)
        var text = ""
        let last = o.runs.last
        text += "run        \(o.outcome)" + (o.runs.count > 1 ? " after \(o.runs.count) attempts" : "")
        text += last.map { ", wadup \($0.version), \($0.engine)" } ?? ""
        text += "\n"
        text += "started    \(timeText(o.runs.first?.startedAt))\n"
        text += "finished   \(last?.finishedAt.map { timeText($0) } ?? "not yet")\n"
        text += "inputs     \(o.inputs) (\(byteText(o.inputBytes)))\n"
        let statuses = ContentStatus.allCases.map { "\(o.statuses[$0.rawValue] ?? 0) \(palette.status($0))" }
        text += "contents   \(o.contents): " + statuses.joined(separator: ", ") + "\n"
        let seconds = max(o.seconds, 1)
        text += String(format: "throughput %.1f MB in %.0f s: %.1f MB/s, %.0f contents/s (start and end are recorded to the second)\n",
                       Double(o.bytes) / 1e6, o.seconds, Double(o.bytes) / 1e6 / seconds, Double(o.contents) / seconds)
        if !o.failureKinds.isEmpty {
            text += "\n" + palette.bold("Failed module-runs by kind") + "\n"
            var t = TextTable(["kind", "runs"])
            for (kind, n) in o.failureKinds.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) { t.append([kind, String(n)]) }
            text += t.render()
        }
        text += "\n" + palette.bold("Modules") + "\n"
        if o.modules.isEmpty {
            text += "  (recorded when the run ends)\n"
        } else {
            // The data folders' digests and the Python runtimes only when a module has one.
            let withData = o.modules.contains { $0.dataSha256 != nil }
            let withRuntime = o.modules.contains { $0.runtime != nil }
            var t = TextTable(
                ["module", "offered", "accepted", "runs", "failures", "time ms", "ms/run", "sha256"] + (withData ? ["data sha256"] : [])
                    + (withRuntime ? ["runtime"] : []))
            for m in o.modules {
                var row = [m.name, m.offered.map(String.init) ?? "-", m.accepted.map(String.init) ?? "-", String(m.runs), String(m.failures),
                           String(format: "%.1f", m.milliseconds),
                           String(format: "%.3f", m.runs > 0 ? m.milliseconds / Double(m.runs) : 0), String(m.sha256.prefix(16))]
                if withData { row.append(m.dataSha256.map { String($0.prefix(16)) } ?? "-") }
                if withRuntime { row.append(m.runtime.map(Self.shortRuntime) ?? "-") }
                t.append(row)
            }
            text += t.render()
        }
        try sink.write(text)
        try sink.flush()
    }

    /// A runtime as the modules table shows it: the interpreter's sha256 cut to 16 digits like the
    /// other digests (`CPython 3.11.2 (…); python.wasm sha256 0123456789abcdef`).
    static func shortRuntime(_ runtime: String) -> String {
        guard let marker = runtime.range(of: " sha256 ", options: .backwards) else { return runtime }
        return String(runtime[..<marker.upperBound]) + runtime[marker.upperBound...].prefix(16)
    }
}
