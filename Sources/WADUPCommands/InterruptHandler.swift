import CInterrupt
import Foundation

/// Turns the first SIGINT or SIGTERM into a call of `onFirst`; the second exits with 130 at once.
///
/// The second signal is handled inside the signal handler (`_exit(130)`), so it works whatever the
/// other threads are doing; the first is passed through a pipe to a thread that only waits for it.
final class InterruptHandler: Sendable {
    private let readEnd: Int32

    init(onFirst: @escaping @Sendable () -> Void) {
        readEnd = wadup_interrupt_install()
        guard readEnd >= 0 else { return }
        let fd = readEnd
        let thread = Thread {
            var byte: UInt8 = 0
            var n: Int
            repeat { n = read(fd, &byte, 1) } while n < 0 && errno == EINTR
            if n == 1 { onFirst() }
            close(fd)
        }
        thread.name = "wadup-signals"
        thread.start()
    }

    func cancel() { wadup_interrupt_uninstall() }
}
