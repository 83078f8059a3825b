import Foundation
import GRDB
import Logging
import WADUPCore
import WADUPPipeline
import WADUPRuntime

/// The engines a test runs on (`EngineKind.allCases`), named without importing the pipeline.
@_exported import enum WADUPPipeline.EngineKind

/// Builds module folders from WAT text and input folders from bytes, runs WADUP in this process,
/// opens the result.
public enum Harness {
    /// The checkout's root (this file is `Tests/WADUPTestSupport/Harness.swift`).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `relative` under the checkout's root.
    public static func path(_ relative: String) -> String { packageRoot.appendingPathComponent(relative).path }

    /// The `wadup` built in the same configuration as these tests (the test bundle's folder).
    public static var wadupBinary: String {
        let testBundle = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        var dir = testBundle.deletingLastPathComponent()
        // On Linux the runner may be `<bin>/WADUPPackageTests.xctest` itself, or a file inside a bundle folder.
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("wadup").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("wadup").path
    }

    public static var quietLogger: Logger {
        var logger = Logger(label: "wadup-test") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        return logger
    }

    /// A new empty folder under the system's temporary folder.
    public static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "wadup-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A folder holding one `.wasm` per entry, compiled from WAT.
    public static func modules(_ wat: [(name: String, text: String)]) throws -> String {
        let dir = temporaryDirectory()
        for (name, text) in wat { try GuestModule.write(text, to: "\(dir)/\(name).wasm") }
        return dir
    }

    /// A folder holding the given files (names may contain `/`).
    public static func inputs(_ files: [(name: String, bytes: [UInt8])]) throws -> String {
        let dir = temporaryDirectory()
        for (name, bytes) in files {
            let url = URL(fileURLWithPath: "\(dir)/\(name)")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        return dir
    }

    /// A run made by ``run(modulesDirectory:input:threads:limits:dedup:followSymlinks:engine:reader:)``: its summary and its database.
    public struct Outcome {
        public let summary: RunSummary
        public let db: DatabaseQueue
        /// The database's path.
        public let output: String

        /// Every content, in the order written.
        public func contents() throws -> [Content] {
            try db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM __wadup_content ORDER BY rowid").map(Content.init)
            }
        }

        public func strings(_ sql: String) throws -> [String] { try db.read { try String.fetchAll($0, sql: sql) } }
        public func ints(_ sql: String) throws -> [Int] { try db.read { try Int.fetchAll($0, sql: sql) } }
    }

    /// One `__wadup_content` row.
    public struct Content: Equatable, Sendable {
        public let uuid: String
        public let filename: String
        public let parentUUID: String?
        public let status: String
        public let errorMessage: String?
        public let depth: Int
        /// -1 and "" where the database holds NULL (a path that was not read).
        public let size: Int
        public let sha256: String
        public let duplicateOf: String?

        public init(row: Row) {
            uuid = row["uuid"]
            filename = row["filename"]
            parentUUID = row["parent_uuid"]
            status = row["status"]
            errorMessage = row["error_message"]
            depth = row["depth"]
            size = row["size"] ?? -1
            sha256 = row["sha256"] ?? ""
            duplicateOf = row["duplicate_of"]
        }
    }

    public static func run(
        modules wat: [(name: String, text: String)], inputs files: [(name: String, bytes: [UInt8])],
        threads: Int = 1, limits: RunLimits = RunLimits(), engine: EngineKind
    ) throws -> Outcome {
        try run(modulesDirectory: try modules(wat), input: try inputs(files), threads: threads, limits: limits, engine: engine)
    }

    /// The engine `kind` for `limits`; wasmtime must be installed (scripts/install-wasmtime.sh), so a
    /// missing library fails the wasmtime half of the suite instead of silently testing WasmKit twice.
    public static func engine(_ kind: EngineKind, limits: RunLimits, logger: Logger = quietLogger, cacheDirectory: String? = nil) throws -> any WasmEngine {
        try EngineSelection.make(kind: kind, limits: limits, timeoutIsDefault: false, cacheDirectory: cacheDirectory, logger: logger)
    }

    /// One compiled-module cache for the test process's Python runs: the 8 MB interpreter is
    /// compiled once per setting instead of once per test (a few seconds each).
    public static let pythonCompileCache = temporaryDirectory()

    /// A pipeline over `input` into a new database, not yet run.
    public static func pipeline(
        modulesDirectory: String, input: String, threads: Int = 1, limits: RunLimits = RunLimits(), dedup: Bool = true,
        followSymlinks: Bool = false, shard: Shard? = nil, engine kind: EngineKind, reader: FileReader = .system, logger: Logger = quietLogger,
        countsTotals: Bool = false, output: String? = nil, temporaryFolder: TemporaryFolder = .standard, resume: Bool = false,
        moduleData: [String: String] = [:], python: PythonRuntime? = nil
    ) throws -> Pipeline {
        let output = output ?? temporaryDirectory() + "/out.db"
        return Pipeline(
            configuration: RunConfiguration(
                modulesDirectory: modulesDirectory, input: input, output: output, threads: threads, limits: limits, dedup: dedup,
                followSymlinks: followSymlinks, resume: resume, shard: shard, temporaryFolder: temporaryFolder, moduleData: moduleData,
                python: python),
            engine: try engine(kind, limits: limits, cacheDirectory: python == nil ? nil : pythonCompileCache), logger: logger,
            countsTotals: countsTotals, reader: reader)
    }

    public static func run(
        modulesDirectory: String, input: String, threads: Int = 1, limits: RunLimits = RunLimits(), dedup: Bool = true,
        followSymlinks: Bool = false, engine kind: EngineKind, reader: FileReader = .system
    ) throws -> Outcome {
        let pipeline = try pipeline(
            modulesDirectory: modulesDirectory, input: input, threads: threads, limits: limits, dedup: dedup, followSymlinks: followSymlinks,
            engine: kind, reader: reader)
        return try outcome(of: pipeline)
    }

    /// Runs `pipeline` and opens its database.
    public static func outcome(of pipeline: Pipeline) throws -> Outcome {
        let summary = try pipeline.run()
        let output = pipeline.configuration.output
        return Outcome(summary: summary, db: try DatabaseQueue(path: output), output: output)
    }
}
