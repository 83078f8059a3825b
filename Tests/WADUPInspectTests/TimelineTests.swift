import Foundation
import Testing
import WADUPCore
import WADUPInspect
import WADUPStore
import WADUPTestSupport

/// `wadup timeline`'s reader: a run's `fs_entries` (written here through the store, as a `disk`
/// module's rows would be) as a TSK body file and as CSV and JSON Lines MACB events, with bounds;
/// the body file read by Debian's `mactime` gives the same events as the CSV.
struct TimelineTests {
    /// 2026-12-07T00:00:00Z.
    static let day: Int64 = 1_796_601_600
    static let t0 = day - 86_400  // 2026-12-06T00:00:00Z
    static let t1 = day + 3600  // 01:00:00
    static let t2 = day + 7200  // 02:00:00
    static let t3 = day + 10_800  // 03:00:00
    static let t4 = day + 76_036  // 21:07:16
    static let t5 = day + 87_000  // 2026-12-08T00:10:00Z

    static let columns: [Column] = ([
        ("volume", .string), ("path", .string), ("inode", .string), ("kind", .string), ("size", .int64), ("mode", .string), ("uid", .int64),
        ("gid", .int64), ("mtime", .int64), ("atime", .int64), ("ctime", .int64), ("crtime", .int64), ("deleted", .int64), ("allocated", .int64),
        ("link", .string), ("emitted", .int64), ("reason", .string),
    ] as [(String, ColumnType)]).map { Column(name: $0.0, type: $0.1) }

    /// One `fs_entries` row: times in m, a, c, b order, `nil` where fls prints 0.
    static func entry(
        _ volume: String, _ path: String, _ inode: String, _ mode: String, size: Int64, uid: Int64 = 0, gid: Int64 = 0,
        m: Int64?, a: Int64?, c: Int64?, b: Int64?, deleted: Int64 = 0, allocated: Int64 = 1, link: String? = nil
    ) -> [CellValue] {
        let kind = mode.hasPrefix("d") ? "directory" : "file"
        let times: [CellValue] = [m, a, c, b].map { $0.map(CellValue.int64) ?? .null }
        return [.string(volume), .string(path), .string(inode), .string(kind), .int64(size), .string(mode), .int64(uid), .int64(gid)] + times
            + [.int64(deleted), .int64(allocated), link.map(CellValue.string) ?? .null, .int64(1), .null]
    }

    /// A run database with two images: `case/disk.E01` (partitions p1 and p2) and
    /// `case/bundle.zip/usb.raw` (a bare file system, volume ""); `withEntries: false` gives a run
    /// without the disk module's table.
    static func makeRun(withEntries: Bool = true) throws -> String {
        let path = Harness.temporaryDirectory() + "/run.db"
        func record(_ outcome: RunOutcome) -> RunRecord {
            RunRecord(startedAt: day, finishedAt: day, version: "test", engine: "none", settings: "{}", outcome: outcome, inputs: 2, contents: 3, failed: 0, skipped: 0)
        }
        let store = try SQLiteStore(path: path, run: record(.running))
        if withEntries { store.createTable(TableSchema(name: "fs_entries", columns: columns), id: 0, module: "disk") }
        let disk = "0d1b7e64-0000-4000-8000-000000000001"
        let bundle = "0d1b7e64-0000-4000-8000-000000000002"
        let usb = "0d1b7e64-0000-4000-8000-000000000003"
        let diskRows = [
            entry("p1", "/a.txt", "12", "r/rrw-r--r--", size: 100, uid: 1000, gid: 1000, m: t2, a: t4, c: t2, b: t1),
            entry("p1", "/gone.txt", "13", "r/rrw-r--r--", size: 5, m: t3, a: t3, c: t3, b: t3, deleted: 1, allocated: 0),
            entry("p2", "/realloc.bin", "4-128-1", "r/rrwxrwxrwx", size: 4096, m: t3, a: nil, c: nil, b: nil, deleted: 1, allocated: 1),
            entry("p2", "/nulls", "5", "r/----------", size: 0, m: nil, a: nil, c: nil, b: nil),
            entry("p2", "/dir", "2", "d/drwxr-xr-x", size: 1024, m: t5, a: t5, c: t0, b: t0),
        ]
        let usbRows = [
            entry("", "/$MFT", "0-128-1", "r/rrwxrwxrwx", size: 65_536, m: t1, a: t1, c: t1, b: t1),
            entry("", "/x, \"y\".txt", "64-128-2", "r/rrwxrwxrwx", size: 7, m: t4, a: t5, c: t4, b: t2),
        ]
        func content(_ uuid: String, _ name: String, parent: String?, rows: [[CellValue]]) -> ContentRecord {
            ContentRecord(
                uuid: uuid, filename: name, parentUUID: parent, processedAt: day, status: .success, errorMessage: nil, depth: parent == nil ? 0 : 1,
                size: 1 << 20, sha256: nil, rows: withEntries ? rows.map { (tableID: Int32(0), values: $0) } : [])
        }
        try store.submit(content(disk, "case/disk.E01", parent: nil, rows: diskRows))
        try store.submit(content(bundle, "case/bundle.zip", parent: nil, rows: []))
        try store.submit(content(usb, "usb.raw", parent: bundle, rows: usbRows))
        try store.finish(run: record(.complete), modules: [])
        return path
    }

