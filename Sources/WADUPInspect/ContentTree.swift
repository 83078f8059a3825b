/// Every content of a run in memory, linked parent to children, with its row counts per table:
/// what the tree view and the HTML report walk.
struct ContentTree {
    let contents: [RunDatabase.Content]
    /// Children of each content, in the order they were written.
    let children: [[Int]]
    /// Contents without a parent (the inputs), by name.
    let roots: [Int]
    let index: [String: Int]
    /// `rowCounts[table][content]`.
    let rowCounts: [[Int: Int]]

    init(_ database: RunDatabase) throws(InspectError) {
        contents = try database.allContents()
        var index: [String: Int] = [:]
        index.reserveCapacity(contents.count)
        for (i, c) in contents.enumerated() { index[c.uuid] = i }
        var children = Array(repeating: [Int](), count: contents.count)
        var roots: [Int] = []
        for (i, c) in contents.enumerated() {
            // A parent missing from the database (a damaged file) makes its child a root, not lost.
            if let parent = c.parentUUID, let p = index[parent], p != i { children[p].append(i) } else { roots.append(i) }
        }
        self.index = index
        self.children = children
        let all = contents
        self.roots = roots.sorted { (all[$0].filename, $0) < (all[$1].filename, $1) }
        rowCounts = try database.rowCounts().map { counts in
            var byIndex: [Int: Int] = [:]
            for (uuid, n) in counts { if let i = index[uuid] { byIndex[i] = n } }
            return byIndex
        }
    }

    /// Depth-first order from `starts`, each with its level below the start; `include` prunes.
    func walk(from starts: [Int], maxLevel: Int? = nil, include: (Int) -> Bool = { _ in true }, _ body: (Int, Int) throws(InspectError) -> Void) throws(InspectError) {
        var stack = starts.reversed().map { ($0, 0) }
        var seen = Set<Int>()
        while let (i, level) = stack.popLast() {
            guard include(i), seen.insert(i).inserted else { continue }
            try body(i, level)
            if maxLevel.map({ level < $0 }) ?? true {
                for child in children[i].reversed() { stack.append((child, level + 1)) }
            }
        }
    }

    /// `i` and its ancestors.
    func ancestors(of i: Int) -> [Int] {
        var out = [i]
        var seen: Set<Int> = [i]
        while let parent = contents[out.last!].parentUUID, let p = index[parent], seen.insert(p).inserted { out.append(p) }
        return out
    }
}
