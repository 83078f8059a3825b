import WADUPGuest

/// Recognises an SQLite database by its header and reads the file format itself: the schema
/// on page 1, then every table's b-tree, counting its rows. `db_table_stats` gets one row per
/// table that has a b-tree (internal `sqlite_*` tables and WITHOUT ROWID tables included).
/// Content that is not SQLite gives no output and succeeds; a corrupt database fails.
@_expose(wasm, "process") @_cdecl("process")
public func process() -> Int32 {
    run { () throws(GuestError) in
        guard let db = try Database.open() else { return }
        let tables = try db.schemaTables()
        let stats = try TableBuilder("db_table_stats").column("table_name", .string).column("row_count", .int64).define()
        for (name, root) in tables {
            try stats.insert([.string(name), .int64(Int64(try db.countRows(root: root)))])
        }
    }
}

/// A varint-decoding cursor over one page's bytes.
struct Database {
    let pageSize: Int
    let usableSize: Int
    let pageCount: Int
    let page: ByteBuffer

    static let magic: [UInt8] = Array("SQLite format 3\0".utf8)

    static func open() throws(GuestError) -> Database? {
        let size = Content.size64
        guard size >= 512 else { return nil }
        let header = try Content.read(offset: 0, count: 100)
        guard Array(header[0..<16]) == magic else { return nil }
        let raw = Int(header[16]) << 8 | Int(header[17])
        let pageSize = raw == 1 ? 65536 : raw
        guard pageSize >= 512, pageSize <= 65536, pageSize & (pageSize - 1) == 0 else { throw .malformed }
        let usable = pageSize - Int(header[20])
        guard usable >= 480 else { throw .malformed }
        guard let page = ByteBuffer(capacity: pageSize) else { throw .malformed }
        return Database(pageSize: pageSize, usableSize: usable, pageCount: Int(size / Int64(pageSize)), page: page)
    }

    /// Loads page `number` (1-based) into `page`.
    func load(_ number: Int) throws(GuestError) {
        guard number >= 1, number <= pageCount else { throw .malformed }
        try page.read(from: Int64(number - 1) * Int64(pageSize))
    }

    func u8(_ at: Int) throws(GuestError) -> Int {
        guard at >= 0, at < pageSize else { throw .malformed }
        return Int(page.pointer[at])
    }

    func u16(_ at: Int) throws(GuestError) -> Int { try u8(at) << 8 | u8(at + 1) }
    func u32(_ at: Int) throws(GuestError) -> Int {
        guard at >= 0, at + 4 <= pageSize else { throw .malformed }
        let v = UInt32(page.pointer[at]) << 24 | UInt32(page.pointer[at + 1]) << 16 | UInt32(page.pointer[at + 2]) << 8 | UInt32(page.pointer[at + 3])
        guard v <= UInt32(Int.max) else { throw .malformed }
        return Int(v)
    }

    /// A varint at `at` in the current page: (value, length).
    func varint(_ at: Int) throws(GuestError) -> (Int64, Int) {
        var value: Int64 = 0
        for i in 0..<8 {
            let b = try u8(at + i)
            value = value << 7 | Int64(b & 0x7F)
            if b < 0x80 { return (value, i + 1) }
        }
        return (value << 8 | Int64(try u8(at + 8)), 9)
    }

    /// The b-tree header of the loaded page: type, cell count, header start.
    func header(_ number: Int) throws(GuestError) -> (type: Int, cells: Int, start: Int) {
        let start = number == 1 ? 100 : 0
        return (try u8(start), try u16(start + 3), start)
    }

    /// Counts the entries of the b-tree rooted at `root`: leaf cells of a table b-tree, or every
    /// cell of an index b-tree (WITHOUT ROWID tables keep rows in interior cells too).
    func countRows(root: Int) throws(GuestError) -> Int {
        var seen = [UInt8](repeating: 0, count: pageCount / 8 + 1)
        var stack = [root]
        var rows = 0
        while let number = stack.popLast() {
            guard number >= 1, number <= pageCount, seen[number >> 3] & (1 << (number & 7)) == 0 else { throw .malformed }
            seen[number >> 3] |= 1 << (number & 7)
            try load(number)
            let (type, cells, start) = try header(number)
            switch type {
            case 13, 10: rows += cells
            case 5, 2:
                if type == 2 { rows += cells }
                stack.append(try u32(start + 8))
                for i in 0..<cells {
                    stack.append(try u32(try u16(start + 12 + 2 * i)))
                }
            default: throw .malformed
            }
        }
        return rows
    }

