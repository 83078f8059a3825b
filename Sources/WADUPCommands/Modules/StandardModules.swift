import Foundation
import WADUPPipeline

/// Where the standard modules are found when `--modules` is not given.
enum StandardModules {
    /// `$WADUP_MODULES` if set, else `modules/` next to the `wadup` binary, else `share/wadup/modules`
    /// beside its `bin/`.
    static var directory: String {
        if let env = ProcessInfo.processInfo.environment["WADUP_MODULES"], !env.isEmpty { return env }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [executable.appendingPathComponent("modules"), executable.appendingPathComponent("../share/wadup/modules")]
        return (candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]).standardizedFileURL.path
    }

    /// The Python runtime `.py` modules run on: `$WADUP_PYTHON` if set, else `python/` next to the
    /// `wadup` binary, else `share/wadup/python` beside its `bin/`.
    static var python: PythonRuntime {
        if let env = ProcessInfo.processInfo.environment["WADUP_PYTHON"], !env.isEmpty { return PythonRuntime(directory: env) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [executable.appendingPathComponent("python"), executable.appendingPathComponent("../share/wadup/python")]
        return PythonRuntime(directory: (candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]).standardizedFileURL.path)
    }
}
