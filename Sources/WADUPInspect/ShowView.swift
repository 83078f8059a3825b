/// `wadup show`: one content: its record, its parent chain up to the input, its children, and
/// every module's rows for it.
package struct ShowView {
    package let database: RunDatabase
    package let reference: String
    package var palette = Palette(enabled: false)

    package init(database: RunDatabase, reference: String, palette: Palette = Palette(enabled: false)) {
        self.database = database
        self.reference = reference
        self.palette = palette
    }

    package func render(to sink: OutputSink) throws(InspectError) {
        let c = try database.resolve(reference)
        let chain = try database.chain(to: c)
        var fields: [(String, String)] = [
            ("uuid", c.uuid),
            ("path", chain.map { displayText($0.filename, limit: 200) }.joined(separator: "/")),
            ("status", palette.status(c.status)),
            ("size", c.size.map { "\($0) (\(byteText($0)))" } ?? "-"),
            ("sha256", c.sha256 ?? "-"),
            ("type", c.mime.map { "\($0) (\(displayText(c.typeDescription ?? "", limit: 160)))" } ?? "-"),
            ("depth", String(c.depth)),
            ("processed", timeText(c.processedAt)),
        ]
        if let original = c.duplicateOf { fields.append(("duplicate of", original)) }
        if c.status == .failed, let message = c.errorMessage {
            for failure in RecordedFailure.parse(message) {
                fields.append(("failure", "\(failure.module): \(failure.kind): \(displayText(failure.detail, limit: 200))"))
            }
        } else if let message = c.errorMessage {
            fields.append(("note", displayText(message, limit: 200)))
        }
        let width = fields.map(\.0.count).max() ?? 0
        var text = fields.map { $0.0 + String(repeating: " ", count: width - $0.0.count) + "  " + $0.1 + "\n" }.joined()

        text += "\n" + palette.bold("Parent chain") + "\n"
        var parents = TextTable(["depth", "name", "status", "uuid"])
        for p in chain { parents.append([String(p.depth), displayText(p.filename), p.status.rawValue, p.uuid]) }
        text += parents.render()

        let children = try database.children(of: c.uuid)
        text += "\n" + palette.bold("Children (\(children.count))") + "\n"
        if !children.isEmpty {
            var table = TextTable(["name", "size", "status", "uuid"])
            for child in children { table.append([displayText(child.filename), child.size.map(String.init) ?? "", child.status.rawValue, child.uuid]) }
            text += table.render()
        }

        let rows = try database.rows(of: c.uuid)
        text += "\n" + palette.bold("Rows (\(rows.reduce(0) { $0 + $1.rows.count }))") + "\n"
        for (table, values) in rows {
            text += "\(table.name)" + (table.module.map { " (\($0))" } ?? "") + ": \(values.count) row\(values.count == 1 ? "" : "s")\n"
            var t = TextTable(table.columns)
            for row in values { t.append(row.map { displayText($0) }) }
            text += t.render()
        }
        try sink.write(text)
        try sink.flush()
    }
}
