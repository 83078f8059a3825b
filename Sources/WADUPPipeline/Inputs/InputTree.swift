import Foundation
import Synchronization
import WADUPCore
import WADUPRuntime

/// One input and every content under it: how many are still to finish (a tree is committed, for
/// resume, when none is left) and the input's budgets, shared by every worker that processes part of it.
package final class InputTree: SubcontentBudget {
    let rootUUID = UUID()
    let name: InputName
    let limits: RunLimits

    private struct State {
        /// Contents handed out or queued and not yet finished; the root counts from the start.
        var outstanding = 1
        var bytes = 0
        var contents = 0
        var refused = 0
        var bytesHit = false
        var contentsHit = false
    }

    private let state = Mutex(State())
    /// Contents of this tree by SHA-256, for a run whose dedup links only within a tree and to
    /// committed trees (``DedupIndex/Scope/committed``).
    let local = Mutex<[[UInt8]: UUID]>([:])

    package init(name: InputName, limits: RunLimits) {
        self.name = name
        self.limits = limits
    }

    package func reserve(bytes: Int) -> Bool {
        state.withLock { state in
            let contentsFit = state.contents < limits.maxInputContents
            let bytesFit = bytes <= limits.maxInputBytes - state.bytes
            guard contentsFit && bytesFit else {
                state.refused += 1
                if !contentsFit { state.contentsHit = true }
                if !bytesFit { state.bytesHit = true }
                return false
            }
            state.contents += 1
            state.bytes += bytes
            return true
        }
    }

    package func reserve(moreBytes bytes: Int) -> Bool {
        state.withLock { state in
            guard bytes <= limits.maxInputBytes - state.bytes else {
                state.refused += 1
                state.bytesHit = true
                return false
            }
            state.bytes += bytes
            return true
        }
    }

    /// Ends one content that queued `children` more; returns whether the tree is now complete.
    func finish(children: Int) -> Bool {
        state.withLock { state in
            state.outstanding += children - 1
            return state.outstanding == 0
        }
    }

    /// Sub-contents refused by a budget so far.
    var refused: Int { state.withLock { $0.refused } }

    /// What the input's record says about its budgets, if one refused anything.
    var budgetNote: String? {
        state.withLock { state in
            state.refused == 0 ? nil : limits.inputBudgetDetail(bytesHit: state.bytesHit, contentsHit: state.contentsHit, refused: state.refused)
        }
    }
}

/// The processed content of each SHA-256 seen in a run: a content whose bytes were processed
/// already (or are being processed by another worker) is linked to it, not processed again.
///
/// Memory must not grow much with the number of contents (a run may see millions): memory holds
/// only 5 bytes of each digest, as 256 small hash tables (by the first byte) of 4-byte keys and
/// 4-byte record numbers, about 14 bytes an entry, and no table ever doubles much memory at once.
/// The full digest and the uuid go to an unlinked temporary file (a 1 MiB tail stays in memory)
/// and are read back only when 5 bytes match, so equal prefixes (even crafted ones) never link
/// different bytes.
final class DedupIndex: Sendable {
    private struct State: ~Copyable {
        /// By the digest's first byte: its next 4 bytes → the newest record with them; records
        /// with the same 5 bytes are chained.
        var heads = [[UInt32: Int32]](repeating: [:], count: 256)
        var log = RecordLog()
        /// Contents withdrawn after their claim (their input changed while it was read): their
        /// records match nothing. Almost always empty.
        var withdrawn: Set<UUID> = []
    }

    private let state = Mutex(State())

    /// Which earlier contents a repeat may be linked to.
    enum Scope {
        /// Any content of the run, even one still being processed (one process writes the run).
        case run
        /// Contents of committed trees (``publish(_:)``) and of the repeat's own tree. A run shared
        /// by several processes needs this: a tree not committed yet may be redone elsewhere, and
        /// a link into it would dangle.
        case committed
    }

    let scope: Scope

    init(processed: [(sha256: String, uuid: String)] = [], scope: Scope = .run) {
        self.scope = scope
        publish(processed)
    }

    /// Adds processed contents (sha256 in hex) that later repeats may be linked to.
    func publish(_ processed: [(sha256: String, uuid: String)]) {
        for (sha256, uuid) in processed {
            if let digest = Self.digest(hex: sha256), let uuid = UUID(uuidString: uuid) { _ = claim(digest: digest, uuid: uuid) }
        }
    }

