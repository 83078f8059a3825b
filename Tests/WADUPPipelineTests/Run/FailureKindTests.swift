import Foundation
import Testing
import WADUPCore
import WADUPTestSupport

/// Each limit and failure kind, recorded as data while the run goes on.
struct FailureKindTests {
    /// The module after a failing one: it records that it ran, and on which content.
    static let after = GuestModule(
        strings: ["t": "after_m", "c": #"[{"name":"ran","data_type":"Int64"}]"#, "r": #"[{"Int64":1}]"#],
        body: "(call $insert (call $define @t @c) @r)")

    /// Runs `body` as module `m` and then module `z` on one content; the content's error message.
    /// Whatever `m` did, the run completes and `z` ran on the same content (its row is there).
    func failureMessage(_ body: String, limits: RunLimits = RunLimits(), functions: String = "", engine: EngineKind) throws -> String? {
        var module = GuestModule(body: body)
        module.functions = functions
        let outcome = try Harness.run(modules: [("m", module.text), ("z", Self.after.text)], inputs: [("a", [1, 2, 3])], limits: limits, engine: engine)
        #expect(outcome.summary.outcome == .complete)
        let contents = try outcome.contents()
        let root = try #require(contents.first)
        #expect(contents.count == 1)
        #expect(root.status == (root.errorMessage == nil ? "success" : "failed"))
        #expect(try outcome.strings("SELECT content_uuid || ' ' || ran FROM after_m") == ["\(root.uuid) 1"], "the module after m did not run on the content")
        #expect(root.errorMessage?.contains("z: ") != true, "the module after m failed: \(root.errorMessage ?? "")")
        return root.errorMessage
    }

    @Test(arguments: EngineKind.allCases) func runawayLoopIsStoppedByFuel(engine: EngineKind) throws {
        #expect(try failureMessage("(loop $l (br $l)) (i32.const 0)", limits: RunLimits(fuel: 100_000), engine: engine) == "m: fuel_exhausted: all 100000 fuel consumed")
    }

    @Test(arguments: EngineKind.allCases) func fuelIsResetBeforeEveryContent(engine: EngineKind) throws {
        // 3 contents, each needing about 70% of the budget: all succeed only if fuel is reset per content.
        let module = GuestModule(body: """
            (local $i i32) (local.set $i (i32.const 10000))
            (loop $l (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $l (local.get $i)))
            (i32.const 0)
            """.replacingOccurrences(of: "(local $i i32) ", with: ""))
        var text = module.text.replacingOccurrences(of: "(func (export \"process\") (result i32)", with: "(func (export \"process\") (result i32) (local $i i32)")
        text = text.replacingOccurrences(of: "(local $i i32) (local $i i32)", with: "(local $i i32)")
        let outcome = try Harness.run(modules: [("m", text)], inputs: [("a", [1]), ("b", [2]), ("c", [3])], limits: RunLimits(fuel: 100_000), engine: engine)
        #expect(try outcome.contents().map(\.status) == ["success", "success", "success"])
    }

    /// A module that never returns, with no fuel limit: wasmtime stops it at `--timeout` and the
    /// next module still runs on the same content.
    @Test func aRunPastTheTimeoutFailsWithKindTimeout() throws {
        let start = Date()
        let message = try failureMessage("(loop $l (br $l)) (i32.const 0)", limits: RunLimits(timeout: 0.3), engine: .wasmtime)
        #expect(message == "m: timeout: 0.3 s")
        #expect(Date().timeIntervalSince(start) < 5)
    }

    /// The time limit grows with the content: one second per 8 MiB (a 16 MiB content gets 2 s more),
    /// and the detail says how it was reached.
    @Test func aLargeContentGetsOneMoreSecondPerEightMiBAndTheDetailSaysSo() throws {
        let size = 16 << 20
        let outcome = try Harness.run(modules: [("m", GuestModule(body: "(loop $l (br $l)) (i32.const 0)").text)],
                                      inputs: [("big", [UInt8](repeating: 7, count: size))], limits: RunLimits(timeout: 0.3), engine: .wasmtime)
        let message = try #require(try outcome.contents().first?.errorMessage)
        #expect(message == "m: timeout: 2.3 s (0.3 s + 1 s per 8 MiB of the \(size)-byte content)")
        #expect(RunLimits(timeout: 60).timeout(forContentSize: 4 << 30) == 572)
        #expect(RunLimits(timeout: 60).timeout(forContentSize: (8 << 20) - 1) == 60)
        #expect(RunLimits(timeout: nil).timeout(forContentSize: 4 << 30) == nil)
    }

    @Test(arguments: EngineKind.allCases) func refusedGrowthThenTrapIsMemoryLimit(engine: EngineKind) throws {
        let message = try failureMessage("(if (i32.lt_s (memory.grow (i32.const 4)) (i32.const 0)) (then unreachable)) (i32.const 0)", limits: RunLimits(maxMemory: 65536 * 2), engine: engine)
        #expect(message == "m: memory_limit: memory growth past the memory limit of 131072 bytes was refused, then trap: unreachable")
    }

    @Test(arguments: EngineKind.allCases) func refusedGrowthThatTheModuleHandlesIsNotAFailure(engine: EngineKind) throws {
        #expect(try failureMessage("(drop (memory.grow (i32.const 4))) (i32.const 0)", limits: RunLimits(maxMemory: 65536 * 2), engine: engine) == nil)
    }

    @Test(arguments: EngineKind.allCases) func growthWithinTheLimitSucceeds(engine: EngineKind) throws {
        #expect(try failureMessage("(i32.eq (memory.grow (i32.const 1)) (i32.const -1))", limits: RunLimits(maxMemory: 65536 * 2), engine: engine) == nil)
    }

    /// A stack larger than a thread's default (8 MiB): the worker's own stack is sized from it, so
    /// the guest exhausts its wasm stack, never the host's.
    @Test(arguments: EngineKind.allCases) func aLargeStackLimitIsStillAStackOverflowNotACrash(engine: EngineKind) throws {
        let message = try failureMessage("(call $r (i32.const 0))", limits: RunLimits(maxStack: 32 << 20), functions: "(func $r (param i32) (result i32) (call $r (i32.add (local.get 0) (i32.const 1))))", engine: engine)
        #expect(message == "m: stack_overflow: call stack exhausted (stack limit \(32 << 20) bytes)")
    }

    /// Rows wait in host memory until the run succeeds: past `maxRows` inserts get `limit_reached`
    /// (-9) and the module decides; here it stops and succeeds with the rows it had.
    @Test(arguments: EngineKind.allCases) func insertsPastTheRowLimitAreRefusedWithLimitReached(engine: EngineKind) throws {
        let module = GuestModule(strings: ["t": "t", "c": #"[{"name":"v","data_type":"Int64"}]"#, "r": #"[{"Int64":1}]"#], body: """
            (local.set $t (call $define @t @c))
            (block $done (loop $l
              (br_if $done (local.tee $code (call $insert (local.get $t) @r)))
              (br $l)))
            (i32.ne (local.get $code) (i32.const \(ABIError.limitReached.rawValue)))
            """)
        let text = module.text(locals: "(local $t i32) (local $code i32)")
        let outcome = try Harness.run(modules: [("m", text)], inputs: [("a", [1])], limits: RunLimits(maxRows: 10), engine: engine)
        #expect(try outcome.contents().map(\.status) == ["success"])
        #expect(try outcome.ints("SELECT count(*) FROM t") == [10])
    }

    @Test(arguments: EngineKind.allCases) func infiniteRecursionIsStackOverflow(engine: EngineKind) throws {
        let message = try failureMessage("(call $r (i32.const 0))", limits: RunLimits(maxStack: 64 << 10), functions: "(func $r (param i32) (result i32) (call $r (i32.add (local.get 0) (i32.const 1))))", engine: engine)
        #expect(message == "m: stack_overflow: call stack exhausted (stack limit 65536 bytes)")
    }

    @Test(arguments: EngineKind.allCases, [
        ("unreachable", "m: trap: unreachable"),
        ("(i32.div_u (i32.const 1) (i32.const 0))", "m: trap: integer divide by zero"),
        ("(i32.load (i32.const 70000))", "m: trap: out of bounds memory access"),
    ])
    func trapsKeepTheirFirstLine(engine: EngineKind, trap: (body: String, expected: String)) throws {
        #expect(try failureMessage(trap.body, engine: engine) == trap.expected)
    }

    @Test(arguments: EngineKind.allCases) func nonzeroReturnRecordsTheCode(engine: EngineKind) throws {
        #expect(try failureMessage("(i32.const 3)", engine: engine) == "m: nonzero_return: process returned 3")
    }

    @Test(arguments: EngineKind.allCases) func aNonzeroReturnSaysWhatTheModuleLastLoggedAtErrorLevel(engine: EngineKind) throws {
        let module = GuestModule(strings: ["w": "a warning", "e1": "first error", "e2": "ValueError: bad header"], body: """
            (drop (call $log (i32.const 3) @e1)) (drop (call $log (i32.const 2) @w)) (drop (call $log (i32.const 3) @e2))
            (i32.const 1)
            """)
        let outcome = try Harness.run(modules: [("m", module.text)], inputs: [("a", [1])], engine: engine)
        #expect(try outcome.contents().map(\.errorMessage) == ["m: nonzero_return: process returned 1: ValueError: bad header"])
    }

    @Test(arguments: EngineKind.allCases) func aFailedRunKeepsNoRowsAndNoSubcontent(engine: EngineKind) throws {
        let module = GuestModule(strings: ["t": "t", "c": #"[{"name":"v","data_type":"Int64"}]"#, "r": #"[{"Int64":1}]"#, "n": "kid"], body: """
            (drop (call $insert (call $define @t @c) @r))
            (drop (call $emit_slice (i32.const 0) (i32.const 1) @n))
            (i32.const 1)
            """)
        let outcome = try Harness.run(modules: [("m", module.text)], inputs: [("a", [1, 2])], engine: engine)
        #expect(try outcome.contents().count == 1)
        #expect(try outcome.ints("SELECT count(*) FROM t") == [0])
    }

    @Test(arguments: EngineKind.allCases) func everyFailedModuleIsNamedInOrder(engine: EngineKind) throws {
        let a = GuestModule(body: "unreachable")
        let b = GuestModule(body: "(i32.const 0)")
        let c = GuestModule(body: "(i32.const 7)")
        let outcome = try Harness.run(modules: [("a", a.text), ("b", b.text), ("c", c.text)], inputs: [("f", [0])], engine: engine)
        #expect(try outcome.contents().map(\.errorMessage) == ["a: trap: unreachable; c: nonzero_return: process returned 7"])
        #expect(outcome.summary.statistics.failureKinds == [.trap: 1, .nonzeroReturn: 1])
    }

    @Test(arguments: EngineKind.allCases, [
        ("unreachable", "m: trap: unreachable"),
        ("(return (i32.const 7))", "m: nonzero_return: process returned 7"),
    ])
    func anInstanceIsReusedAndRebuiltAfterAnyFailure(engine: EngineKind, failure: (code: String, message: String)) throws {
        // A global counts the contents an instance has seen; the instance fails on its second content.
        var module = GuestModule(body: """
            (global.set $n (i32.add (global.get $n) (i32.const 1)))
            (if (i32.eq (global.get $n) (i32.const 2)) (then \(failure.code)))
            (i32.const 0)
            """)
        module.globals = "(global $n (mut i32) (i32.const 0))"
        let outcome = try Harness.run(modules: [("m", module.text)], inputs: (0..<4).map { ("f\($0)", [UInt8($0)]) }, engine: engine)
        // 1st: n = 1; 2nd: n = 2 (the instance was reused), fails, is discarded; 3rd: n = 1 again (a new instance).
        #expect(try outcome.contents().map(\.errorMessage) == [nil, failure.message, nil, failure.message])
    }

    @Test(arguments: EngineKind.allCases) func moduleStatisticsAreRecorded(engine: EngineKind) throws {
        let a = GuestModule(body: "unreachable")
        let outcome = try Harness.run(modules: [("a", a.text)], inputs: [("f", [0]), ("g", [1])], threads: 2, engine: engine)
        #expect(try outcome.ints("SELECT runs FROM __wadup_modules") == [2])
        #expect(try outcome.ints("SELECT failures FROM __wadup_modules") == [2])
        #expect(try outcome.strings("SELECT outcome FROM __wadup_run") == ["complete"])
        #expect(try outcome.ints("SELECT contents FROM __wadup_run") == [2])
    }
}
