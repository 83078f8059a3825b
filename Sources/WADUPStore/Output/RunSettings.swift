import Foundation
import WADUPCore

/// The settings a run records in `__wadup_run.settings` (JSON): a resumed or joined run, and the
/// parts `wadup merge` combines, must match them.
///
/// One typed comparison (``differences(from:)``) serves resume, joining a shared run and merge.
public struct RunSettings: Codable, Equatable, Sendable {
    /// A module as the run recorded it.
    public struct Module: Codable, Equatable, Sendable {
        public var name: String
        public var sha256: String
        /// The digest of the module's data folder; `nil` without one (and in runs before data
        /// folders existed: the key is left out, so their settings read and compare unchanged).
        public var dataSha256: String?
        /// The runtime a Python module runs on (its version and interpreter's SHA-256); `nil` for a
        /// `.wasm` module (and in runs before Python modules: the key is left out, as for ``dataSha256``).
        public var runtime: String?

        public init(name: String, sha256: String, dataSha256: String? = nil, runtime: String? = nil) {
            self.name = name
            self.sha256 = sha256
            self.dataSha256 = dataSha256
            self.runtime = runtime
        }
    }

    /// A setting that changes results, and so must be the same to continue or merge a run.
    public enum Field: String, Sendable, CaseIterable {
        case input, modules, limits, dedup
        case moduleData = "module-data"
        case runtime
        case followSymlinks = "follow-symlinks"
        case shard
        case dispatch
    }

    /// One setting that differs, with both values as text.
    public struct Difference: Sendable, Equatable, CustomStringConvertible {
        public let field: Field
        public let value: String
        public let recorded: String

        /// `input /a (the run has /b)`.
        public var description: String { "\(field.rawValue) \(value) (the run has \(recorded))" }
    }

    public var input: String
    public var output: String
    public var modulesDirectory: String
    public var modules: [Module]
    public var threads: Int
    public var limits: RunLimits
    public var dedup: Bool
    public var followSymlinks: Bool
    /// `nil` for a whole run (and in the settings of runs before shards existed).
    public var shard: Shard?
    /// `false` for a run with `--no-dispatch`; `nil` (dispatch on) is left out of the JSON, so the
    /// settings of runs before dispatch existed read as dispatching runs, whose results are the same.
    public var dispatch: Bool?

    public init(
        input: String, output: String, modulesDirectory: String, modules: [Module], threads: Int, limits: RunLimits, dedup: Bool,
        followSymlinks: Bool, shard: Shard?, dispatch: Bool = true
    ) {
        self.dispatch = dispatch ? nil : false
        self.input = input
        self.output = output
        self.modulesDirectory = modulesDirectory
        self.modules = modules
        self.threads = threads
        self.limits = limits
        self.dedup = dedup
        self.followSymlinks = followSymlinks
        self.shard = shard
    }

    /// The settings recorded as `json`, or `nil` if they cannot be read (another WADUP version).
    public init?(json: String) {
        guard let decoded = try? JSONDecoder().decode(RunSettings.self, from: Data(json.utf8)) else { return nil }
        self = decoded
    }

    /// The JSON text recorded in `__wadup_run.settings` (keys sorted).
    public var json: String { Self.json(self) }

    /// What differs from `earlier` in a way that changes results (`threads`, the output and the
    /// modules folder's path may differ).
    public func differences(from earlier: RunSettings) -> [Difference] {
        var out: [Difference] = []
        if Self.canonical(input) != Self.canonical(earlier.input) { out.append(.init(field: .input, value: input, recorded: earlier.input)) }
        let code = { (m: [Module]) in m.map { [$0.name, $0.sha256] } }
        if code(modules) != code(earlier.modules) {
            let describe = { (m: [Module]) in "[" + m.map { "\($0.name) \($0.sha256.prefix(12))" }.joined(separator: ", ") + "]" }
            out.append(.init(field: .modules, value: describe(modules), recorded: describe(earlier.modules)))
        } else {
            // The same modules: one difference per module whose data folder differs, and one per
            // module whose runtime differs, each naming it.
            let data = { (m: Module) in "\(m.name) \(m.dataSha256.map { String($0.prefix(12)) } ?? "none")" }
            let runtime = { (m: Module) in "\(m.name) \(m.runtime ?? "none")" }
            for (now, then) in zip(modules, earlier.modules) {
                if now.dataSha256 != then.dataSha256 { out.append(.init(field: .moduleData, value: data(now), recorded: data(then))) }
                if now.runtime != then.runtime { out.append(.init(field: .runtime, value: runtime(now), recorded: runtime(then))) }
            }
        }
        if limits != earlier.limits { out.append(.init(field: .limits, value: Self.json(limits), recorded: Self.json(earlier.limits))) }
        if dedup != earlier.dedup { out.append(.init(field: .dedup, value: "\(dedup)", recorded: "\(earlier.dedup)")) }
        if followSymlinks != earlier.followSymlinks {
            out.append(.init(field: .followSymlinks, value: "\(followSymlinks)", recorded: "\(earlier.followSymlinks)"))
        }
        if shard != earlier.shard {
            out.append(.init(field: .shard, value: shard.map { "\($0)" } ?? "none", recorded: earlier.shard.map { "\($0)" } ?? "none"))
        }
        if (dispatch ?? true) != (earlier.dispatch ?? true) {
            out.append(.init(field: .dispatch, value: "\(dispatch ?? true)", recorded: "\(earlier.dispatch ?? true)"))
        }
        return out
    }

    static func canonical(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "?"
    }
}
