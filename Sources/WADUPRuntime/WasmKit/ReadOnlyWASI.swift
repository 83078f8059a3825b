@_spi(WASIPlatform) import WASI
import WasmKit
import WasmKitWASI

/// Links WasmKit's WASI with every file system change refused: a module's data folder is read-only.
///
/// WasmKit 0.4.2 has no read-only preopen (its host file system opens what the guest asks for), so
/// this wrapper stands in front of it, at the WASI call itself:
/// - `path_open` asking to create (`O_CREAT`), truncate (`O_TRUNC`) or write (the `fd_write` right)
///   returns `EROFS`; every file is then opened read-only on the host, so the host's kernel also
///   refuses writes, truncation and allocation through it.
/// - the calls that change the tree or metadata without an open file (create or remove a directory,
///   unlink, rename, link, symlink, set times, set size, allocate) return `EROFS` whatever their
///   arguments.
/// WasmKit's own path resolution keeps paths inside the preopened folder (`..`, absolute paths and
/// symlinks out are refused), and the folder has no symlinks (``ModuleSet`` refuses them at start).
enum ReadOnlyWASI {
    /// The preview 1 calls that change the file system whatever their arguments.
    static let refused: Set<String> = [
        "path_create_directory", "path_remove_directory", "path_unlink_file", "path_rename", "path_link", "path_symlink",
        "path_filestat_set_times", "fd_filestat_set_times", "fd_filestat_set_size", "fd_allocate",
    ]

    /// `path_open`'s `oflags` bits that create or truncate (`O_CREAT`, `O_EXCL`, `O_TRUNC`).
    static let changingOpenFlags: UInt32 = 1 | 4 | 8
    /// `path_open`'s `fs_rights_base` bit `fd_write`: the host opens the file for writing when set.
    static let writeRight: UInt64 = 1 << 6

    static var errorEROFS: [Value] { [.i32(UInt32(WASIAbi.Errno.EROFS.rawValue))] }

    /// Defines every `wasi_snapshot_preview1` function of `bridge` in `imports`, read-only.
    static func link(_ bridge: WASIBridgeToHost, to imports: inout Imports, store: Store) {
        for (name, function) in bridge.hostFunctions(capabilities: WASICapability.all) {
            let implementation = function.implementation
            let body: Function.Implementation
            if refused.contains(name) {
                body = { _, _ in errorEROFS }
            } else {
                let guardsOpen = name == "path_open"
                body = { caller, values in
                    if guardsOpen, values.count == 9 {
                        let oflags = UInt32(truncatingIfNeeded: values[4].bits)
                        if oflags & changingOpenFlags != 0 || values[5].bits & writeRight != 0 { return errorEROFS }
                    }
                    guard case .memory(let memory) = caller.instance?.export("memory") else {
                        throw WASIError(description: "Missing required \"memory\" export")
                    }
                    return try implementation(memory, values)
                }
            }
            imports.define(module: "wasi_snapshot_preview1", name: name, Function(store: store, type: function.type, body: body))
        }
    }
}
