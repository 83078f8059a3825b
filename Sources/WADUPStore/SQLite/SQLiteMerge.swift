import Foundation
import GRDB
import WADUPCore

/// `wadup merge`: several databases of one run (its shards, or pieces) into one new database.
///
/// The parts must record the same run settings (input, modules with their sha256, data digests and
/// runtimes, limits, dedup, symlinks; the output, threads and shard may differ), be complete, and
/// hold disjoint inputs. Contents keep their uuids (random, so they never collide), every part's
/// attempts are kept in `__wadup_run` (ids renumbered, `resumed_from` and `__wadup_input.run_id`
/// with them), module counters are summed. Dedup stays per part: a content processed in two
/// shards is processed in both.
public enum SQLiteMerge {
    /// Why the parts cannot be merged; each names the file and what differs.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        /// What is wrong, with settings kept apart (the command layer spells them as flags).
        public let text: SettingMessage
        public var description: String { text.description }

        init(message: SettingMessage) { text = message }
    }

    public struct Summary: Sendable {
        public let parts: Int
        public let contents: Int
        public let inputs: Int
    }

    /// Settings that may differ between parts besides those ``RunSettings/differences(from:)``
    /// ignores (the output, threads and modules folder): each part is its own shard.
    static let perPart: Set<RunSettings.Field> = [.shard]

    public static func merge(_ parts: [String], into output: String) throws(Refusal) -> Summary {
        guard parts.count >= 1 else { throw Refusal(message: "give the databases to merge") }
        guard !FileManager.default.fileExists(atPath: output) else {
            throw Refusal(message: "\(output) exists; merge writes a new database (remove it or choose another \(RunSetting.output))")
        }
        var reference: (path: String, settings: RunSettings)?
        var tables: [String: String] = [:]  // name -> columns signature
        var inputs = Set<Data>()
        for part in parts {
            guard SQLiteStore.isWADUPDatabase(path: part) else { throw Refusal(message: "\(part) is not a WADUP database") }
            do {
                let db = try DatabaseQueue(path: part, configuration: SQLiteStore.readOnlyConfiguration())
                defer { try? db.close() }
                try db.read { db in
                    let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                    guard version <= SQLiteStore.schemaVersion else { throw Refusal(message: "\(part) was written by a newer WADUP (schema \(version))") }
                    guard let last = try Row.fetchOne(db, sql: "SELECT outcome, settings FROM __wadup_run ORDER BY id DESC LIMIT 1") else {
                        throw Refusal(message: "\(part) records no run")
                    }
                    let outcome: String = last["outcome"]
                    guard outcome == RunOutcome.complete.rawValue else {
                        throw Refusal(message: "\(part) is not complete (its last attempt is \(outcome)): finish it with wadup \(RunSetting.resume) first")
                    }
                    let first = try String.fetchOne(db, sql: "SELECT settings FROM __wadup_run ORDER BY id LIMIT 1") ?? "{}"
                    guard let settings = RunSettings(json: first) else {
                        throw Refusal(message: "\(part) records a run of another WADUP version (its settings cannot be read)")
                    }
                    if let reference {
                        if let difference = settings.differences(from: reference.settings).first(where: { !perPart.contains($0.field) }) {
                            throw Refusal(
                                message: "\(part) was run with other \(difference.field.rawValue) than \(reference.path): \(difference.value) against \(difference.recorded)")
                        }
                    } else {
                        reference = (part, settings)
                    }
                    for path in try Data.fetchAll(db, sql: "SELECT path FROM __wadup_input") {
                        guard inputs.insert(path).inserted else {
                            throw Refusal(message: "\(part) holds the input \(String(decoding: path, as: UTF8.self)) that another part holds too: the parts overlap")
                        }
                    }
                    for schema in try SQLiteStore.moduleTables(db) {
                        let signature = schema.signature
                        if let known = tables[schema.name.lowercased()], known != signature {
                            throw Refusal(message: "\(part) defines table \(signature), another part \(known)")
                        }
                        tables[schema.name.lowercased()] = signature
                    }
                }
            } catch let refusal as Refusal {
                throw refusal
            } catch {
                throw Refusal(message: "\(part): cannot read the database: \(error)")
            }
        }
        do {
            let db = try DatabaseQueue(path: output)
            defer { try? db.close() }
            var contents = 0
            try db.writeWithoutTransaction { db in
                // ATTACH and DETACH cannot run inside a transaction: one transaction per part (a
                // failure removes the whole output below).
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.inTransaction {
                    try db.execute(sql: SQLiteStore.schema)
                    return .commit
                }
                var modules: [String: (sha256: String, size: Int64, runs: Int64, failures: Int64, ms: Double, offered: Int64, accepted: Int64, dataSha256: String?, runtime: String?)] = [:]
                for part in parts {
                    try db.execute(sql: "ATTACH DATABASE ? AS part", arguments: [part])
                    try db.inTransaction {
                        try db.execute(sql: "CREATE TEMP TABLE run_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
                        for run in try Row.fetchAll(db, sql: "SELECT * FROM part.__wadup_run ORDER BY id") {
                            let resumed: Int64? = run["resumed_from"]
                            let mapped = try resumed.flatMap { try Int64.fetchOne(db, sql: "SELECT new FROM run_map WHERE old = ?", arguments: [$0]) }
                            try db.execute(
                                sql: """
                                    INSERT INTO main.__wadup_run (started_at, finished_at, wadup_version, engine, settings, outcome, inputs, contents,
                                        failed, skipped, duplicates, refused, resumed_from)
                                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                                    """,
                                arguments: [
                                    run["started_at"], run["finished_at"], run["wadup_version"], run["engine"], run["settings"], run["outcome"],
                                    run["inputs"], run["contents"], run["failed"], run["skipped"], run["duplicates"], run["refused"], mapped,
                                ])
                            try db.execute(sql: "INSERT INTO run_map (old, new) VALUES (?, ?)", arguments: [run["id"], db.lastInsertedRowID])
                        }
                        // A part of an older schema lacks the newer columns: they are copied as NULL.
                        let columns = try db.columns(in: "__wadup_content", in: "main").map(\.name)
                        let present = Set(try db.columns(in: "__wadup_content", in: "part").map(\.name))
                        let selected = columns.map { present.contains($0) ? SQL.quoted($0) : "NULL" }.joined(separator: ", ")
                        try db.execute(
                            sql: "INSERT INTO main.__wadup_content (\(columns.map(SQL.quoted).joined(separator: ", "))) SELECT \(selected) FROM part.__wadup_content")
                        contents += db.changesCount
                        try db.execute(sql: "INSERT INTO main.__wadup_input (path, root_uuid, run_id) SELECT i.path, i.root_uuid, m.new FROM part.__wadup_input i JOIN run_map m ON m.old = i.run_id")
                        if try db.tableExists("__wadup_tables", in: "part") {
                            try db.execute(sql: "INSERT OR IGNORE INTO main.__wadup_tables SELECT name, module FROM part.__wadup_tables")
                        }
                        for name in try SQLiteStore.moduleTableNames(db, schema: "part") {
                            if try !db.tableExists(name, in: "main") {
                                let create = try String.fetchOne(db, sql: "SELECT sql FROM part.sqlite_master WHERE type = 'table' AND name = ?", arguments: [name])!
                                try db.execute(sql: create)
                            }
                            try db.execute(sql: "INSERT INTO main.\(SQL.quoted(name)) SELECT * FROM part.\(SQL.quoted(name))")
                        }
                        for m in try Row.fetchAll(db, sql: "SELECT * FROM part.__wadup_modules") {
                            let name: String = m["name"]
                            var total = modules[name] ?? (m["sha256"], m["size"], 0, 0, 0, 0, 0, m["data_sha256"], m["runtime"])
                            total.offered += m["offered"] ?? 0
                            total.accepted += m["accepted"] ?? 0
                            total.runs += m["runs"]
                            total.failures += m["failures"]
                            total.ms += m["total_time_ms"]
                            modules[name] = total
                        }
                        try db.execute(sql: "DROP TABLE run_map")
                        return .commit
                    }
                    try db.execute(sql: "DETACH DATABASE part")
                }
                try db.inTransaction {
                    for (name, m) in modules.sorted(by: { $0.key < $1.key }) {
                        try db.execute(
                            sql: """
                                INSERT INTO __wadup_modules (name, sha256, size, runs, failures, total_time_ms, offered, accepted, data_sha256, runtime)
                                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                                """,
                            arguments: [name, m.sha256, m.size, m.runs, m.failures, m.ms, m.offered, m.accepted, m.dataSha256, m.runtime])
                    }
                    try SQLiteStore.createIndexes(db, moduleTables: try SQLiteStore.moduleTableNames(db))
                    return .commit
                }
            }
            return Summary(parts: parts.count, contents: contents, inputs: inputs.count)
        } catch {
            try? FileManager.default.removeItem(atPath: output)
            throw Refusal(message: "\(output): cannot write the merged database: \(error)")
        }
    }
}
