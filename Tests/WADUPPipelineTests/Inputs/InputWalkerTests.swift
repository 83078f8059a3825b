import Foundation
import Testing
import WADUPCore
import WADUPPipeline
import WADUPTestSupport

/// `InputWalker`: every path under an input, in byte order, each either an open regular file or a
/// record saying why it is not processed; shards, the run's own output and completed inputs left out.
@Suite(.serialized)
struct InputWalkerTests {
    /// Every input of a walk as text: `name file size` or `name record size|- reason`. An open
    /// file whose bytes cannot be read, or differ from those at its path, says so.
    static func walk(_ walker: InputWalker) throws -> [String] {
        var walker = walker
        var out: [String] = []
        while let input = walker.next() {
            switch input {
            case .file(let file):
                var problem = ""
                if file.fd >= 0 {
                    var bytes = [UInt8](repeating: 0, count: file.size)
                    let read = bytes.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, file.size, 0) }
                    let onDisk = FileManager.default.contents(atPath: file.path).map { [UInt8]($0) }
                    if read != file.size { problem = " UNREADABLE" } else if onDisk != nil && onDisk != bytes { problem = " NOT-THE-FILE-AT-ITS-PATH" }
                }
                out.append("\(file.name.text) file \(file.size)\(problem)")
            case .record(let name, let reason, let size):
                out.append("\(name.text) record \(size.map(String.init) ?? "-") \(reason)")
            }
        }
        return out
    }

    static func names(_ walker: InputWalker) throws -> [String] {
        try walk(walker).map { String($0.split(separator: " ")[0]) }
    }

    @Test func pathsComeInByteOrderOfTheirNamesFolderByFolder() throws {
        // Each file holds its own name's bytes, so the sizes differ.
        let root = try Harness.inputs(["b/2", "a", "B", "b/10", "b-x", "c/d/e", "_", "é"].map { ($0, Array($0.utf8)) })
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: root + "/\u{7F}"))
        // A name that is not UTF-8: sorted by its bytes, shown with \x escapes.
        let raw = (Array((root + "/z").utf8) + [0xFF, 0]).map { CChar(bitPattern: $0) }
        let fd = open(raw, O_CREAT | O_WRONLY, 0o644)
        try #require(fd >= 0)
        close(fd)
        #expect(try Self.walk(InputWalker(root: root)) == [
            "B file 1", "_ file 1", "a file 1",
            // A folder's entries come where the folder's own name sorts: b/ before b-x, though '-' < '/'.
            "b/10 file 4", "b/2 file 3", "b-x file 3", "c/d/e file 5",
            "z\\xff file 0", "\u{7F} file 3", "é file 2",
        ])
        var walker = InputWalker(root: root)
        var nonUTF8: InputName?
        while nonUTF8 == nil, let input = walker.next() {
            if !input.name.isUTF8 { nonUTF8 = input.name }
        }
        #expect(nonUTF8?.bytes == [0x7A, 0xFF])
    }

    @Test func aSingleFileInputIsNamedByItsFileNameAndAMissingOneIsRecorded() throws {
        let dir = try Harness.inputs([("deep/x.bin", [1, 2, 3])])
        var walker = InputWalker(root: dir + "/deep/x.bin")
        let first = walker.next()
        guard case .file(let file) = try #require(first) else { Issue.record("not a file"); return }
        #expect(file.name.text == "x.bin")
        #expect(file.path == dir + "/deep/x.bin")
        #expect(file.size == 3)
        #expect(walker.next() == nil)
        #expect(try Self.walk(InputWalker(root: dir + "/missing.bin")) == ["missing.bin record - unreadable: no such file or directory"])
    }

    @Test func listingWithoutOpeningGivesTheSameFilesAndSizesWithNoDescriptor() throws {
        let root = try Harness.inputs((0..<20).map { ("d\($0 % 3)/f\($0)", [UInt8](repeating: 1, count: $0)) })
        let opened = try Self.walk(InputWalker(root: root))
        var listing = InputWalker(root: root, opensFiles: false)
        var listed: [String] = []
        while let input = listing.next() {
            guard case .file(let file) = input else { continue }
            #expect(file.fd == -1)
            listed.append("\(file.name.text) file \(file.size)")
        }
        #expect(listed == opened)
        #expect(opened.count == 20)
    }

    @Test func eachShardWalksItsOwnInputsAndTheShardsTogetherWalkEveryInputOnce() throws {
        let files = (0..<300).map { ("dir-\($0 % 7)/file-\($0).bin", [UInt8($0 & 0xFF)]) }
        let root = try Harness.inputs(files)
        let all = try Self.names(InputWalker(root: root))
        #expect(all.count == 300)
        var union: [String] = []
        for k in 0..<3 {
            let shard = try #require(Shard(index: k, count: 3))
            let part = try Self.names(InputWalker(root: root, shard: shard))
            #expect(part == all.filter { shard.contains(Array($0.utf8)) }, "shard \(k)")
            #expect(part.count > 50, "shard \(k) has \(part.count) of 300")
            union += part
        }
        #expect(union.sorted() == all.sorted())
    }

    @Test func theRunsOwnOutputIsLeftOutOnlyInItsOwnFolderAndListedWithTheReason() throws {
        let root = try Harness.inputs([("a.txt", [1]), ("out.db", [2]), ("out.db-wal", [3]), ("sub/out.db", [4])])
        let exclusion = try #require(InputWalker.Exclusion(files: [root + "/out.db", root + "/out.db-wal", root + "/out.db-journal"], reason: "the output database of this run"))
        var walker = InputWalker(root: root, excluding: exclusion)
        var names: [String] = []
        while let input = walker.next() { names.append(input.name.text) }
        #expect(names == ["a.txt", "sub/out.db"])
        #expect(walker.excluded.map { "\($0.path): \($0.reason)" } == [
            "\(root)/out.db: the output database of this run", "\(root)/out.db-wal: the output database of this run",
        ])
        #expect(InputWalker.Exclusion(files: ["/nonexistent/folder/out.db"], reason: "x") == nil)
        #expect(InputWalker.Exclusion(files: [], reason: "x") == nil)
    }

    @Test func inputsAnEarlierAttemptCompletedAreNotWalkedAgain() throws {
        let root = try Harness.inputs([("a", [1]), ("b/1", [2]), ("b/2", [3]), ("c", [4])])
        mkfifo(root + "/fifo", 0o644)
        let done: Set<[UInt8]> = [Array("a".utf8), Array("b/2".utf8), Array("fifo".utf8)]
        #expect(try Self.names(InputWalker(root: root, skipping: done)) == ["b/1", "c"])
        // A single-file input that is done yields nothing.
        #expect(try Self.walk(InputWalker(root: root + "/a", skipping: [Array("a".utf8)])).isEmpty)
    }

    /// A folder of every kind of link: to a file, dangling, to the folder above, to itself, to a folder.
    static func links() throws -> String {
        let root = try Harness.inputs([("plain.txt", Array("plain text\n".utf8)), ("sub/inner.txt", Array("inner\n".utf8))])
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: root + "/link.txt", withDestinationPath: "plain.txt")
        try fm.createSymbolicLink(atPath: root + "/dangling", withDestinationPath: "missing")
        try fm.createSymbolicLink(atPath: root + "/sub/up", withDestinationPath: "..")
        try fm.createSymbolicLink(atPath: root + "/self", withDestinationPath: "self")
        try fm.createSymbolicLink(atPath: root + "/dirlink", withDestinationPath: "sub")
        return root
    }

    @Test func linksAreRecordedWithTheirTargetsWhenNotFollowed() throws {
        let root = try Self.links()
        #expect(try Self.walk(InputWalker(root: root)) == [
            "dangling record 7 symbolic link to missing (not followed)",
            "dirlink record 3 symbolic link to sub (not followed)",
            "link.txt record 9 symbolic link to plain.txt (not followed)",
            "plain.txt file 11",
            "self record 4 symbolic link to self (not followed)",
            "sub/inner.txt file 6",
            "sub/up record 2 symbolic link to .. (not followed)",
        ])
    }

    @Test func followedLinksAreWalkedUnderTheirOwnPathsAndLoopsAreRecorded() throws {
        let root = try Self.links()
        #expect(try Self.walk(InputWalker(root: root, followSymlinks: true)) == [
            "dangling record - dangling symbolic link to missing",
            // A link to a folder is walked as that folder, under the link's name; `..` below it is the walk's own root.
            "dirlink/inner.txt file 6",
            "dirlink/up record - symbolic link loop: .. is a folder above it",
            "link.txt file 11",
            "plain.txt file 11",
            "self record - symbolic link loop: self",
            "sub/inner.txt file 6",
            "sub/up record - symbolic link loop: .. is a folder above it",
        ])
    }

    @Test func fifosAndSocketsAreRecordedAsNotRegularFilesWithoutBlocking() throws {
        let root = try Harness.inputs([("a.txt", [1])])
        #expect(mkfifo(root + "/fifo", 0o644) == 0)
        _ = try python("import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", [root + "/socket"])
        // No writer ever opens the fifo: a walk that opened it for reading would wait forever.
        #expect(try Self.walk(InputWalker(root: root)) == [
            "a.txt file 1",
            "fifo record - not a regular file: fifo",
            "socket record - not a regular file: socket",
        ])
    }

    /// A file and a folder this user may not read, and an input folder it may not list: recorded
    /// with the system's reason. Root reads everything, so as root the walk runs on a thread whose
    /// file-system user is `nobody` (Linux's per-thread `setfsuid`, which drops the override).
    @Test func unreadableFilesAndFoldersAreRecordedWithTheReason() throws {
        let dir = Harness.temporaryDirectory()
        let root = dir + "/in"
        try FileManager.default.createDirectory(atPath: root + "/locked", withIntermediateDirectories: true)
        try Data("readable\n".utf8).write(to: URL(fileURLWithPath: root + "/ok.txt"))
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: root + "/secret.txt"))
        try FileManager.default.createDirectory(atPath: dir + "/closed", withIntermediateDirectories: true)
        chmod(root + "/secret.txt", 0)
        chmod(root + "/locked", 0)
        chmod(dir + "/closed", 0)
        for folder in [dir, root] { chmod(folder, 0o755) }
        let denied = String(cString: strerror(EACCES)).lowercased()
        let (walked, closed) = try Self.asAnotherUser { (try Self.walk(InputWalker(root: root)), try Self.walk(InputWalker(root: dir + "/closed"))) }
        #expect(walked == [
            "locked record - unreadable folder: \(denied)",
            "ok.txt file 9",
            "secret.txt record 7 unreadable: \(denied)",
        ])
        #expect(closed == ["closed record - unreadable folder: \(denied)"])
    }

    /// Runs `body` with the file-system permissions of `nobody`: on a thread of its own whose
    /// file-system user and group are changed (only that thread's), when this process is root.
    static func asAnotherUser<T>(_ body: @escaping () throws -> T) throws -> T {
        guard getuid() == 0 else { return try body() }
        try #require(dlsym(nil, "setfsuid") != nil && dlsym(nil, "setfsgid") != nil)
        let box = ResultBox(body)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            typealias SetFS = @convention(c) (UInt32) -> Int32
            let setfsuid = unsafeBitCast(dlsym(nil, "setfsuid"), to: SetFS.self)
            let setfsgid = unsafeBitCast(dlsym(nil, "setfsgid"), to: SetFS.self)
            _ = setfsgid(65534)
            _ = setfsuid(65534)
            box.result = Result { try box.body() }
            _ = setfsuid(0)
            _ = setfsgid(0)
            done.signal()
        }
        thread.start()
        done.wait()
        return try #require(box.result).get()
    }

    /// A body to run on another thread, and its result.
    final class ResultBox<T>: @unchecked Sendable {  // Safe: `result` is written by the thread before it signals, read after.
        var result: Result<T, any Error>?
        let body: () throws -> T
        init(_ body: @escaping () throws -> T) { self.body = body }
    }

    /// A file deeper than PATH_MAX (60 folders of 95-byte names): walked and opened.
    @Test func aFileDeeperThanPathMaxIsWalkedAndOpened() throws {
        let root = Harness.temporaryDirectory()
        try Fixtures.makePathPastPathMax(under: root)
        var walker = InputWalker(root: root)
        let first = walker.next()
        guard case .file(let file) = try #require(first) else { Issue.record("not a file"); return }
        #expect(file.name.bytes.count > Int(PATH_MAX))
        #expect(file.name.text.hasSuffix("/leaf.txt"))
        #expect(file.size == 21)
        var bytes = [UInt8](repeating: 0, count: 21)
        #expect(bytes.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, 21, 0) } == 21)
        #expect(bytes == Array("a file past PATH_MAX\n".utf8))
        #expect(walker.next() == nil)
    }
}