    /// `(name, rootpage)` of every table in `sqlite_schema` that has a b-tree.
    func schemaTables() throws(GuestError) -> [(String, Int)] {
        var records: [[UInt8]] = []
        var stack = [1]
        var visited = 0
        while let number = stack.popLast() {
            visited += 1
            guard visited <= pageCount else { throw .malformed }
            try load(number)
            let (type, cells, start) = try header(number)
            switch type {
            case 13:
                for i in 0..<cells { records.append(try leafPayload(try u16(start + 8 + 2 * i))) }
            case 5:
                // Children left to right (each cell's left child, then the right-most pointer),
                // pushed reversed so the schema is read in rowid order.
                var children: [Int] = []
                for i in 0..<cells { children.append(try u32(try u16(start + 12 + 2 * i))) }
                children.append(try u32(start + 8))
                stack.append(contentsOf: children.reversed())
            default: throw .malformed
            }
        }
        var tables: [(String, Int)] = []
        for record in records {
            let values = try Record.decode(record)
            guard values.count >= 4, case .text(let type) = values[0], case .text(let name) = values[1] else { throw .malformed }
            guard type == Array("table".utf8), case .integer(let root) = values[3], root > 0 else { continue }
            guard root <= Int64(pageCount) else { throw .malformed }
            tables.append((String(decoding: name, as: UTF8.self), Int(root)))
        }
        return tables
    }

    /// The whole payload of a table-leaf cell at `offset` in the loaded page, following overflow pages.
    func leafPayload(_ offset: Int) throws(GuestError) -> [UInt8] {
        let (size64, n1) = try varint(offset)
        let (_, n2) = try varint(offset + n1)
        guard size64 >= 0, size64 <= min(Content.size64, Int64(Int.max)) else { throw .malformed }
        let payloadSize = Int(size64)
        let u = usableSize
        let x = u - 35
        var local = payloadSize
        if payloadSize > x {
            let m = ((u - 12) * 32 / 255) - 23
            let k = m + ((payloadSize - m) % (u - 4))
            local = k <= x ? k : m
        }
        let start = offset + n1 + n2
        guard start + local <= pageSize else { throw .malformed }
        var payload = Array(UnsafeBufferPointer(start: page.pointer + start, count: local))
        if local < payloadSize {
            var next = try u32(start + local)
            var hops = 0
            while payload.count < payloadSize {
                hops += 1
                guard next >= 1, next <= pageCount, hops <= pageCount else { throw .malformed }
                // Overflow pages are read straight from the content, leaving the b-tree page loaded.
                let chunk = try Content.read(offset: Int64(next - 1) * Int64(pageSize), count: u)
                next = Int(UInt32(chunk[0]) << 24 | UInt32(chunk[1]) << 16 | UInt32(chunk[2]) << 8 | UInt32(chunk[3]))
                let take = min(u - 4, payloadSize - payload.count)
                payload.append(contentsOf: chunk[4..<(4 + take)])
            }
        }
        return payload
    }
}

/// A decoded record value (only what the schema needs).
enum RecordValue {
    case null, integer(Int64), real, text([UInt8]), blob
}

enum Record {
    static func varint(_ bytes: [UInt8], _ at: inout Int) throws(GuestError) -> Int64 {
        var value: Int64 = 0
        for i in 0..<9 {
            guard at < bytes.count else { throw .malformed }
            let b = bytes[at]
            at += 1
            if i == 8 { return value << 8 | Int64(b) }
            value = value << 7 | Int64(b & 0x7F)
            if b < 0x80 { break }
        }
        return value
    }

    static func decode(_ bytes: [UInt8]) throws(GuestError) -> [RecordValue] {
        var at = 0
        let headerSize = try varint(bytes, &at)
        guard headerSize >= 1, headerSize <= Int64(bytes.count) else { throw .malformed }
        var types: [Int64] = []
        while at < Int(headerSize) { types.append(try varint(bytes, &at)) }
        var body = Int(headerSize)
        var values: [RecordValue] = []
        for t in types {
            let width: Int
            switch t {
            case 0, 8, 9: width = 0
            case 1, 2, 3, 4: width = Int(t)
            case 5: width = 6
            case 6, 7: width = 8
            case 10, 11: throw .malformed
            default:
                guard t <= Int64(bytes.count) * 2 + 13 else { throw .malformed }
                width = Int((t - 12) / 2)
            }
            guard body + width <= bytes.count else { throw .malformed }
            switch t {
            case 0: values.append(.null)
            case 8: values.append(.integer(0))
            case 9: values.append(.integer(1))
            case 1...6:
                var v: Int64 = bytes[body] & 0x80 != 0 ? -1 : 0
                for i in 0..<width { v = v << 8 | Int64(bytes[body + i]) }
                values.append(.integer(v))
            case 7: values.append(.real)
            default: values.append(t % 2 == 1 ? .text(Array(bytes[body..<(body + width)])) : .blob)
            }
            body += width
        }
        return values
    }
}
