import WADUPGuest

/// A complete WADUP module: `magic_bytes(magic TEXT, size INTEGER)`, the first 8 bytes in hex.
@_expose(wasm, "process") @_cdecl("process")
public func process() -> Int32 {
    run { () throws(GuestError) in
        let table = try TableBuilder("magic_bytes").column("magic", .string).column("size", .int64).define()
        let head = try Content.read(offset: 0, count: min(8, Content.size))
        let digits = Array("0123456789abcdef".utf8)
        let hex = head.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }
        try table.row().set("magic", .string(String(decoding: hex, as: UTF8.self))).set("size", .int64(Int64(Content.size))).insert()
    }
}
