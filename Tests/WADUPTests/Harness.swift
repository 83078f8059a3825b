import Foundation
import GRDB
import Logging
import WAT
import WADUPPipeline
import WADUPCore
import WADUPRuntime

/// Builds module folders from WAT text and input folders from bytes, runs WADUP, opens the result.
enum Harness {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `wadup` built in the same configuration as these tests (the test bundle's folder).
    static var wadupBinary: String {
        let testBundle = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        var dir = testBundle.deletingLastPathComponent()
        // On Linux the runner may be `<bin>/WADUPPackageTests.xctest` itself, or a file inside a bundle folder.
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("wadup").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("wadup").path
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "wadup-test") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        return logger
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "wadup-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A folder holding one `.wasm` per entry, compiled from WAT.
    static func modules(_ wat: [(name: String, text: String)]) throws -> String {
        let dir = temporaryDirectory()
        for (name, text) in wat {
            try Data(try wat2wasm(text)).write(to: URL(fileURLWithPath: "\(dir)/\(name).wasm"))
        }
        return dir
    }

    /// A folder holding the given files (names may contain `/`).
    static func inputs(_ files: [(name: String, bytes: [UInt8])]) throws -> String {
        let dir = temporaryDirectory()
        for (name, bytes) in files {
            let url = URL(fileURLWithPath: "\(dir)/\(name)")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        return dir
    }

    struct Outcome {
        let summary: RunSummary
        let db: DatabaseQueue
        let output: String

        func contents() throws -> [Content] {
            try db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM __wadup_content ORDER BY rowid").map(Content.init)
            }
        }

        func strings(_ sql: String) throws -> [String] { try db.read { try String.fetchAll($0, sql: sql) } }
        func ints(_ sql: String) throws -> [Int] { try db.read { try Int.fetchAll($0, sql: sql) } }
    }

    struct Content: Equatable {
        let uuid: String
        let filename: String
        let parentUUID: String?
        let status: String
        let errorMessage: String?
        let depth: Int
        /// -1 and "" where the database holds NULL (a path that was not read).
        let size: Int
        let sha256: String
        let duplicateOf: String?

        init(row: Row) {
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

    static func run(
        modules wat: [(name: String, text: String)], inputs files: [(name: String, bytes: [UInt8])],
        threads: Int = 1, limits: RunLimits = RunLimits(), engine: EngineKind
    ) throws -> Outcome {
        try run(modulesDirectory: try modules(wat), input: try inputs(files), threads: threads, limits: limits, engine: engine)
    }

    /// The engine `kind` for `limits`; wasmtime must be installed (scripts/install-wasmtime.sh), so a
    /// missing library fails the wasmtime half of the suite instead of silently testing WasmKit twice.
    static func engine(_ kind: EngineKind, limits: RunLimits, logger: Logger = quietLogger) throws -> any WasmEngine {
        try EngineSelection.make(kind: kind, limits: limits, timeoutIsDefault: false, cacheDirectory: nil, logger: logger)
    }

    static func run(
        modulesDirectory: String, input: String, threads: Int = 1, limits: RunLimits = RunLimits(), dedup: Bool = true,
        followSymlinks: Bool = false, engine kind: EngineKind, reader: FileReader = .system
    ) throws -> Outcome {
        let output = temporaryDirectory() + "/out.db"
        let pipeline = Pipeline(
            configuration: RunConfiguration(
                modulesDirectory: modulesDirectory, input: input, output: output, threads: threads, limits: limits, dedup: dedup,
                followSymlinks: followSymlinks),
            engine: try engine(kind, limits: limits), logger: quietLogger, reader: reader)
        let summary = try pipeline.run()
        return Outcome(summary: summary, db: try DatabaseQueue(path: output), output: output)
    }
}

/// WAT text of a module importing every host function, with data segments at fixed offsets.
struct GuestModule {
    static let imports = """
        (import "env" "get_content_size" (func $size (result i32)))
        (import "env" "read_content" (func $read (param i32 i32 i32) (result i32)))
        (import "env" "get_content_uuid" (func $uuid (param i32) (result i32)))
        (import "env" "get_content_filename" (func $filename (param i32 i32) (result i32)))
        (import "env" "define_table" (func $define (param i32 i32 i32 i32) (result i32)))
        (import "env" "insert_row" (func $insert (param i32 i32 i32) (result i32)))
        (import "env" "emit_subcontent_bytes" (func $emit_bytes (param i32 i32 i32 i32) (result i32)))
        (import "env" "emit_subcontent_slice" (func $emit_slice (param i32 i32 i32 i32) (result i32)))
        (import "env" "log_message" (func $log (param i32 i32 i32) (result i32)))
        """

    /// Strings placed in memory; `$name` in `body` is replaced by `offset length` of that string.
    var strings: [(name: String, bytes: [UInt8])] = []
    var globals = ""
    var functions = ""
    var memoryPages = 1
    var body: String

    init(strings: [String: String] = [:], body: String) {
        self.strings = strings.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) }
        self.body = body
    }

    mutating func add(_ name: String, bytes: [UInt8]) { strings.append((name, bytes)) }

    var text: String {
        var offset = 1024
        var data = ""
        var resolved = body
        var resolvedFunctions = functions
        for (name, bytes) in strings.sorted(by: { $0.name.count > $1.name.count }) {
            let escaped = bytes.map { String(format: "\\%02x", $0) }.joined()
            data += "(data (i32.const \(offset)) \"\(escaped)\")\n"
            resolved = resolved.replacingOccurrences(of: "@\(name)", with: "(i32.const \(offset)) (i32.const \(bytes.count))")
            resolvedFunctions = resolvedFunctions.replacingOccurrences(of: "@\(name)", with: "(i32.const \(offset)) (i32.const \(bytes.count))")
            offset += (bytes.count + 15) / 16 * 16 + 16
        }
        return """
            (module
            \(Self.imports)
            (memory (export "memory") \(memoryPages))
            \(data)
            \(globals)
            \(resolvedFunctions)
            (func (export "process") (result i32)
            \(resolved))
            )
            """
    }
}
