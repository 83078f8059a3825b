import Foundation
import Synchronization
import WADUPCore
import WADUPRuntime

/// One input and every content under it: how many are still to finish (a tree is committed, for
/// resume, when none is left) and the input's budgets, shared by every worker that processes part of it.
final class InputTree: SubcontentBudget {
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

    init(name: InputName, limits: RunLimits) {
        self.name = name
        self.limits = limits
    }

    func reserve(bytes: Int) -> Bool {
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
final class DedupIndex: Sendable {
    /// A SHA-256 digest as four words: 32 bytes a key, not a 64-character string.
    struct Key: Hashable {
        let a: UInt64, b: UInt64, c: UInt64, d: UInt64

        init?(hex: String) {
            let utf8 = Array(hex.utf8)
            guard utf8.count == 64 else { return nil }
            func word(_ i: Int) -> UInt64? { UInt64(String(decoding: utf8[(i * 16)..<(i * 16 + 16)], as: UTF8.self), radix: 16) }
            guard let a = word(0), let b = word(1), let c = word(2), let d = word(3) else { return nil }
            (self.a, self.b, self.c, self.d) = (a, b, c, d)
        }
    }

    private let map = Mutex<[Key: UUID]>([:])

    init(processed: [(sha256: String, uuid: String)] = []) {
        map.withLock { map in
            map.reserveCapacity(processed.count)
            for (sha256, uuid) in processed {
                if let key = Key(hex: sha256), let uuid = UUID(uuidString: uuid) { map[key] = uuid }
            }
        }
    }

    /// The content already processing or processed with these bytes; else `uuid` becomes it and `nil` is returned.
    func claim(sha256: String, uuid: UUID) -> UUID? {
        guard let key = Key(hex: sha256) else { return nil }
        return map.withLock { map in
            if let original = map[key] { return original }
            map[key] = uuid
            return nil
        }
    }
}
