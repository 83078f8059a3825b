import WADUPGuest

/// `file_sizes(filename TEXT, size INTEGER)`: one row per content.
@_expose(wasm, "process") @_cdecl("process")
public func process() -> Int32 {
    run { () throws(GuestError) in
        let table = try TableBuilder("file_sizes").column("filename", .string).column("size", .int64).define()
        try table.row().set("filename", .string(Content.filename)).set("size", .int64(Content.size64)).insert()
    }
}
