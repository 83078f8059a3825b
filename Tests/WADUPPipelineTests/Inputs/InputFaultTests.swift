import Foundation
import GRDB
import Synchronization
import Testing
import WADUPCore
import WADUPPipeline
import WADUPTestSupport

/// Inputs that change or fail while WADUP reads them: each is one failed content (`input_changed`
/// or `read_error`, naming the path and the offset), never a crash, and the run goes on to
/// `complete`. Deterministic cases inject the fault through the pipeline's ``FileReader`` seam (a
/// real truncation of the file, or EIO) at the read chosen; real ones truncate a file from another
/// process mid-read and read through a FUSE file system that answers EIO.
@Suite(.serialized)
struct InputFaultTests {
    /// Counts the reads of one file.
    final class Reads: Sendable {
        let count = Atomic<Int>(0)
    }

    enum Fault: Sendable {
        /// The file is truncated to this size (as another process would) just before the read.
        case truncate(to: Int)
        /// The read fails with EIO, as on a failing disk.
        case eio
    }

    /// `pread`, except that from the `n`th read of the file named `name` on, `fault` happens.
    static func reader(failing name: String, fromRead n: Int, with fault: Fault) -> FileReader {
        let reads = Reads()
        return FileReader { fd, path, buffer, count, offset in
            if path.hasSuffix("/" + name) {
                let k = reads.count.add(1, ordering: .relaxed).newValue
                if k >= n {
                    switch fault {
                    case .truncate(let size):
                        if k == n { _ = truncate(path, off_t(size)) }
                    case .eio:
                        errno = EIO
                        return -1
                    }
                }
            }
            return pread(fd, buffer, count, off_t(offset))
        }
    }

