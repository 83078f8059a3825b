import WADUPGuest
import WADUPInflate

/// Measures the DEFLATE decoder alone: the content is a sequence of raw DEFLATE streams, each
/// framed as `compressed size, size` (u32 little-endian) and the stream. Every stream is inflated
/// (no checksum, nothing emitted) and must give exactly `size` bytes; one row
/// `inflate_probe(streams INTEGER, bytes INTEGER)` says how many and how much. A bad frame or
/// stream fails the content.
@_expose(wasm, "process") @_cdecl("process")
public func process() -> Int32 {
    run { () throws(GuestError) in
        let total = Content.size
        guard total >= 8 else { return }
        let table = try TableBuilder("inflate_probe").column("streams", .int64).column("bytes", .int64).define()
        let decoder = Inflater()
        var position = 0
        var streams = 0
        var bytes = 0
        while position < total {
            guard total - position >= 8 else { throw .malformed }
            let header = try Content.read(offset: position, count: 8)
            let compressed = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16 | Int(header[3]) << 24
            let size = Int(header[4]) | Int(header[5]) << 8 | Int(header[6]) << 16 | Int(header[7]) << 24
            position += 8
            guard compressed <= total - position, let input = ByteBuffer(capacity: compressed),
                let output = ByteBuffer(capacity: size + Inflater.slack)
            else { throw .malformed }
            try input.read(from: position)
            decoder.reset(input: input.pointer, count: compressed, output: output.pointer, capacity: size)
            do throws(Inflater.Failure) {
                try decoder.run()
            } catch {
                throw .malformed
            }
            guard decoder.outputCount == size else { throw .malformed }
            position += compressed
            streams += 1
            bytes += size
        }
        try table.insert([.int64(Int64(streams)), .int64(Int64(bytes))])
    }
}
