import WADUPCore

/// A manifest as `wadup check` and `wadup try` print it.
enum ManifestText {
    /// One line: the role and what the module accepts; `declared` is false for a module without
    /// a manifest section (what it gets is then the default, and the line says so).
    static func summary(_ manifest: ModuleManifest, declared: Bool = true) -> String {
        (declared ? "" : "none (the default: ") + "role \(manifest.role.rawValue); accepts " + accepts(manifest.accepts) + (declared ? "" : ")")
    }

    static func accepts(_ accepts: ModuleManifest.Accepts?) -> String {
        guard let accepts else { return "every content" }
        var parts: [String] = []
        if !accepts.mime.isEmpty { parts.append("MIME " + accepts.mime.joined(separator: ", ")) }
        if !accepts.magic.isEmpty { parts.append("magic " + accepts.magic.map(magic).joined(separator: ", ")) }
        if !accepts.names.isEmpty { parts.append("names " + accepts.names.joined(separator: ", ")) }
        var text = parts.isEmpty ? "every content" : parts.joined(separator: "; or ")
        switch (accepts.minSize, accepts.maxSize) {
        case (nil, nil): break
        case (let low?, nil): text += "; at least \(low) bytes"
        case (nil, let high?): text += "; at most \(high) bytes"
        case (let low?, let high?): text += "; \(low) to \(high) bytes"
        }
        return text
    }

    private static func magic(_ magic: ModuleManifest.Magic) -> String {
        let place = magic.range > 0 ? "within \(magic.range) bytes from \(magic.offset)" : "at \(magic.offset)"
        return magic.bytes.hex + " " + place
    }
}
