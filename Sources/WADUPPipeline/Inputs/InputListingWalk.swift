import WADUPCore
import WADUPStore

/// The run's inputs listed by a walk that opens no file: what the process that registers a
/// shared run puts in its work queue.
struct InputListingWalk: InputListing {
    let root: String
    let followSymlinks: Bool
    let shard: Shard?

    func forEach(_ each: (QueuedInput) throws -> Void) throws {
        var walker = InputWalker(root: root, followSymlinks: followSymlinks, shard: shard, opensFiles: false)
        while let input = walker.next() {
            switch input {
            case .file(let file): try each(QueuedInput(path: file.name.bytes, reason: nil, size: file.size))
            case .record(let name, let reason, let size): try each(QueuedInput(path: name.bytes, reason: reason, size: size))
            }
        }
    }
}
