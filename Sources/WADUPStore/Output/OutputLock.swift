import Foundation
import Synchronization

/// The exclusive lock a process holds on a SQLite output for as long as it writes it: a run (new,
/// `--overwrite` or `--resume`) or a merge.
///
/// A second writer on the same path is refused while the first lives, instead of replacing the
/// database under it (the first would then report `complete` into an unlinked file). The lock is
/// `flock(2)` on a small file beside the database, `DB-lock`, holding `wadup PID`: the kernel drops
/// it when the process ends in any way, `kill -9` included, so a lock is never stale; a file left
/// by a killed process is taken over. SQLite's own locks (`fcntl` ranges on the database) are
/// untouched, so the read-only views work during a run. The holder removes the file when it is
/// done; a process that finds the path no longer names the file it locked tries again.
package final class OutputLock: Sendable {
    /// The lock file of the database at `database`.
    package static func path(for database: String) -> String { database + "-lock" }

    package let path: String
    /// The locked file's descriptor; -1 once released (a second release must not close a
    /// descriptor number the process has reused since).
    private let fd: Mutex<Int32>

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = Mutex(fd)
    }

    deinit { release() }

    /// Takes the lock of the database at `database`, or throws who holds it.
    package static func acquire(database: String) throws(OutputLockError) -> OutputLock {
        let path = path(for: database)
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
            guard fd >= 0 else { throw OutputLockError(database: database, lockFile: path, cause: .cannotCreate(errno: errno)) }
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
                close(fd)
                throw OutputLockError(database: database, lockFile: path, cause: .notALockFile)
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                let holder = Self.holder(fd)
                close(fd)
                if code == EWOULDBLOCK { throw OutputLockError(database: database, lockFile: path, cause: .held(pid: holder)) }
                throw OutputLockError(database: database, lockFile: path, cause: .cannotCreate(errno: code))
            }
            // The previous holder removes the file when it is done: if the path no longer names the
            // file locked here, another process may lock a new one; start again on that.
            var now = stat()
            guard stat(path, &now) == 0, now.st_dev == st.st_dev, now.st_ino == st.st_ino else {
                close(fd)
                continue
            }
            // Never overwrite a file that is not one of ours (a user's file that happens to have the name).
            guard st.st_size == 0 || holder(fd) != nil else {
                close(fd)
                throw OutputLockError(database: database, lockFile: path, cause: .notALockFile)
            }
            let text = Array("wadup \(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            return OutputLock(path: path, fd: fd)
        }
    }

    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        guard text.hasPrefix("wadup ") else { return nil }
        return Int32(text.dropFirst(6).prefix { $0.isNumber })
    }

    /// Removes the lock file and drops the lock (also when this object goes).
    package func release() {
        let fd = self.fd.withLock { fd in
            defer { fd = -1 }
            return fd
        }
        guard fd >= 0 else { return }
        // Unlink first, while still holding the lock: a process waiting on it then sees the path
        // name another file (or none) and starts again.
        var st = stat()
        var now = stat()
        if fstat(fd, &st) == 0, stat(path, &now) == 0, st.st_dev == now.st_dev, st.st_ino == now.st_ino { unlink(path) }
        close(fd)
    }
}

/// The output's lock could not be taken: another process holds it, or the lock file cannot be made.
package struct OutputLockError: Error, Sendable, CustomStringConvertible {
    package enum Cause: Sendable, Equatable {
        /// A live process holds it (its PID, when it could be read).
        case held(pid: Int32?)
        /// The lock file cannot be created or locked.
        case cannotCreate(errno: Int32)
        /// Something that is not a WADUP lock file has the lock file's name.
        case notALockFile
    }

    package let database: String
    package let lockFile: String
    package let cause: Cause

    /// Whether another process is writing the output (as opposed to a lock that cannot be made).
    package var isHeld: Bool { if case .held = cause { true } else { false } }

    package var description: String {
        switch cause {
        case .held(let pid):
            "\(database) is in use by a live run or merge (\(pid.map { "PID \($0)" } ?? "another process") holds \(lockFile)); it was left untouched; wait for that process to end or stop it, or choose another path"
        case .cannotCreate(let code):
            "cannot lock \(database): \(lockFile): \(String(cString: strerror(code)).lowercased())"
        case .notALockFile:
            "cannot lock \(database): \(lockFile) exists and is not a WADUP lock file; it was left untouched; move it away or choose another path"
        }
    }
}
