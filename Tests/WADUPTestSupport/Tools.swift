import Crypto
import Foundation

/// Runs a Python 3 script (`python3 -c`) with `arguments`; its standard output. Throws, with its
/// standard error, unless it exits with 0.
public func python(_ script: String, _ arguments: [String] = []) throws -> String {
    try Command.python(script, arguments).output()
}

/// Runs a Python 3 script file as `__main__` with `arguments` (as `python3 path arguments...` would,
/// but through ``python(_:_:)``); its standard output.
public func pythonFile(_ path: String, _ arguments: [String] = []) throws -> String {
    try python("import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')", [path] + arguments)
}

/// Runs `script` with bash in `directory`; how it ended (check ``Exit/succeeded``) and its output.
public func shell(_ script: String, in directory: String) throws -> Exit {
    try Command.shell(script, in: directory).run()
}

/// The SHA-256 of `bytes` in lowercase hex, as WADUP records it.
public func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}
