import ArgumentParser
import Foundation
import WADUPCore
import WADUPRuntime

/// `wadup manifest MODULE.wasm [--set FILE.json | --remove]`: a module's manifest, shown or
/// written, for toolchains that cannot emit a custom section themselves.
package struct ManifestCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Show a module's manifest (its role and what it accepts), or write one into the module file.",
        discussion: """
            The manifest is JSON in the module's wadup.manifest custom section (docs/modules/ABI.md, Manifest). \
            --set checks the JSON as a run would, then rewrites the module with it (any earlier manifest replaced). \
            Exit codes: 0 done; 2 the module or the manifest cannot be used (the fault is named).
            """)

    @Argument(help: "The .wasm module.")
    var module: String

    @Option(help: ArgumentHelp("Write this JSON file into the module as its manifest.", valueName: "file"))
    var set: String?

    @Flag(help: "Remove the module's manifest (it then accepts every content).")
    var remove = false

    package init() {}

    package func validate() throws {
        if set != nil && remove { throw ValidationError("give --set or --remove, not both") }
    }

    package func run() throws {
        let bytes = try ModuleFile.read(module)
        guard set != nil || remove else {
            do {
                let manifest = try ManifestReader.manifest(bytes: bytes, path: module)
                print("\(module): \(ManifestText.summary(manifest, declared: ManifestReader.hasManifest(bytes: bytes)))")
                return
            } catch {
                throw ModuleFile.fail("\(error)")
            }
        }
        var json: [UInt8] = []
        if let set {
            guard let data = FileManager.default.contents(atPath: set) else { throw ModuleFile.fail("\(set): cannot read the file") }
            json = [UInt8](data)
            do {
                _ = try ModuleManifest.parse(json)
            } catch {
                throw ModuleFile.fail("\(set): not a valid manifest: \(error)")
            }
        }
        let rewritten: [UInt8]
        do {
            rewritten = remove ? try ManifestReader.removingManifest(from: bytes) : try ManifestReader.replacingManifest(in: bytes, with: json)
        } catch {
            throw ModuleFile.fail("\(module): \(error.reason)")
        }
        let temporary = module + ".manifest-tmp"
        do {
            try Data(rewritten).write(to: URL(fileURLWithPath: temporary))
            // Renamed over the module: a reader sees the old file or the new one, never half of it.
            guard rename(temporary, module) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw ModuleFile.fail("\(module): cannot write the module: \(error.localizedDescription)")
        }
        print(remove ? "\(module): manifest removed" : "\(module): \(ManifestText.summary(try ManifestReader.manifest(bytes: rewritten, path: module)))")
    }
}
