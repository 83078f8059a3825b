import Foundation
import GRDB
import Logging
import Synchronization
import Testing
import WADUPCore
import WADUPPipeline
import WADUPTestSupport

/// The scheduler, seen through the pipeline that owns it (it is internal to `WADUPPipeline`, and
/// these tests build in release, where `@testable` imports are not available): the order contents
/// are processed in, several workers sharing trees, cancellation, and inputs left out.
///
/// The probe module numbers the contents its instance processes (one instance per worker, reused
/// from one content to the next), so a run's `seq` table is the order each worker took its work in.
@Suite(.serialized)
struct SchedulerTests {
    /// Records `n` (1, 2, … per instance) in `seq`, burns `burn` loop iterations, then emits the two
    /// halves of its content (slices `L` and `R`) if it is longer than one byte.
    static func probe(burn: Int = 0) -> String {
        let columns = #"[{"name":"n","data_type":"Int64"}]"#
        return #"""
            (module
              (import "env" "get_content_size" (func $size (result i32)))
              (import "env" "define_table" (func $define (param i32 i32 i32 i32) (result i32)))
              (import "env" "insert_row" (func $insert (param i32 i32 i32) (result i32)))
              (import "env" "emit_subcontent_slice" (func $emit_slice (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 100) "seq")
              (data (i32.const 110) "L")
              (data (i32.const 120) "R")
              (data (i32.const 200) "\#(columns.replacingOccurrences(of: "\"", with: "\\\""))")
              (data (i32.const 1000) "[{\"Int64\":")
              (global $n (mut i64) (i64.const 0))
              \#(GuestModule.decimalDigitsFunction)
              (func (export "process") (result i32)
                (local $len i32) (local $i i32) (local $half i32)
                (global.set $n (i64.add (global.get $n) (i64.const 1)))
                (local.set $i (i32.const \#(burn)))
                (block $done (loop $again
                  (br_if $done (i32.eqz (local.get $i)))
                  (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                  (br $again)))
                ;; the row [{"Int64":n}] at 1000
                (local.set $len (i32.add (i32.const 10) (call $digits (i32.const 1010) (global.get $n))))
                (i32.store8 (i32.add (i32.const 1000) (local.get $len)) (i32.const 0x7d))
                (i32.store8 (i32.add (i32.const 1001) (local.get $len)) (i32.const 0x5d))
                (if (call $insert (call $define (i32.const 100) (i32.const 3) (i32.const 200) (i32.const \#(columns.utf8.count)))
                      (i32.const 1000) (i32.add (local.get $len) (i32.const 2)))
                  (then (return (i32.const 1))))
                (if (i32.gt_u (call $size) (i32.const 1)) (then
                  (local.set $half (i32.shr_u (call $size) (i32.const 1)))
                  (drop (call $emit_slice (i32.const 0) (local.get $half) (i32.const 110) (i32.const 1)))
                  (drop (call $emit_slice (local.get $half) (i32.sub (call $size) (local.get $half)) (i32.const 120) (i32.const 1)))))
                (i32.const 0)))
            """#
    }

    /// Each processed content as `path n`, where `n` is its place in its worker's order.
    static func order(_ outcome: Harness.Outcome) throws -> [(path: String, n: Int)] {
        let contents = Dictionary(uniqueKeysWithValues: try outcome.contents().map { ($0.uuid, $0) })
        func path(_ uuid: String) -> String {
            var names: [String] = []
            var next: String? = uuid
            while let u = next, let c = contents[u] {
                names.insert(c.filename, at: 0)
                next = c.parentUUID
            }
            return names.joined(separator: "/")
        }
        return try outcome.db.read { db in
            try Row.fetchAll(db, sql: "SELECT content_uuid, n FROM seq ORDER BY n").map { (path($0["content_uuid"]), $0["n"]) }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aTreeIsProcessedDepthFirstFirstEmittedFirstBeforeTheNextInput(engine: EngineKind) throws {
        let outcome = try Harness.run(modules: [("probe", Self.probe())], inputs: [("1", Array("abcd".utf8)), ("2", Array("xy".utf8)), ("3", [0])], engine: engine)
        let order = try Self.order(outcome)
        #expect(order.map(\.n) == Array(1...11), "one worker, one instance: every content once, in order")
        #expect(order.map(\.path) == ["1", "1/L", "1/L/L", "1/L/R", "1/R", "1/R/L", "1/R/R", "2", "2/L", "2/R", "3"])
    }

    /// A tree far larger than one worker's share: the idle workers take its sub-contents from the
    /// worker that emitted them (the oldest, shallowest first), and every content is processed once.
    @Test func idleWorkersTakeSubContentsFromAnotherWorkersTree() throws {
        // 2^10 leaves: 2,047 contents from one input, each a few hundred microseconds of work.
        // Every occurrence processed (dedup off): the halves of 1,024 equal bytes are equal.
        let outcome = try Harness.run(
            modulesDirectory: try Harness.modules([("probe", Self.probe(burn: 1_000_000))]), input: try Harness.inputs([("big", [UInt8](repeating: 7, count: 1024))]),
            threads: 4, dedup: false, engine: .wasmtime)
        #expect(outcome.summary.outcome == .complete)
        let order = try Self.order(outcome)
        #expect(order.count == 2047)
        #expect(Set(order.map(\.path)).count == 2047, "a content was processed twice")
        // Each worker's instance numbers from 1: several 1s mean several workers took part of the tree.
        let workers = order.filter { $0.n == 1 }.count
        #expect(workers > 1, "one worker processed the whole tree while \(4 - workers) waited")
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_content") == [2047])
    }

    @Test(arguments: EngineKind.allCases)
    func fourWorkersProcessEveryContentOfManyTreesExactlyOnce(engine: EngineKind) throws {
        let files = (0..<40).map { (name: "d\($0 % 5)/f\($0)", bytes: (0..<($0 % 9 + 1)).map { UInt8($0) }) }
        let outcome = try Harness.run(
            modulesDirectory: try Harness.modules([("probe", Self.probe())]), input: try Harness.inputs(files), threads: 4, dedup: false, engine: engine)
        #expect(outcome.summary.outcome == .complete)
        // A content of n bytes is a tree of 2n - 1 contents (dedup off: their equal leaves are each processed).
        let expected = files.map { 2 * $0.bytes.count - 1 }.reduce(0, +)
        let order = try Self.order(outcome)
        #expect(order.count == expected)
        #expect(Set(order.map(\.path)).count == expected)
        #expect(outcome.summary.statistics.contents == expected)
        #expect(outcome.summary.abandoned == 0)
    }

    /// Cancelled mid-tree (on WasmKit, which lets a module-run in progress finish): no new work is
    /// taken, and the sub-contents still queued are reported as abandoned.
    @Test func aCancelledRunTakesNoNewWorkAndReportsQueuedSubContentsAsAbandoned() throws {
        let pipeline = try Harness.pipeline(
            modulesDirectory: try Harness.modules([("probe", Self.probe(burn: 100_000))]), input: try Harness.inputs([("big", [UInt8](repeating: 1, count: 1024)), ("next", [2])]),
            dedup: false, engine: .wasmkit)
        final class Ended: @unchecked Sendable {  // Safe: written before `done` is signalled, read after.
            var summary: Result<RunSummary, WADUPError>?
        }
        let ended = Ended()
        let done = DispatchSemaphore(value: 0)
        Thread {
            ended.summary = Result { () throws(WADUPError) in try pipeline.run() }
            done.signal()
        }.start()
        let deadline = Date().addingTimeInterval(60)
        while pipeline.statistics.snapshot.contents < 5 && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
        let before = pipeline.statistics.snapshot.contents
        pipeline.cancel()
        #expect(done.wait(timeout: .now() + 30) == .success, "the cancelled run did not end")
        let summary = try #require(ended.summary).get()
        #expect(summary.outcome == .interrupted)
        // One worker: at most the content in progress (and one it had just taken) finished after the cancel.
        #expect(summary.statistics.contents <= before + 2)
        #expect(summary.statistics.contents < 2047)
        #expect(summary.abandoned > 0, "the queued sub-contents were not reported")
        #expect(summary.statistics.inputs == 1, "the next input was started after the cancel")
    }

    @Test(arguments: EngineKind.allCases)
    func aRunCancelledBeforeItStartsTakesNoWork(engine: EngineKind) throws {
        let pipeline = try Harness.pipeline(
            modulesDirectory: try Harness.modules([("probe", Self.probe())]), input: try Harness.inputs([("a", [1, 2]), ("b", [3])]), engine: engine)
        pipeline.cancel()
        let outcome = try Harness.outcome(of: pipeline)
        #expect(outcome.summary.outcome == .interrupted)
        #expect(outcome.summary.statistics.contents == 0)
        #expect(try outcome.ints("SELECT count(*) FROM __wadup_content") == [0])
    }

    /// Log messages, kept.
    final class Messages: @unchecked Sendable {  // Safe: `lock` guards `list`.
        private let lock = NSLock()
        private var list: [String] = []
        func append(_ message: String) { lock.withLock { list.append(message) } }
        var all: [String] { lock.withLock { list } }
    }

    struct KeepingHandler: LogHandler {
        let messages: Messages
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            messages.append("\(event.message)")
        }
    }

    /// The run's own output inside its input: the walk leaves it out, and the run says so.
    @Test func theRunsOwnOutputInsideItsInputIsLeftOutAndSaidSo() throws {
        let input = try Harness.inputs([("a", [1]), ("sub/b", [2])])
        let messages = Messages()
        let logger = Logger(label: "wadup-test") { _ in KeepingHandler(messages: messages) }
        let pipeline = try Harness.pipeline(
            modulesDirectory: try Harness.modules([("probe", Self.probe())]), input: input, engine: .wasmtime, logger: logger, output: input + "/out.db")
        let outcome = try Harness.outcome(of: pipeline)
        #expect(try outcome.strings("SELECT filename FROM __wadup_content WHERE depth = 0 ORDER BY filename") == ["a", "sub/b"])
        #expect(messages.all.contains("left out \(input)/out.db: the output database of this run"), "\(messages.all)")
    }
}

/// The scheduler on its own, driven by hand as workers drive it: which item each `next` returns.
extension SchedulerTests {
    /// Inputs named `names`, then `done` (after `later` `laters` times, as a shared run's queue answers).
    struct ListedInputs: InputSource {
        var names: [String]
        var laters = 0
        var excluded: [(path: String, reason: String)] = [("out.db", "the output database of this run")]

        mutating func nextInput() -> InputSourceResult {
            if laters > 0 {
                laters -= 1
                return .later
            }
            guard !names.isEmpty else { return .done }
            return .input(.record(name: InputName(bytes: Array(names.removeFirst().utf8)), reason: "listed", size: nil))
        }
    }

    static let tree = InputTree(name: InputName(bytes: Array("a".utf8)), limits: RunLimits())

    static func child(_ name: String, depth: Int = 1) -> PendingContent {
        PendingContent(uuid: UUID(), filename: name, parentUUID: nil, depth: depth, data: ContentBuffer(Array(name.utf8)), tree: tree)
    }

    /// What an item is, as text: an input's path or a sub-content's name.
    static func name(_ item: WorkItem?) -> String? {
        switch item {
        case .input(let input)?: String(decoding: input.name.bytes, as: UTF8.self)
        case .child(let content)?: content.filename
        case nil: nil
        }
    }

    @Test func subContentsComeFirstEmittedFirstAndDepthFirstBeforeTheNextInput() {
        let scheduler = Scheduler(workers: 1, inputs: ListedInputs(names: ["a", "b"]))
        var order: [String] = []
        var children: [String: [PendingContent]] = ["a": [Self.child("a/1"), Self.child("a/2")], "a/1": [Self.child("a/1/x", depth: 2)]]
        while let item = scheduler.next(worker: 0) {
            let name = Self.name(item)!
            order.append(name)
            scheduler.finished(worker: 0, children: children.removeValue(forKey: name) ?? [])
        }
        #expect(order == ["a", "a/1", "a/1/x", "a/2", "b"])
        #expect(scheduler.pendingCount == 0)
    }

    @Test func anIdleWorkerStealsTheOldestQueuedSubContentBeforeOpeningAnInput() {
        let scheduler = Scheduler(workers: 2, inputs: ListedInputs(names: ["a", "b"]))
        #expect(Self.name(scheduler.next(worker: 0)) == "a")
        scheduler.finished(worker: 0, children: [Self.child("a/1"), Self.child("a/2"), Self.child("a/3")])
        // Worker 1 has nothing of its own: it takes from the front of worker 0's deque (the last
        // emitted, the shallowest end), leaving worker 0 its first sub-content.
        #expect(Self.name(scheduler.next(worker: 1)) == "a/3")
        #expect(Self.name(scheduler.next(worker: 0)) == "a/1")
        scheduler.finished(worker: 0, children: [])
        scheduler.finished(worker: 1, children: [])
        #expect(Self.name(scheduler.next(worker: 1)) == "a/2")
        scheduler.finished(worker: 1, children: [])
        #expect(Self.name(scheduler.next(worker: 0)) == "b")
        scheduler.finished(worker: 0, children: [])
        #expect(scheduler.next(worker: 0) == nil)
        #expect(scheduler.next(worker: 1) == nil)
    }

    @Test func aWorkerWithNothingToDoWaitsForTheSubContentAnotherWorkerIsProducing() async {
        let scheduler = Scheduler(workers: 2, inputs: ListedInputs(names: ["a"]))
        #expect(Self.name(scheduler.next(worker: 0)) == "a")
        // Worker 1 finds no input and no sub-content, but worker 0 is busy: it waits instead of ending.
        let waiting = Task.detached { Self.name(scheduler.next(worker: 1)) }
        try? await Task.sleep(for: .milliseconds(100))
        scheduler.finished(worker: 0, children: [Self.child("a/1")])
        #expect(await waiting.value == "a/1")
        scheduler.finished(worker: 1, children: [])
        #expect(scheduler.next(worker: 0) == nil)
    }

    @Test func cancelEndsEveryWorkerAndCountsTheSubContentsAbandoned() {
        let scheduler = Scheduler(workers: 2, inputs: ListedInputs(names: ["a", "b"]))
        #expect(Self.name(scheduler.next(worker: 0)) == "a")
        scheduler.finished(worker: 0, children: [Self.child("a/1"), Self.child("a/2")])
        scheduler.cancel()
        #expect(scheduler.next(worker: 0) == nil)
        #expect(scheduler.next(worker: 1) == nil)
        #expect(scheduler.pendingCount == 2)
    }

    @Test func aQueueThatAnswersLaterIsAskedAgainAndItsExclusionsAreReported() {
        let scheduler = Scheduler(workers: 1, inputs: ListedInputs(names: ["a"], laters: 2))
        #expect(Self.name(scheduler.next(worker: 0)) == "a")
        scheduler.finished(worker: 0, children: [])
        #expect(scheduler.next(worker: 0) == nil)
        #expect(scheduler.excludedInputs.map(\.path) == ["out.db"])
    }
}
