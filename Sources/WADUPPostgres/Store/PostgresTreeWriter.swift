import Foundation
import Logging
import PostgresNIO
import Synchronization
import WADUPCore
import WADUPStore

/// Writes a shared run's results: it buffers each input tree's records until the tree is
/// complete, then commits the tree with its `__wadup_input` row (which makes the input done), in a
/// transaction that holds the chunk's row locked and commits only while the lease is still this
/// process's, so that every content is committed exactly once.
///
/// A tree too large to buffer (more than ``Tuning/postgresSpillLimit`` records) is written in parts,
/// marked in `__wadup_partial`; whoever claims that input again first deletes those parts. A tree
/// whose lease another process took over is dropped here: that process redoes it.
final class PostgresTreeWriter: @unchecked Sendable {  // Safe: the tree state (`knownTables` to `lostPaths`) is touched by the batch writer's thread only; `batches` and `commitHandler` synchronize themselves; the rest is immutable.
    enum Item {
        case table(TableSchema, Int32, module: String)
        case content(ContentRecord)
        case input(InputCompletion)
    }

    /// One input tree's records, held until the tree is complete.
    final class TreeBuffer {
        var records: [ContentRecord] = []
        /// Every content uuid of the tree, for forgetting them once it is committed.
        var uuids: [String] = []
        var completion: InputCompletion?
        /// Its queue row and chunk, once part of the tree was written (and marked in `__wadup_partial`).
        var spilled: PostgresWorkQueue.Place?
    }

    /// Chunks whose lease is no longer this process's: another process took them over.
    struct LostLeases: Error { let chunks: Set<Int64> }

    private let session: PostgresSession
    private let queue: PostgresWorkQueue
    private let reconnector: PostgresReconnector
    private let location: PostgresLocation
    private let logger: Logger
    private let runID: Int64
    /// A tree with more buffered records than this is written in parts.
    private let spillLimit: Int
    /// How log lines name a run setting (the command layer: by its flag).
    private let settingName: @Sendable (RunSetting) -> String
    private let commitHandler = Mutex<(@Sendable ([(sha256: String, uuid: String)]) -> Void)?>(nil)

    /// A transaction is written once 4,096 items are queued, or 50 ms after the first.
    private let batches = BatchWriter<Item>(name: "wadup-pg-writer", maxQueued: 32768, batchSize: 4096)

    // The batch writer thread's state.
    private var knownTables: [Int32: TableSchema] = [:]
    private var roots: [String: String] = [:]
    private var trees: [String: TreeBuffer] = [:]
    private var lost: Set<String> = []
    /// Inputs of chunks another process took over.
    private var lostPaths: Set<[UInt8]> = []

    /// A writer on `session` for the inputs `queue` claims, knowing the module tables `tables`
    /// (in the order of their ids); it writes nothing until ``start()``.
    init(
        session: PostgresSession, queue: PostgresWorkQueue, reconnector: PostgresReconnector, tables: [TableSchema], spillLimit: Int,
        settingName: @escaping @Sendable (RunSetting) -> String
    ) {
        self.session = session
        self.queue = queue
        self.reconnector = reconnector
        self.location = reconnector.location
        self.logger = reconnector.logger
        self.runID = queue.runID
        self.spillLimit = spillLimit
        self.settingName = settingName
        for (id, schema) in tables.enumerated() { knownTables[Int32(id)] = schema }
    }

    /// Starts the thread that writes what is queued.
    func start() {
        batches.start(write: { [self] in try write($0) }, describe: { [location] error in PostgresSession.storeError(error, at: location) })
    }

    // MARK: The queue of items

    /// Queues `item`; blocks only when the writer is far behind, and throws once it failed.
    func enqueue(_ item: Item) throws(StoreError) {
        try batches.enqueue(item)
    }

    /// Why the writer stopped, once it failed.
    var failure: StoreError? { batches.failure }

    /// Writes everything queued and ends the writer's thread; returns why it failed, if it did.
    func close() -> StoreError? { batches.close() }

