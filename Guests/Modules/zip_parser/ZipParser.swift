import WADUPGuest
import WADUPInflate

/// Recognises a ZIP archive by its end-of-central-directory record, reads the central directory,
/// and emits every file entry as sub-content: stored entries as zero-copy slices, deflated ones
/// inflated and CRC-checked. Every entry gets a `zip_entries` row. Content that is not a ZIP
/// gives no output and succeeds.
///
/// Entries are emitted undecoded (`emit_subcontent_encoded`, token: the method and the CRC-32), so
/// that each is inflated and checked in a decoding run of its own, on whichever core takes it; that
/// run writes the entry's row. When the host refuses (a budget reached), the entry is read here.
@_expose(wasm, "process") @_cdecl("process")
public func process() -> Int32 {
    run { () throws(GuestError) in
        if let (encoding, size) = try SubContent.decoding() {
            try decodeEntry(encoding: encoding, size: size)
            return
        }
        var parser = ZipParser()
        try parser.parse()
    }
}

/// The `zip_entries` table, defined by this instance's first run that needs it (a decoding run
/// per entry makes the definition worth keeping).
nonisolated(unsafe) var definedEntriesTable: Table?

func entriesTable() throws(GuestError) -> Table {
    if let definedEntriesTable { return definedEntriesTable }
    let table = try TableBuilder("zip_entries")
        .column("path", .string).column("method", .int64).column("compressed_size", .int64)
        .column("size", .int64).column("crc32_ok", .int64).column("emitted", .int64).define()
    definedEntriesTable = table
    return table
}

/// The token of an entry emitted undecoded: its method in the low 16 bits, its CRC-32 above.
func encodingToken(method: UInt16, crc: UInt32) -> Int64 { Int64(method) | Int64(crc) << 16 }

/// A decoding run: the content is one entry's data, as `parse` found it; decodes it, emits it and
/// writes its row, exactly as `parse` would have.
func decodeEntry(encoding: Int64, size: Int64) throws(GuestError) {
    let entry = Entry(
        path: Content.filename, flags: 0, method: UInt16(truncatingIfNeeded: encoding), crc: UInt32(truncatingIfNeeded: encoding >> 16),
        compressedSize: Content.size64, size: size, localHeaderOffset: 0)
    var parser = ZipParser(reader: Content.reader(bufferSize: 16))  // `extract` reads no headers
    let (crcOK, emitted) = try parser.extract(entry, at: 0)
    try entriesTable().insert([
        .string(entry.path), .int64(Int64(entry.method)), .int64(entry.compressedSize),
        .int64(entry.size), crcOK, .int64(emitted ? 1 : 0),
    ])
}

/// One decoder for every entry (its tables are allocated once); single-threaded like the instance.
nonisolated(unsafe) let inflater = Inflater()

/// The largest entry this module inflates; bigger ones are recorded, not emitted.
let maxInflatedSize: Int64 = 1 << 30

struct Entry {
    var path: String
    var flags: UInt16
    var method: UInt16
    var crc: UInt32
    /// Sizes and offsets are 64-bit (ZIP64 archives past 4 GiB); -1 when a field cannot be one.
    var compressedSize: Int64
    var size: Int64
    var localHeaderOffset: Int64
}

struct ZipParser {
    var reader = Content.reader()

    mutating func parse() throws(GuestError) {
        guard let (cdOffset, cdSize, count) = try findCentralDirectory() else { return }
        let table = try entriesTable()
        guard let directory = ByteBuffer(capacity: cdSize) else { throw .malformed }
        try directory.read(from: cdOffset)
        var position = 0
        for _ in 0..<count {
            guard let entry = try parseEntry(directory, &position) else { throw .malformed }
            if entry.path.utf8.last == UInt8(ascii: "/") { continue }  // a directory
            var crcOK: Value = .null
            var emitted = false
            if entry.flags & 1 == 0, let data = try dataOffset(entry) {
                switch try emitUndecoded(entry, at: data) {
                case .emitted: continue  // its decoding run writes its row
                case .refused: (crcOK, emitted) = try extract(entry, at: data, emit: false)  // refused once, not twice
                case .notEncodable: (crcOK, emitted) = try extract(entry, at: data)
                }
            }
            try table.insert([
                .string(entry.path), .int64(Int64(entry.method)), .int64(entry.compressedSize),
                .int64(entry.size), crcOK, .int64(emitted ? 1 : 0),
            ])
        }
    }

