import Foundation
import WADUPCore

/// Everything one module-run may see and everything it produces.
///
/// Created by the pipeline for one content and one module, filled by ``HostABI`` during `process`,
/// and kept only if the run succeeds.
public final class RunContext {
    public let content: ContentBuffer
    public let uuid: UUID
    public let filename: String
    public let limits: RunLimits
    /// The budget of the input this content belongs to; every emit draws from it.
    public let budget: (any SubcontentBudget)?
    /// The content's type, as an identifying module reported it before this run (`get_content_type`).
    public let contentType: ContentType?
    /// Whether this run may report the content's type (`set_content_type`): only modules whose
    /// manifest has the role `identify`.
    public let mayIdentify: Bool
    /// In a decoding run (an encoded sub-content decoded by the module that emitted it): its
    /// token and decoded size, which `get_encoding` hands back. `nil` in an ordinary run.
    public let decoding: Encoding?
    /// For an input itself: the bytes its module-runs have read, for the progress line.
    public let readProgress: ReadProgress?

    /// Rows inserted by the run, in order.
    public internal(set) var rows: [(tableID: Int32, values: [CellValue])] = []
    /// Sub-contents emitted by the run, in order.
    public internal(set) var children: [EmittedContent] = []
    /// Bytes copied out with `emit_subcontent_bytes`.
    public internal(set) var copiedBytes = 0
    /// Set when a read of the content failed because its input file changed or failed
    /// (`read_content` then returns `input_unavailable`): the content is recorded as failed with
    /// it, whatever the module returned.
    public internal(set) var inputFault: ContentReadError?
    /// The type this run reported with `set_content_type` (the last call wins).
    public internal(set) var reportedType: ContentType?
    /// The fuel the run used, as the engine counted it (`nil` without a fuel limit).
    public internal(set) var fuelUsed: UInt64?
    var rowBytes = 0
    var logCount = 0
    /// The last line the module logged at error level during this run: a `nonzero_return`'s
    /// detail carries it (a Python module's exception, a decoder's reason).
    var lastErrorLine: String?

    /// The detail of a `nonzero_return` failure: the code, and what the module last logged at
    /// error level, if anything.
    func nonzeroReturnDetail(_ code: Int32) -> String {
        lastErrorLine.map { "process returned \(code): \($0)" } ?? "process returned \(code)"
    }

    /// Where streams too large for memory are written.
    public let temporaryFolder: TemporaryFolder
    /// Streams begun and not yet ended or aborted, by handle; those left when `process` returns
    /// are discarded with this context (their temporary files closed, so freed).
    var streams: [Int32: SubcontentStream] = [:]
    /// The next stream handle: handles are never reused within a run, so a stale one is refused.
    var nextStream: Int32 = 0
    /// Where finished small streams go past the memory budget (made at the first stream).
    lazy var arena = StreamArena(folder: temporaryFolder)
    private var usesArena = false
    /// Set when a stream's temporary file could not be written: the run fails with it
    /// (``FailureKind/temporaryStorage``) whatever the module returned.
    public internal(set) var storageFault: String?

    /// A finished stream becomes the next child: kept in memory within the budget, else appended
    /// to the arena (a placeholder until its segment is sealed).
    func appendStream(_ stream: SubcontentStream) throws(SubcontentStream.StorageFault) {
        if let held = stream.heldBytes, !arena.keepsInMemory(held.count) {
            usesArena = true
            children.append(EmittedContent(name: stream.name, data: ContentBuffer([])))
            try arena.append(held, name: stream.name, child: children.count - 1, children: &children)
            return
        }
        let (data, digest) = try stream.finish()
        children.append(digest.map { EmittedContent(name: stream.name, data: data, sha256: $0) } ?? EmittedContent(name: stream.name, data: data))
    }

    /// Whether one more sub-content of `bytes` may be emitted (and, in an ordinary run, takes them
    /// from the input's budget): at most ``RunLimits/maxSubcontent`` per run; a decoding run emits
    /// at most one, already counted when its range was emitted.
    func admitsChild(bytes: Int) -> Bool {
        if decoding != nil { return children.isEmpty && streams.isEmpty }
        return children.count + streams.count < limits.maxSubcontent && (budget?.reserve(bytes: bytes) ?? true)
    }

