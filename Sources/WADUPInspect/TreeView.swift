/// `wadup tree`: the content tree as indented lines: name, size, status, rows per module.
package struct TreeView {
    package let database: RunDatabase
    /// A uuid, sha256 or path to start from (the whole run when `nil`).
    package var start: String?
    /// Only failed contents and the contents above them.
    package var failedOnly = false
    /// Levels shown below the start.
    package var maxDepth: Int?
    package var palette = Palette(enabled: false)

    package init(database: RunDatabase, start: String? = nil, failedOnly: Bool = false, maxDepth: Int? = nil, palette: Palette = Palette(enabled: false)) {
        self.database = database
        self.start = start
        self.failedOnly = failedOnly
        self.maxDepth = maxDepth
        self.palette = palette
    }

    /// Writes the lines; returns how many contents were listed.
    @discardableResult
    package func render(to sink: OutputSink) throws(InspectError) -> Int {
        let tree = try ContentTree(database)
        let starts: [Int]
        if let start {
            let found = try database.resolve(start)
            starts = [tree.index[found.uuid]!]
        } else {
            starts = tree.roots
        }
        var keep: Set<Int>?
        if failedOnly {
            var marked = Set<Int>()
            for (i, c) in tree.contents.enumerated() where c.status == .failed { marked.formUnion(tree.ancestors(of: i)) }
            keep = marked
        }
        let owners = Self.owners(database.tables)
        var listed = 0
        try tree.walk(from: starts, maxLevel: maxDepth, include: { keep?.contains($0) ?? true }) { i, level throws(InspectError) in
            try sink.write(String(repeating: "  ", count: level) + line(tree, i, owners: owners) + "\n")
            listed += 1
        }
        try sink.flush()
        return listed
    }

    /// Table indices grouped by owning module, in order of first table.
    static func owners(_ tables: [RunDatabase.Table]) -> [(owner: String, tables: [Int])] {
        var out: [(owner: String, tables: [Int])] = []
        for (i, t) in tables.enumerated() {
            if let k = out.firstIndex(where: { $0.owner == t.owner }) { out[k].tables.append(i) } else { out.append((t.owner, [i])) }
        }
        return out
    }

    private func line(_ tree: ContentTree, _ i: Int, owners: [(owner: String, tables: [Int])]) -> String {
        let c = tree.contents[i]
        var text = displayText(c.filename, limit: 200) + "  " + byteText(c.size) + (c.mime.map { "  " + $0 } ?? "") + "  " + palette.status(c.status)
        switch c.status {
        case .failed:
            let kinds = RecordedFailure.parse(c.errorMessage ?? "").map { "\($0.module): \($0.kind)" }
            if !kinds.isEmpty { text += " (" + kinds.joined(separator: ", ") + ")" }
        case .skipped:
            if let reason = c.errorMessage { text += " (" + displayText(reason, limit: 60) + ")" }
        case .duplicate:
            if let original = c.duplicateOf { text += " of " + original }
        case .success: break
        }
        let counts = owners.compactMap { owner -> String? in
            let n = owner.tables.reduce(0) { $0 + (tree.rowCounts[$1][i] ?? 0) }
            return n > 0 ? "\(owner.owner) \(n)" : nil
        }
        if !counts.isEmpty { text += "  " + palette.dim("[" + counts.joined(separator: ", ") + "]") }
        return text
    }
}
