import Foundation
import Testing
import WADUPCore
import WADUPRuntime
import WADUPTestSupport

/// What only the wasmtime engine has: the compile cache and its trust rules.
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
}
