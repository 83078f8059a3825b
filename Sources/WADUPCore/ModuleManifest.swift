#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a module says about itself: its role and the contents it accepts.
///
/// A module carries its manifest as JSON in a custom section named ``ABI/manifestSection``
/// (`docs/modules/ABI.md`, "Manifest"). The host reads it once, when the module is loaded, and then
/// offers a content to the module only when the manifest accepts it: a run with twenty modules does
/// not pay for twenty "not mine" answers on every content. A module without a manifest accepts
/// everything, as modules did before manifests existed.
public struct ModuleManifest: Sendable, Equatable {
    /// Whether the module identifies contents (runs first, may report a type) or analyses them.
    public enum Role: String, Sendable, CaseIterable {
        /// Runs first on every content it accepts and may report the content's type with
        /// `set_content_type`; the other modules are then dispatched on that type.
        case identify
        /// Runs after identification, on the contents it accepts.
        case analyze
    }

    /// Bytes that must appear at a place in the content.
    public struct Magic: Sendable, Equatable {
        /// Where the bytes start: from the start of the content, or, when negative, from its end
        /// (-22 is 22 bytes before the end).
        public let offset: Int64
        public let bytes: [UInt8]
        /// When greater than 0, the bytes may start anywhere in `offset ..< offset + range`
        /// (a ZIP's end record somewhere in its last 64 KiB); 0 means exactly at `offset`.
        public let range: Int64

        public init(offset: Int64, bytes: [UInt8], range: Int64 = 0) {
            self.offset = offset
            self.bytes = bytes
            self.range = range
        }
    }

    /// The contents a module is offered. A content is accepted when its size is within the bounds
    /// and, if any of `mime`, `magic` and `names` is given, one of them matches.
    public struct Accepts: Sendable, Equatable {
        /// MIME patterns (`application/pdf`, `text/*`, `application/x-*executable`), matched
        /// without regard to case against the type an identifying module reported.
        public var mime: [String] = [] { didSet { mimeBytes = mime.map(ModuleManifest.lowercasedBytes) } }
        public var magic: [Magic] = []
        /// Globs (`*` and `?`) matched without regard to case against the last component of the
        /// content's name (`*.zip`, `*.tar.*`).
        public var names: [String] = [] { didSet { nameBytes = names.map(ModuleManifest.lowercasedBytes) } }
        /// The patterns as lowercase bytes, made once: dispatch matches them on every content.
        private(set) var mimeBytes: [[UInt8]] = []
        private(set) var nameBytes: [[UInt8]] = []
        public var minSize: Int64?
        public var maxSize: Int64?

        public init(mime: [String] = [], magic: [Magic] = [], names: [String] = [], minSize: Int64? = nil, maxSize: Int64? = nil) {
            self.mime = mime
            self.magic = magic
            self.names = names
            self.minSize = minSize
            self.maxSize = maxSize
            mimeBytes = mime.map(ModuleManifest.lowercasedBytes)
            nameBytes = names.map(ModuleManifest.lowercasedBytes)
        }
    }

    public var role: Role
    /// `nil`: every content.
    public var accepts: Accepts?

    public init(role: Role = .analyze, accepts: Accepts? = nil) {
        self.role = role
        self.accepts = accepts
    }

    /// The manifest of a module that has none: an analyser of every content.
    public static let everything = ModuleManifest()

    /// Most patterns of each kind, most magic bytes and the farthest magic reach: bounds on what
    /// one module makes the host do for every content.
    public static let maxPatterns = 256
    public static let maxMagicBytes = 256
    public static let maxMagicReach: Int64 = 1 << 20

    /// Why a manifest is refused: the field and what is wrong with it.
    public struct Fault: Error, Sendable, Equatable, CustomStringConvertible {
        public let field: String
        public let problem: String
        public var description: String { field.isEmpty ? problem : "\(field): \(problem)" }
    }

    /// Parses the manifest's JSON text, refusing unknown fields and wrong types, so that a typo
    /// (`"mimes"`) is an error at load rather than a module silently offered everything.
    public static func parse(_ bytes: [UInt8]) throws(Fault) -> ModuleManifest {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw Fault(field: "", problem: error == .invalidUTF8 ? "not valid UTF-8" : "not valid JSON")
        }
        guard case .object(let fields) = json else { throw Fault(field: "", problem: "not a JSON object") }
        var manifest = ModuleManifest()
        for (key, value) in try unique(fields, "") {
            switch key {
            case "version":
                guard try integer(value, "version") == 1 else { throw Fault(field: "version", problem: "unknown version (this host reads version 1)") }
            case "role":
                guard case .string(let text) = value, let role = Role(rawValue: text) else {
                    throw Fault(field: "role", problem: "must be one of \(Role.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
                }
                manifest.role = role
            case "accepts":
                manifest.accepts = try parseAccepts(value)
            default:
                throw Fault(field: key, problem: "unknown field (known: version, role, accepts)")
            }
        }
        return manifest
    }

