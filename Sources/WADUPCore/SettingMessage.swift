/// A run setting a message refers to: the command layer spells it as its flag (`--output`), other
/// callers by its plain name (`output`).
///
/// Lower layers name settings with these values and never with flag spellings, so that only
/// `WADUPCommands` knows the command line.
public enum RunSetting: String, Sendable, CaseIterable {
    case input, output, modules, threads, engine, timeout, fuel, overwrite, resume
    case leaseTimeout = "lease-timeout"
    case cacheDirectory = "cache-dir"
    case noCache = "no-cache"
    case moduleData = "module-data"
}

/// How a layer spells a setting: the command layer passes its flags (`--output`); the default is
/// the plain name.
public typealias SettingSpelling = @Sendable (RunSetting) -> String

/// Message text with settings kept apart, so that each layer names them its own way.
public struct SettingMessage: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    enum Part: Sendable, Equatable {
        case text(String)
        case setting(RunSetting)
    }

    var parts: [Part] = []

    public init(stringLiteral value: String) { parts = [.text(value)] }

    public init(stringInterpolation: StringInterpolation) { parts = stringInterpolation.parts }

    public struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { parts.append(.text(literal)) }
        public mutating func appendInterpolation(_ setting: RunSetting) { parts.append(.setting(setting)) }
        public mutating func appendInterpolation(_ message: SettingMessage) { parts.append(contentsOf: message.parts) }
        public mutating func appendInterpolation<T>(_ value: T) { parts.append(.text("\(value)")) }
    }

    /// The text with every setting named by `name`.
    public func rendered(_ name: (RunSetting) -> String) -> String {
        parts.map {
            switch $0 {
            case .text(let text): text
            case .setting(let setting): name(setting)
            }
        }.joined()
    }

    /// The text with settings by their plain names.
    public var description: String { rendered(\.rawValue) }
}

extension SettingMessage {
    /// `prefix` followed by this message.
    public func prefixed(by prefix: String) -> SettingMessage { SettingMessage(parts: [.text(prefix)] + parts) }

    init(parts: [Part]) { self.parts = parts }
}
