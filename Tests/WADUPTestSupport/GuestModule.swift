import Foundation
import WAT

/// WAT text of a module importing every host function, with data segments at fixed offsets.
public struct GuestModule: Sendable {
    /// A WAT function `$digits(p: i32, v: i64) -> i32` that writes `v` in decimal at `p` and returns
    /// its length, for probe modules that build JSON rows.
    public static let decimalDigitsFunction = #"""
        (func $digits (param $p i32) (param $v i64) (result i32)
          ;; writes v in decimal at p, returns the length
          (local $n i32) (local $t i64) (local $i i32)
          (local.set $t (local.get $v))
          (loop $count (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (local.set $t (i64.div_u (local.get $t) (i64.const 10))) (br_if $count (i64.ne (local.get $t) (i64.const 0))))
          (local.set $i (local.get $n))
          (loop $write (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.wrap_i64 (i64.add (i64.const 48) (i64.rem_u (local.get $v) (i64.const 10)))))
            (local.set $v (i64.div_u (local.get $v) (i64.const 10))) (br_if $write (local.get $i)))
          (local.get $n))
        """#

    public static let imports = """
        (import "env" "get_content_size" (func $size (result i32)))
        (import "env" "read_content" (func $read (param i32 i32 i32) (result i32)))
        (import "env" "get_content_uuid" (func $uuid (param i32) (result i32)))
        (import "env" "get_content_filename" (func $filename (param i32 i32) (result i32)))
        (import "env" "define_table" (func $define (param i32 i32 i32 i32) (result i32)))
        (import "env" "insert_row" (func $insert (param i32 i32 i32) (result i32)))
        (import "env" "emit_subcontent_bytes" (func $emit_bytes (param i32 i32 i32 i32) (result i32)))
        (import "env" "emit_subcontent_slice" (func $emit_slice (param i32 i32 i32 i32) (result i32)))
        (import "env" "log_message" (func $log (param i32 i32 i32) (result i32)))
        (import "env" "emit_stream_begin" (func $stream_begin (param i32 i32) (result i32)))
        (import "env" "emit_stream_write" (func $stream_write (param i32 i32 i32) (result i32)))
        (import "env" "emit_stream_skip" (func $stream_skip (param i32 i64) (result i32)))
        (import "env" "emit_stream_end" (func $stream_end (param i32) (result i32)))
        (import "env" "emit_stream_abort" (func $stream_abort (param i32) (result i32)))
        (import "env" "emit_subcontent_extents" (func $emit_extents (param i32 i32 i32 i32) (result i32)))
        (import "env" "emit_subcontent_encoded" (func $emit_encoded (param i64 i64 i64 i64 i32 i32) (result i32)))
        (import "env" "get_encoding" (func $get_encoding (param i32) (result i32)))
        """

    /// Strings placed in memory; `@name` in `body` (and `functions`) is replaced by `offset length` of that string.
    public var strings: [(name: String, bytes: [UInt8])] = []
    public var globals = ""
    public var functions = ""
    public var memoryPages = 1
    public var body: String
    /// The module's manifest (JSON), written as its `wadup.manifest` custom section; none when `nil`.
    public var manifest: String?

    public init(strings: [String: String] = [:], body: String, manifest: String? = nil) {
        self.strings = strings.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) }
        self.body = body
        self.manifest = manifest
    }

    /// The two content-type functions, for modules that identify or read types (import them with
    /// ``imports`` in ``functions`` or a module of its own).
    public static let typeImports = """
        (import "env" "set_content_type" (func $set_type (param i32 i32 i32 i32) (result i32)))
        (import "env" "get_content_type" (func $get_type (param i32 i32) (result i32)))
        """

    public mutating func add(_ name: String, bytes: [UInt8]) { strings.append((name, bytes)) }

    public var text: String {
        var offset = 1024
        var data = ""
        var resolved = body
        var resolvedFunctions = functions
        for (name, bytes) in strings.sorted(by: { $0.name.count > $1.name.count }) {
            let escaped = bytes.map { String(format: "\\%02x", $0) }.joined()
            data += "(data (i32.const \(offset)) \"\(escaped)\")\n"
            resolved = resolved.replacingOccurrences(of: "@\(name)", with: "(i32.const \(offset)) (i32.const \(bytes.count))")
            resolvedFunctions = resolvedFunctions.replacingOccurrences(of: "@\(name)", with: "(i32.const \(offset)) (i32.const \(bytes.count))")
            offset += (bytes.count + 15) / 16 * 16 + 16
        }
        let custom = manifest.map { "(@custom \"wadup.manifest\" \"" + Array($0.utf8).map { String(format: "\\%02x", $0) }.joined() + "\")" } ?? ""
        return """
            (module
            \(custom)
            \(Self.imports)
            \(Self.typeImports)
            (memory (export "memory") \(memoryPages))
            \(data)
            \(globals)
            \(resolvedFunctions)
            (func (export "process") (result i32)
            \(resolved))
            )
            """
    }
}

extension GuestModule {
    /// The module `wat` compiled to a `.wasm` binary.
    public static func compile(_ wat: String) throws -> [UInt8] { try wat2wasm(wat) }

    /// Compiles `wat` into the file `path`.
    public static func write(_ wat: String, to path: String) throws {
        try Data(try compile(wat)).write(to: URL(fileURLWithPath: path))
    }

    /// This module's text with `locals` (such as `(local $i i32)`) declared at the top of `process`.
    public func text(locals: String) -> String {
        text.replacingOccurrences(of: "(func (export \"process\") (result i32)", with: "(func (export \"process\") (result i32) \(locals)")
    }
}
