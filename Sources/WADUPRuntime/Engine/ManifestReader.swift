import WADUPCore

/// Reads a module's manifest from its `wadup.manifest` custom section, and writes one into a
/// module file (`wadup manifest --set`, for toolchains that cannot emit custom sections).
///
/// It walks the binary's top-level sections only (id, LEB128 size), so it costs nothing next to
/// compiling, and gives the same answer to both engines, `wadup check` and `wadup try`.
public enum ManifestReader {
    /// The module's manifest: ``ModuleManifest/everything`` without the section; an error naming
    /// the module and the fault for a malformed one (the run refuses to start, exit 2).
    public static func manifest(bytes: [UInt8], path: String) throws(ModuleLoadError) -> ModuleManifest {
        let sections: [[UInt8]]
        do {
            sections = try customSections(named: ABI.manifestSection, in: bytes)
        } catch {
            throw ModuleLoadError(path: path, reason: "not a valid WebAssembly module (\(error.reason))")
        }
        guard let text = sections.first else { return .everything }
        guard sections.count == 1 else {
            throw ModuleLoadError(path: path, reason: "has \(sections.count) \(ABI.manifestSection) sections; a module has at most one manifest")
        }
        guard text.count <= ABI.maxManifestBytes else {
            throw ModuleLoadError(path: path, reason: "manifest is \(text.count) bytes, more than \(ABI.maxManifestBytes)")
        }
        do {
            return try ModuleManifest.parse(text)
        } catch {
            throw ModuleLoadError(path: path, reason: "malformed manifest (\(ABI.manifestSection) section): \(error)")
        }
    }

    /// The manifest of a loaded module: its `wadup.manifest` section when it has one, else the
    /// JSON its `wadup_accepts` export gave after `init` (`exported`), else ``ModuleManifest/everything``.
    public static func manifest(bytes: [UInt8], path: String, exported: String?) throws(ModuleLoadError) -> ModuleManifest {
        guard let exported, !hasManifest(bytes: bytes) else { return try manifest(bytes: bytes, path: path) }
        guard exported.utf8.count <= ABI.maxManifestBytes else {
            throw ModuleLoadError(path: path, reason: "manifest is \(exported.utf8.count) bytes, more than \(ABI.maxManifestBytes)")
        }
        do {
            return try ModuleManifest.parse(Array(exported.utf8))
        } catch {
            throw ModuleLoadError(path: path, reason: "malformed manifest (from \(ABI.acceptsExport)): \(error)")
        }
    }

    /// Whether the module carries a manifest section at all (`wadup check` says when it has none).
    public static func hasManifest(bytes: [UInt8]) -> Bool {
        ((try? customSections(named: ABI.manifestSection, in: bytes)) ?? []).isEmpty == false
    }

    struct Malformed: Error {
        let reason: String
    }

    /// The payloads of the custom sections called `name`, in file order.
    static func customSections(named name: String, in bytes: [UInt8]) throws(Malformed) -> [[UInt8]] {
        var found: [[UInt8]] = []
        try walk(bytes) { id, body, _ throws(Malformed) in
            guard id == 0 else { return }
            var at = body.lowerBound
            let length = try leb(bytes, &at, end: body.upperBound)
            guard length <= body.upperBound - at else { throw Malformed(reason: "a custom section's name runs past the section") }
            if bytes[at..<at + length].elementsEqual(name.utf8) { found.append(Array(bytes[(at + length)..<body.upperBound])) }
        }
        return found
    }

    /// `bytes` with its manifest sections replaced by one holding `manifest` (appended at the end,
    /// where custom sections may appear).
    public static func replacingManifest(in bytes: [UInt8], with manifest: [UInt8]) throws(ModuleLoadError) -> [UInt8] {
        var kept = try removingManifest(from: bytes)
        let name = Array(ABI.manifestSection.utf8)
        let payload = encodeLEB(name.count) + name + manifest
        kept.append(0)
        kept.append(contentsOf: encodeLEB(payload.count))
        kept.append(contentsOf: payload)
        return kept
    }

    /// `bytes` without its manifest sections.
    public static func removingManifest(from bytes: [UInt8]) throws(ModuleLoadError) -> [UInt8] {
        var kept: [UInt8] = Array(bytes.prefix(8))
        do {
            try walk(bytes) { id, body, whole throws(Malformed) in
                if id == 0 {
                    var at = body.lowerBound
                    let length = try leb(bytes, &at, end: body.upperBound)
                    if length <= body.upperBound - at, bytes[at..<at + length].elementsEqual(ABI.manifestSection.utf8) { return }
                }
                kept.append(contentsOf: bytes[whole])
            }
        } catch {
            throw ModuleLoadError(path: "", reason: "not a valid WebAssembly module (\(error.reason))")
        }
        return kept
    }

    /// Calls `visit(id, body range, whole section range)` for every top-level section.
    private static func walk(_ bytes: [UInt8], _ visit: (UInt8, Range<Int>, Range<Int>) throws(Malformed) -> Void) throws(Malformed) {
        guard bytes.count >= 8, bytes[0..<4].elementsEqual([0x00, 0x61, 0x73, 0x6D]) else { throw Malformed(reason: "no wasm magic number") }
        var at = 8
        while at < bytes.count {
            let start = at
            let id = bytes[at]
            at += 1
            let size = try leb(bytes, &at, end: bytes.count)
            guard size <= bytes.count - at else { throw Malformed(reason: "section \(id) runs past the end of the file") }
            try visit(id, at..<at + size, start..<at + size)
            at += size
        }
    }

    private static func leb(_ bytes: [UInt8], _ at: inout Int, end: Int) throws(Malformed) -> Int {
        var value = 0
        var shift = 0
        while true {
            guard at < end, shift < 35 else { throw Malformed(reason: "a section size is not a valid LEB128 u32") }
            let byte = bytes[at]
            at += 1
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    private static func encodeLEB(_ value: Int) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }
}
