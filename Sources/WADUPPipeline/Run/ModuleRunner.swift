import Dispatch
import Foundation
import Logging
import WADUPCore
import WADUPRuntime

/// One module's runs on contents, one after another on one thread: the code every module-run
/// goes through, for the pipeline's workers (one runner per module each) and `wadup try` alike.
///
/// The instance is made on first use and kept between contents; after any failure it is dropped
/// and rebuilt before the next content (a failing run can leave its memory and globals in any
/// state, as docs/modules/ABI.md says). Not `Sendable`: a runner belongs to one thread.
package final class ModuleRunner {
    /// How one module-run ended; rows and sub-contents of a success are in its ``RunContext``.
    package enum Result {
        case success
        /// The module failed (or its instance could not be made); the content records it.
        case failure(ModuleFailure)
        /// Stopped by ``WasmEngine/interrupt()`` (Ctrl-C): not a result of the content.
        case interrupted
        /// The content's input file changed or failed under a read: whatever the module
        /// returned, the bytes it saw are not the file's.
        case inputFault(ContentReadError)
    }

    package let name: String
    let module: any LoadedModule
    /// What the module accepts; ``offer(_:)`` asks it.
    package let manifest: ModuleManifest
    let registry: TableRegistry
    let logger: Logger
    private var instance: (any ModuleInstance)?
    /// Runs, failures and time so far.
    package private(set) var counters = ModuleCounters()
    /// Fuel the last run used (with a fuel limit), as the engine counted it.
    package private(set) var lastFuelUsed: UInt64?
    /// Nanoseconds the last run took.
    package private(set) var lastNanoseconds: UInt64 = 0

    package init(name: String, module: any LoadedModule, manifest: ModuleManifest = .everything, registry: TableRegistry, logger: Logger) {
        self.name = name
        self.manifest = manifest
        self.module = module
        self.registry = registry
        self.logger = logger
    }

    /// Makes the instance now if there is none (a caller that reports a module that cannot be
    /// instantiated as an error of its own, rather than as the content's failure).
    ///
    /// Each instance runs the module's `init` again: an error or a decline now (the module was
    /// ready when it was loaded) is a failure of kind `abi_error` for the content at hand.
    package func prepare() throws(ModuleLoadError) {
        guard instance == nil else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        let made = try module.instantiate(abi: HostABI(moduleName: name, registry: registry, logger: logger))
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        logger.debug("instance ready in \(String(format: "%.1f", milliseconds)) ms (init included)", metadata: ["module": "\(name)"])
        if case .declined(let message) = made.initialization {
            throw ModuleLoadError(path: name, reason: "init declined on this instance (it was ready when loaded): \(message)")
        }
        instance = made
    }

    /// Whether the module takes `content` (its manifest accepts it, or `dispatch` is off), counted.
    package func offer(_ content: ModuleManifest.Candidate, dispatch: Bool = true) -> Bool {
        counters.offered += 1
        guard !dispatch || manifest.accepts(content) else { return false }
        counters.accepted += 1
        return true
    }

    /// Runs the module on the content of `context`.
    package func run(_ context: RunContext) -> Result {
        counters.runs += 1
        lastFuelUsed = nil
        lastNanoseconds = 0
        do {
            try prepare()
        } catch {
            counters.failures += 1
            return .failure(ModuleFailure(module: name, kind: error.failureKind, detail: error.reason))
        }
        let current = instance!  // made by prepare()
        let start = DispatchTime.now().uptimeNanoseconds
        let outcome = current.process(context)
        context.sealStreams()
        lastNanoseconds = DispatchTime.now().uptimeNanoseconds - start
        counters.nanoseconds += lastNanoseconds
        lastFuelUsed = context.fuelUsed
        if let fault = context.inputFault, outcome != .interrupted {
            if outcome != .success { instance = nil }
            return .inputFault(fault)
        }
        if let detail = context.storageFault, outcome != .interrupted {
            // A stream's temporary file could not be written: the run's output is incomplete,
            // whatever the module returned.
            counters.failures += 1
            instance = nil
            logger.warning("\(detail)", metadata: ["module": "\(name)", "content": "\(context.uuid.lowercasedString)"])
            return .failure(ModuleFailure(module: name, kind: .temporaryStorage, detail: detail))
        }
        switch outcome {
        case .success:
            return .success
        case .interrupted:
            instance = nil
            return .interrupted
        case .failure(let kind, let detail):
            counters.failures += 1
            instance = nil
            logger.debug(
                "module failed",
                metadata: ["module": "\(name)", "content": "\(context.uuid.lowercasedString)", "kind": "\(kind.rawValue)", "detail": "\(detail)"])
            return .failure(ModuleFailure(module: name, kind: kind, detail: detail))
        }
    }

    /// What the decoding run of an encoded sub-content gave.
    package enum Decoding {
        /// The decoded bytes, as the run emitted them, and the rows of the parent it inserted.
        case decoded(EmittedContent, rows: [(tableID: Int32, values: [CellValue])])
        /// The run emitted nothing: the entry is not a content; its rows stand.
        case nothing(rows: [(tableID: Int32, values: [CellValue])])
        case failed(ModuleFailure)
        case inputFault(ContentReadError, module: String)
        case interrupted
    }

    /// Runs the module on the encoded range `data` of a sub-content it emitted, as its decoding
    /// run (docs/modules/ABI.md, "Encoded sub-contents"): it may emit one sub-content, of exactly
    /// the declared size.
    package func decode(
        _ data: ContentBuffer, uuid: UUID, filename: String, encoding: Encoding, limits: RunLimits, temporaryFolder: TemporaryFolder = .standard
    ) -> Decoding {
        let context = RunContext(content: data, uuid: uuid, filename: filename, limits: limits, temporaryFolder: temporaryFolder, decoding: encoding)
        switch run(context) {
        case .success:
            guard let child = context.children.first else { return .nothing(rows: context.rows) }
            guard Int64(child.data.count) == encoding.decodedSize else {
                let detail = "its decoding run emitted \(child.data.count) bytes, not the \(encoding.decodedSize) it declared"
                return .failed(ModuleFailure(module: name, kind: .abiError, detail: detail))
            }
            return .decoded(child, rows: context.rows)
        case .failure(let failure): return .failed(failure)
        case .interrupted: return .interrupted
        case .inputFault(let fault): return .inputFault(fault, module: name)
        }
    }

    /// Drops the instance (the thread that ran it is ending).
    package func close() { instance = nil }
}