    /// Offset, size and entry count of the central directory, or `nil` if this is not a ZIP.
    mutating func findCentralDirectory() throws(GuestError) -> (Int64, Int, Int)? {
        let size = reader.size
        guard size >= 22 else { return nil }
        // Every content passes through this module, so look where an archive's end record is,
        // not everywhere: at the very end (no comment), else, for content that starts like an
        // archive or a self-extractor (local header, empty archive, MZ, ELF), in the last 64 KiB.
        var eocd = -1
        var tailStart: Int64 = size - 22
        var tail = try reader.bytes(at: tailStart, count: 22)
        if tail[0] == 0x50, tail[1] == 0x4B, tail[2] == 5, tail[3] == 6, tail[20] == 0, tail[21] == 0 {
            eocd = 0
        } else {
            let head = try reader.bytes(at: 0, count: 4)
            let looksLikeArchive =
                (head[0] == 0x50 && head[1] == 0x4B && (head[2] == 3 || head[2] == 5 || head[2] == 7)) || (head[0] == 0x4D && head[1] == 0x5A)
                || (head[0] == 0x7F && head[1] == 0x45 && head[2] == 0x4C && head[3] == 0x46)
            guard looksLikeArchive else { return nil }
            tailStart = max(0, size - 22 - 65535)
            tail = try reader.bytes(at: tailStart, count: Int(size - tailStart))
            var i = tail.count - 22
            while i >= 0 {
                if tail[i] == 0x50, tail[i + 1] == 0x4B, tail[i + 2] == 5, tail[i + 3] == 6 {
                    let commentLength = Int(tail[i + 20]) | Int(tail[i + 21]) << 8
                    if i + 22 + commentLength == tail.count {
                        eocd = i
                        break
                    }
                }
                i -= 1
            }
        }
        guard eocd >= 0 else { return nil }
        let eocdOffset = tailStart + Int64(eocd)
        let count16 = try reader.u16(at: eocdOffset + 10)
        let size32 = try reader.u32(at: eocdOffset + 12)
        let offset32 = try reader.u32(at: eocdOffset + 16)
        var count = Int(count16)
        var cdSize = Int64(size32)
        var cdOffset = Int64(offset32)
        if count16 == 0xFFFF || size32 == 0xFFFF_FFFF || offset32 == 0xFFFF_FFFF {
            // ZIP64: the locator sits just before the end record and points at the ZIP64 end record.
            let locator = eocdOffset - 20
            guard locator >= 0, try reader.u32(at: locator) == 0x0706_4B50 else { throw .malformed }
            let record = try reader.u64(at: locator + 8)
            guard record < UInt64(size), try reader.u32(at: Int64(record)) == 0x0606_4B50 else { throw .malformed }
            // Sizes are checked against the content before they become integers.
            let total = try reader.u64(at: Int64(record) + 32)
            let directorySize = try reader.u64(at: Int64(record) + 40)
            let directoryOffset = try reader.u64(at: Int64(record) + 48)
            guard total < UInt64(size), directorySize <= UInt64(size), directoryOffset <= UInt64(size) else { throw .malformed }
            cdSize = Int64(directorySize)
            cdOffset = Int64(directoryOffset)
            guard total <= UInt64(cdSize / 46 + 1) else { throw .malformed }
            count = Int(total)
        }
        // The directory is read whole into memory: one wasm32 allocation at most.
        guard cdOffset <= size, cdSize <= size - cdOffset, cdSize <= Int64(Int.max), count <= Int(cdSize / 46 + 1) else { throw .malformed }
        return (cdOffset, Int(cdSize), count)
    }

