// libFuzzer harness for the host's decoding of module input: the strict JSON reader, the ABI's
// column and row codecs, and identifier validation. Built with WADUPCore's sources by
// scripts/fuzz.sh (swiftc -sanitize=fuzzer,address); every check below traps on a violation.

/// JSON text of `value` in one canonical form (what the reader must read back as the same value).
func encode(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let text): return text
    case .string(let s):
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += "\\u00" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    case .array(let items): return "[" + items.map(encode).joined(separator: ",") + "]"
    case .object(let members): return "{" + members.map { encode(.string($0.0)) + ":" + encode($0.1) }.joined(separator: ",") + "}"
    }
}

/// The identifier rule, written again without the production code: `[A-Za-z_][A-Za-z0-9_]{0,62}`, not reserved.
func isIdentifier(_ s: String) -> Bool {
    let b = Array(s.utf8)
    guard !b.isEmpty, b.count <= 63 else { return false }
    for (i, c) in b.enumerated() {
        let letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
        let digit = c >= 48 && c <= 57
        if !(letter || (i > 0 && digit)) { return false }
    }
    let lower = s.lowercased()
    return lower != "content_uuid" && !lower.hasPrefix("__wadup") && !lower.hasPrefix("sqlite_")
}

func check(_ condition: Bool, _ what: String) {
    if !condition { fatalError("fuzz invariant broken: \(what)") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(validating: bytes, as: UTF8.self)

    check(Identifier.isValid(String(decoding: bytes, as: UTF8.self)) == (text.map(isIdentifier) ?? false), "identifier rule")

    guard let json = try? JSONValue.parse(bytes) else { return 0 }
    check(text != nil, "accepted JSON that is not UTF-8")
    let again = try? JSONValue.parse(Array(encode(json).utf8))
    check(again == json, "round trip of \(encode(json))")

    if let columns = try? ABICodec.decodeColumns(json) {
        check(!columns.isEmpty && columns.count <= ABI.maxColumns, "column count")
        check(columns.allSatisfy { isIdentifier($0.name) }, "column names")
        check(Set(columns.map { $0.name.lowercased() }).count == columns.count, "unique column names")
    }
    let columns = [Column(name: "i", type: .int64), Column(name: "f", type: .float64), Column(name: "s", type: .string)]
    if let row = try? ABICodec.decodeRow(json, columns: columns) {
        check(row.count == 3, "row arity")
        for (value, column) in zip(row, columns) {
            switch (value, column.type) {
            case (.null, _), (.int64, .int64), (.string, .string): break
            case (.float64(let v), .float64): check(v.isFinite, "finite float")
            default: check(false, "row types")
            }
        }
    }
    return 0
}
