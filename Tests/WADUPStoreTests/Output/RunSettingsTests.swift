import Foundation
import Testing
import WADUPCore
import WADUPStore

/// `RunSettings`' record of module data folders: absent from settings written without one (and
/// before data folders existed), and a difference that names the module.
struct RunSettingsTests {
    static func settings(_ modules: [RunSettings.Module]) -> RunSettings {
        RunSettings(
            input: "/in", output: "/out.db", modulesDirectory: "/m", modules: modules, threads: 2, limits: RunLimits(), dedup: true,
            followSymlinks: false, shard: nil)
    }

    @Test func settingsWithoutModuleDataAreWrittenAndReadAsBeforeDataFolders() throws {
        let plain = Self.settings([.init(name: "a", sha256: "aa")])
        #expect(!plain.json.contains("dataSha256"))
        // Settings JSON as a run before data folders recorded them.
        let old = try #require(RunSettings(json: plain.json))
        #expect(old == plain)
        #expect(old.modules[0].dataSha256 == nil)
        let withData = Self.settings([.init(name: "a", sha256: "aa", dataSha256: "dd")])
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
}
