import WADUPGuest

/// A test module for the Swift SDK's row encoding: `sdk_values(i INTEGER, f REAL, s TEXT)` gets
/// the extremes of each type (integers at both ends, doubles that need all 17 digits, strings
/// with every kind of escape and one longer than the writer's first buffer). On a content of one
/// byte B it also emits `sdk_stream` (B 1 2, two skipped zeros, 3, through `SubContentStream`;
/// another stream is aborted) and `sdk_extents` (B then a hole of 3), and on those does nothing.
@_expose(wasm, "process") @_cdecl("process")
public func process() -> Int32 {
    run { () throws(GuestError) in
        guard Content.size64 == 1 else { return }
        let first = try Content.read(offset: 0, count: 1)
        let stream = try SubContentStream(name: "sdk_stream")
        try stream.write([first[0], 1, 2])
        try stream.skip(2)
        try stream.write([3])
        try stream.end()
        let aborted = try SubContentStream(name: "sdk_aborted")
        try aborted.write([1])
        try aborted.abort()
        try SubContent.emitExtents([.range(offset: 0, count: 1), .hole(count: 3)], name: "sdk_extents")
        let table = try TableBuilder("sdk_values").column("i", .int64).column("f", .float64).column("s", .string).define()
        try table.insert([.int64(Int64.min), .float64(0.1), .string("quote \" backslash \\ tab \t soh \u{1}")])
        try table.insert([.int64(Int64.max), .float64(-2.5e-300), .string("caf\u{E9} \u{2591} \u{1F600}")])
        try table.insert([.int64(-1), .float64(1.7976931348623157e308), .string(String(repeating: "x", count: 5000))])
        try table.insert([.int64(0), .float64(123456.789), .null])
        try table.insert([.null, .float64(-3.0), .string("")])
        try table.row().set("i", 42).set("s", "by name").insert()
    }
}
