import Foundation
import Testing
import WADUPCore
import WADUPStore

/// `RunOutput`, the one owner of a run's output: where it is, what may be done to what is there,
/// the typed settings check of `--resume`, the lock, and a path replaced during the run.
struct RunOutputTests {
    /// No inputs: the SQLite store never lists any.
    struct NoInputs: InputListing {
        func forEach(_ each: (QueuedInput) throws -> Void) throws {}
    }

    static func folder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wadup-output-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func settings(input: String, maxRows: Int = 1000, runtime: String? = nil) -> RunSettings {
        RunSettings(
            input: input, output: "out.db", modulesDirectory: "modules",
            modules: [.init(name: "m", sha256: String(repeating: "ab", count: 32), runtime: runtime)],
            threads: 2, limits: RunLimits(maxRows: maxRows), dedup: true, followSymlinks: false, shard: nil)
    }

    static func record(_ settings: RunSettings, outcome: RunOutcome) -> RunRecord {
        RunRecord(startedAt: 1, finishedAt: 2, version: "test", engine: "none", settings: settings.json, outcome: outcome, inputs: 0, contents: 0, failed: 0, skipped: 0)
    }

    /// Opens `output` for a run over `input` and finishes it with `outcome`.
    static func run(_ output: RunOutput, input: String, settings: RunSettings? = nil, outcome: RunOutcome = .complete) throws -> OpenedRun? {
        let settings = settings ?? Self.settings(input: input)
        guard let opened = try output.open(input: input, run: record(settings, outcome: .running), settings: settings, inputs: NoInputs()) else { return nil }
        try opened.store.finish(run: record(settings, outcome: outcome), modules: [])
        opened.close()
        return opened
    }

    static func kind(_ body: () throws -> Void) -> OutputError.Kind? {
        do {
            try body()
            return nil
        } catch let error as OutputError {
            return error.kind
        } catch {
            return nil
        }
    }

    @Test func aPostgresURLNamesAServerAndAnythingElseAFile() {
        #expect(RunOutput.Location("postgres://wadup@db/evidence") == .server("postgres://wadup@db/evidence"))
        #expect(RunOutput.Location("postgresql://db/evidence") == .server("postgresql://db/evidence"))
        #expect(RunOutput.Location("/cases/run.db") == .file("/cases/run.db"))
        #expect(RunOutput.Location("postgres.db") == .file("postgres.db"))
    }

    @Test func aNewDatabaseIsOpenedLockedAndLeftOutOfTheWalk() throws {
        let dir = Self.folder()
        let path = dir + "/out.db"
        let settings = Self.settings(input: dir + "/in")
        let opened = try #require(try RunOutput(path).open(input: dir + "/in", run: Self.record(settings, outcome: .running), settings: settings, inputs: NoInputs()))
        guard case .local(let skipping) = opened.work else { Issue.record("a file output is walked locally"); return }
        #expect(skipping.isEmpty && !opened.isShared && opened.resumed == nil)
        #expect(opened.excluded == [path, path + "-wal", path + "-shm", path + "-journal", path + "-lock"])
        #expect(FileManager.default.fileExists(atPath: path + "-lock"))
        #expect(Self.kind { _ = try Self.run(RunOutput(path, overwrite: true), input: dir + "/in") } == .inUse)
        try opened.store.finish(run: Self.record(settings, outcome: .complete), modules: [])
        opened.close()
        #expect(!FileManager.default.fileExists(atPath: path + "-lock"))
    }

    @Test func anExistingDatabaseIsReplacedOnlyWithOverwrite() throws {
        let dir = Self.folder()
        let path = dir + "/out.db"
        _ = try Self.run(RunOutput(path), input: dir)
        #expect(Self.kind { _ = try Self.run(RunOutput(path), input: dir) } == .exists)
        #expect(try Self.run(RunOutput(path, overwrite: true), input: dir) != nil)
    }

