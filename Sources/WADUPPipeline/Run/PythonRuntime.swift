import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WADUPRuntime

/// The CPython interpreter, compiled to wasm32-wasi, that a `NAME.py` module runs on.
///
/// A folder holding `python.wasm` (the interpreter, a WASI reactor whose `init` imports the
/// script and whose `process` calls its `process(content)`), `VERSION`, and `lib/` holding
/// `python311.zip` (the standard library and the `wadup` package) and `wadup.pyi`. `scripts/formats/python.sh` builds it from pinned sources;
/// a checkout finds it in `python/` beside the `wadup` binary, the release package in
/// `share/wadup/python`. Every instance of a Python module sees, read-only: `lib/` at
/// ``libraryMount``, a folder holding only the script at ``scriptMount``, and the module's data
/// folder (`NAME.d/`, vendored packages in its `site-packages/`) at ``ModuleDataMount/guestPath``.
public struct PythonRuntime: Sendable, Equatable, Codable {
    /// The folder holding the interpreter and its library.
    public let directory: String

    /// The interpreter's file name in ``directory``.
    public static let interpreterFile = "python.wasm"
    /// The standard library's file name in ``library``.
    public static let libraryFile = "python311.zip"
    /// The `wadup` API's type stubs in ``library`` (copied into a module folder by `wadup new`).
    public static let stubsFile = "wadup.pyi"
    /// Where the instance sees ``library``.
    public static let libraryMount = "/python"
    /// Where the instance sees the folder holding the script.
    public static let scriptMount = "/module"
    /// The file extension of a Python module.
    public static let scriptExtension = "py"

    /// The file in ``directory`` naming the interpreter's version (its first line, written by
    /// `scripts/formats/python.sh`: `CPython 3.11.2 (Debian python3.11 3.11.2-6+deb12u6)`).
    public static let versionFile = "VERSION"

    public init(directory: String) {
        self.directory = directory
    }

    /// The folder the instance sees at ``libraryMount``: `lib/` of ``directory``.
    public var library: String { directory + "/lib" }

    /// The interpreter's version, from ``versionFile``; `nil` when the runtime is not there.
    public var version: String? {
        guard let text = try? String(contentsOfFile: directory + "/" + Self.versionFile, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The interpreter read once for a run: its bytes, and what every Python module of the run
    /// records as its runtime (`__wadup_modules.runtime`): the version and the interpreter's
    /// SHA-256, so a result names the exact interpreter that made it.
    public struct Interpreter: Sendable {
        let bytes: [UInt8]
        let provenance: String

        init(bytes: [UInt8], version: String?) {
            self.bytes = bytes
            provenance = "\(version ?? "CPython (version unknown)"); \(PythonRuntime.interpreterFile) sha256 \(SHA256.hash(data: bytes).hex)"
        }
    }

    /// The interpreter, or an error saying what is missing and how to get it.
    func interpreter(for script: String) throws(WADUPError) -> Interpreter {
        for path in [directory + "/" + Self.interpreterFile, library + "/" + Self.libraryFile] where !FileManager.default.fileExists(atPath: path) {
            throw WADUPError(
                .usage,
                "\(script): a Python module needs the Python runtime, and \(path) does not exist; build it with scripts/build-formats.sh (or set WADUP_PYTHON to the folder holding \(Self.interpreterFile) and lib/\(Self.libraryFile))")
        }
        guard let data = FileManager.default.contents(atPath: directory + "/" + Self.interpreterFile) else {
            throw WADUPError(.io, "cannot read \(directory)/\(Self.interpreterFile)")
        }
        return Interpreter(bytes: [UInt8](data), version: version)
    }
}

/// The private folder holding a Python module's script, the only file its instances see at
/// ``PythonRuntime/scriptMount``: a copy made when the module loads (so the script a run records
/// is the one it runs, and nothing beside it in the modules folder is visible), removed with the
/// last reference to it.
public final class PythonScriptFolder: Sendable {
    /// The folder, absolute.
    public let path: String

    init(script: String, name: String, bytes: [UInt8]) throws(WADUPError) {
        var template = Array((NSTemporaryDirectory() + "/wadup-python-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw WADUPError(.io, "cannot make a folder for the Python module \(script): \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
        guard FileManager.default.createFile(atPath: path + "/" + name + "." + PythonRuntime.scriptExtension, contents: Data(bytes)) else {
            try? FileManager.default.removeItem(atPath: path)
            throw WADUPError(.io, "cannot copy the Python module \(script) into \(path)")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
