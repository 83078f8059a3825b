import WADUPCore
import WADUPStore

/// Why a run could not start or could not finish: a stable code and a message naming the file or
/// module and a remedy. The command layer maps the code to the exit status scripts rely on.
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
    }

    /// A run setting a message refers to.
    public typealias Setting = RunSetting
    /// Message text with settings kept apart.
    public typealias Message = SettingMessage

    public let code: Code
    public let text: Message

    public init(_ code: Code, _ text: Message) {
        self.code = code
        self.text = text
    }

    /// The message with settings by their plain names.
    public var message: String { text.description }

    public var description: String { message }
}

extension WADUPError {
    /// The output could not be opened, or was lost during the run.
    init(output error: OutputError) {
        let code: Code =
            switch error.kind {
            case .usage, .refused, .unavailable: .usage
            case .exists: .outputExists
            case .inUse: .outputInUse
            case .resumeMismatch: .resumeMismatch
            case .lost: .outputLost
            case .unwritable: .database
            case .io: .io
            }
        self.init(code, error.text)
    }

    /// Writing or finishing the output failed; every committed input tree is kept. A run shared
    /// through a server is continued by the same command (the server keeps the run; there is no
    /// `--resume`).
    init(store error: StoreError, shared: Bool) {
        let remedy: SettingMessage =
            if shared {
                "the server holds every input committed so far; once it answers, run the same command again to finish the run"
            } else if error.isFull {
                "free space on its disk, then continue with \(RunSetting.resume) (every input committed so far is kept)"
            } else {
                "the database holds every input committed so far; fix the cause, then continue with \(RunSetting.resume)"
            }
        self.init(.database, "\(error.text.prefixed(by: "database \(error.path): ")); \(remedy)")
    }
}
