import CWasmtime
import Foundation

/// wasmtime's C API library, opened at run time: WADUP runs (on WasmKit) where it is missing.
///
/// The library is PyPI's `wasmtime` wheel's `_libwasmtime.so`, pinned and verified by
/// `scripts/install-wasmtime.sh`, which writes its version beside it.
public final class WasmtimeLibrary: @unchecked Sendable {  // Safe: `api` is written once in init, only read after; never freed (the library stays loaded).
    /// The wasmtime release whose C API `wadup_wasmtime.h` declares.
    public static let pinnedVersion = "50.0.1"
    public static let fileName = "libwasmtime.so"
    /// The environment variable that names the library; when set, it is the only path tried.
    public static let environmentVariable = "WADUP_WASMTIME_LIB"

    public let path: String
    /// The version written beside the library by the install script, or `unknown`.
    public let version: String
    /// The function table, filled once by `dlsym`; reached through a pointer so that a call
    /// loads one entry instead of copying the whole table.
    let api: UnsafePointer<wadup_wasmtime_api>

    /// The library could not be opened: every path tried, with the reason.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public let tried: [(path: String, reason: String)]
        public var description: String {
            "wasmtime's library could not be loaded (tried " + tried.map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
                + "); run scripts/install-wasmtime.sh or set \(WasmtimeLibrary.environmentVariable)"
        }
    }

    private init(path: String, api: wadup_wasmtime_api) {
        self.path = path
        let table = UnsafeMutablePointer<wadup_wasmtime_api>.allocate(capacity: 1)
        table.initialize(to: api)
        self.api = UnsafePointer(table)
        let versionFile = path + ".version"
        self.version = (try? String(contentsOfFile: versionFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
    }

    /// Opens the library at `path`.
    public static func open(path: String) -> Result<WasmtimeLibrary, LoadError> {
        guard FileManager.default.fileExists(atPath: path) else { return .failure(LoadError(tried: [(path, "no such file")])) }
        var api = wadup_wasmtime_api()
        var message = [CChar](repeating: 0, count: 1024)
        guard wadup_wasmtime_open(path, &api, &message, message.count) == 0 else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(LoadError(tried: [(path, reason)]))
        }
        return .success(WasmtimeLibrary(path: path, api: api))
    }

    /// The first of `paths` that opens.
    public static func open(candidates paths: [String]) -> Result<WasmtimeLibrary, LoadError> {
        var tried: [(String, String)] = []
        for path in paths {
            switch open(path: path) {
            case .success(let library): return .success(library)
            case .failure(let error): tried += error.tried
            }
        }
        return .failure(LoadError(tried: tried))
    }

    /// Where the library is looked for, in order: `$WADUP_WASMTIME_LIB` alone if set; else `lib/`
    /// beside the executable, `../lib/wadup/` (an installed package), and this checkout's build folder.
    public static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        if let explicit = environment[environmentVariable], !explicit.isEmpty { return [explicit] }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()  // Sources/WADUPRuntime/Wasmtime/ -> the checkout
        return [
            executable.appendingPathComponent("lib/\(fileName)").standardizedFileURL.path,
            executable.appendingPathComponent("../lib/wadup/\(fileName)").standardizedFileURL.path,
            checkout.appendingPathComponent(".build/wasmtime/\(fileName)").path,
        ]
    }

    /// The library for this process, opened once from ``candidates(environment:)``.
    public static let shared: Result<WasmtimeLibrary, LoadError> = open(candidates: candidates())
}