    private static func parseAccepts(_ value: JSONValue) throws(Fault) -> Accepts {
        guard case .object(let fields) = value else { throw Fault(field: "accepts", problem: "must be an object") }
        var accepts = Accepts()
        for (key, value) in try unique(fields, "accepts") {
            let field = "accepts.\(key)"
            switch key {
            case "mime":
                accepts.mime = try strings(value, field)
                for pattern in accepts.mime where !ContentType.isMIME(pattern, wildcards: true) {
                    throw Fault(field: field, problem: "\"\(pattern)\" is not a MIME pattern (type/subtype, `*` for any run of characters)")
                }
            case "names":
                accepts.names = try strings(value, field)
                for pattern in accepts.names where pattern.isEmpty || pattern.utf8.count > 255 || pattern.contains("/") {
                    throw Fault(field: field, problem: "\"\(pattern)\" is not a file-name glob (1 to 255 bytes, no `/`)")
                }
            case "magic":
                guard case .array(let items) = value else { throw Fault(field: field, problem: "must be an array") }
                guard items.count <= maxPatterns else { throw Fault(field: field, problem: "more than \(maxPatterns) entries") }
                accepts.magic = try items.enumerated().map { (i, item) throws(Fault) in try parseMagic(item, "\(field)[\(i)]") }
            case "min_size":
                accepts.minSize = try size(value, field)
            case "max_size":
                accepts.maxSize = try size(value, field)
            default:
                throw Fault(field: field, problem: "unknown field (known: mime, magic, names, min_size, max_size)")
            }
        }
        if let low = accepts.minSize, let high = accepts.maxSize, low > high {
            throw Fault(field: "accepts", problem: "min_size \(low) is greater than max_size \(high)")
        }
        return accepts
    }

    private static func parseMagic(_ value: JSONValue, _ field: String) throws(Fault) -> Magic {
        guard case .object(let fields) = value else { throw Fault(field: field, problem: "must be an object with \"hex\"") }
        var offset: Int64 = 0
        var range: Int64 = 0
        var bytes: [UInt8]?
        for (key, value) in try unique(fields, field) {
            switch key {
            case "offset": offset = try integer(value, "\(field).offset")
            case "range":
                range = try integer(value, "\(field).range")
                guard range >= 0 else { throw Fault(field: "\(field).range", problem: "must not be negative") }
            case "hex":
                guard case .string(let text) = value, let decoded = Hex.bytes(text), !decoded.isEmpty, decoded.count <= maxMagicBytes else {
                    throw Fault(field: "\(field).hex", problem: "must be 1 to \(maxMagicBytes) bytes as an even number of hex digits")
                }
                bytes = decoded
            default:
                throw Fault(field: "\(field).\(key)", problem: "unknown field (known: offset, range, hex)")
            }
        }
        guard let bytes else { throw Fault(field: field, problem: "missing \"hex\"") }
        let reach = offset < 0 ? -offset : offset + range + Int64(bytes.count)
        guard offset > Int64.min, reach <= maxMagicReach, range <= maxMagicReach else {
            throw Fault(field: field, problem: "reaches past \(maxMagicReach) bytes from the start or the end of the content")
        }
        return Magic(offset: offset, bytes: bytes, range: range)
    }

    private static func unique(_ fields: [(String, JSONValue)], _ field: String) throws(Fault) -> [(String, JSONValue)] {
        var seen: Set<String> = []
        for (key, _) in fields where !seen.insert(key).inserted {
            throw Fault(field: field.isEmpty ? key : "\(field).\(key)", problem: "given twice")
        }
        return fields
    }

    private static func integer(_ value: JSONValue, _ field: String) throws(Fault) -> Int64 {
        guard case .number(let text) = value, let number = Int64(text) else { throw Fault(field: field, problem: "must be an integer") }
        return number
    }

    private static func size(_ value: JSONValue, _ field: String) throws(Fault) -> Int64? {
        if value == .null { return nil }
        let number = try integer(value, field)
        guard number >= 0 else { throw Fault(field: field, problem: "must not be negative") }
        return number
    }

    private static func strings(_ value: JSONValue, _ field: String) throws(Fault) -> [String] {
        guard case .array(let items) = value else { throw Fault(field: field, problem: "must be an array of strings") }
        guard items.count <= maxPatterns else { throw Fault(field: field, problem: "more than \(maxPatterns) entries") }
        return try items.map { (item) throws(Fault) in
            guard case .string(let text) = item else { throw Fault(field: field, problem: "must be an array of strings") }
            return text
        }
    }
}

/// The bytes of a content dispatch looks at: served from what the host already holds where it can.
public protocol ContentBytes: AnyObject {
    /// Calls `body` with the `count` bytes at `offset` (inside the content) and returns its answer;
    /// `false` without calling it when they cannot be read.
    func withBytes(at offset: Int64, count: Int, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool
}

extension ModuleManifest {
    /// What the host knows about a content when it decides whether to offer it to a module.
    public struct Candidate {
        public let size: Int64
        /// The last component of the content's name, lowercased (ASCII), as bytes.
        let name: [UInt8]
        /// The type an identifying module reported; `nil` when none did (no identifier, or it failed).
        public let mime: String?
        let mimeBytes: [UInt8]?
        let bytes: any ContentBytes

