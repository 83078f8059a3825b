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
    /// Contents already processed, by SHA-256; `nil` processes every occurrence.
    let dedup: DedupIndex?
    /// Whether modules see only the contents their manifests accept (else every content).
    let dispatch: Bool
    /// Called when the store fails; the run stops.
    let onStoreFailure: @Sendable (StoreError) -> Void
    /// How input files are read (`pread`; tests inject faults here).
    let reader: FileReader
    /// Whether input trees are recorded as complete (what resume needs); only a benchmark turns
    /// it off (``Tuning/recordsInputs``), to measure what the records cost.
    let recordsInputs: Bool
    /// Where streamed sub-contents too large for memory are written.
    let temporaryFolder: TemporaryFolder
    /// The uuids of the sub-contents this worker records (its thread only).
    private var uuids = UUIDGenerator()
    /// One runner per module, in the run's order.
    private let runners: [ModuleRunner]
    /// Each module's runs, failures and time (read after this worker's thread has finished).
    var counters: [ModuleCounters] { runners.map(\.counters) }

    init(
        index: Int, modules: ModuleSet, registry: TableRegistry, store: any ResultStore, scheduler: Scheduler,
        statistics: RunStatistics, limits: RunLimits, logger: Logger, dedup: DedupIndex?, dispatch: Bool = true,
        reader: FileReader = .system, recordsInputs: Bool = true, temporaryFolder: TemporaryFolder = .standard,
        onStoreFailure: @escaping @Sendable (StoreError) -> Void
    ) {
        self.temporaryFolder = temporaryFolder
        self.reader = reader
        self.recordsInputs = recordsInputs
        self.dedup = dedup
        self.dispatch = dispatch
        self.index = index
        self.modules = modules
        self.registry = registry
        self.store = store
        self.scheduler = scheduler
        self.statistics = statistics
        self.limits = limits
        self.logger = logger
        self.onStoreFailure = onStoreFailure
        self.runners = modules.entries.map { ModuleRunner(name: $0.name, module: $0.module, manifest: $0.manifest, registry: registry, logger: logger) }
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
        for runner in runners { runner.close() }
    }

    private func process(_ item: WorkItem) throws(StoreError) -> [PendingContent] {
        switch item {
        case .input(let input):
            let tree = InputTree(name: input.name, limits: limits)
            statistics.update { $0.inputs += 1 }
            switch input {
            case .record(let name, let reason, let size):
                return try record(tree: tree, name: name, reason: reason, size: size)
            case .file(let file):
                let name = file.name
                let data: ContentBuffer
                do {
                    data = try ContentBuffer.read(fd: file.fd, path: file.path, reader: reader)
                } catch {
                    guard error.kind != nil else { return try record(tree: tree, name: name, reason: error.detail, size: nil) }
                    // Changed or failed while it was read at once (a small file).
                    let content = PendingContent(
                        uuid: tree.rootUUID, filename: name.text, parentUUID: nil, depth: 0, data: ContentBuffer([]), tree: tree)
                    return try recordInputFault(error, module: nil, content: content, size: file.size, filenameBytes: name.isUTF8 ? nil : name.bytes)
                }
                let progress = statistics.beginInput(worker: index, size: data.count)
                defer { statistics.endInput(worker: index) }
                return try process(
                    PendingContent(uuid: tree.rootUUID, filename: name.text, parentUUID: nil, depth: 0, data: data, tree: tree),
                    filenameBytes: name.isUTF8 ? nil : name.bytes, readProgress: progress)
            }
        case .child(let pending):
            return try pending.encoded == nil ? process(pending, filenameBytes: nil) : processEncoded(pending)
        }
    }

    /// Records an input path that is not processed (`skipped`, with the reason); its tree is complete.
    private func record(tree: InputTree, name: InputName, reason: String, size: Int?) throws(StoreError) -> [PendingContent] {
        var record = ContentRecord(
            uuid: tree.rootUUID.lowercasedString, filename: name.text, parentUUID: nil, processedAt: Int64(Date().timeIntervalSince1970),
            status: .skipped, errorMessage: reason, depth: 0, size: size, sha256: nil, filenameBytes: name.isUTF8 ? nil : name.bytes)
        record.completesInput = finish(tree, children: 0)
        try store.submit(record)
        statistics.update {
            $0.contents += 1
            $0.skipped += 1
        }
        return []
    }


    /// Ends one content of `tree` that queued `children`; the tree's end, if this was its last content.
    private func finish(_ tree: InputTree, children: Int) -> InputCompletion? {
        guard tree.finish(children: children) else { return nil }
        let refused = tree.refused
        if refused > 0 { statistics.update { $0.refused += refused } }
        guard recordsInputs else { return nil }
        return InputCompletion(path: tree.name.bytes, rootUUID: tree.rootUUID.lowercasedString, note: tree.budgetNote)
    }

    /// Records `content` as failed because its input file changed or failed while it was read:
    /// with no sha256 (the bytes are not known to be those hashed), no rows and no sub-contents;
    /// `module` is the module whose read met it, or `nil` for the host's own read (recorded as
    /// ``hostName``).
    private func recordInputFault(
        _ fault: ContentReadError, module: String?, content: PendingContent, size: Int, filenameBytes: [UInt8]?
    ) throws(StoreError) -> [PendingContent] {
        let kind = fault.kind ?? .readError
        let failure = ModuleFailure(module: module ?? Self.hostName, kind: kind, detail: fault.description)
        logger.warning("\(failure)", metadata: ["content": "\(content.uuid.lowercasedString)"])
        var record = ContentRecord(
            uuid: content.uuid.lowercasedString, filename: content.filename, parentUUID: content.parentUUID?.lowercasedString,
            processedAt: Int64(Date().timeIntervalSince1970), status: .failed, errorMessage: failure.description, depth: content.depth,
            size: size, sha256: nil, filenameBytes: filenameBytes)
        record.parentRows = content.parentRows
        record.completesInput = finish(content.tree, children: 0)
        try store.submit(record)
        statistics.update {
            $0.contents += 1
            $0.bytes += size
            $0.failed += 1
            $0.failureKinds[kind, default: 0] += 1
        }
        return []
    }

    /// Who a failure found by the host itself, not by a module, is recorded under.
    static let hostName = "wadup"

    /// Runs every module on one content, records it, and returns its sub-contents to process;
    /// an input's module-runs count what they read in `readProgress`.
    private func process(_ content: PendingContent, filenameBytes: [UInt8]?, readProgress: ReadProgress? = nil) throws(StoreError) -> [PendingContent] {
        let (uuid, data, depth, tree) = (content.uuid, content.data, content.depth, content.tree)
        let now = Int64(Date().timeIntervalSince1970)
        let digest: [UInt8]
        switch content.digest?.result ?? Result(catching: { () throws(ContentReadError) in try data.sha256Digest() }) {
        case .success(let bytes): digest = bytes
        case .failure(let fault): return try recordInputFault(fault, module: nil, content: content, size: data.count, filenameBytes: filenameBytes)
        }
        let sha256 = digest.hex
        if let dedup, let original = dedup.claim(digest: digest, uuid: uuid, tree: tree) {
            // The same bytes were processed (or are being processed) elsewhere: linked, not expanded again.
            var record = ContentRecord(
                uuid: uuid.lowercasedString, filename: content.filename, parentUUID: content.parentUUID?.lowercasedString, processedAt: now,
                status: .duplicate, errorMessage: nil, depth: depth, size: data.count, sha256: sha256,
                duplicateOf: original.lowercasedString, filenameBytes: filenameBytes)
            record.parentRows = content.parentRows
            record.completesInput = finish(tree, children: 0)
            try store.submit(record)
            statistics.update {
                $0.contents += 1
                $0.duplicates += 1
                $0.bytes += data.count
            }
            return []
        }
        var rows: [(tableID: Int32, values: [CellValue])] = []
        /// Each sub-content, with the index of the module that emitted it.
        var emitted: [(content: EmittedContent, module: Int)] = []
        var failures: [ModuleFailure] = []
        var interrupted = false
        /// The input file changed or failed under a module's read (and which module read it; `nil`
        /// when the host's own check found it).
        var inputFault: (error: ContentReadError, module: String?)?
        /// The type the first identifying module reported; the later modules are dispatched on it.
        var type: ContentType?
        let probe = ContentProbe(data)
        var candidate = ModuleManifest.Candidate(size: Int64(data.count), filename: content.filename, mime: nil, bytes: probe)
        for (index, runner) in runners.enumerated() where !interrupted && inputFault == nil {
            if candidate.mime != type?.mime { candidate = candidate.with(mime: type?.mime) }
            guard runner.offer(candidate, dispatch: dispatch) else { continue }
            let identifies = runner.manifest.role == .identify
            let context = RunContext(
                content: data, uuid: uuid, filename: content.filename, limits: limits, budget: tree, temporaryFolder: temporaryFolder,
                contentType: type, mayIdentify: identifies, readProgress: readProgress)
            let result = runner.run(context)
            if let fuel = runner.lastFuelUsed {
                logger.debug("fuel used: \(fuel)", metadata: ["module": "\(runner.name)", "content": "\(uuid.lowercasedString)"])
            }
            switch result {
            case .success:
                rows.append(contentsOf: context.rows)
                emitted.append(contentsOf: context.children.map { ($0, index) })
                if type == nil { type = context.reportedType }
            case .failure(let failure):
                failures.append(failure)
            case .interrupted:
                interrupted = true
            case .inputFault(let fault):
                inputFault = (fault, runner.name)
            }
        }
        if interrupted {
            // Stopped by Ctrl-C, not by the content: nothing of it is recorded and its tree stays
            // incomplete, so a resumed run redoes the tree.
            statistics.update { $0.interrupted += 1 }
            return []
        }
        if inputFault == nil, let file = data.file {
            // Read on demand: a file that grew or was written to in place reads without error.
            do { try file.checkUnchanged() } catch { inputFault = (error, nil) }
        }
        if let (fault, module) = inputFault {
            dedup?.withdraw(digest: digest, uuid: uuid, tree: tree)
            return try recordInputFault(fault, module: module, content: content, size: data.count, filenameBytes: filenameBytes)
        }
        var record = ContentRecord(
            uuid: uuid.lowercasedString, filename: content.filename, parentUUID: content.parentUUID?.lowercasedString, processedAt: now,
            status: failures.isEmpty ? .success : .failed,
            errorMessage: failures.isEmpty ? nil : failures.map(\.description).joined(separator: "; "),
            depth: depth, size: data.count, sha256: sha256, filenameBytes: filenameBytes, rows: rows)
        record.type = type
        record.parentRows = content.parentRows
        // Without sub-contents this is the tree's last record: its end goes in the same write.
        if emitted.isEmpty { record.completesInput = finish(tree, children: 0) }
        try store.submit(record)
        statistics.update {
            $0.contents += 1
            $0.bytes += data.count
            if failures.isEmpty { $0.succeeded += 1 } else { $0.failed += 1 }
            for failure in failures { $0.failureKinds[failure.kind, default: 0] += 1 }
        }

        var pending: [PendingContent] = []
        for (child, module) in emitted {
            let childUUID = uuids.uuid()
            guard depth + 1 <= limits.maxRecursionDepth else {
                // Recorded, not processed; an encoded one is decoded now, for its size and sha256.
                var record = ContentRecord(
                    uuid: childUUID.lowercasedString, filename: child.name, parentUUID: uuid.lowercasedString, processedAt: now,
                    status: .skipped, errorMessage: limits.depthDetail(depth + 1),
                    depth: depth + 1, size: child.data.count, sha256: nil)
                if let encoding = child.encoding {
                    record.size = Int(encoding.decodedSize)
                    switch decode(child.data, uuid: childUUID, filename: child.name, encoding: encoding, module: module) {
                    case .decoded(let decoded, let rows):
                        record.sha256 = try? decoded.digest.result.get().hex
                        record.parentRows = rows
                    case .nothing(let rows):  // not a content at all, as at any depth
                        record.isContent = false
                        record.parentRows = rows
                    case .failed, .inputFault, .interrupted: break
                    }
                } else {
                    record.sha256 = try? child.digest.result.get().hex
                }
                try store.submit(record)
                if record.isContent {
                    statistics.update {
                        $0.contents += 1
                        $0.skipped += 1
                    }
                }
                continue
            }
            var next = PendingContent(uuid: childUUID, filename: child.name, parentUUID: uuid, depth: depth + 1, data: child.data, tree: tree, digest: child.digest)
            if let encoding = child.encoding { next.encoded = (encoding, module) }
            pending.append(next)
        }
        if !emitted.isEmpty, let input = finish(tree, children: pending.count) {
            try store.completeInput(path: input.path, rootUUID: input.rootUUID, note: input.note)
        }
        return pending
    }
}

