/// Why a run could not start or could not finish: a stable code, a message naming the file or
/// module and a remedy, and the exit code scripts rely on.
///
/// Messages name run settings as ``Setting`` values, not as command-line flags: the command layer
/// renders them (`--output`), and other callers get plain names (`output`).
public struct WADUPError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String {
            case usage, invalidModule = "invalid_module", outputExists = "output_exists", outputInUse = "output_in_use"
            case resumeMismatch = "resume_mismatch", io, database, outputLost = "output_lost"
        }
        private let value: Value
        /// A bad option or argument.
        public static let usage = Code(value: .usage)
        /// A module file that is corrupt, incomplete or imports something outside the ABI.
        public static let invalidModule = Code(value: .invalidModule)
        /// The output database exists and may not be replaced.
        public static let outputExists = Code(value: .outputExists)
        /// Another live process (a run or a merge) is writing the output.
        public static let outputInUse = Code(value: .outputInUse)
        /// The output path no longer names the database the run wrote (removed or replaced during
        /// the run): the results are not where the user will look.
        public static let outputLost = Code(value: .outputLost)
        /// `--resume` with an input, modules or limits other than the run's.
        public static let resumeMismatch = Code(value: .resumeMismatch)
        /// Reading the inputs or modules failed.
        public static let io = Code(value: .io)
        /// Writing the output database failed.
        public static let database = Code(value: .database)

        public var description: String { value.rawValue }

        /// 2 for problems found before any input is touched, 1 for a run that failed.
        public var exitCode: Int32 {
            switch value {
            case .usage, .invalidModule, .outputExists, .outputInUse, .resumeMismatch: 2
            case .io, .database, .outputLost: 1
            }
        }
    }

    /// A run setting a message refers to.
    public enum Setting: String, Sendable, CaseIterable {
        case input, output, modules, threads, engine, timeout, fuel, overwrite, resume
    }

    /// Message text with settings kept apart, so that each layer names them its own way.
    public struct Message: Sendable, ExpressibleByStringInterpolation {
        enum Part: Sendable {
            case text(String)
            case setting(Setting)
        }

        var parts: [Part] = []

        public init(stringLiteral value: String) { parts = [.text(value)] }

        public init(stringInterpolation: StringInterpolation) { parts = stringInterpolation.parts }

        public struct StringInterpolation: StringInterpolationProtocol {
            var parts: [Part] = []
            public init(literalCapacity: Int, interpolationCount: Int) {}
            public mutating func appendLiteral(_ literal: String) { parts.append(.text(literal)) }
            public mutating func appendInterpolation(_ setting: Setting) { parts.append(.setting(setting)) }
            public mutating func appendInterpolation(_ message: Message) { parts.append(contentsOf: message.parts) }
            public mutating func appendInterpolation<T>(_ value: T) { parts.append(.text("\(value)")) }
        }

        /// The text with every setting named by `name`.
        public func rendered(_ name: (Setting) -> String) -> String {
            parts.map {
                switch $0 {
                case .text(let text): text
                case .setting(let setting): name(setting)
                }
            }.joined()
        }
    }

    public let code: Code
    public let text: Message

    public init(_ code: Code, _ text: Message) {
        self.code = code
        self.text = text
    }

    /// The message with settings by their plain names.
    public var message: String { text.rendered(\.rawValue) }

    public var description: String { message }
}
