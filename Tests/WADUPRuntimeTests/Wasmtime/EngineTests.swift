import Foundation
import Logging
import Synchronization
import Testing
import WADUPCore
import WADUPRuntime
import WADUPTestSupport

/// What only the wasmtime engine has: the compile cache and its trust rules, and the answer of a
/// module's first instance kept beside it (``ProbeCache``).
struct EngineTests {
    static let module = GuestModule(body: "(i32.const 0)").text

    func load(cache: String) throws -> any LoadedModule {
        let library = try WasmtimeLibrary.shared.get()
        let engine = WasmtimeEngine(library: library, limits: RunLimits(), cacheDirectory: cache, logger: Harness.quietLogger)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Harness.modules([("m", Self.module)]) + "/m.wasm")))
        return try engine.load(name: "m", bytes: bytes, path: "m.wasm")
    }

    func entries(_ cache: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasSuffix(".cwasm") }
    }

    @Test func aCompiledModuleIsCachedAndACorruptEntryIsRebuiltNotTrusted() throws {
        let cache = Harness.temporaryDirectory() + "/cache"
        _ = try load(cache: cache)
        let files = try entries(cache)
        #expect(files.count == 1)
        let path = cache + "/" + files[0]
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        _ = try load(cache: cache)  // a hit: the entry is unchanged
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)

        var corrupt = original
        corrupt[corrupt.count - 100] ^= 0xFF  // one flipped bit of native code
        try corrupt.write(to: URL(fileURLWithPath: path))
        _ = try load(cache: cache)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)  // ignored, recompiled, rewritten
    }

    @Test func aCacheFolderOthersCanWriteIsNotUsed() throws {
        let cache = Harness.temporaryDirectory() + "/shared-cache"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        chmod(cache, 0o777)
        _ = try load(cache: cache)
        #expect(try entries(cache).isEmpty)
    }

    /// The debug lines a logger received.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var logger: Logger {
            var logger = Logger(label: "wadup-test") { _ in Handler(owner: self) }
            logger.logLevel = .debug
            return logger
        }
        struct Handler: LogHandler {
            let owner: Lines
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .debug
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
                owner.lines.withLock { $0.append("\(message)") }
            }
        }
    }

    /// Loads `wat` as module `m` with `data` mounted at /data, on an engine with `cache` and `limits`;
    /// whether the engine made an instance to load it.
    func instantiatedToLoad(_ wat: String, cache: String, data: String, limits: RunLimits = RunLimits()) throws -> Bool {
        let lines = Lines()
        let engine = WasmtimeEngine(library: try WasmtimeLibrary.shared.get(), limits: limits, cacheDirectory: cache, logger: lines.logger)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Harness.modules([("m", wat)]) + "/m.wasm")))
        let module = try engine.load(name: "m", bytes: bytes, path: "m.wasm", mounts: [GuestMount(guestPath: "/data", hostPath: data)])
        #expect(module.initialization == .ready)
        return !lines.lines.withLock { $0.contains { $0.contains("not instantiated") } }
    }

    @Test func aModuleReadyWhenLastLoadedWithTheSameFoldersAndLimitsIsNotInstantiatedToLoadIt() throws {
        let cache = Harness.temporaryDirectory() + "/cache"
        let data = Harness.temporaryDirectory()
        try Data("rule one".utf8).write(to: URL(fileURLWithPath: data + "/rules.txt"))
        #expect(try instantiatedToLoad(Self.module, cache: cache, data: data))
        #expect(try !instantiatedToLoad(Self.module, cache: cache, data: data))
        // A changed data file, other limits or another module: asked again.
        try Data("rule two".utf8).write(to: URL(fileURLWithPath: data + "/rules.txt"))
        #expect(try instantiatedToLoad(Self.module, cache: cache, data: data))
        var limits = RunLimits()
        limits.fuel = 1_000_000
        #expect(try instantiatedToLoad(Self.module, cache: cache, data: data, limits: limits))
        #expect(try instantiatedToLoad(GuestModule(body: "(i32.const 1)").text, cache: cache, data: data))
        #expect(try !instantiatedToLoad(Self.module, cache: cache, data: data))
    }

    @Test func aModuleWhoseInitDeclinesIsAskedAgainOnEveryLoad() throws {
        let cache = Harness.temporaryDirectory() + "/cache"
        let declining = ModuleInitTestsModule.declining
        let library = try WasmtimeLibrary.shared.get()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Harness.modules([("m", declining)]) + "/m.wasm")))
        for _ in 0..<2 {
            let engine = WasmtimeEngine(library: library, limits: RunLimits(), cacheDirectory: cache, logger: Harness.quietLogger)
            #expect(try engine.load(name: "m", bytes: bytes, path: "m.wasm").initialization != .ready)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasSuffix(".probe") }.isEmpty)
    }
}

/// A module whose `init` returns 1 (declines).
enum ModuleInitTestsModule {
    static var declining: String {
        var module = GuestModule(body: "(i32.const 0)")
        module.functions = #"(func (export "init") (result i32) (i32.const 1))"#
        return module.text
    }
}