    static let madeRun = Result { try makeRun() }

    /// The timeline of the test run in `format`, as text.
    static func timeline(_ format: Timeline.Format, from: String? = nil, to: String? = nil, run: String? = nil) throws -> String {
        let file = Harness.temporaryDirectory() + "/timeline.out"
        let sink = try OutputSink(path: file)
        let database = try RunDatabase(path: try run ?? madeRun.get())
        try Timeline(database: database, from: from.flatMap(TimelineTime.init), to: to.flatMap(TimelineTime.init)).write(format, to: sink)
        try sink.close()
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    static let expectedBodyfile = """
        0|case/bundle.zip/usb.raw/$MFT|0-128-1|r/rrwxrwxrwx|0|0|65536|\(t1)|\(t1)|\(t1)|\(t1)
        0|case/bundle.zip/usb.raw/x, "y".txt|64-128-2|r/rrwxrwxrwx|0|0|7|\(t5)|\(t4)|\(t4)|\(t2)
        0|case/disk.E01/p1/a.txt|12|r/rrw-r--r--|1000|1000|100|\(t4)|\(t2)|\(t2)|\(t1)
        0|case/disk.E01/p1/gone.txt (deleted)|13|r/rrw-r--r--|0|0|5|\(t3)|\(t3)|\(t3)|\(t3)
        0|case/disk.E01/p2/dir|2|d/drwxr-xr-x|0|0|1024|\(t5)|\(t5)|\(t0)|\(t0)
        0|case/disk.E01/p2/nulls|5|r/----------|0|0|0|0|0|0|0
        0|case/disk.E01/p2/realloc.bin (deleted-realloc)|4-128-1|r/rrwxrwxrwx|0|0|4096|0|\(t3)|0|0

        """

    /// The events, sorted by time then path (CSV without its header, lines ending in CRLF).
    static let expectedEvents = [
        #"2026-12-06T00:00:00Z,..cb,1024,d/drwxr-xr-x,0,0,2,0,case/disk.E01/p2/dir,case/disk.E01"#,
        #"2026-12-07T01:00:00Z,macb,65536,r/rrwxrwxrwx,0,0,0-128-1,0,case/bundle.zip/usb.raw/$MFT,case/bundle.zip/usb.raw"#,
        #"2026-12-07T01:00:00Z,...b,100,r/rrw-r--r--,1000,1000,12,0,case/disk.E01/p1/a.txt,case/disk.E01"#,
        #"2026-12-07T02:00:00Z,...b,7,r/rrwxrwxrwx,0,0,64-128-2,0,"case/bundle.zip/usb.raw/x, ""y"".txt",case/bundle.zip/usb.raw"#,
        #"2026-12-07T02:00:00Z,m.c.,100,r/rrw-r--r--,1000,1000,12,0,case/disk.E01/p1/a.txt,case/disk.E01"#,
        #"2026-12-07T03:00:00Z,macb,5,r/rrw-r--r--,0,0,13,1,case/disk.E01/p1/gone.txt,case/disk.E01"#,
        #"2026-12-07T03:00:00Z,m...,4096,r/rrwxrwxrwx,0,0,4-128-1,1,case/disk.E01/p2/realloc.bin,case/disk.E01"#,
        #"2026-12-07T21:07:16Z,m.c.,7,r/rrwxrwxrwx,0,0,64-128-2,0,"case/bundle.zip/usb.raw/x, ""y"".txt",case/bundle.zip/usb.raw"#,
        #"2026-12-07T21:07:16Z,.a..,100,r/rrw-r--r--,1000,1000,12,0,case/disk.E01/p1/a.txt,case/disk.E01"#,
        #"2026-12-08T00:10:00Z,.a..,7,r/rrwxrwxrwx,0,0,64-128-2,0,"case/bundle.zip/usb.raw/x, ""y"".txt",case/bundle.zip/usb.raw"#,
        #"2026-12-08T00:10:00Z,ma..,1024,d/drwxr-xr-x,0,0,2,0,case/disk.E01/p2/dir,case/disk.E01"#,
    ]

    static func csvLines(_ text: String) -> [String] {
        text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
    }

    @Test func theBodyFileHasOneLinePerEntryWithSuffixesZerosForMissingTimesAndNoVolumeForABareFileSystem() throws {
        #expect(try Self.timeline(.bodyfile) == Self.expectedBodyfile)
    }

    @Test func csvHasOneLinePerEntryAndDistinctTimeWithItsMACBLettersSortedByTimeThenPath() throws {
        let lines = Self.csvLines(try Self.timeline(.csv))
        #expect(lines.first == "time,macb,size,mode,uid,gid,inode,deleted,path,image")
        #expect(Array(lines.dropFirst()) == Self.expectedEvents)
    }

    @Test func jsonLinesHoldTheCSVsFieldsAsObjects() throws {
        let lines = try Self.timeline(.jsonl).split(separator: "\n")
        #expect(lines.count == Self.expectedEvents.count)
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let realloc = try #require(objects.first { $0["path"] as? String == "case/disk.E01/p2/realloc.bin" })
        #expect(Set(realloc.keys) == Set(Timeline.eventFields))
        #expect(realloc["time"] as? String == "2026-12-07T03:00:00Z")
        #expect(realloc["macb"] as? String == "m...")
        #expect(realloc["size"] as? Int == 4096)
        #expect(realloc["inode"] as? String == "4-128-1")
        #expect(realloc["deleted"] as? Int == 1)
        #expect(realloc["uid"] as? Int == 0)
        #expect(realloc["image"] as? String == "case/disk.E01")
        // The same events in the same order as the CSV.
        let fromCSV = Self.expectedEvents.map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
        #expect(objects.map { "\($0["time"] as? String ?? ""),\($0["macb"] as? String ?? "")" } == fromCSV)
        #expect(objects.map { $0["path"] as? String ?? "" }.filter { $0.contains("\"y\"") }.count == 3)
    }

    @Test func boundsKeepTheEventsWithinThemBothInclusiveAndADateAloneAsToTakesInItsWholeDay() throws {
        let lines = Self.csvLines(try Self.timeline(.csv, from: "2026-12-07T02:00:00Z", to: "2026-12-07"))
        #expect(Array(lines.dropFirst()) == Array(Self.expectedEvents[3...8]))
        let exact = Self.csvLines(try Self.timeline(.csv, from: String(Self.t3), to: "2026-12-07T03:00:00"))
        #expect(Array(exact.dropFirst()) == Array(Self.expectedEvents[5...6]))
        let none = Self.csvLines(try Self.timeline(.csv, from: "2030-01-01"))
        #expect(none == ["time,macb,size,mode,uid,gid,inode,deleted,path,image"])
    }

    @Test func boundsKeepTheBodyFileRowsWithAtLeastOneTimeWithinThem() throws {
        let lines = try Self.timeline(.bodyfile, from: "2026-12-07T21:07:16Z").split(separator: "\n").map(String.init)
        let expected = Self.expectedBodyfile.split(separator: "\n").map(String.init)
        #expect(lines == [expected[1], expected[2], expected[4]])
        let early = try Self.timeline(.bodyfile, to: "2026-12-06").split(separator: "\n").map(String.init)
        #expect(early == [expected[4]])
    }

    @Test func mactimeReadingTheBodyFileGivesTheSameEventsAsTheCSV() throws {
        let mactime = "/usr/bin/mactime"
        try #require(FileManager.default.isExecutableFile(atPath: mactime), "Debian's sleuthkit (mactime) is not installed")
        let body = Harness.temporaryDirectory() + "/body.txt"
        try Self.timeline(.bodyfile).write(toFile: body, atomically: true, encoding: .utf8)
        let output = try Command(mactime, ["-b", body, "-d", "-y"]).adding(["TZ": "UTC"]).output()
        // mactime -d: `Date,Size,Type,Mode,UID,GID,Meta,File Name` then one line per event, the name
        // quoted with quotes doubled. It lists the times a body file gives as 0 at 0000-00-00; a
        // timeline has no event for a missing time.
        var fromMactime: Set<String> = []
        for line in output.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", maxSplits: 7, omittingEmptySubsequences: false).map(String.init)
            try #require(fields.count == 8, "\(line)")
            guard fields[0] != "0000-00-00T00:00:00Z" else { continue }
            var name = String(fields[7].dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
            for suffix in [" (deleted-realloc)", " (deleted)"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
            fromMactime.insert([fields[0], fields[2], name, fields[6]].joined(separator: "|"))
        }
        let csvFile = Harness.temporaryDirectory() + "/timeline.csv"
        try Self.timeline(.csv).write(toFile: csvFile, atomically: true, encoding: .utf8)
        let parsed = try python("import csv, json, sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline='')))))", [csvFile])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(parsed.utf8)) as? [[String: String]])
        let fromCSV = Set(rows.map { [$0["time"] ?? "", $0["macb"] ?? "", $0["path"] ?? "", $0["inode"] ?? ""].joined(separator: "|") })
        #expect(rows.count == Self.expectedEvents.count)
        #expect(fromMactime == fromCSV)
    }

