import Foundation
import WADUPPipeline

/// Where the standard modules and the Python runtime are found when no flag names them.
enum StandardModules {
    /// `$WADUP_MODULES` if set, else `modules/` next to the `wadup` binary, else `share/wadup/modules`
    /// beside its `bin/`.
    static var directory: String { installed("modules", environment: "WADUP_MODULES") }

    /// The Python runtime `.py` modules run on: `$WADUP_PYTHON` if set, else `python/` next to the
    /// `wadup` binary, else `share/wadup/python` beside its `bin/`.
    static var python: PythonRuntime { PythonRuntime(directory: installed("python", environment: "WADUP_PYTHON")) }

    /// `$environment` if set, else the folder `name` next to the binary (a build), else
    /// `../share/wadup/name` beside it (an installed package); the first when neither exists.
    private static func installed(_ name: String, environment: String) -> String {
        if let env = ProcessInfo.processInfo.environment[environment], !env.isEmpty { return env }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [executable.appendingPathComponent(name), executable.appendingPathComponent("../share/wadup/\(name)")]
        return (candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]).standardizedFileURL.path
    }
}