        public init(size: Int64, filename: String, mime: String?, bytes: any ContentBytes) {
            self.size = size
            let last = filename.lastIndex(of: "/").map { filename[filename.index(after: $0)...] } ?? filename[...]
            self.name = ModuleManifest.lowercasedBytes(last)
            self.mime = mime
            self.mimeBytes = mime.map(ModuleManifest.lowercasedBytes)
            self.bytes = bytes
        }

        private init(size: Int64, name: [UInt8], mime: String?, bytes: any ContentBytes) {
            self.size = size
            self.name = name
            self.mime = mime
            self.mimeBytes = mime.map(ModuleManifest.lowercasedBytes)
            self.bytes = bytes
        }

        /// The same content with another type (after an identifier reported one).
        public func with(mime: String?) -> Candidate { Candidate(size: size, name: name, mime: mime, bytes: bytes) }
    }

    /// Whether the module is offered `content`.
    ///
    /// A content without a type (no identifier ran, or it failed or said nothing) matches every
    /// MIME pattern: dispatch may only skip a module when it knows the content is not its kind.
    public func accepts(_ content: Candidate) -> Bool {
        guard let accepts else { return true }
        if let low = accepts.minSize, content.size < low { return false }
        if let high = accepts.maxSize, content.size > high { return false }
        if accepts.mime.isEmpty && accepts.magic.isEmpty && accepts.names.isEmpty { return true }
        if !accepts.mimeBytes.isEmpty {
            guard let mime = content.mimeBytes else { return true }
            if accepts.mimeBytes.contains(where: { Self.glob($0, matches: mime) }) { return true }
        }
        if accepts.nameBytes.contains(where: { Self.glob($0, matches: content.name) }) { return true }
        return accepts.magic.contains { $0.matches(content) }
    }

    static func lowercasedBytes<S: StringProtocol>(_ text: S) -> [UInt8] { text.utf8.map(lower) }

    /// `*` for any run of bytes and `?` for one; both sides lowercased already.
    static func glob(_ p: [UInt8], matches t: [UInt8]) -> Bool {
        var (pi, ti) = (0, 0)
        var star: (p: Int, t: Int)?
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = (pi, ti)
                pi += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if let s = star {
                pi = s.p + 1
                ti = s.t + 1
                star = (s.p, s.t + 1)
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    @inline(__always)
    static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
}

extension ModuleManifest.Magic {
    func matches(_ content: ModuleManifest.Candidate) -> Bool {
        let length = Int64(bytes.count)
        let start = offset < 0 ? content.size + offset : offset
        let first = max(start, 0)
        let end = min(start + range + length, content.size)
        guard end - first >= length else { return false }
        if range == 0 && first != start { return false }
        return content.bytes.withBytes(at: first, count: Int(end - first)) { window in
            bytes.withUnsafeBytes { needle in range == 0 ? Self.starts(window, with: needle) : Self.find(needle, in: window) }
        }
    }

    static func starts(_ window: UnsafeRawBufferPointer, with needle: UnsafeRawBufferPointer) -> Bool {
        guard let base = window.baseAddress, let n = needle.baseAddress, needle.count <= window.count else { return needle.isEmpty }
        return memcmp(base, n, needle.count) == 0
    }

    /// Whether `needle` is anywhere in `window`: libc's `memchr` and `memcmp`, since a ZIP's
    /// end-record magic is looked for in the last 64 KiB of every content, which a byte-by-byte
    /// loop made a tenth of a run over small files.
    static func find(_ needle: UnsafeRawBufferPointer, in window: UnsafeRawBufferPointer) -> Bool {
        guard let base = window.baseAddress, let n = needle.baseAddress else { return needle.isEmpty }
        let count = needle.count
        let first = Int32(needle[0])
        var at = base
        var left = window.count
        while left >= count {
            guard let hit = memchr(at, first, left - count + 1) else { return false }
            if memcmp(hit, n, count) == 0 { return true }
            let skipped = UnsafeRawPointer(hit) - at + 1
            left -= skipped
            at += skipped
        }
        return false
    }
}

/// A content's type, as an identifying module reported it: what `file --mime-type` and `file` say.
public struct ContentType: Sendable, Equatable {
    public let mime: String
    public let description: String

    public init(mime: String, description: String) {
        self.mime = mime
        self.description = description
    }

    /// The bytes a MIME type or pattern is made of (RFC 6838's restricted names, and `=`/`;`-free).
    static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// Whether `text` is a MIME type WADUP records: `type/subtype` of token bytes, at most
    /// ``ABI/maxMIMEBytes`` long.
    public static func isValidMIME(_ text: String) -> Bool { isMIME(text, wildcards: false) }

    /// `type/subtype` of token bytes (and `*` when `wildcards`), at most ``ABI/maxMIMEBytes`` long.
    static func isMIME(_ text: String, wildcards: Bool) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, text.utf8.count <= ABI.maxMIMEBytes else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { isTokenByte($0) || (wildcards && $0 == UInt8(ascii: "*")) } }
    }
}
