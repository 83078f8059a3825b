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
        var frames = Content.reader(bufferSize: 16)  // reads the 8-byte frame headers only (past the end: malformed)
        var position = 0
        var streams = 0
        var bytes = 0
        while position < total {
            // Int is 32 bits here: a size of 2 GiB or more is malformed, not a trap.
            guard let compressed = Int(exactly: try frames.u32(at: Int64(position))), let size = Int(exactly: try frames.u32(at: Int64(position + 4)))
            else { throw .malformed }
            position += 8
            guard compressed <= total - position, size <= Int.max - Inflater.slack, let input = ByteBuffer(capacity: compressed),
                let output = ByteBuffer(capacity: size + Inflater.slack)
            else { throw .malformed }
            try input.read(from: Int64(position))
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