    /// Calls `handler` after each commit; see ``SharedRunStore/onCommit(_:)``.
    func onCommit(_ handler: @escaping @Sendable ([(sha256: String, uuid: String)]) -> Void) {
        commitHandler.withLock { $0 = handler }
    }

    // MARK: Buffering trees (the writer's thread)

    private func write(_ batch: [Item]) throws {
        var complete: [String] = []
        for item in batch {
            switch item {
            case .table(let schema, let id, let module):
                try reconnector.resilient(session, "creating table \(schema.name)") { try createTable(schema, module: module) }
                knownTables[id] = schema
            case .content(let record):
                let root = record.parentUUID.flatMap { roots[$0] } ?? record.uuid
                let tree = trees[root] ?? TreeBuffer()
                trees[root] = tree
                if record.isContent {  // a decoding run's rows alone are not a content, nor anyone's parent
                    roots[record.uuid] = root
                    tree.uuids.append(record.uuid)
                }
                if !lost.contains(root) { tree.records.append(record) }
                if let completion = record.completesInput {
                    tree.completion = completion
                    complete.append(root)
                }
            case .input(let completion):
                let tree = trees[completion.rootUUID] ?? TreeBuffer()
                trees[completion.rootUUID] = tree
                tree.completion = completion
                complete.append(completion.rootUUID)
            }
        }
        if !complete.isEmpty { try commit(complete) }
        for (root, tree) in trees where tree.records.count >= spillLimit && tree.completion == nil && !lost.contains(root) {
            try spill(root, tree)
        }
    }

