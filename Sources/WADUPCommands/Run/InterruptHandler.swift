import CInterrupt
import Foundation

/// A termination request: Ctrl-C (SIGINT), `docker stop`/systemd/Kubernetes/Slurm (SIGTERM), or a
/// closed terminal (SIGHUP).
struct TerminationSignal: Sendable, Equatable {
    let number: Int32

    static let interrupt = TerminationSignal(number: SIGINT)

    /// The shell's exit status for a process ended by it: 128 + the signal (130, 143, 129), so a
    /// scheduler can tell a preemption from a user's Ctrl-C.
    var exitStatus: Int32 { 128 + number }

    var name: String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "signal \(number)"
        }
    }

    /// How to send it again to quit at once.
    var again: String { number == SIGINT ? "Ctrl-C again" : "send \(name) again" }
}

/// Turns the first SIGINT, SIGTERM or SIGHUP into a call of `onFirst`; the second exits at once with
/// 128 + its number.
///
/// The second signal is handled inside the signal handler (`_exit`), so it works whatever the
/// other threads are doing; the first is passed through a pipe to a thread that only waits for it.
final class InterruptHandler: Sendable {
    private let readEnd: Int32

    init(onFirst: @escaping @Sendable (TerminationSignal) -> Void) {
        readEnd = wadup_interrupt_install()
        guard readEnd >= 0 else { return }
        let fd = readEnd
        let thread = Thread {
            var byte: UInt8 = 0
            var n: Int
            repeat { n = read(fd, &byte, 1) } while n < 0 && errno == EINTR
            if n == 1 { onFirst(TerminationSignal(number: Int32(byte))) }
            close(fd)
        }
        thread.name = "wadup-signals"
        thread.start()
    }

    func cancel() { wadup_interrupt_uninstall() }
}