    /// `big.bin` (2 MiB: read on demand, its hash takes two 1 MiB reads) and `small.txt` after it.
    static func inputs() throws -> String {
        var big = [UInt8](repeating: 0, count: 2 << 20)
        for i in big.indices { big[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        return try Harness.inputs([("big.bin", big), ("small.txt", Array("after the big one\n".utf8))])
    }

    /// Reads its whole content in 64 KiB reads; returns 7 if a read fails.
    static let readerModule: String = {
        var module = GuestModule(body: """
            (local $off i32) (local $size i32) (local $n i32)
            (local.set $size (call $size))
            (block $done (loop $next
              (br_if $done (i32.ge_u (local.get $off) (local.get $size)))
              (local.set $n (i32.sub (local.get $size) (local.get $off)))
              (if (i32.gt_u (local.get $n) (i32.const 65536)) (then (local.set $n (i32.const 65536))))
              (if (i32.ne (call $read (local.get $off) (local.get $n) (i32.const 65536)) (i32.const 0)) (then (return (i32.const 7))))
              (local.set $off (i32.add (local.get $off) (local.get $n)))
              (br $next)))
            (i32.const 0)
            """)
        module.memoryPages = 2
        return module.text
    }()

    /// Emits the first 100,000 bytes of its content as a zero-copy slice (hashed when processed).
    static let slicerModule = GuestModule(strings: ["name": "head"], body: """
        (drop (call $emit_slice (i32.const 0) (i32.const 100000) @name))
        (i32.const 0)
        """).text

    static func record(_ outcome: Harness.Outcome, _ filename: String) throws -> Harness.Content {
        try #require(try outcome.contents().first { $0.filename == filename })
    }

    @Test func aFileTruncatedBeforeTheHostHashesItIsOneFailedContentAndTheRunCompletes() throws {
        let input = try Self.inputs()
        let outcome = try Harness.run(
            modulesDirectory: try Harness.modules([("reader", Self.readerModule)]), input: input, engine: .wasmtime,
            reader: Self.reader(failing: "big.bin", fromRead: 2, with: .truncate(to: 4096)))
        #expect(outcome.summary.outcome == .complete)
        let big = try Self.record(outcome, "big.bin")
        #expect(big.status == "failed")
        #expect(big.errorMessage == "wadup: input_changed: \(input)/big.bin: changed while it was read: now 4096 bytes, 2097152 when opened (reading at offset 1048576)")
        #expect(big.sha256 == "")  // no digest: the bytes are not known
        #expect(big.size == 2 << 20)
        #expect(try Self.record(outcome, "small.txt").status == "success")
        #expect(outcome.summary.statistics.failureKinds == [.inputChanged: 1])
    }

    @Test func aSmallFileTruncatedWhileItIsReadAtOnceIsOneFailedContent() throws {
        let input = try Self.inputs()
        let outcome = try Harness.run(
            modulesDirectory: try Harness.modules([("reader", Self.readerModule)]), input: input, engine: .wasmtime,
            reader: Self.reader(failing: "small.txt", fromRead: 1, with: .truncate(to: 5)))
        #expect(outcome.summary.outcome == .complete)
        let small = try Self.record(outcome, "small.txt")
        #expect(small.errorMessage == "wadup: input_changed: \(input)/small.txt: changed while it was read: now 5 bytes, 18 when opened (reading at offset 5)")
        #expect(small.sha256 == "")
        #expect(try Self.record(outcome, "big.bin").status == "success")
    }

    @Test(arguments: EngineKind.allCases)
    func aModulesReadOfATruncatedFileFailsTheContentNotTheModule(engine: EngineKind) throws {
        let input = try Self.inputs()
        // Reads 1 and 2 are the host's hash; read 3 is the module's first.
        let outcome = try Harness.run(
            modulesDirectory: try Harness.modules([("reader", Self.readerModule)]), input: input, engine: engine,
            reader: Self.reader(failing: "big.bin", fromRead: 3, with: .truncate(to: 4096)))
        #expect(outcome.summary.outcome == .complete)
        let big = try Self.record(outcome, "big.bin")
        #expect(big.status == "failed")
        #expect(big.errorMessage == "reader: input_changed: \(input)/big.bin: changed while it was read: now 4096 bytes, 2097152 when opened (reading at offset 4096)")
        #expect(big.sha256 == "")
        #expect(try Self.record(outcome, "small.txt").status == "success")
        #expect(outcome.summary.statistics.failureKinds == [.inputChanged: 1])
    }

    @Test(arguments: EngineKind.allCases)
    func aReadErrorUnderAModulesReadIsRecordedAsReadError(engine: EngineKind) throws {
        let input = try Self.inputs()
        let outcome = try Harness.run(
            modulesDirectory: try Harness.modules([("reader", Self.readerModule)]), input: input, engine: engine,
            reader: Self.reader(failing: "big.bin", fromRead: 3, with: .eio))
        #expect(outcome.summary.outcome == .complete)
        let big = try Self.record(outcome, "big.bin")
        #expect(big.errorMessage == "reader: read_error: \(input)/big.bin: read error: input/output error (reading at offset 0)")
        #expect(try Self.record(outcome, "small.txt").status == "success")
        #expect(outcome.summary.statistics.failureKinds == [.readError: 1])
    }

    @Test func aSliceOfAFileThatShrankIsAFailedSubContentAndItsParentStands() throws {
        let input = try Self.inputs()
        // Reads 1 and 2 hash big.bin; the slicer emits a slice without reading; read 3 hashes the slice.
        let outcome = try Harness.run(
            modulesDirectory: try Harness.modules([("slicer", Self.slicerModule)]), input: input, limits: RunLimits(maxRecursionDepth: 1),
            engine: .wasmtime, reader: Self.reader(failing: "big.bin", fromRead: 3, with: .truncate(to: 4096)))
        #expect(outcome.summary.outcome == .complete)
        let big = try Self.record(outcome, "big.bin")
        #expect(big.status == "success")
        let head = try Self.record(outcome, "head")
        #expect(head.parentUUID == big.uuid)
        #expect(head.status == "failed")
        #expect(head.errorMessage == "wadup: input_changed: \(input)/big.bin: changed while it was read: now 4096 bytes, 2097152 when opened (reading at offset 4096)")
        #expect(try Self.record(outcome, "small.txt").status == "success")
    }

    @Test func aFileThatGrowsWhileModulesReadItIsRecordedAsChanged() throws {
        let input = try Self.inputs()
        let path = input + "/big.bin"
        let grow = FileReader { fd, name, buffer, count, offset in
            // The module's first read: another process appends to the file.
            if name == path, offset == 0, count == 65536, let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(Data("appended".utf8))
                try? handle.close()
            }
            return pread(fd, buffer, count, off_t(offset))
        }
        let outcome = try Harness.run(modulesDirectory: try Harness.modules([("reader", Self.readerModule)]), input: input, engine: .wasmtime, reader: grow)
        let big = try Self.record(outcome, "big.bin")
        #expect(big.errorMessage == "wadup: input_changed: \(path): changed while it was read: now 2097160 bytes, 2097152 when opened")
        #expect(outcome.summary.outcome == .complete)
    }

    /// A 1 GB file truncated by another process (`truncate`) while the real binary hashes it, at a
    /// random moment, until a truncation lands mid-read (the recorded offset says so).
    @Test func aFileTruncatedByAnotherProcessMidReadFailsAloneAndTheRunCompletes() throws {
        var landed = false
        for attempt in 0..<10 where !landed {
            let input = Harness.temporaryDirectory()
            let big = input + "/big.bin"
            try #require(FileManager.default.createFile(atPath: big, contents: nil))
            try #require(truncate(big, 1_000_000_000) == 0)  // sparse: read as zeros, no disk used
            for i in 0..<20 { try Data("small \(i)\n".utf8).write(to: URL(fileURLWithPath: "\(input)/s\(i).txt")) }
            let out = Harness.temporaryDirectory() + "/out.db"
            let wadup = try Command.wadup([
                "--modules", try BuiltModules.folder(["byte_counter"]), "--input", input, "--output", out, "--threads", "2",
            ]).start()
            Thread.sleep(forTimeInterval: 0.05 + 0.05 * Double(attempt))
            _ = try Command("/usr/bin/truncate", ["-s", "4096", big]).output()
            let exit = try wadup.wait()
            #expect(exit.succeeded, "\(exit)")
            let db = try DatabaseQueue(path: out)
            let (outcome, smalls, message) = try db.read { db in
                (
                    try String.fetchOne(db, sql: "SELECT outcome FROM __wadup_run"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM __wadup_content WHERE filename LIKE 's%.txt' AND status = 'success'"),
                    try String.fetchOne(db, sql: "SELECT coalesce(error_message, status) FROM __wadup_content WHERE filename = 'big.bin'")
                )
            }
            #expect(outcome == "complete")
            #expect(smalls == 20)
            let text = message ?? ""
            if let range = text.range(of: "(reading at offset ") {
                let offset = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? -1
                #expect(text.hasPrefix("wadup: input_changed: \(big): changed while it was read: now 4096 bytes, 1000000000 when opened"))
                #expect(offset > 4096 && offset < 1_000_000_000)
                landed = true
            }
        }
        #expect(landed, "no truncation landed while the file was read in 10 attempts")
    }

    /// A path that is a regular file when the walk lists it and a fifo when it opens it (another
    /// thread swaps them with rename, thousands of times): every walk ends, and its file is either
    /// read or found to be a fifo on the descriptor (what the worker records as skipped). Without
    /// O_NONBLOCK, opening the fifo would wait for a writer forever.
    @Test func aPathSwappedForAFifoBetweenTheWalkAndTheOpenIsSkippedWithoutBlocking() throws {
        let dir = Harness.temporaryDirectory()
        let side = Harness.temporaryDirectory()
        let target = dir + "/target"
        try #require(FileManager.default.createFile(atPath: target, contents: Data("regular".utf8)))
        let stop = Atomic<Bool>(false)
        let swapper = Thread {
            var i = 0
            while !stop.load(ordering: .relaxed) {
                i += 1
                let fifo = "\(side)/fifo\(i)"
                let file = "\(side)/file\(i)"
                guard mkfifo(fifo, 0o644) == 0, FileManager.default.createFile(atPath: file, contents: Data("regular".utf8)) else { return }
                rename(fifo, target)
                rename(file, target)
            }
        }
        swapper.start()
        defer { stop.store(true, ordering: .relaxed) }
        let walked = Reads()
        let changed = Reads()
        let walker = Thread {
            let deadline = Date().addingTimeInterval(3)
            while Date() < deadline {
                var walk = InputWalker(root: dir)
                // What a worker does with the walk's file: read it (checking its type on the descriptor).
                while let input = walk.next() {
                    guard case .file(let file) = input else { continue }
                    do throws(ContentReadError) {
                        _ = try ContentBuffer.read(fd: file.fd, path: file.path)
                    } catch {
                        if error.detail == "not a regular file: fifo (it changed type after the walk found it)" {
                            changed.count.add(1, ordering: .relaxed)
                        }
                    }
                }
                walked.count.add(1, ordering: .relaxed)
            }
        }
        walker.start()
        // Every walk of one entry takes microseconds: no progress for a second means one is blocked.
        var last = -1
        while !walker.isFinished {
            Thread.sleep(forTimeInterval: 1)
            let now = walked.count.load(ordering: .relaxed)
            if now == last && !walker.isFinished {
                // Unblock the walk (a writer opens the fifo) before failing, so the suite goes on.
                let fd = open(target, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
                Issue.record("a walk blocked opening \(target)")
                break
            }
            last = now
        }
        print("InputFaultTests: \(walked.count.load(ordering: .relaxed)) walks, \(changed.count.load(ordering: .relaxed)) met the fifo between the walk's stat and its open")
        #expect(walked.count.load(ordering: .relaxed) > 100)
        #expect(changed.count.load(ordering: .relaxed) > 0, "the swap never landed between the stat and the open: the test did not test it")
    }

    /// Real EIO from the kernel: a FUSE file system (`Tests/Support/eio_fs.py`, Debian's
    /// python3-fuse) serves a 3 MB file whose reads past 2 MB fail with EIO, as a network file
    /// system or a dying disk does. Skipped, with the reason, where FUSE cannot be mounted.
    @Test func aFileOnAFileSystemAnsweringEIOIsRecordedAsReadError() throws {
        let script = Harness.path("Tests/Support/eio_fs.py")
        let mount = Harness.temporaryDirectory()
        let command = Command("/usr/bin/python3", [script, mount], environment: ["EIO_SIZE": "3000000", "EIO_AT": "2000000"])
        guard FileManager.default.fileExists(atPath: "/dev/fuse"), let server = try? command.start() else {
            print("InputFaultTests: skipped the EIO test: no /dev/fuse or /usr/bin/python3 with python3-fuse (scripts/install-deps.sh installs it)")
            return
        }
        defer {
            _ = try? Command("/usr/bin/umount", [mount]).run()
            _ = try? server.wait()
        }
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: mount + "/failing.bin") && server.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        guard FileManager.default.fileExists(atPath: mount + "/failing.bin") else {
            print("InputFaultTests: skipped the EIO test: the FUSE file system did not mount (no permission to mount here)")
            return
        }
        let out = Harness.temporaryDirectory() + "/out.db"
        let run = try Command.wadup(["--modules", try BuiltModules.folder(["byte_counter"]), "--input", mount, "--output", out]).run()
        #expect(run.succeeded, "\(run)")
        let message = try DatabaseQueue(path: out).read { try String.fetchOne($0, sql: "SELECT error_message FROM __wadup_content WHERE filename = 'failing.bin'") } ?? ""
        #expect(message.hasPrefix("wadup: read_error: \(mount)/failing.bin: read error: input/output error (reading at offset "))
        let offset = Int(message.split(separator: "offset ").last?.prefix { $0.isNumber } ?? "") ?? -1
        #expect(offset >= 1_000_000 && offset <= 2_000_000)
    }
}
