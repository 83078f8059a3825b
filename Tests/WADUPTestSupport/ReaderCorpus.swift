import Foundation
import GRDB
import WADUPPipeline

/// A standard module's test corpus and what independent native readers say about it, run once
/// through a whole pipeline: the shape the document modules' tests share (`pdf`, `office`).
///
/// A support script (Tests/Support/NAME_expected.py) makes the files (`SCRIPT --make DIR`) and asks
/// the readers (`SCRIPT FILE...` prints their answers as JSON by file name); the named built modules
/// then run over the files on wasmtime, 2 threads, with the Python runtime.
public struct ReaderCorpus<Expected: Decodable & Sendable>: Sendable {
    public let inputs: String
    public let output: String
    /// The made files' names, sorted.
    public let files: [String]
    public let expected: [String: Expected]

    public init(script: String, modules: [String], decoder: JSONDecoder = JSONDecoder()) throws {
        let folder = Harness.temporaryDirectory() + "/in"
        _ = try Command("/usr/bin/python3", [script, "--make", folder]).output()
        let made = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        let answers = try Command("/usr/bin/python3", [script] + made.map { "\(folder)/\($0)" }).output()
        expected = try decoder.decode([String: Expected].self, from: Data(answers.utf8))
        let pipeline = try Harness.pipeline(
            modulesDirectory: try BuiltModules.folder(modules), input: folder, threads: 2, engine: .wasmtime, python: try BuiltModules.python)
        output = try Harness.outcome(of: pipeline).output
        inputs = folder
        files = made
    }

    /// The run's database, the uuid of the input `file` (a root content) and what the readers said of it.
    public func root(_ file: String) throws -> (db: DatabaseQueue, uuid: String, expected: Expected) {
        guard let answer = expected[file] else { throw SupportError("the support script said nothing about \(file)") }
        let db = try DatabaseQueue(path: output)
        let uuid = try db.strings("SELECT uuid FROM __wadup_content WHERE filename = ? AND depth = 0", [file]).first ?? ""
        return (db, uuid, answer)
    }
}

extension DatabaseQueue {
    /// The first column of every row of `sql`, as text.
    public func strings(_ sql: String, _ arguments: StatementArguments = []) throws -> [String] {
        try read { try String.fetchAll($0, sql: sql, arguments: arguments) }
    }
}

/// A JSON array item that is a number or a string (a size beside a path, a page beside a URI).
public enum JSONScalar: Decodable, Sendable, CustomStringConvertible {
    case int(Int), string(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
    }

    public var description: String {
        switch self {
        case .int(let i): String(i)
        case .string(let s): s
        }
    }
}