    func u16(_ b: ByteBuffer, _ at: Int) -> Int { Int(b.pointer[at]) | Int(b.pointer[at + 1]) << 8 }
    func u32(_ b: ByteBuffer, _ at: Int) -> UInt32 { UInt32(u16(b, at)) | UInt32(u16(b, at + 2)) << 16 }
    func u64(_ b: ByteBuffer, _ at: Int) -> UInt64 { UInt64(u32(b, at)) | UInt64(u32(b, at + 4)) << 32 }

    /// One central directory record at `position` (advanced past it), or `nil` if it is cut or wrong.
    func parseEntry(_ d: ByteBuffer, _ position: inout Int) throws(GuestError) -> Entry? {
        let p = position
        guard p + 46 <= d.capacity, u32(d, p) == 0x0201_4B50 else { return nil }
        let nameLength = u16(d, p + 28)
        let extraLength = u16(d, p + 30)
        let commentLength = u16(d, p + 32)
        guard p + 46 + nameLength + extraLength + commentLength <= d.capacity else { return nil }
        var entry = Entry(
            path: decodeName(UnsafeBufferPointer(start: d.pointer + p + 46, count: nameLength), utf8: u16(d, p + 8) & 0x800 != 0),
            flags: UInt16(u16(d, p + 8)), method: UInt16(u16(d, p + 10)), crc: u32(d, p + 16),
            compressedSize: Int64(u32(d, p + 20)), size: Int64(u32(d, p + 24)), localHeaderOffset: Int64(u32(d, p + 42)))
        let sizes = (u32(d, p + 24), u32(d, p + 20), u32(d, p + 42))
        // ZIP64 extended information: the fields that overflowed, in this order.
        var e = p + 46 + nameLength
        let extraEnd = e + extraLength
        while e + 4 <= extraEnd {
            let id = u16(d, e)
            let length = u16(d, e + 2)
            guard e + 4 + length <= extraEnd else { break }
            if id == 1 {
                var f = e + 4
                func next() -> Int64? {
                    guard f + 8 <= e + 4 + length else { return nil }
                    let v = u64(d, f)
                    f += 8
                    return v > UInt64(Int64.max) ? -1 : Int64(v)
                }
                if sizes.0 == 0xFFFF_FFFF { entry.size = next() ?? -1 }
                if sizes.1 == 0xFFFF_FFFF { entry.compressedSize = next() ?? -1 }
                if sizes.2 == 0xFFFF_FFFF { entry.localHeaderOffset = next() ?? -1 }
            }
            e += 4 + length
        }
        position = p + 46 + nameLength + extraLength + commentLength
        return entry
    }

    /// Where the entry's data starts, after its local header; `nil` if the header is missing or cut.
    mutating func dataOffset(_ entry: Entry) throws(GuestError) -> Int64? {
        let at = entry.localHeaderOffset
        guard at >= 0, entry.compressedSize >= 0, entry.size >= 0, at + 30 <= reader.size else { return nil }
        guard try reader.u32(at: at) == 0x0403_4B50 else { return nil }
        let start = at + 30 + Int64(try reader.u16(at: at + 26)) + Int64(try reader.u16(at: at + 28))
        guard start <= reader.size, entry.compressedSize <= reader.size - start else { return nil }
        return start
    }

    enum Undecoded { case emitted, refused, notEncodable }

