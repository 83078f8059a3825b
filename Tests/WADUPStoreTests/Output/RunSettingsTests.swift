import Foundation
import Testing
import WADUPCore
import WADUPStore

/// `RunSettings`' record of module data folders and Python runtimes: absent from settings written
/// without one (and before they existed), and a difference that names the module.
struct RunSettingsTests {
    static func settings(_ modules: [RunSettings.Module]) -> RunSettings {
        RunSettings(
            input: "/in", output: "/out.db", modulesDirectory: "/m", modules: modules, threads: 2, limits: RunLimits(), dedup: true,
            followSymlinks: false, shard: nil)
    }

    @Test func settingsWithoutModuleDataAreWrittenAndReadAsBeforeDataFolders() throws {
        let plain = Self.settings([.init(name: "a", sha256: "aa")])
        #expect(!plain.json.contains("dataSha256") && !plain.json.contains("runtime"))
        // Settings JSON as a run before data folders recorded them.
        let old = try #require(RunSettings(json: plain.json))
        #expect(old == plain)
        #expect(old.modules[0].dataSha256 == nil && old.modules[0].runtime == nil)
        let withData = Self.settings([.init(name: "a", sha256: "aa", dataSha256: "dd", runtime: Self.python("1"))])
        #expect(RunSettings(json: withData.json) == withData)
    }

    @Test func changedDataIsOneDifferencePerModuleNamingIt() {
        let recorded = Self.settings([.init(name: "a", sha256: "aa"), .init(name: "b", sha256: "bb", dataSha256: String(repeating: "1", count: 64))])
        let now = Self.settings([.init(name: "a", sha256: "aa", dataSha256: String(repeating: "2", count: 64)), .init(name: "b", sha256: "bb")])
        let differences = now.differences(from: recorded)
        #expect(differences.map(\.field) == [.moduleData, .moduleData])
        #expect(differences.map(\.description) == ["module-data a 222222222222 (the run has a none)", "module-data b none (the run has b 111111111111)"])
        // Another module is a modules difference, not a data one.
        let other = Self.settings([.init(name: "a", sha256: "ab"), .init(name: "b", sha256: "bb")])
        #expect(other.differences(from: recorded).map(\.field) == [.modules])
    }

    /// A runtime as `PythonRuntime.provenance` spells it, the interpreter's digest made of `digit`.
    static func python(_ digit: Character) -> String {
        "CPython 3.11.2 (Debian python3.11 3.11.2-6); python.wasm sha256 \(String(repeating: digit, count: 64))"
    }

    @Test func anotherRuntimeIsOneDifferenceNamingTheModuleAndBothRuntimes() {
        let recorded = Self.settings([.init(name: "a", sha256: "aa"), .init(name: "p", sha256: "pp", dataSha256: "dd", runtime: Self.python("1"))])
        let now = Self.settings([.init(name: "a", sha256: "aa"), .init(name: "p", sha256: "pp", dataSha256: "dd", runtime: Self.python("2"))])
        let differences = now.differences(from: recorded)
        #expect(differences.map(\.field) == [.runtime])
        #expect(differences.map(\.description) == ["runtime p \(Self.python("2")) (the run has p \(Self.python("1")))"])
        // Changed data and runtime of one module: both named.
        let both = Self.settings([.init(name: "a", sha256: "aa"), .init(name: "p", sha256: "pp", runtime: nil)])
        #expect(both.differences(from: recorded).map(\.description) == ["module-data p none (the run has p dd)", "runtime p none (the run has p \(Self.python("1")))"])
    }
}
