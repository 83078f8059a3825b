import ArgumentParser
import Foundation
import Logging
import Synchronization
import WADUPPipeline
import WADUPCore
import WADUPInspect
import WADUPRuntime

/// Reading a module file for `check` and `try`, with one-line errors and exit 2.
enum ModuleFile {
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("\(path): cannot read the file") }
        guard data.count >= 8, data.prefix(4) == Data([0, 0x61, 0x73, 0x6D]) else {
            throw fail("\(path) is not a WebAssembly module (no \\0asm header)")
        }
        return [UInt8](data)
    }

    /// A Python module's script: readable UTF-8 text.
    static func readScript(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("\(path): cannot read the file") }
        guard String(validating: data, as: UTF8.self) != nil else { throw fail("\(path) is not UTF-8 text (a Python module is a .py source file)") }
        return [UInt8](data)
    }

    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("wadup: error: \(message)\n".utf8))
        return ExitCode(2)
    }
}