    /// Emits an entry this module can decode undecoded, for a decoding run on any core; says when
    /// it cannot be (another method, sizes that do not fit) or the host refused it (a limit: the
    /// entry is then only checked, as a refused entry always was).
    func emitUndecoded(_ entry: Entry, at start: Int64) throws(GuestError) -> Undecoded {
        switch entry.method {
        case 0: guard entry.compressedSize == entry.size else { return .notEncodable }
        case 8: guard entry.size <= maxInflatedSize, entry.compressedSize <= Int64(Int.max) else { return .notEncodable }
        default: return .notEncodable
        }
        do throws(GuestError) {
            try SubContent.emitEncoded(
                offset: start, count: entry.compressedSize, decodedSize: entry.size, encoding: encodingToken(method: entry.method, crc: entry.crc),
                name: entry.path)
        } catch {
            if error == .limitReached { return .refused }
            throw error
        }
        return .emitted
    }

    /// Checks one entry and, with `emit`, emits it; returns whether its CRC matched and whether it
    /// was emitted.
    mutating func extract(_ entry: Entry, at start: Int64, emit: Bool = true) throws(GuestError) -> (Value, Bool) {
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.size else { return (.null, false) }
            var crc: UInt32 = 0
            let chunk = 1 << 20
            guard let buffer = ByteBuffer(capacity: Int(min(Int64(chunk), max(entry.size, 1)))) else { throw .malformed }
            var done: Int64 = 0
            while done < entry.size {
                let n = Int(min(Int64(buffer.capacity), entry.size - done))
                try Content.read(offset: start + done, into: UnsafeMutableRawBufferPointer(start: buffer.pointer, count: n))
                crc = CRC32.update(crc, UnsafeRawBufferPointer(start: buffer.pointer, count: n))
                done += Int64(n)
            }
            guard emit else { return (.int64(crc == entry.crc ? 1 : 0), false) }
            do throws(GuestError) {
                try SubContent.emitSlice(offset: start, count: entry.size, name: entry.path)
            } catch {
                if error == .limitReached { return (.int64(crc == entry.crc ? 1 : 0), false) }
                throw error
            }
            return (.int64(crc == entry.crc ? 1 : 0), true)
        case 8:
            guard entry.size <= maxInflatedSize, entry.compressedSize <= Int64(Int.max),
                let input = ByteBuffer(capacity: Int(entry.compressedSize)),
                let output = ByteBuffer(capacity: Int(entry.size) + Inflater.slack)
            else { return (.null, false) }
            let size = Int(entry.size)
            try input.read(from: start)
            inflater.reset(input: input.pointer, count: input.capacity, output: output.pointer, capacity: size)
            do throws(Inflater.Failure) {
                try inflater.run()
            } catch {
                return (.null, false)
            }
            guard inflater.outputCount == size else { return (.null, false) }
            let ok = CRC32.checksum(UnsafeRawBufferPointer(start: output.pointer, count: size)) == entry.crc
            guard emit else { return (.int64(ok ? 1 : 0), false) }
            do throws(GuestError) {
                try SubContent.emit(bytes: UnsafeRawBufferPointer(start: output.pointer, count: size), name: entry.path)
            } catch {
                if error == .limitReached { return (.int64(ok ? 1 : 0), false) }
                throw error
            }
            return (.int64(ok ? 1 : 0), true)
        default:
            return (.null, false)
        }
    }
}

/// Code page 437, the ZIP default for names without the UTF-8 flag: the upper half as Unicode.
let cp437: [UInt16] = [
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9, 0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F, 0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B, 0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4, 0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248, 0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
]

/// A name as UTF-8: kept as is when flagged UTF-8 (or plain ASCII), else decoded from CP437.
func decodeName(_ bytes: UnsafeBufferPointer<UInt8>, utf8: Bool) -> String {
    if utf8 || !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
    var out: [UInt8] = []
    for b in bytes {
        if b < 0x80 {
            out.append(b)
            continue
        }
        let u = UInt32(cp437[Int(b) - 0x80])
        if u < 0x800 {
            out.append(UInt8(0xC0 | (u >> 6)))
            out.append(UInt8(0x80 | (u & 0x3F)))
        } else {
            out.append(UInt8(0xE0 | (u >> 12)))
            out.append(UInt8(0x80 | ((u >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (u & 0x3F)))
        }
    }
    return String(decoding: out, as: UTF8.self)
}
