import Foundation
import Testing
import WADUPCore
import WADUPRuntime
import WADUPTestSupport

/// `wadup manifest`: shown, written (checked first), replaced and removed; the module still runs.
struct ManifestCommandTests {
    @Test func aManifestIsWrittenCheckedReplacedAndRemoved() throws {
        let dir = Harness.temporaryDirectory()
        let module = dir + "/m.wasm"
        try GuestModule.write(GuestModule(body: "(i32.const 0)").text, to: module)
        try Data(#"{"accepts": {"names": ["*.x"]}}"#.utf8).write(to: URL(fileURLWithPath: dir + "/good.json"))
        try Data(#"{"accepts": {"mimes": []}}"#.utf8).write(to: URL(fileURLWithPath: dir + "/bad.json"))

        let set = try Command.wadup(["manifest", module, "--set", dir + "/good.json"]).run()
        #expect(set.status == 0 && set.stdout.contains("accepts names *.x"), "\(set.output)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: module)))
        #expect(try ManifestReader.manifest(bytes: bytes, path: module) == ModuleManifest(accepts: .init(names: ["*.x"])))

        let bad = try Command.wadup(["manifest", module, "--set", dir + "/bad.json"]).run()
        #expect(bad.status == 2 && bad.stderr.contains("accepts.mimes: unknown field"), "\(bad.output)")
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: module))) == bytes, "a refused manifest leaves the module as it was")

        let check = try Command.wadup(["check", module]).run()
        #expect(check.status == 0 && check.stdout.contains("manifest: role analyze; accepts names *.x"), "\(check.output)")
        let tried = try Command.wadup(["try", module, dir + "/good.json"]).run()
        #expect(tried.status == 0 && tried.stdout.contains("not accepted by the manifest") && tried.stdout.contains("offered 1, accepted 0"), "\(tried.output)")

        let removed = try Command.wadup(["manifest", module, "--remove"]).run()
        #expect(removed.status == 0, "\(removed.output)")
        #expect(try ManifestReader.manifest(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: module))), path: module) == .everything)
    }
}
