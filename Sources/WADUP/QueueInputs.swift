import Foundation
import Synchronization
import WADUPStore

/// Where a run's inputs come from: the walk of `--input`, or the queue of a run shared by several processes.
protocol InputSource {
    /// The next input, `later` when the source has none now but may have some (another process
    /// holds leases on the rest), or `done`.
    mutating func nextInput() -> InputSourceResult
    /// Paths left out of the run (its own output), with the reason.
    var excluded: [(path: String, reason: String)] { get }
}

enum InputSourceResult {
    case input(InputWalker.Input)
    case later
    case done
}

extension InputWalker: InputSource {
    mutating func nextInput() -> InputSourceResult {
        if let input = next() { return .input(input) }
        return .done
    }
}

/// The inputs this process claims from a shared run's queue, a few at a time, opened when handed out.
final class QueueInputs: InputSource, Sendable {
    let store: any SharedRunStore
    let root: String
    let followSymlinks: Bool
    /// The most inputs one claim takes.
    let maxBatch: Int
    private struct State {
        var buffer: [QueuedInput] = []
        var failure: StoreError?
        /// Inputs the next claim asks for: doubled while a batch lasts under ``fastBatch`` seconds,
        /// halved when it lasts over ``slowBatch``, so that a claim covers about a second of work:
        /// few round trips for small files, and large inputs stay spread over the processes.
        var batch = 1
        var lastClaim: Date?
    }

    private let state = Mutex(State())
    static let fastBatch = 0.25
    static let slowBatch = 1.0

    init(store: any SharedRunStore, root: String, followSymlinks: Bool, maxBatch: Int) {
        self.store = store
        self.root = root
        self.followSymlinks = followSymlinks
        self.maxBatch = maxBatch
    }

    /// The store failure that ended the claims, if one did.
    var failure: StoreError? { state.withLock { $0.failure } }

    var excluded: [(path: String, reason: String)] { [] }

    func nextInput() -> InputSourceResult {
        let next: QueuedInput? = state.withLock { $0.buffer.isEmpty ? nil : $0.buffer.removeFirst() }
        if let next { return .input(InputWalker.openQueued(root: root, next, followSymlinks: followSymlinks)) }
        let batch = state.withLock { state in
            let now = Date()
            if let last = state.lastClaim {
                let lasted = now.timeIntervalSince(last)
                if lasted < Self.fastBatch { state.batch = min(state.batch * 2, maxBatch) }
                if lasted > Self.slowBatch { state.batch = max(state.batch / 2, 1) }
            }
            state.lastClaim = now
            return state.batch
        }
        do {
            switch try store.claim(max: batch) {
            case .inputs(let inputs):
                guard let first = inputs.first else { return .later }
                state.withLock { $0.buffer = Array(inputs.dropFirst()) }
                return .input(InputWalker.openQueued(root: root, first, followSymlinks: followSymlinks))
            case .later:
                return .later
            case .done:
                return .done
            }
        } catch {
            state.withLock { $0.failure = error }
            return .done
        }
    }
}

extension InputWalker {
    /// Opens one input another process listed: the record it was listed as, or the regular file at
    /// its path now (a path that changed kind since is recorded, not read).
    static func openQueued(root: String, _ queued: QueuedInput, followSymlinks: Bool) -> Input {
        let name = InputName(bytes: queued.path)
        if let reason = queued.reason { return .record(name: name, reason: reason, size: queued.size) }
        var st = stat()
        let rootIsFolder = stat(root, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
        let path = rootIsFolder ? Array(root.utf8) + [UInt8(ascii: "/")] + queued.path : Array(root.utf8)
        let cPath = path.map { CChar(bitPattern: $0) } + [0]
        // The root itself is followed if it is a link (the user named it), as the walk does.
        let fd = Foundation.open(cPath, O_RDONLY | O_CLOEXEC | O_NOCTTY | (followSymlinks || !rootIsFolder ? 0 : O_NOFOLLOW))
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP { return .record(name: name, reason: "not a regular file: symbolic link (changed since the inputs were listed)", size: nil) }
            return .record(name: name, reason: "unreadable: \(reason(code))", size: nil)
        }
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .record(name: name, reason: "not a regular file (changed since the inputs were listed)", size: nil)
        }
        return .file(InputFile(fd: fd, name: name))
    }
}
