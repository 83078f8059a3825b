import Synchronization

/// Every module table of a run: one id per table name, shared by all modules and threads.
///
/// `define_table` must answer at once, inside the guest's call, so the registry decides ids and
/// conflicts in memory; the store learns of each new table through `onNewTable` before any row of it.
public final class TableRegistry: Sendable {
    public struct Entry: Sendable {
        public let id: Int32
        public let schema: TableSchema
        public let definedBy: String
    }

    /// The outcome of a definition that was refused because the name is taken with other columns.
    public struct Conflict: Error, Sendable, CustomStringConvertible {
        public let existing: Entry
        public let requested: TableSchema
        public let requestedBy: String
        public var description: String {
            "table \(requested.name) is defined as \(existing.schema.signature) by module \(existing.definedBy); "
                + "module \(requestedBy) asked for \(requested.signature)"
        }
    }

    private struct State {
        var byName: [String: Entry] = [:]
        var byID: [Entry] = []
    }

    private let state = Mutex(State())
    private let onNewTable: @Sendable (TableSchema, Int32, String) -> Void

    /// - Parameter onNewTable: called once per new table with the module that defined it, under the
    ///   registry's lock, so the table is announced before any id for it is handed out.
    /// - Parameter existing: tables of an earlier attempt of the run, given ids in order.
    public init(existing: [TableSchema] = [], onNewTable: @escaping @Sendable (TableSchema, Int32, String) -> Void = { _, _, _ in }) {
        self.onNewTable = onNewTable
        state.withLock { state in
            for schema in existing {
                let entry = Entry(id: Int32(state.byID.count), schema: schema, definedBy: "an earlier attempt of this run")
                state.byName[schema.name.lowercased()] = entry
                state.byID.append(entry)
            }
        }
    }

    /// Returns the id of `schema`, defining it if new; identical definitions share one id.
    public func define(_ schema: TableSchema, by module: String) -> Result<Int32, Conflict> {
        state.withLock { state in
            let key = schema.name.lowercased()
            if let existing = state.byName[key] {
                return existing.schema == schema
                    ? .success(existing.id) : .failure(Conflict(existing: existing, requested: schema, requestedBy: module))
            }
            let entry = Entry(id: Int32(state.byID.count), schema: schema, definedBy: module)
            state.byName[key] = entry
            state.byID.append(entry)
            onNewTable(schema, entry.id, module)
            return .success(entry.id)
        }
    }

    /// The schema of table `id`, if defined.
    public func schema(for id: Int32) -> TableSchema? {
        state.withLock { id >= 0 && Int(id) < $0.byID.count ? $0.byID[Int(id)].schema : nil }
    }

    /// Every table, in id order.
    public var all: [Entry] { state.withLock { $0.byID } }
}
