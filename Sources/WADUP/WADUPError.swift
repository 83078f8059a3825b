/// Why a run could not start or could not finish: a stable code, a message naming the file or
/// module and a remedy, and the exit code scripts rely on.
public struct WADUPError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String { case usage, invalidModule = "invalid_module", outputExists = "output_exists", io, database }
        private let value: Value
        /// A bad option or argument.
        public static let usage = Code(value: .usage)
        /// A module file that is corrupt, incomplete or imports something outside the ABI.
        public static let invalidModule = Code(value: .invalidModule)
        /// The output database exists and `--overwrite` was not given.
        public static let outputExists = Code(value: .outputExists)
        /// Reading the inputs or modules failed.
        public static let io = Code(value: .io)
        /// Writing the output database failed.
        public static let database = Code(value: .database)

        public var description: String { value.rawValue }

        /// 2 for problems found before any input is touched, 1 for a run that failed.
        public var exitCode: Int32 {
            switch value {
            case .usage, .invalidModule, .outputExists: 2
            case .io, .database: 1
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