    /// Creates module table `schema` unless another process did; refuses other columns under its name.
    private func createTable(_ schema: TableSchema, module: String) throws {
        let db = session
        try db.transaction {
            try db.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.tablesLock))")
            if try !db.query("SELECT 1 FROM __wadup_tables WHERE name = $1", binds(schema.name)).isEmpty {
                guard let existing = try PostgresRunRegistry.moduleTables(db).first(where: { $0.name == schema.name }), existing.columns == schema.columns else {
                    throw StoreError(
                        path: location.description,
                        "table \(schema.name) is defined with other columns by another process of this run; module \(module) asked for \(schema.signature)")
                }
                return
            }
            try db.query(PostgresSchema.createTable(schema))
            var b = PostgresBindings()
            b.append(schema.name)
            b.append(module)
            try db.query("INSERT INTO __wadup_tables (name, module) VALUES ($1, $2)", b)
        }
    }

    /// The queue row and chunk of the tree at `root`, claimed by this process for the input's path.
    private func place(of tree: TreeBuffer, root: String) -> PostgresWorkQueue.Place? {
        if let place = tree.spilled { return place }
        guard let path = self.path(of: tree, root: root) else { return nil }
        return queue.place(of: path)
    }

    private func path(of tree: TreeBuffer, root: String) -> [UInt8]? {
        tree.completion?.path ?? tree.records.first(where: { $0.uuid == root }).map { $0.filenameBytes ?? Array($0.filename.utf8) }
    }

    /// Forgets a tree that is committed (or lost).
    private func forget(_ root: String) {
        guard let tree = trees.removeValue(forKey: root) else { return }
        for uuid in tree.uuids { roots.removeValue(forKey: uuid) }
        if let path = tree.completion?.path { queue.forget(path: path) }
    }

    // MARK: Lost leases

    /// Gives up the chunks another process took over: their trees are dropped here (redone there).
    private func lose(chunks: Set<Int64>) {
        lostPaths.formUnion(queue.lose(chunks: chunks))
        for (root, tree) in trees {
            if let place = tree.spilled, chunks.contains(place.chunk) { lost.insert(root) }
            if let path = path(of: tree, root: root), lostPaths.contains(path) { lost.insert(root) }
        }
        logger.warning(
            "lost the lease on \(chunks.count) chunk(s) of inputs to another process (this one stalled past \(settingName(.leaseTimeout))); their results are dropped here and redone there")
    }

    // MARK: Committing

    /// Commits the complete trees at `roots` in one transaction, each only if its lease is still ours.
    private func commit(_ completeRoots: [String]) throws {
        var pending: [String] = []
        for root in completeRoots {
            if lost.contains(root) || trees[root].flatMap({ path(of: $0, root: root) }).map(lostPaths.contains) == true {
                forget(root)
            } else {
                pending.append(root)
            }
        }
        while !pending.isEmpty {
            var places: [String: PostgresWorkQueue.Place] = [:]
            for root in pending {
                guard let tree = trees[root], let place = place(of: tree, root: root) else {
                    throw StoreError(path: location.description, "an input tree was completed that this process never claimed")
                }
                places[root] = place
            }
            // If the connection is lost at COMMIT, the trees are committed when their first record
            // (or, with none left to write, their input row) is there.
            let firstUUID = pending.lazy.compactMap { self.trees[$0]?.records.first(where: \.isContent)?.uuid }.first
            let firstSeq = pending.first { self.trees[$0]?.completion != nil }.flatMap { places[$0]?.seq }
            do {
                try reconnector.resilient(session, "committing input trees", committed: { [session] () throws -> Void? in
                    if let firstUUID {
                        return try session.query("SELECT EXISTS (SELECT 1 FROM __wadup_content WHERE uuid = $1)", binds(firstUUID))[0].decode(Bool.self) ? () : nil
                    }
                    if let firstSeq {
                        return try session.query("SELECT EXISTS (SELECT 1 FROM __wadup_input WHERE seq = $1)", binds(firstSeq))[0].decode(Bool.self) ? () : nil
                    }
                    return nil
                }) {
                    try writeTrees(pending, places: places)
                }
            } catch let error as LostLeases {
                lose(chunks: error.chunks)
                let lostRoots = pending.filter { error.chunks.contains(places[$0]!.chunk) }
                for root in lostRoots { forget(root) }
                pending.removeAll { lostRoots.contains($0) }
                continue
            }
            var processed: [(sha256: String, uuid: String)] = []
            for root in pending {
                for record in trees[root]!.records where ContentStatus.processed.contains(record.status) {
                    if let sha256 = record.sha256 { processed.append((sha256, record.uuid)) }
                }
                forget(root)
            }
            queue.committed(chunks: pending.map { places[$0]!.chunk })
            if let handler = commitHandler.withLock({ $0 }) { handler(processed) }
            break
        }
    }

    private func writeTrees(_ roots: [String], places: [String: PostgresWorkQueue.Place]) throws {
        let db = session
        let runID = self.runID
        // Chunks this commit finishes: every input of theirs this process claimed is in it.
        var committing: [Int64: Int] = [:]
        for root in roots { committing[places[root]!.chunk, default: 0] += 1 }
        let open = queue.openInputs
        let finishing = committing.filter { open[$0.key] == $0.value }.map(\.key)
        try db.transaction {
            // The leases, checked and held (row locks) until the commit: a process taking a chunk
            // over waits for this transaction, then finds its trees committed.
            let kept = try queue.holdLeases(Array(committing.keys), on: db)
            if kept.count != committing.count { throw LostLeases(chunks: Set(committing.keys).subtracting(kept)) }
            var contents = 0
            var records: [ContentRecord] = []
            var inputs = PostgresRows(table: "__wadup_input", columns: ["path", "root_uuid", "run_id", "seq"])
            var spilled: [Int64] = []
            for root in roots {
                let tree = trees[root]!
                var treeRecords = tree.records
                if let place = tree.spilled { spilled.append(place.seq) }
                if let completion = tree.completion {
                    if let note = completion.note {
                        if let i = treeRecords.firstIndex(where: { $0.uuid == root }) {
                            treeRecords[i].errorMessage = treeRecords[i].errorMessage.map { $0 + "; " + note } ?? note
                        } else {
                            var n = PostgresBindings()
                            n.append(note)
                            n.append(root)
                            try db.query("""
                                UPDATE __wadup_content SET error_message = CASE WHEN error_message IS NULL THEN $1 ELSE error_message || '; ' || $1 END
                                WHERE uuid = $2
                                """, n)
                        }
                    }
                    inputs.bytes(completion.path)
                    inputs.text(root)
                    inputs.int(runID)
                    inputs.int(places[root]!.seq)
                    inputs.endRow()
                }
                contents += tree.uuids.count
                records.append(contentsOf: treeRecords)
            }
            try writeRecords(records)
            try db.insert(inputs)
            if !spilled.isEmpty { try db.query("DELETE FROM __wadup_partial WHERE seq = ANY($1)", binds(spilled)) }
            if !finishing.isEmpty { try queue.markDone(finishing, on: db) }
            var w = PostgresBindings()
            w.append(Int64(contents))
            w.append(Int64(roots.count))
            w.append(runID)
            try db.query("UPDATE __wadup_workers SET contents = contents + $1, trees = trees + $2 WHERE run_id = $3", w)
        }
    }

    /// Writes part of an incomplete tree, marking it (`__wadup_partial`) so that a new owner rolls it back.
    private func spill(_ root: String, _ tree: TreeBuffer) throws {
        guard let place = place(of: tree, root: root) else { return }
        let db = session
        let firstUUID = tree.records.first(where: \.isContent)?.uuid
        do {
            try reconnector.resilient(db, "writing part of an input tree", committed: { () throws -> Void? in
                guard let firstUUID else { return nil }
                return try db.query("SELECT EXISTS (SELECT 1 FROM __wadup_content WHERE uuid = $1)", binds(firstUUID))[0].decode(Bool.self) ? () : nil
            }) {
                try db.transaction {
                    if try !queue.holdLease(place.chunk, on: db) { throw LostLeases(chunks: [place.chunk]) }
                    if tree.spilled == nil {
                        var p = PostgresBindings()
                        p.append(place.seq)
                        p.append(root)
                        try db.query("INSERT INTO __wadup_partial (seq, root_uuid) VALUES ($1, $2)", p)
                    }
                    try writeRecords(tree.records)
                }
            }
            tree.spilled = place
            tree.records.removeAll(keepingCapacity: true)
        } catch let error as LostLeases {
            lose(chunks: error.chunks)
            lost.insert(root)
            tree.records.removeAll()
        }
    }

    /// Inserts `records` (those that are contents) and their module rows.
    private func writeRecords(_ records: [ContentRecord]) throws {
        guard !records.isEmpty else { return }
        var contents = PostgresRows(table: "__wadup_content", columns: PostgresSchema.contentColumns)
        var tables: [Int32: PostgresRows] = [:]
        func addRows(_ rows: [(tableID: Int32, values: [CellValue])], of uuid: String?) throws {
            for row in rows {
                guard let schema = knownTables[row.tableID] else {
                    throw StoreError(path: location.description, "row for unknown table \(row.tableID)")
                }
                var batch = tables.removeValue(forKey: row.tableID) ?? PostgresRows(table: schema.name, columns: ["content_uuid"] + schema.columns.map(\.name))
                batch.text(uuid)
                for value in row.values { batch.cell(value) }
                batch.endRow()
                tables[row.tableID] = batch
            }
        }
        for r in records {
            try addRows(r.rows, of: r.uuid)
            try addRows(r.parentRows, of: r.parentUUID)
            guard r.isContent else { continue }
            contents.text(r.uuid)
            contents.text(r.filename)
            contents.text(r.parentUUID)
            contents.int(r.processedAt)
            contents.text(r.status.rawValue)
            contents.text(r.errorMessage)
            contents.int(Int64(r.depth))
            contents.int(r.size.map(Int64.init))
            contents.text(r.sha256)
            contents.text(r.duplicateOf)
            contents.bytes(r.filenameBytes)
            contents.text(r.type?.mime)
            contents.text(r.type?.description)
            contents.endRow()
        }
        try session.insert(contents)
        for (_, batch) in tables.sorted(by: { $0.key < $1.key }) { try session.insert(batch) }
    }
}
