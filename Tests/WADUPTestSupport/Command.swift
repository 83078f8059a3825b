import Foundation

/// A program for a test to run: the built `wadup`, Python, a shell script or any tool, with its
/// arguments, environment and working folder. Its standard input is `/dev/null` (a child never
/// waits on the test's terminal), its standard output and error go to files that are read back
/// whole once it has ended (no pipe can fill up and stall it).
///
/// Every process the tests start goes through here: ``start()`` for one the test signals or
/// watches while it runs, ``run()`` for one it only waits for, ``output()`` for one whose standard
/// output is the answer. A process that outlives ``timeout`` is killed and the wait throws.
public struct Command: Sendable, CustomStringConvertible {
    public var executable: String
    public var arguments: [String]
    /// The whole environment of the process (by default this process's).
    public var environment: [String: String]
    /// The working folder (by default this process's).
    public var directory: String?
    /// Seconds a wait for the process lasts before it is killed (SIGKILL) and the wait throws.
    public var timeout: Double

    /// Long enough for the longest test run (a Rust build, a resumed 23,000-content run); a process
    /// still running then is stuck, and a failure says so instead of the suite hanging.
    public static let defaultTimeout: Double = 900

    public init(
        _ executable: String, _ arguments: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String? = nil, timeout: Double = Command.defaultTimeout
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.directory = directory
        self.timeout = timeout
    }

    /// The `wadup` built with these tests, with `adding` set in this process's environment.
    public static func wadup(_ arguments: [String], adding: [String: String] = [:], directory: String? = nil) -> Command {
        Command(Harness.wadupBinary, arguments, directory: directory).adding(adding)
    }

    /// The `wadup` built with these tests, with exactly `environment`.
    public static func wadup(_ arguments: [String], environment: [String: String]) -> Command {
        Command(Harness.wadupBinary, arguments, environment: environment)
    }

    /// `python3 -c script arguments...`.
    public static func python(_ script: String, _ arguments: [String] = []) -> Command {
        Command("/usr/bin/env", ["python3", "-c", script] + arguments)
    }

    /// `bash -c script` in `directory`.
    public static func shell(_ script: String, in directory: String) -> Command {
        Command("/bin/bash", ["-c", script], directory: directory)
    }

    /// This command with `variables` set (replacing those of the same name).
    public func adding(_ variables: [String: String]) -> Command {
        var command = self
        command.environment.merge(variables) { $1 }
        return command
    }

    public var description: String { ([executable] + arguments).joined(separator: " ") }

    /// Starts the process.
    public func start() throws -> RunningProcess {
        try RunningProcess(self)
    }

    /// Runs the process to its end (at most ``timeout``).
    @discardableResult
    public func run() throws -> Exit {
        try start().wait()
    }

    /// Runs the process to its end and returns its standard output; throws unless it exited with 0.
    public func output() throws -> String {
        let exit = try run()
        guard exit.succeeded else { throw LaunchError.failed(description, exit) }
        return exit.stdout
    }
}

/// How a process ended, and what it wrote.
public struct Exit: Sendable, CustomStringConvertible {
    /// The exit code, or the number of the signal that ended it.
    public let status: Int32
    /// Whether a signal ended it (not an exit).
    public let signalled: Bool
    public let stdout: String
    public let stderr: String

    /// Standard output, then standard error.
    public var output: String { stdout + stderr }
    /// Whether it exited with 0.
    public var succeeded: Bool { !signalled && status == 0 }

    public var description: String {
        (signalled ? "killed by signal \(status)" : "exit \(status)") + (stderr.isEmpty ? "" : ": \(stderr)")
    }
}

/// Why a process a test needed did not give what it needed.
public enum LaunchError: Error, CustomStringConvertible {
    case notExecutable(String)
    case timedOut(String, seconds: Double, stderr: String)
    case failed(String, Exit)

    public var description: String {
        switch self {
        case .notExecutable(let path):
            "\(path) is not an executable file" + (path == Harness.wadupBinary ? " (build the package first: swift build -c release)" : "")
        case .timedOut(let command, let seconds, let stderr): "\(command) was still running after \(seconds) s and was killed: \(stderr)"
        case .failed(let command, let exit): "\(command) failed: \(exit)"
        }
    }
}

/// A process started by ``Command/start()``: signal it, watch it, wait for it.
public final class RunningProcess: @unchecked Sendable {  // Safe: `process` is only read after `run()`; `ended` is guarded by `lock`.
    public let command: Command
    public let pid: Int32
    private let process: Process
    private let stdoutPath: String
    private let stderrPath: String
    private let lock = NSLock()
    private var ended: Exit?

    init(_ command: Command) throws {
        self.command = command
        guard FileManager.default.isExecutableFile(atPath: command.executable) else { throw LaunchError.notExecutable(command.executable) }
        let folder = Harness.temporaryDirectory()
        stdoutPath = folder + "/stdout"
        stderrPath = folder + "/stderr"
        guard FileManager.default.createFile(atPath: stdoutPath, contents: nil), FileManager.default.createFile(atPath: stderrPath, contents: nil) else {
            throw SupportError("cannot create \(stdoutPath) and \(stderrPath)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command.executable)
        process.arguments = command.arguments
        process.environment = command.environment
        if let directory = command.directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle.nullDevice
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        let error = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // The child has its own descriptors now; this process keeps none per child.
        try? output.close()
        try? error.close()
        self.process = process
        pid = process.processIdentifier
    }

    /// A process a test let go of while it still runs (the test failed or threw before waiting) is
    /// killed, so that it does not run on beside the next tests.
    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` (SIGINT, SIGTERM, SIGKILL, SIGSTOP, ...) to the process.
    public func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// What it has written to standard output so far (all of it once it has ended).
    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    /// What it has written to standard error so far (all of it once it has ended).
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits up to `seconds` for the process to end; returns whether it did.
    public func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return !process.isRunning
    }

    /// Waits for the process to end (at most the command's timeout: then it is killed and this throws).
    @discardableResult
    public func wait() throws -> Exit {
        if let ended = lock.withLock({ ended }) { return ended }
        guard waitForExit(seconds: command.timeout) else {
            send(SIGKILL)
            process.waitUntilExit()
            throw LaunchError.timedOut(command.description, seconds: command.timeout, stderr: stderr)
        }
        process.waitUntilExit()
        let exit = Exit(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal, stdout: stdout, stderr: stderr)
        lock.withLock { ended = exit }
        return exit
    }
}
