import Crypto
import Foundation
import Logging
import WADUPCore
import WADUPRuntime
import WADUPStore

/// One processing thread: its own instance of every module, reused from content to content.
final class Worker: @unchecked Sendable {  // Safe: used by its own thread only; `counters` is read after that thread has finished.
    let index: Int
    let modules: ModuleSet
    let registry: TableRegistry
    let store: any ResultStore
    let scheduler: Scheduler
    let statistics: RunStatistics
    let limits: RunLimits
    let logger: Logger
    /// Called when the store fails; the run stops.
    let onStoreFailure: @Sendable (StoreError) -> Void
    private var instances: [(any ModuleInstance)?]
    private(set) var counters: [ModuleCounters]

    init(
        index: Int, modules: ModuleSet, registry: TableRegistry, store: any ResultStore, scheduler: Scheduler,
        statistics: RunStatistics, limits: RunLimits, logger: Logger, onStoreFailure: @escaping @Sendable (StoreError) -> Void
    ) {
        self.index = index
        self.modules = modules
        self.registry = registry
        self.store = store
        self.scheduler = scheduler
        self.statistics = statistics
        self.limits = limits
        self.logger = logger
        self.onStoreFailure = onStoreFailure
        self.instances = Array(repeating: nil, count: modules.entries.count)
        self.counters = Array(repeating: ModuleCounters(), count: modules.entries.count)
    }

    func run() {
        while let item = scheduler.next(worker: index) {
            let children: [PendingContent]
            do {
                children = try process(item)
            } catch {
                onStoreFailure(error)
                children = []
            }
            scheduler.finished(worker: index, children: children)
        }
        instances.removeAll()
    }

    private func process(_ item: WorkItem) throws(StoreError) -> [PendingContent] {
        switch item {
        case .input(let input):
            let data: ContentBuffer
            do {
                data = try ContentBuffer.open(path: input.path)
            } catch {
                logger.warning("skipping input: \(error)")
                statistics.update {
                    $0.inputs += 1
                    $0.unreadable += 1
                }
                return []
            }
            statistics.update { $0.inputs += 1 }
            return try process(uuid: UUID(), filename: input.relativePath, parent: nil, depth: 0, data: data)
        case .child(let pending):
            return try process(uuid: pending.uuid, filename: pending.filename, parent: pending.parentUUID, depth: pending.depth, data: pending.data)
        }
    }

    private func instance(_ i: Int) -> Result<any ModuleInstance, ModuleLoadError> {
        if let existing = instances[i] { return .success(existing) }
        let entry = modules.entries[i]
        do {
            let made = try entry.module.instantiate(abi: HostABI(moduleName: entry.name, registry: registry, logger: logger))
            instances[i] = made
            return .success(made)
        } catch {
            return .failure(error)
        }
    }

    /// Runs every module on one content, records it, and returns its sub-contents to process.
    private func process(uuid: UUID, filename: String, parent: UUID?, depth: Int, data: ContentBuffer) throws(StoreError) -> [PendingContent] {
        var rows: [(tableID: Int32, values: [CellValue])] = []
        var emitted: [EmittedContent] = []
        var failures: [ModuleFailure] = []
        var interrupted = false
        for (i, entry) in modules.entries.enumerated() where !interrupted {
            switch instance(i) {
            case .failure(let error):
                counters[i].runs += 1
                counters[i].failures += 1
                failures.append(ModuleFailure(module: entry.name, kind: error.failureKind, detail: error.reason))
            case .success(let instance):
                let context = RunContext(content: data, uuid: uuid, filename: filename, limits: limits)
                let start = DispatchTime.now().uptimeNanoseconds
                let outcome = instance.process(context)
                counters[i].runs += 1
                counters[i].nanoseconds += DispatchTime.now().uptimeNanoseconds - start
                switch outcome {
                case .success:
                    rows.append(contentsOf: context.rows)
                    emitted.append(contentsOf: context.children)
                case .interrupted:
                    instances[i] = nil
                    interrupted = true
                case .failure(let kind, let detail):
                    counters[i].failures += 1
                    // The instance may be in any state after any failure (a nonzero return can leave
                    // half-updated globals): rebuild it before its next content, as docs/ABI.md says.
                    instances[i] = nil
                    failures.append(ModuleFailure(module: entry.name, kind: kind, detail: detail))
                    logger.debug("module failed", metadata: ["module": "\(entry.name)", "content": "\(uuid.lowercasedString)", "kind": "\(kind.rawValue)", "detail": "\(detail)"])
                }
            }
        }
        if interrupted {
            // Stopped by Ctrl-C, not by the content: nothing of it is recorded, so a resumed run redoes it.
            statistics.update { $0.interrupted += 1 }
            return []
        }
        let now = Int64(Date().timeIntervalSince1970)
        try store.submit(
            ContentRecord(
                uuid: uuid.lowercasedString, filename: filename, parentUUID: parent?.lowercasedString, processedAt: now,
                status: failures.isEmpty ? .success : .failed,
                errorMessage: failures.isEmpty ? nil : failures.map(\.description).joined(separator: "; "),
                depth: depth, size: data.count, sha256: data.sha256, rows: rows))
        statistics.update {
            $0.contents += 1
            $0.bytes += data.count
            if failures.isEmpty { $0.succeeded += 1 } else { $0.failed += 1 }
            for failure in failures { $0.failureKinds[failure.kind, default: 0] += 1 }
        }

        var pending: [PendingContent] = []
        for child in emitted {
            let childUUID = UUID()
            guard depth + 1 <= limits.maxRecursionDepth else {
                try store.submit(
                    ContentRecord(
                        uuid: childUUID.lowercasedString, filename: child.name, parentUUID: uuid.lowercasedString, processedAt: now,
                        status: .skipped, errorMessage: limits.depthDetail(depth + 1),
                        depth: depth + 1, size: child.data.count, sha256: child.data.sha256))
                statistics.update {
                    $0.contents += 1
                    $0.skipped += 1
                }
                continue
            }
            pending.append(PendingContent(uuid: childUUID, filename: child.name, parentUUID: uuid, depth: depth + 1, data: child.data))
        }
        return pending
    }
}

extension UUID {
    /// The canonical lowercase text form stored in the database.
    var lowercasedString: String { uuidString.lowercased() }
}

extension ContentBuffer {
    /// Lowercase hex SHA-256 of the bytes.
    var sha256: String {
        var hasher = SHA256()
        forEachWindow { hasher.update(bufferPointer: $0) }
        return hasher.finalize().hex
    }
}
