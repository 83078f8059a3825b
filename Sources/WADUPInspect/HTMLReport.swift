import WADUPCore
import Foundation
import GRDB
import WADUPStore

/// `wadup report`: one self-contained HTML file of a run (styles, script and data inline).
///
/// The data goes in as JSON, column by column, in depth-first order, and the page draws only the
/// tree rows in view, so a run of 100,000 contents opens in a browser in a few seconds. Nothing is
/// fetched from anywhere: the file can be mailed and archived with the evidence.
package struct HTMLReport {
    package let database: RunDatabase

    package init(database: RunDatabase) {
        self.database = database
    }

    /// Writes the report; returns the number of contents in it.
    @discardableResult
    package func write(to sink: OutputSink) throws(InspectError) -> Int {
        let overview = try RunOverview(database)
        let tree = try ContentTree(database)
        // Depth-first order (inputs by name, children as written), then anything unreachable.
        var order: [Int] = []
        order.reserveCapacity(tree.contents.count)
        try tree.walk(from: tree.roots) { i, _ throws(InspectError) in order.append(i) }
        if order.count < tree.contents.count {
            let placed = Set(order)
            order += tree.contents.indices.filter { !placed.contains($0) }
        }
        var position = Array(repeating: 0, count: order.count)
        for (p, i) in order.enumerated() { position[i] = p }

        let name = URL(fileURLWithPath: database.path).lastPathComponent
        let page = HTMLReport.template
        let marker = "/*WADUP_DATA*/"
        let parts = page.components(separatedBy: marker)
        precondition(parts.count == 2, "the report template holds one data marker")
        try sink.write(parts[0].replacingOccurrences(of: "<title>WADUP report</title>", with: "<title>WADUP report: \(Self.escapeHTML(name))</title>"))

        try sink.write("{\"name\":\(JSONText.string(name)),\"generated\":\(Int64(Date().timeIntervalSince1970)),\"schema\":\(database.schemaVersion)")
        // The page names statuses by their index in this list (`C.status`), so their spellings live in `ContentStatus` alone.
        try sink.write(",\"statuses\":[\(ContentStatus.allCases.map { JSONText.string($0.rawValue) }.joined(separator: ","))]")
        try sink.write(",\"runs\":[")
        for (k, r) in overview.runs.enumerated() {
            try sink.write((k == 0 ? "" : ",") + "{\"id\":\(r.id),\"started\":\(r.startedAt),\"finished\":\(r.finishedAt.map(String.init) ?? "null"),\"version\":\(JSONText.string(r.version)),\"engine\":\(JSONText.string(r.engine)),\"outcome\":\(JSONText.string(r.outcome?.rawValue ?? "unknown")),\"resumedFrom\":\(r.resumedFrom.map(String.init) ?? "null"),\"settings\":\(JSONText.string(r.settings))}")
        }
        try sink.write("],\"modules\":[")
        for (k, m) in overview.modules.enumerated() {
            try sink.write((k == 0 ? "" : ",") + "[\(JSONText.string(m.name)),\(JSONText.string(m.sha256)),\(m.size),\(m.runs),\(m.failures),\(JSONText.number(m.milliseconds)),"
                + "\(m.offered.map(String.init) ?? "null"),\(m.accepted.map(String.init) ?? "null"),\(JSONText.optional(m.dataSha256))"
                // The runtime only for a Python module: a wasm-only run's report is as before.
                + "\(m.runtime.map { "," + JSONText.string($0) } ?? "")]")
        }
        try sink.write("],\"overview\":{\"inputs\":\(overview.inputs),\"inputBytes\":\(overview.inputBytes),\"contents\":\(overview.contents),\"bytes\":\(overview.bytes),\"seconds\":\(JSONText.number(overview.seconds)),\"outcome\":\(JSONText.string(overview.outcome))}")
        try sink.write(",\"tables\":[")
        for (k, t) in database.tables.enumerated() {
            try sink.write((k == 0 ? "" : ",") + "{\"name\":\(JSONText.string(t.name)),\"module\":\(JSONText.string(t.owner)),\"columns\":[\(t.columns.map(JSONText.string).joined(separator: ","))]}")
        }
        try sink.write("],\"c\":{")
        func column(_ key: String, first: Bool = false, _ value: (RunDatabase.Content) -> String) throws(InspectError) {
            try sink.write((first ? "" : ",") + "\"\(key)\":[")
            for (p, i) in order.enumerated() { try sink.write((p == 0 ? "" : ",") + value(tree.contents[i])) }
            try sink.write("]")
        }
        try column("uuid", first: true) { JSONText.string($0.uuid) }
        try column("name") { JSONText.string($0.filename) }
        try column("parent") { c in c.parentUUID.flatMap { tree.index[$0] }.map { String(position[$0]) } ?? "-1" }
        try column("size") { $0.size.map(String.init) ?? "null" }
        try column("status") { String(ContentStatus.allCases.firstIndex(of: $0.status)!) }
        try column("depth") { String($0.depth) }
        try column("sha") { JSONText.optional($0.sha256) }
        try column("mime") { JSONText.optional($0.mime) }
        try column("desc") { JSONText.optional($0.typeDescription) }
        try column("dup") { c in c.duplicateOf.flatMap { tree.index[$0] }.map { String(position[$0]) } ?? "-1" }
        try column("note") { c in c.status == .failed ? "null" : JSONText.optional(c.errorMessage) }
        try sink.write("},\"fail\":{")
        var first = true
        for (p, i) in order.enumerated() where tree.contents[i].status == .failed {
            let failures = RecordedFailure.parse(tree.contents[i].errorMessage ?? "")
            let list = failures.isEmpty ? [RecordedFailure(module: "", kind: "unknown", detail: tree.contents[i].errorMessage ?? "")] : failures
            try sink.write((first ? "" : ",") + "\"\(p)\":[" + list.map { "[\(JSONText.string($0.module)),\(JSONText.string($0.kind)),\(JSONText.string($0.detail))]" }.joined(separator: ",") + "]")
            first = false
        }
        try sink.write("},\"rows\":[")
        for (k, table) in database.tables.enumerated() {
            // Rows grouped by content position, so the page finds a content's rows by binary search.
            let rows: [(Int, String)] = try database.read { db in
                var rows: [(Int, String)] = []
                let cursor = try Row.fetchCursor(
                    db, sql: "SELECT content_uuid, \(table.columns.map(SQL.quoted).joined(separator: ", ")) FROM \(SQL.quoted(table.name)) ORDER BY rowid")
                while let row = try cursor.next() {
                    let values = Array(row.databaseValues)
                    guard let uuid = String.fromDatabaseValue(values[0]), let i = tree.index[uuid] else { continue }
                    rows.append((position[i], values.dropFirst().map(JSONText.value).joined(separator: ",")))
                }
                return rows
            }
            try sink.write((k == 0 ? "" : ",") + "[")
            for (r, row) in rows.enumerated().sorted(by: { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }).map(\.element).enumerated() {
                try sink.write((r == 0 ? "" : ",") + "[\(row.0)" + (row.1.isEmpty ? "" : ",") + row.1 + "]")
            }
            try sink.write("]")
        }
        try sink.write("]}")
        try sink.write(parts[1])
        try sink.flush()
        return order.count
    }

    static func escapeHTML(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
