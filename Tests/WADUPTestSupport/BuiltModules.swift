import Foundation
import WADUPPipeline

/// The guest modules `scripts/build-guests.sh` builds into `.build/guest-modules/`: the standard
/// set (`standard/`), the SDK examples (`examples/`) and the test probes (`probes/`).
public enum BuiltModules {
    public static let root = Harness.path(".build/guest-modules")
    public static let kinds = ["standard", "examples", "probes"]

    /// The built `.wasm` of module `name` (or its `.py`, a standard Python module), if it is built.
    public static func path(of name: String) -> String? {
        kinds.flatMap { kind in ["wasm", "py"].map { "\(root)/\(kind)/\(name).\($0)" } }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The Python runtime `scripts/formats/python.sh` builds (`.build/guest-modules/python/`).
    public static var python: PythonRuntime {
        get throws {
            let runtime = PythonRuntime(directory: "\(root)/python")
            guard FileManager.default.fileExists(atPath: "\(runtime.directory)/\(PythonRuntime.interpreterFile)") else {
                throw SupportError("the Python runtime is not built: run scripts/build-guests.sh")
            }
            return runtime
        }
    }

    /// A new modules folder holding the named built modules and their data folders (a Python one needs ``python`` to run).
    public static func folder(_ names: [String]) throws -> String {
        let dir = Harness.temporaryDirectory()
        for name in names {
            guard let source = path(of: name) else { throw SupportError("\(name).wasm is not built: run scripts/build-guests.sh") }
            try FileManager.default.copyItem(atPath: source, toPath: "\(dir)/\((source as NSString).lastPathComponent)")
            // Its read-only data folder (a standard Python module's vendored packages) beside it.
            let data = (source as NSString).deletingPathExtension + ".d"
            if FileManager.default.fileExists(atPath: data) { try FileManager.default.copyItem(atPath: data, toPath: "\(dir)/\(name).d") }
        }
        return dir
    }
}

/// A fixture or tool a test needs is missing or gave something unexpected.
public struct SupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
