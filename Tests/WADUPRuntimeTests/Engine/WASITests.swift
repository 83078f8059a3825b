import Testing
import WADUPTestSupport

/// WASI preview 1 modules: linked with no files, no arguments; exit codes map to failure kinds.
struct WASITests {
    static func module(_ body: String) -> String {
        """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "args_sizes_get" (func $args (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "hello\\n")
          (global $initialized (mut i32) (i32.const 0))
          (func (export "_initialize") (global.set $initialized (i32.const 1)))
          (func (export "process") (result i32) \(body))
        )
        """
    }

    func run(_ body: String, engine: EngineKind) throws -> String? {
        let outcome = try Harness.run(modules: [("w", Self.module(body))], inputs: [("a", [1])], engine: engine)
        return try #require(try outcome.contents().first).errorMessage
    }

    @Test(arguments: EngineKind.allCases) func stdoutWritesSucceed(engine: EngineKind) throws {
        // iovec at 0: {ptr 100, len 6}; bytes written stored at 8.
        #expect(try run("(i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 6)) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))", engine: engine) == nil)
    }

    @Test(arguments: EngineKind.allCases) func thereAreNoPreopenedDirectories(engine: EngineKind) throws {
        // fd 3 would be the first preopen: EBADF (8).
        #expect(try run("(call $prestat (i32.const 3) (i32.const 0))", engine: engine) == "w: nonzero_return: process returned 8")
    }

    @Test(arguments: EngineKind.allCases) func thereAreNoArguments(engine: EngineKind) throws {
        // errno, argc and the argument buffer's size must all be 0.
        let body = "(i32.or (call $args (i32.const 0) (i32.const 4)) (i32.or (i32.load (i32.const 0)) (i32.load (i32.const 4))))"
        #expect(try run("(i32.store (i32.const 0) (i32.const -1)) (i32.store (i32.const 4) (i32.const -1)) " + body, engine: engine) == nil)
    }

    @Test(arguments: EngineKind.allCases) func randomIsAvailableAndInitializeRanFirst(engine: EngineKind) throws {
        // errno 0, 16 bytes not all zero (chance 2^-128), and `_initialize` ran before `process`.
        let body = """
            (i32.or (call $random (i32.const 0) (i32.const 16))
              (i32.or (i64.eqz (i64.or (i64.load (i32.const 0)) (i64.load (i32.const 8))))
                      (i32.sub (global.get $initialized) (i32.const 1))))
            """
        #expect(try run(body, engine: engine) == nil)
    }

    @Test(arguments: EngineKind.allCases) func procExitWithACodeIsANonzeroReturn(engine: EngineKind) throws {
        #expect(try run("(call $exit (i32.const 3)) (i32.const 0)", engine: engine) == "w: nonzero_return: proc_exit(3)")
        #expect(try run("(call $exit (i32.const 0)) (i32.const 5)", engine: engine) == nil)
    }
}