// MARK: Encoded sub-contents

extension Worker {
    /// Runs module `module` (by its index in the run's order) as the decoding run of an encoded sub-content.
    private func decode(_ data: ContentBuffer, uuid: UUID, filename: String, encoding: Encoding, module: Int) -> ModuleRunner.Decoding {
        runners[module].decode(data, uuid: uuid, filename: filename, encoding: encoding, limits: limits, temporaryFolder: temporaryFolder)
    }

    /// Decodes an encoded sub-content in this worker, then processes what it decoded to like any
    /// content; one the module does not emit leaves only its rows.
    private func processEncoded(_ pending: PendingContent) throws(StoreError) -> [PendingContent] {
        guard let (encoding, module) = pending.encoded else { return try process(pending, filenameBytes: nil) }
        let now = Int64(Date().timeIntervalSince1970)
        switch decode(pending.data, uuid: pending.uuid, filename: pending.filename, encoding: encoding, module: module) {
        case .decoded(let child, let rows):
            var content = PendingContent(
                uuid: pending.uuid, filename: pending.filename, parentUUID: pending.parentUUID, depth: pending.depth, data: child.data,
                tree: pending.tree, digest: child.digest)
            content.parentRows = rows
            return try process(content, filenameBytes: nil)
        case .nothing(let rows):
            var record = ContentRecord(
                uuid: pending.uuid.lowercasedString, filename: pending.filename, parentUUID: pending.parentUUID?.lowercasedString,
                processedAt: now, status: .success, errorMessage: nil, depth: pending.depth, size: nil, sha256: nil)
            record.isContent = false
            record.parentRows = rows
            record.completesInput = finish(pending.tree, children: 0)
            if !rows.isEmpty || record.completesInput != nil { try store.submit(record) }
            return []
        case .failed(let failure):
            logger.warning("\(failure)", metadata: ["content": "\(pending.uuid.lowercasedString)"])
            var record = ContentRecord(
                uuid: pending.uuid.lowercasedString, filename: pending.filename, parentUUID: pending.parentUUID?.lowercasedString,
                processedAt: now, status: .failed, errorMessage: failure.description, depth: pending.depth,
                size: Int(encoding.decodedSize), sha256: nil)
            record.completesInput = finish(pending.tree, children: 0)
            try store.submit(record)
            statistics.update {
                $0.contents += 1
                $0.failed += 1
                $0.failureKinds[failure.kind, default: 0] += 1
            }
            return []
        case .inputFault(let fault, let module):
            return try recordInputFault(fault, module: module, content: pending, size: Int(encoding.decodedSize), filenameBytes: nil)
        case .interrupted:
            statistics.update { $0.interrupted += 1 }
            return []
        }
    }
}
