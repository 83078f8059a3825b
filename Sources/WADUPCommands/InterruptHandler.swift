import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT and SIGTERM into calls of `handler` with the count of signals so far.
final class InterruptHandler {
    private let sources: [any DispatchSourceSignal]

    init(handler: @escaping @Sendable (Int) -> Void) {
        let count = Atomic<Int>(0)
        let queue = DispatchQueue(label: "wadup.signals")
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(count.add(1, ordering: .relaxed).newValue) }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