    /// Whether one more sub-content of `bytes` copied out of the module (or decoded later) may be
    /// emitted: within ``RunLimits/maxSubcontentBytes`` for the run and ``admitsChild(bytes:)``;
    /// if so, the bytes are counted.
    func admitsCopy(bytes: Int) -> Bool {
        guard bytes <= limits.maxSubcontentBytes - copiedBytes, admitsChild(bytes: bytes) else { return false }
        copiedBytes += bytes
        return true
    }

    /// `offset` and `length` as a range of the content, or `nil` if they do not lie within it.
    func contentRange(offset: Int64, length: Int64) -> (start: Int, count: Int)? {
        let size = Int64(content.count)
        guard offset >= 0, length >= 0, offset <= size, length <= size - offset else { return nil }
        return (Int(offset), Int(length))
    }

    /// Seals the arena's last segment, so every child holds its bytes: called when `process`
    /// returns, before the children are read. A failure is the run's ``storageFault``.
    public func sealStreams() {
        guard usesArena else { return }
        do throws(SubcontentStream.StorageFault) {
            try arena.seal(into: &children)
        } catch {
            if storageFault == nil { storageFault = error.description }
        }
    }

    public init(
        content: ContentBuffer, uuid: UUID, filename: String, limits: RunLimits, budget: (any SubcontentBudget)? = nil,
        temporaryFolder: TemporaryFolder = .standard, contentType: ContentType? = nil, mayIdentify: Bool = false, decoding: Encoding? = nil,
        readProgress: ReadProgress? = nil
    ) {
        self.decoding = decoding
        self.readProgress = readProgress
        self.temporaryFolder = temporaryFolder
        self.budget = budget
        self.contentType = contentType
        self.mayIdentify = mayIdentify
        self.content = content
        self.uuid = uuid
        self.filename = filename
        self.limits = limits
    }
}

/// What all the contents under one input may still emit (shared by the workers of its tree).
public protocol SubcontentBudget: AnyObject, Sendable {
    /// Takes one sub-content of `bytes` from the budget; `false` (and nothing taken) if it does not fit.
    func reserve(bytes: Int) -> Bool
    /// Takes `bytes` more for a sub-content already counted (a stream, as it is written); `false`
    /// (and nothing taken) if they do not fit.
    func reserve(moreBytes bytes: Int) -> Bool
}

/// What `emit_subcontent_encoded` says of a range it emits: the module's own token (a codec, a
/// checksum; never read by the host) and the size of the decoded bytes.
public struct Encoding: Sendable, Equatable {
    public let token: Int64
    public let decodedSize: Int64

    public init(token: Int64, decodedSize: Int64) {
        self.token = token
        self.decodedSize = decodedSize
    }
}

/// A sub-content a module emitted: its name and its bytes (a copy, or a slice sharing the parent's storage).
public struct EmittedContent: Sendable {
    public let name: String
    /// Its bytes; for an encoded sub-content, the encoded range, which its decoding run replaces.
    public let data: ContentBuffer
    /// Its SHA-256, started as it was emitted (computed only if asked for, for an encoded one).
    public let digest: ContentDigest
    /// Set when the module emitted the range undecoded (`emit_subcontent_encoded`).
    public let encoding: Encoding?

    public init(name: String, data: ContentBuffer) {
        self.name = name
        self.data = data
        digest = ContentDigest(data)
        encoding = nil
    }

    /// An encoded range, decoded later by the module that emitted it.
    init(name: String, encoded data: ContentBuffer, encoding: Encoding) {
        self.name = name
        self.data = data
        digest = ContentDigest(deferred: data)
        self.encoding = encoding
    }

    /// A sub-content whose SHA-256 is known already (hashed as it was streamed).
    init(name: String, data: ContentBuffer, sha256: [UInt8]) {
        self.name = name
        self.data = data
        digest = ContentDigest(data, known: sha256)
        encoding = nil
    }
}

/// How a module-run ended.
public enum ModuleRunOutcome: Sendable, Equatable {
    case success
    case failure(FailureKind, String)
    /// The run was stopped by ``WasmEngine/interrupt()`` (Ctrl-C): not a result of the content,
    /// so the content is not recorded (a resumed run redoes it).
    case interrupted
}
