import Dispatch
import Foundation
import Synchronization
import WADUPStore

/// Where a run's inputs come from: the walk of `--input`, or the queue of a run shared by several processes.
package protocol InputSource {
    /// The next input, `later` when the source has none now but may have some (another process
    /// holds leases on the rest), or `done`.
    mutating func nextInput() -> InputSourceResult
    /// Paths left out of the run (its own output), with the reason.
    var excluded: [(path: String, reason: String)] { get }
}

package enum InputSourceResult {
    case input(InputWalker.Input)
    case later
    case done
}

extension InputWalker: InputSource {
    package mutating func nextInput() -> InputSourceResult {
        if let input = next() { return .input(input) }
        return .done
    }
}

/// The inputs this process claims from a shared run's queue, opened when handed out.
///
/// The next batch is claimed in the background when half of the current one is handed out, so
/// that workers never wait for the server while inputs are left; only the first claim, and the
/// claims after the queue ran dry, are made by the worker that asks.
final class QueueInputs: InputSource, @unchecked Sendable {  // Safe: every mutable field is guarded by `condition`.
    let store: any SharedRunStore
    let root: String
    let followSymlinks: Bool
    /// The most inputs one claim takes.
    let maxBatch: Int
    private let condition = NSCondition()
    private var buffer: [QueuedInput] = []
    private var next = 0
    private var failure_: StoreError?
    private var claiming = false
    /// Whether the last claim found inputs (so claiming ahead is worth it).
    private var flowing = true
    /// Inputs the next claim asks for: doubled while a batch lasts under ``fastBatch`` seconds,
    /// halved when it lasts over ``slowBatch``, so that a claim covers about a second of work:
    /// few round trips for small files, and large inputs stay spread over the processes.
    private var batch = 64
    private var lastClaim: Date?
    static let fastBatch = 0.25
    static let slowBatch = 1.0

    /// Whether the run's input is a folder (else the one input is the input itself).
    let rootIsFolder: Bool

    init(store: any SharedRunStore, root: String, followSymlinks: Bool, maxBatch: Int) {
        self.store = store
        var st = stat()
        rootIsFolder = stat(root, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
        self.root = root
        self.followSymlinks = followSymlinks
        self.maxBatch = maxBatch
    }

    /// The store failure that ended the claims, if one did.
    var failure: StoreError? {
        condition.lock()
        defer { condition.unlock() }
        return failure_
    }

    package var excluded: [(path: String, reason: String)] { [] }

    package func nextInput() -> InputSourceResult {
        condition.lock()
        while next == buffer.count && claiming { condition.wait() }
        var result: ClaimResult? = nil
        if next == buffer.count {
            if failure_ != nil {
                condition.unlock()
                return .done
            }
            claiming = true
            condition.unlock()
            result = claimOnce()
            condition.lock()
        }
        guard next < buffer.count else {
            condition.unlock()
            if case .done = result { return .done }
            return failure == nil ? .later : .done
        }
        let input = buffer[next]
        next += 1
        if !claiming && flowing && failure_ == nil && buffer.count - next <= batch / 2 {
            claiming = true
            DispatchQueue.global().async { _ = self.claimOnce() }
        }
        condition.unlock()
        return .input(InputWalker.openQueued(root: root, rootIsFolder: rootIsFolder, input, followSymlinks: followSymlinks))
    }

    /// One claim; its inputs join the buffer. Called with `claiming` set, which it clears.
    private func claimOnce() -> ClaimResult? {
        condition.lock()
        let now = Date()
        if let last = lastClaim {
            let lasted = now.timeIntervalSince(last)
            if lasted < Self.fastBatch { batch = min(batch * 2, maxBatch) }
            if lasted > Self.slowBatch { batch = max(batch / 2, 1) }
        }
        lastClaim = now
        let size = batch
        condition.unlock()
        var result: ClaimResult?
        var error: StoreError?
        do {
            result = try store.claim(max: size)
        } catch let e {
            error = e
        }
        condition.lock()
        if next > 0 {
            buffer.removeFirst(next)
            next = 0
        }
        switch result {
        case .inputs(let inputs):
            buffer.append(contentsOf: inputs)
            flowing = !inputs.isEmpty
        case .later, .done, nil:
            flowing = false
        }
        if let error { failure_ = error }
        claiming = false
        condition.broadcast()
        condition.unlock()
        return result
    }
}

extension InputWalker {
    /// Opens one input another process listed: the record it was listed as, or the regular file at
    /// its path now (a path that changed kind since is recorded, not read).
    static func openQueued(root: String, rootIsFolder: Bool, _ queued: QueuedInput, followSymlinks: Bool) -> Input {
        let name = InputName(bytes: queued.path)
        if let reason = queued.reason { return .record(name: name, reason: reason, size: queued.size) }
        let path = rootIsFolder ? Array(root.utf8) + [UInt8(ascii: "/")] + queued.path : Array(root.utf8)
        let cPath = path.map { CChar(bitPattern: $0) } + [0]
        // The root itself is followed if it is a link (the user named it), as the walk does.
        // O_NONBLOCK: a path replaced by a fifo must not block (see InputWalker.classify).
        let fd = Foundation.open(cPath, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (followSymlinks || !rootIsFolder ? 0 : O_NOFOLLOW))
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP { return .record(name: name, reason: "not a regular file: symbolic link (changed since the inputs were listed)", size: nil) }
            return .record(name: name, reason: "unreadable: \(reason(code))", size: nil)
        }
        return opened(fd: fd, name: name, path: String(decoding: path, as: UTF8.self))
    }
}