    /// The content `uuid` of `tree` repeats, by ``scope``; `nil` if it is the first and is to be processed.
    func claim(digest: [UInt8], uuid: UUID, tree: InputTree) -> UUID? {
        switch scope {
        case .run:
            return claim(digest: digest, uuid: uuid)
        case .committed:
            if let original = find(digest: digest) { return original }
            return tree.local.withLock { local in
                if let original = local[digest] { return original }
                local[digest] = uuid
                return nil
            }
        }
    }

    /// The processed content with SHA-256 `digest`, without claiming it.
    private func find(digest: [UInt8]) -> UUID? {
        let shard = Int(digest[0])
        let key = digest.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 1, as: UInt32.self) }
        return state.withLock { state in
            var index = state.heads[shard][key] ?? -1
            while index >= 0 {
                let record = state.log.record(Int(index))
                if record.digest == digest && !state.withdrawn.contains(record.uuid) { return record.uuid }
                index = record.next
            }
            return nil
        }
    }

    /// Takes back the claim of content `uuid` of `tree` on `digest`: its input changed or failed
    /// while it was read, so a later content with these bytes is processed, not linked to it. A
    /// repeat linked to it in between stays linked (a `duplicate` of a `failed` content).
    func withdraw(digest: [UInt8], uuid: UUID, tree: InputTree) {
        switch scope {
        case .run:
            state.withLock { _ = $0.withdrawn.insert(uuid) }
        case .committed:
            tree.local.withLock { local in
                if local[digest] == uuid { local[digest] = nil }
            }
        }
    }

    /// The content already processing or processed with the bytes of SHA-256 `digest` (32 bytes);
    /// else `uuid` becomes it and `nil` is returned.
    func claim(digest: [UInt8], uuid: UUID) -> UUID? {
        precondition(digest.count == 32)
        let shard = Int(digest[0])
        let key = digest.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 1, as: UInt32.self) }
        return state.withLock { state in
            let head = state.heads[shard][key] ?? -1
            var index = head
            while index >= 0 {
                let record = state.log.record(Int(index))
                if record.digest == digest && !state.withdrawn.contains(record.uuid) { return record.uuid }
                index = record.next
            }
            state.heads[shard][key] = state.log.append(digest: digest, uuid: uuid, next: head)
            return nil
        }
    }

    /// The 32 bytes of a SHA-256 in hex (as the database stores it), or `nil`.
    static func digest(hex: String) -> [UInt8]? {
        hex.utf8.count == 64 ? Hex.bytes(hex) : nil
    }
}

/// Fixed-size records (digest, uuid, next) appended to an unlinked temporary file, the newest in memory.
private struct RecordLog: ~Copyable {
    static let size = 52
    static let tailLimit = 1 << 20
    private let fd: Int32
    private var tail: [UInt8] = []
    private var flushed = 0
    private var count: Int32 = 0

    init() {
        let folder = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        // Without a temporary file (a read-only /tmp), everything stays in memory: correct, only larger.
        fd = open(folder, 0o20_200_000 | O_RDWR | O_CLOEXEC, 0o600)  // O_TMPFILE (not exported to Swift)
        tail.reserveCapacity(Self.tailLimit + Self.size)
    }

    deinit { if fd >= 0 { close(fd) } }

    mutating func append(digest: [UInt8], uuid: UUID, next: Int32) -> Int32 {
        tail.append(contentsOf: digest)
        withUnsafeBytes(of: uuid.uuid) { tail.append(contentsOf: $0) }
        withUnsafeBytes(of: next.littleEndian) { tail.append(contentsOf: $0) }
        if fd >= 0, tail.count >= Self.tailLimit {
            let written = tail.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(flushed)) }
            if written == tail.count {
                flushed += written
                tail.removeAll(keepingCapacity: true)
            }
        }
        count += 1
        return count - 1
    }

    func record(_ index: Int) -> (digest: [UInt8], uuid: UUID, next: Int32) {
        let offset = index * Self.size
        var bytes = [UInt8](repeating: 0, count: Self.size)
        if offset >= flushed {
            bytes.withUnsafeMutableBytes { out in
                tail.withUnsafeBytes { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[(offset - flushed)..<(offset - flushed + Self.size)])) }
            }
        } else {
            var done = 0
            while done < Self.size {
                let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, Self.size - done, off_t(offset + done)) }
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    // The temporary file failed us: a record that matches nothing, so the content is processed.
                    return ([], UUID(), -1)
                }
                done += n
            }
        }
        let uuid = bytes.withUnsafeBytes { raw -> UUID in
            var value = UUID().uuid
            withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[32..<48])) }
            return UUID(uuid: value)
        }
        let next = bytes.withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(fromByteOffset: 48, as: Int32.self)) }
        return (Array(bytes[0..<32]), uuid, next)
    }
}