    @Test func aFolderALinkAForeignFileAndAStaleJournalAreNeverReplaced() throws {
        let dir = Self.folder()
        try FileManager.default.createDirectory(atPath: dir + "/folder", withIntermediateDirectories: true)
        try Data("evidence".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.db", withDestinationPath: dir + "/notes.txt")
        try Data().write(to: URL(fileURLWithPath: dir + "/gone.db-wal"))
        for name in ["folder", "notes.txt", "link.db", "gone.db"] {
            #expect(Self.kind { _ = try Self.run(RunOutput(dir + "/" + name, overwrite: true), input: dir + "/in") } == .exists, "\(name)")
        }
        #expect(try String(contentsOfFile: dir + "/notes.txt", encoding: .utf8) == "evidence")
    }

    @Test func resumeContinuesOnlyAWADUPRunWithTheSameSettings() throws {
        let dir = Self.folder()
        let path = dir + "/out.db"
        #expect(Self.kind { _ = try Self.run(RunOutput(path, resume: true), input: dir) } == .usage)
        _ = try Self.run(RunOutput(path), input: dir, outcome: .interrupted)
        let other = Self.settings(input: dir, maxRows: 3)
        let mismatch = Self.kind { _ = try Self.run(RunOutput(path, resume: true), input: dir, settings: other) }
        guard case .resumeMismatch(let differences)? = mismatch else { Issue.record("expected a mismatch, got \(String(describing: mismatch))"); return }
        #expect(differences.map(\.field) == [.limits])
        let resumed = try #require(try Self.run(RunOutput(path, resume: true), input: dir))
        #expect(resumed.resumed?.previousOutcome == RunOutcome.interrupted.rawValue)
        #expect(try Self.run(RunOutput(path, resume: true), input: dir) == nil, "a complete run has nothing to resume")
    }

    @Test func aResumeWhoseModuleHasAnotherRuntimeIsRefusedNamingTheModuleAndBothRuntimes() throws {
        let dir = Self.folder()
        let path = dir + "/out.db"
        let python = { (digit: Character) in "CPython 3.11.2 (Debian python3.11 3.11.2-6); python.wasm sha256 \(String(repeating: digit, count: 64))" }
        _ = try Self.run(RunOutput(path), input: dir, settings: Self.settings(input: dir, runtime: python("1")), outcome: .interrupted)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let mismatch = Self.kind { _ = try Self.run(RunOutput(path, resume: true), input: dir, settings: Self.settings(input: dir, runtime: python("2"))) }
        guard case .resumeMismatch(let differences)? = mismatch else { Issue.record("expected a mismatch, got \(String(describing: mismatch))"); return }
        #expect(differences.map(\.description) == ["runtime m \(python("2")) (the run has m \(python("1")))"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "the database is left untouched")
        #expect(try Self.run(RunOutput(path, resume: true), input: dir, settings: Self.settings(input: dir, runtime: python("1"))) != nil)
    }

    @Test func theInputCannotBeTheOutputAndAServerNeedsAStore() throws {
        let dir = Self.folder()
        let path = dir + "/out.db"
        _ = try Self.run(RunOutput(path), input: dir)
        #expect(Self.kind { _ = try Self.run(RunOutput(path, overwrite: true), input: path) } == .usage)
        #expect(Self.kind { _ = try Self.run(RunOutput("postgres://db/evidence"), input: dir) } == .unavailable)
    }

    @Test func anOutputReplacedDuringTheRunIsReportedLost() throws {
        let dir = Self.folder()
        let path = dir + "/out.db"
        let settings = Self.settings(input: dir)
        let opened = try #require(try RunOutput(path).open(input: dir, run: Self.record(settings, outcome: .running), settings: settings, inputs: NoInputs()))
        try opened.store.finish(run: Self.record(settings, outcome: .complete), modules: [])
        try opened.checkStillThere(contents: 0, outcome: .complete)
        try FileManager.default.moveItem(atPath: path, toPath: dir + "/moved.db")
        try Data().write(to: URL(fileURLWithPath: path))
        #expect(Self.kind { try opened.checkStillThere(contents: 0, outcome: .complete) } == .lost)
        opened.close()
    }
}
