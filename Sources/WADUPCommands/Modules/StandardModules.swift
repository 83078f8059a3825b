import Foundation

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
}
