import Foundation
import Testing
import WADUPCore

/// `TableRegistry`: the ids `define_table` answers, shared tables, refused conflicts, the tables a
/// resumed run starts with, and the announcement of each new table to the store.
struct TableRegistryTests {
    /// What `onNewTable` was told, in order.
    final class Announcements: @unchecked Sendable {  // Safe: `lock` guards `list`.
        private let lock = NSLock()
        private var list: [(name: String, id: Int32, module: String)] = []

        func record(_ schema: TableSchema, _ id: Int32, _ module: String) { lock.withLock { list.append((schema.name, id, module)) } }
        var all: [(name: String, id: Int32, module: String)] { lock.withLock { list } }
        func contains(id: Int32) -> Bool { lock.withLock { list.contains { $0.id == id } } }
    }

    static func table(_ name: String, _ columns: [(String, ColumnType)] = [("v", .int64), ("s", .string)]) -> TableSchema {
        TableSchema(name: name, columns: columns.map { Column(name: $0.0, type: $0.1) })
    }

    static func id(_ result: Result<Int32, TableRegistry.Conflict>) -> Int32? {
        if case .success(let id) = result { id } else { nil }
    }

    static func conflict(_ result: Result<Int32, TableRegistry.Conflict>) -> TableRegistry.Conflict? {
        if case .failure(let conflict) = result { conflict } else { nil }
    }

    @Test func tablesGetIDsFromZeroInTheOrderTheyAreFirstDefined() {
        let announced = Announcements()
        let registry = TableRegistry { announced.record($0, $1, $2) }
        #expect(Self.id(registry.define(Self.table("alpha"), by: "m")) == 0)
        #expect(Self.id(registry.define(Self.table("beta", [("x", .float64)]), by: "n")) == 1)
        #expect(Self.id(registry.define(Self.table("gamma"), by: "m")) == 2)
        #expect(registry.all.map(\.id) == [0, 1, 2])
        #expect(registry.all.map(\.schema.name) == ["alpha", "beta", "gamma"])
        #expect(registry.all.map(\.definedBy) == ["m", "n", "m"])
        #expect(registry.schema(for: 1) == Self.table("beta", [("x", .float64)]))
        #expect(registry.schema(for: 3) == nil)
        #expect(registry.schema(for: -1) == nil)
        #expect(announced.all.map { "\($0.name) \($0.id) \($0.module)" } == ["alpha 0 m", "beta 1 n", "gamma 2 m"])
    }

    @Test func aTableDefinedIdenticallyByTwoModulesIsSharedAndAnnouncedOnce() {
        let announced = Announcements()
        let registry = TableRegistry { announced.record($0, $1, $2) }
        #expect(Self.id(registry.define(Self.table("shared"), by: "a")) == 0)
        #expect(Self.id(registry.define(Self.table("shared"), by: "b")) == 0)
        #expect(Self.id(registry.define(Self.table("shared"), by: "a")) == 0)
        #expect(registry.all.count == 1)
        #expect(registry.all.first?.definedBy == "a", "the first module to define it is named")
        #expect(announced.all.map(\.module) == ["a"])
    }

