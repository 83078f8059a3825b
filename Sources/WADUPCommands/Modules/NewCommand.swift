import ArgumentParser
import Foundation
import WADUPCore
import WADUPPipeline

/// `wadup new NAME --language swift|c|rust|python`: a complete module folder to start from.
package struct NewCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create a module folder: source that defines a table and writes a row per content, build.sh, README.",
        discussion: "NAME is the module's and its table's name (letters, digits, _). An existing folder is refused, nothing overwritten (exit 2).")

    @Argument(help: "The module's name; also the folder created (in the current folder, or under --directory).")
    var name: String

    @Option(help: "swift, c, rust or python.")
    var language: ModuleTemplates.Language

    @Option(help: "Where to create the folder (default: the current folder).")
    var directory: String?

    package init() {}

    package func validate() throws {
        guard Identifier.isValid(name) else {
            throw ValidationError("\(name) cannot name a module and its table: use letters, digits and _, starting with a letter (not __wadup or sqlite_)")
        }
    }

    package func run() throws {
        let folder = (directory.map { $0 + "/" } ?? "") + name
        guard !FileManager.default.fileExists(atPath: folder) else { throw ModuleFile.fail("\(folder) exists; nothing was written (choose another name or --directory)") }
        guard let sdk = Self.sdkDirectory else {
            throw ModuleFile.fail("no WADUP SDK found: set WADUP_SDK to the sdk folder of a WADUP installation (share/wadup/sdk) or to Guests/ of a checkout")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
            for file in ModuleTemplates.files(for: language) {
                let path = folder + "/" + file.path.replacingOccurrences(of: "@NAME@", with: name)
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                let text = file.text.replacingOccurrences(of: "@NAME@", with: name).replacingOccurrences(of: "@SDK@", with: sdk)
                try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
                if file.executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
            }
        } catch {
            throw ModuleFile.fail("\(folder): \(error.localizedDescription)")
        }
        if language == .python {
            // The API's type stubs, for editors, from the runtime the module will run on.
            let stubs = StandardModules.python.library + "/" + PythonRuntime.stubsFile
            if FileManager.default.fileExists(atPath: stubs) { try? FileManager.default.copyItem(atPath: stubs, toPath: folder + "/" + PythonRuntime.stubsFile) }
        }
        let module = language.moduleFile.replacingOccurrences(of: "@NAME@", with: name)
        print("created \(folder)/ (\(language.rawValue), SDK \(sdk)); next: \(folder)/build.sh && wadup try \(folder)/\(module) FILE...")
    }

    /// `$WADUP_SDK`, else `share/wadup/sdk` beside the binary's `bin/`, else `Guests/` of the checkout the binary was built in.
    static var sdkDirectory: String? {
        if let env = ProcessInfo.processInfo.environment["WADUP_SDK"], !env.isEmpty { return env }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let installed = binary.appendingPathComponent("../share/wadup/sdk").standardizedFileURL
        if FileManager.default.fileExists(atPath: installed.appendingPathComponent("C/wadup.h").path) { return installed.path }
        var dir = binary
        while dir.path != "/" {
            let guests = dir.appendingPathComponent("Guests")
            if FileManager.default.fileExists(atPath: guests.appendingPathComponent("C/wadup.h").path) { return guests.path }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }
}

extension ModuleTemplates.Language: ExpressibleByArgument {}
