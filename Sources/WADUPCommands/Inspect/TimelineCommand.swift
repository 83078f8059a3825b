import ArgumentParser
import Foundation
import WADUPInspect

/// `wadup timeline DB [--format bodyfile|csv|jsonl] [--from T] [--to T] [--output FILE]`
package struct TimelineCommand: InspectCommand {
    package static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Write the file-system timeline a disk module recorded: a TSK body file (for mactime), or MACB events as CSV or JSON Lines.",
        discussion: """
            Reads the fs_entries table. bodyfile (the default): one line per entry, \
            0|NAME|inode|mode|uid|gid|size|atime|mtime|ctime|crtime, as fls -m prints it with the image's path in \
            front. csv and jsonl: one line per entry and distinct time, with the letters of the times that fall \
            on it (m.c.), sorted by time. --from and --to (Unix seconds, 2026-12-07 or 2026-12-07T21:07:16, UTC) \
            bound the events, both inclusive; a date alone as --to takes in its whole day. Exit 2 when the run \
            recorded no file-system entries.
            """)

    @Argument(help: "The run's database.")
    var database: String

    @Option(help: "bodyfile (TSK 3.x body format, for mactime -b), csv or jsonl (MACB events sorted by time).")
    var format: Timeline.Format = .bodyfile

    @Option(help: ArgumentHelp("The first time kept: Unix seconds, an ISO 8601 date or date and time (UTC).", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("The last time kept (inclusive; a date alone keeps its whole day).", valueName: "time"))
    var to: String?

    @Option(name: .shortAndLong, help: "The file to write (default: standard output).")
    var output: String?

    package init() {}

    package func validate() throws {
        let earliest = try Self.time(from, flag: "--from")
        let latest = try Self.time(to, flag: "--to")
        if let earliest, let latest, earliest.first > latest.last {
            throw ValidationError("--from \(from ?? "") is after --to \(to ?? "")")
        }
    }

    /// `text` as a bound, or a usage error naming `flag`.
    static func time(_ text: String?, flag: String) throws -> TimelineTime? {
        guard let text else { return nil }
        guard let time = TimelineTime(text) else {
            throw ValidationError("\(flag) \(text): give Unix seconds, a date (2026-12-07) or a date and time (2026-12-07T21:07:16, UTC)")
        }
        return time
    }

    func inspect(_ db: RunDatabase) throws(InspectError) {
        let timeline = try Timeline(database: db, from: from.flatMap(TimelineTime.init), to: to.flatMap(TimelineTime.init))
        let sink = try output.map { path throws(InspectError) in try OutputSink(path: path) } ?? OutputSink()
        try timeline.write(format, to: sink)
        try sink.close()
    }
}

extension Timeline.Format: ExpressibleByArgument {}