    @Test(arguments: [
        ("other type", TableRegistryTests.table("t", [("v", .string), ("s", .string)])),
        ("other column name", TableRegistryTests.table("t", [("w", .int64), ("s", .string)])),
        ("one column fewer", TableRegistryTests.table("t", [("v", .int64)])),
        ("one column more", TableRegistryTests.table("t", [("v", .int64), ("s", .string), ("x", .float64)])),
        ("columns in another order", TableRegistryTests.table("t", [("s", .string), ("v", .int64)])),
        // SQLite's names ignore case: `T` is the table `t`, and only an identical definition shares it.
        ("the name in other case", TableRegistryTests.table("T")),
    ])
    func aConflictingDefinitionIsRefusedNamingBothModulesAndTheFirstStands(difference: String, other: TableSchema) throws {
        let announced = Announcements()
        let registry = TableRegistry { announced.record($0, $1, $2) }
        let first = Self.table("t")
        #expect(Self.id(registry.define(first, by: "first")) == 0)
        let conflict = try #require(Self.conflict(registry.define(other, by: "second")), "\(difference)")
        #expect(conflict.existing.id == 0)
        #expect(conflict.existing.schema == first)
        #expect(conflict.existing.definedBy == "first")
        #expect(conflict.requested == other)
        #expect(conflict.requestedBy == "second")
        #expect(conflict.description == "table \(other.name) is defined as \(first.signature) by module first; module second asked for \(other.signature)")
        // Refused, not redefined: the first definition keeps its id and is still shared.
        #expect(registry.all.map(\.schema) == [first])
        #expect(announced.all.count == 1)
        #expect(Self.id(registry.define(first, by: "third")) == 0)
    }

    @Test func theSignatureNamesEveryColumnWithItsType() {
        #expect(Self.table("t", [("v", .int64), ("s", .string), ("f", .float64)]).signature == "t(v Int64, s String, f Float64)")
    }

    @Test func aResumedRunsTablesKeepTheirIDsAndNewTablesFollowThem() throws {
        let announced = Announcements()
        let earlier = [Self.table("x"), Self.table("y", [("n", .int64)])]
        let registry = TableRegistry(existing: earlier) { announced.record($0, $1, $2) }
        #expect(registry.all.map(\.id) == [0, 1])
        #expect(registry.all.map(\.definedBy) == ["an earlier attempt of this run", "an earlier attempt of this run"])
        #expect(announced.all.isEmpty, "the store already has them")
        // The same definition again (the same module in the resumed attempt) is the same table.
        #expect(Self.id(registry.define(Self.table("x"), by: "m")) == 0)
        #expect(Self.id(registry.define(Self.table("Y", [("n", .int64)]), by: "m")) == nil)
        #expect(Self.id(registry.define(Self.table("z"), by: "m")) == 2)
        #expect(announced.all.map { "\($0.name) \($0.id) \($0.module)" } == ["z 2 m"])
        let conflict = try #require(Self.conflict(registry.define(Self.table("y", [("n", .string)]), by: "m")))
        #expect(conflict.existing.definedBy == "an earlier attempt of this run")
        #expect(conflict.existing.id == 1)
    }

    /// Many threads defining the same tables at once (as workers do): one id per table, one
    /// announcement per table, and each announced before its id is handed out.
    @Test func definitionsFromManyThreadsGiveOneIDAndOneAnnouncementPerTable() {
        let announced = Announcements()
        let registry = TableRegistry { announced.record($0, $1, $2) }
        let names = (0..<50).map { "table_\($0)" }
        final class Answers: @unchecked Sendable {  // Safe: `lock` guards `ids` and `early`.
            let lock = NSLock()
            var ids: [String: Set<Int32>] = [:]
            var early = 0
        }
        let answers = Answers()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for name in names.shuffled() + names.reversed() {
                guard let id = Self.id(registry.define(Self.table(name), by: "worker-\(thread)")) else { continue }
                let known = announced.contains(id: id)
                answers.lock.withLock {
                    answers.ids[name, default: []].insert(id)
                    if !known { answers.early += 1 }
                }
            }
        }
        let ids = answers.lock.withLock { answers.ids }
        #expect(ids.count == 50)
        #expect(ids.values.allSatisfy { $0.count == 1 }, "one id per table whichever thread asked")
        #expect(Set(ids.values.flatMap { $0 }) == Set(0..<50))
        #expect(announced.all.count == 50)
        #expect(Set(announced.all.map(\.name)) == Set(names))
        #expect(answers.lock.withLock { answers.early } == 0, "an id was handed out before its table was announced")
        #expect(registry.all.map(\.id) == Array(0..<50))
    }
}
