import Foundation
import GRDB
import WADUPStore

/// `wadup timeline`: the file-system entries a `disk` module recorded (`fs_entries`, one row per
/// line of `fls -r -p -m /`) as a TSK 3.x body file, or as a super-timeline of MACB events (CSV or
/// JSON Lines) sorted by time.
///
/// Everything is streamed in constant memory: SQLite produces the lines already in order (its
/// sorter spills to temporary files), and a cursor hands them out one at a time. Only the paths of
/// the images (the contents that have `fs_entries` rows, a handful per run) are held, to put them
/// into the query.
package struct Timeline {
    package enum Format: String, Sendable, CaseIterable {
        /// `0|NAME|inode|mode|uid|gid|size|atime|mtime|ctime|crtime`, what `mactime -b` reads.
        case bodyfile
        /// One RFC 4180 line per event: `time,macb,size,mode,uid,gid,inode,deleted,path,image`.
        case csv
        /// One JSON object per event, with the CSV's fields.
        case jsonl
    }

    /// The table the `disk` module writes.
    package static let table = "fs_entries"
    /// The columns of `fs_entries` a timeline reads.
    static let columns = ["volume", "path", "inode", "mode", "uid", "gid", "size", "mtime", "atime", "ctime", "crtime", "deleted", "allocated"]
    /// The header of the CSV timeline (and the keys of the JSON objects), in order.
    package static let eventFields = ["time", "macb", "size", "mode", "uid", "gid", "inode", "deleted", "path", "image"]

    package let database: RunDatabase
    /// `fs_entries` as the database spells it.
    let tableName: String
    /// Whether the table has symbolic links' targets (`link`), which a body file prints after the name.
    let hasLinks: Bool
    /// The bounds events (csv, jsonl) or an entry's times (bodyfile) must fall within, both inclusive.
    let earliest: Int64
    let latest: Int64

    /// A timeline of `database`, bounded by `from` and `to` (inclusive; a date alone as `to` takes in
    /// its whole day). Throws ``InspectError/Code/noSuchTable`` when the run recorded no file-system
    /// entries.
    package init(database: RunDatabase, from: TimelineTime? = nil, to: TimelineTime? = nil) throws(InspectError) {
        guard let table = database.tables.first(where: { $0.name.lowercased() == Self.table }) else {
            throw InspectError(
                .noSuchTable,
                "\(database.path): no file-system entries were recorded (no \(Self.table) table: the run had no disk module, or it found no file system)")
        }
        let missing = Self.columns.filter { !table.columns.contains($0) }
        guard missing.isEmpty else {
            throw InspectError(.unreadable, "\(database.path): \(table.name) lacks the columns \(missing.joined(separator: ", ")) that a timeline reads")
        }
        self.database = database
        tableName = table.name
        hasLinks = table.columns.contains("link")
        earliest = from?.first ?? .min
        latest = to?.last ?? .max
    }

    /// Writes the timeline in `format`; returns the number of lines (without the CSV header).
    @discardableResult
    package func write(_ format: Format, to sink: OutputSink) throws(InspectError) -> Int {
        switch format {
        case .bodyfile: try bodyfile(to: sink)
        case .csv: try events(to: sink, json: false)
        case .jsonl: try events(to: sink, json: true)
        }
    }

    // MARK: Body file

    /// One line per `fs_entries` row in TSK 3.x body format, sorted by image path, volume and path
    /// (`mactime` sorts by time itself). With bounds, only rows with at least one time within them.
    @discardableResult
    package func bodyfile(to sink: OutputSink) throws(InspectError) -> Int {
        try database.read { db in
            guard let images = try imagesClause(db) else { return 0 }
            // Without bounds every row, those without any time too (fls lists them; mactime passes over them).
            let bounded = earliest == .min && latest == .max
                ? "1" : ["mtime", "atime", "ctime", "crtime"].map { "e.\($0) BETWEEN :earliest AND :latest" }.joined(separator: " OR ")
            let sql = """
                \(images)
                SELECT \(Self.fullPath), e.inode, e.mode, e.uid, e.gid, e.size, e.atime, e.mtime, e.ctime, e.crtime, e.deleted, e.allocated, \(hasLinks ? "e.link" : "NULL")
                FROM \(SQL.quoted(tableName)) e JOIN images i ON i.uuid = e.content_uuid
                WHERE \(bounded)
                ORDER BY i.image, coalesce(e.volume, ''), coalesce(e.path, ''), e.rowid
                """
            let arguments: StatementArguments = bounded == "1" ? [] : ["earliest": earliest, "latest": latest]
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            var lines = 0
            while let row = try cursor.next() {
                let deleted = (Self.integer(row, 10) ?? 0) != 0
                let allocated = (Self.integer(row, 11) ?? 0) != 0
                let suffix = deleted ? (allocated ? " (deleted-realloc)" : " (deleted)") : ""
                // A symbolic link's target after its name, as fls -m prints it: `/link -> target`.
                let target = Self.text(row, 12).map { " -> " + $0 } ?? ""
                var line = "0|" + Self.sanitized((Self.text(row, 0) ?? "") + target + suffix) + "|" + Self.sanitized(Self.text(row, 1) ?? "0")
                line += "|" + Self.sanitized(Self.text(row, 2) ?? "")
                for index in 3...9 { line += "|" + String(Self.integer(row, index) ?? 0) }
                try sink.write(line + "\n")
                lines += 1
            }
            return lines
        }
    }

    /// `text` with control characters (below U+0020) made `^`, as The Sleuth Kit cleans names, so
    /// that a line stays one line.
    static func sanitized(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 }) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 ? "^" : $0 }))
    }

    // MARK: Events

    /// One line per (entry, distinct time): the letters of the times that fall on it, `m`, `a`, `c`,
    /// `b` in that order with `.` for the others (`m.c.`), as `mactime` groups them. NULL times make
    /// no event. Sorted by time, then path.
    @discardableResult
    func events(to sink: OutputSink, json: Bool) throws(InspectError) -> Int {
        try database.read { db in
            if !json { try sink.write(Self.eventFields.joined(separator: ",") + "\r\n") }
            guard let images = try imagesClause(db) else { return 0 }
            let cursor = try Row.fetchCursor(db, sql: images + "\n" + eventsSQL, arguments: ["earliest": earliest, "latest": latest])
            let keys = Self.eventFields.map { JSONText.string($0) + ":" }
            var lines = 0
            while let row = try cursor.next() {
                let time = Self.iso8601(Self.integer(row, 0) ?? 0)
                let macb = Self.text(row, 1) ?? "...."
                let (size, mode, uid, gid, inode) = (Self.integer(row, 2), Self.text(row, 3), Self.integer(row, 4), Self.integer(row, 5), Self.text(row, 6))
                let deleted = (Self.integer(row, 7) ?? 0) != 0 ? "1" : "0"
                let (path, image) = (Self.text(row, 8) ?? "", Self.text(row, 9) ?? "")
                if json {
                    let values = [
                        JSONText.string(time), JSONText.string(macb), size.map(String.init) ?? "null", JSONText.optional(mode),
                        uid.map(String.init) ?? "null", gid.map(String.init) ?? "null", JSONText.optional(inode), deleted,
                        JSONText.string(path), JSONText.string(image),
                    ]
                    try sink.write("{" + zip(keys, values).map { $0 + $1 }.joined(separator: ",") + "}\n")
                } else {
                    let fields = [
                        time, macb, size.map(String.init) ?? "", Exporter.csvField(mode ?? ""), uid.map(String.init) ?? "",
                        gid.map(String.init) ?? "", Exporter.csvField(inode ?? ""), deleted, Exporter.csvField(path), Exporter.csvField(image),
                    ]
                    try sink.write(fields.joined(separator: ",") + "\r\n")
                }
                lines += 1
            }
            return lines
        }
    }

    /// The events, sorted: a UNION ALL of one SELECT per time column, each keeping only times that
    /// no earlier column of the same row has (so a row yields each distinct time once, with the
    /// letters of every column equal to it), ordered by SQLite's sorter.
    var eventsSQL: String {
        let times = ["mtime", "atime", "ctime", "crtime"]
        let letters = ["m", "a", "c", "b"]
        let branches = times.enumerated().map { index, time in
            let macb = zip(times, letters).map { "(CASE WHEN e.\($0) = e.\(time) THEN '\($1)' ELSE '.' END)" }.joined(separator: " || ")
            let distinct = times[..<index].map { " AND e.\(time) IS NOT e.\($0)" }.joined()
            return """
                SELECT e.\(time) AS t, \(macb) AS macb, e.size, e.mode, e.uid, e.gid, e.inode, e.deleted, \(Self.fullPath) AS full_path, i.image, e.rowid AS r
                FROM \(SQL.quoted(tableName)) e JOIN images i ON i.uuid = e.content_uuid
                WHERE e.\(time) BETWEEN :earliest AND :latest\(distinct)
                """
        }
        return "SELECT * FROM (\n" + branches.joined(separator: "\nUNION ALL\n") + "\n) ORDER BY t, full_path, inode, r, macb"
    }

    // MARK: Shared

    /// Column `index` as an integer (a REAL or numeric TEXT converted; `nil` for NULL or other
    /// text): a damaged row prints as zero rather than stopping the timeline.
    static func integer(_ row: Row, _ index: Int) -> Int64? {
        let value: DatabaseValue = row[index]
        switch value.storage {
        case .int64(let i): return i
        case .double(let d): return d.isFinite && abs(d) < 9.2e18 ? Int64(d) : nil
        case .string(let s): return Int64(s)
        case .null, .blob: return nil
        }
    }

    /// Column `index` as text (a number written as text; `nil` for NULL).
    static func text(_ row: Row, _ index: Int) -> String? {
        let value: DatabaseValue = row[index]
        switch value.storage {
        case .string(let s): return s
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .blob(let data): return String(decoding: data, as: UTF8.self)
        case .null: return nil
        }
    }

    /// An entry's path in the run: the image's path, the volume (left out when empty) and the path
    /// in the file system (which starts with `/`).
    static let fullPath = """
        i.image || CASE WHEN coalesce(e.volume, '') = '' THEN '' ELSE '/' || e.volume END \
        || CASE WHEN substr(coalesce(e.path, ''), 1, 1) = '/' THEN e.path ELSE '/' || coalesce(e.path, '') END
        """

    /// `WITH images(uuid, image) AS (VALUES …)`: every content with `fs_entries` rows and its path in
    /// the run (from its parent links, as the other views show it); `nil` when the table is empty.
    ///
    /// The paths go into the query as literals rather than bound parameters, so that no limit on
    /// parameters bounds the number of images.
    func imagesClause(_ db: Database) throws -> String? {
        let paths = try PathResolver(db)
        let uuids = try String.fetchCursor(db, sql: "SELECT DISTINCT content_uuid FROM \(SQL.quoted(tableName))")
        var values: [String] = []
        while let uuid = try uuids.next() {
            values.append("(\(Self.literal(uuid)), \(Self.literal(try paths.path(of: uuid))))")
        }
        return values.isEmpty ? nil : "WITH images(uuid, image) AS (VALUES " + values.joined(separator: ", ") + ")"
    }

    /// `text` as an SQL string literal.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// Unix seconds as ISO 8601 UTC (`2026-12-07T21:07:16Z`), by the proleptic Gregorian calendar.
    package static func iso8601(_ seconds: Int64) -> String {
        let (days, rest) = (seconds.floorDivided(by: 86_400), seconds.floorModulo(86_400))
        let (year, month, day) = civil(days)
        return String(format: "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", year, month, day, rest / 3600, rest / 60 % 60, rest % 60)
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civil(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days from 1970-01-01 to the date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// A bound of `wadup timeline --from/--to`: Unix seconds, an ISO 8601 date (`2026-12-07`) or an
/// ISO 8601 date and time (`2026-12-07T21:07:16`, UTC unless it ends in an offset: `Z`, `+02:00`).
package struct TimelineTime: Sendable, Equatable {
    /// The first second it names.
    package let first: Int64
    /// The last second it names: the day's last for a date alone, else ``first``.
    package let last: Int64

    package init?(_ text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(text) {
            (first, last) = (seconds, seconds)
            return
        }
        let pattern = #"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$"#
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
        else { return nil }
        func group(_ index: Int) -> String? {
            Range(match.range(at: index), in: text).map { String(text[$0]) }
        }
        func number(_ index: Int) -> Int64 { group(index).flatMap { Int64($0) } ?? 0 }
        let (year, month, day) = (number(1), number(2), number(3))
        let monthDays: [Int64] = [31, year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), day >= 1, day <= monthDays[Int(month - 1)] else { return nil }
        let midnight = Timeline.days(year: year, month: month, day: day) * 86_400
        guard group(4) != nil else {
            (first, last) = (midnight, midnight + 86_399)
            return
        }
        let (hour, minute, second) = (number(4), number(5), number(6))
        guard hour < 24, minute < 60, second < 60 else { return nil }
        var offset: Int64 = 0
        if let zone = group(7), zone.uppercased() != "Z" {
            let digits = zone.dropFirst().filter(\.isNumber)
            let (hours, minutes) = (Int64(digits.prefix(2)) ?? 0, Int64(digits.suffix(2)) ?? 0)
            guard hours < 24, minutes < 60 else { return nil }
            offset = (hours * 3600 + minutes * 60) * (zone.hasPrefix("-") ? -1 : 1)
        }
        let seconds = midnight + hour * 3600 + minute * 60 + second - offset
        (first, last) = (seconds, seconds)
    }
}

extension Int64 {
    /// The quotient rounded down (towards negative infinity).
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let (q, r) = quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? q - 1 : q
    }

    /// The remainder of ``floorDivided(by:)``, never negative for a positive divisor.
    fileprivate func floorModulo(_ divisor: Int64) -> Int64 {
        let r = self % divisor
        return r < 0 ? r + divisor : r
    }
}