    @Test func aRunWithoutADiskModuleIsRefusedWithTheDatabaseNamed() throws {
        let run = try Self.makeRun(withEntries: false)
        do {
            _ = try Timeline(database: try RunDatabase(path: run))
            Issue.record("a run without fs_entries was read")
        } catch let error as InspectError {
            #expect(error.code == .noSuchTable)
            #expect(error.message.contains(run))
            #expect(error.message.contains("no file-system entries were recorded"))
        } catch {
            Issue.record("unexpected error: \(error)")
        }
    }

    @Test func timesAreWrittenAsISO8601UTC() {
        #expect(Timeline.iso8601(0) == "1970-01-01T00:00:00Z")
        #expect(Timeline.iso8601(-1) == "1969-12-31T23:59:59Z")
        #expect(Timeline.iso8601(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(Timeline.iso8601(Self.t4) == "2026-12-07T21:07:16Z")
        #expect(Timeline.iso8601(4_102_444_800) == "2100-01-01T00:00:00Z")
    }

    @Test func boundsAreUnixSecondsOrISO8601DatesAndTimes() {
        #expect(TimelineTime("1796677636") == TimelineTime("2026-12-07T21:07:16Z"))
        #expect(TimelineTime("2026-12-07T21:07:16")?.first == Self.t4)
        #expect(TimelineTime("2026-12-07 21:07:16")?.first == Self.t4)
        #expect(TimelineTime("2026-12-07T23:07:16+02:00")?.first == Self.t4)
        #expect(TimelineTime("2026-12-07T21:07")?.first == Self.t4 - 16)
        #expect(TimelineTime("2026-12-07")?.first == Self.day)
        #expect(TimelineTime("2026-12-07")?.last == Self.day + 86_399)
        #expect(TimelineTime("2024-02-29")?.first == 1_709_164_800)
        #expect(TimelineTime("-5")?.first == -5)
        for bad in ["2026-02-29", "2026-13-01", "2026-12-07T24:00:00", "yesterday", "2026-12-7", ""] {
            #expect(TimelineTime(bad) == nil, "\(bad)")
        }
    }
}
