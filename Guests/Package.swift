// swift-tools-version:6.2

import PackageDescription

// WADUP's guest side: the Swift SDK (Embedded Swift on wasm32), the C ABI header as a module,
// and the standard modules shipped with WADUP. Build everything with:
//   swift build --package-path Guests --triple wasm32-unknown-none-wasm -c release
// (scripts/build-guests.sh does that and collects the .wasm files).

/// Embedded Swift: no runtime, no existentials, whole-module optimisation (release builds).
/// Exclusivity is checked statically only: a module instance is single-threaded, and the dynamic
/// checks (a runtime call per class-property access) cost more than the work in hot loops.
let embedded: [SwiftSetting] = [
    .enableExperimentalFeature("Embedded"),
    .enableExperimentalFeature("Extern"),
    .unsafeFlags(["-wmo", "-enforce-exclusivity=unchecked"]),
]

/// A module is a reactor: no `_start`, no C library; `process` is exported by `@_expose(wasm)`.
let moduleLinking: [LinkerSetting] = [.unsafeFlags(["-Xclang-linker", "-nostdlib", "-Xlinker", "--no-entry"])]

/// A module target. Parsed as a library: a module has no top-level code (it is a reactor, nothing
/// runs `main`), and a one-file executable target would otherwise be script mode, where globals
/// are initialised by `main`, i.e. never.
func module(_ name: String, path: String, dependencies: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name, dependencies: ["WADUPGuest"] + dependencies, path: path,
        swiftSettings: embedded + [.unsafeFlags(["-parse-as-library"])], linkerSettings: moduleLinking)
}

let package = Package(
    name: "WADUPGuest",
    products: [
        .library(name: "WADUPGuest", targets: ["WADUPGuest"]),
        .library(name: "WADUPInflate", targets: ["WADUPInflate"]),
        .executable(name: "byte_counter", targets: ["byte_counter"]),
        .executable(name: "zip_parser", targets: ["zip_parser"]),
        .executable(name: "sqlite_parser", targets: ["sqlite_parser"]),
        .executable(name: "swift_example", targets: ["swift_example"]),
        .executable(name: "sdk_probe", targets: ["sdk_probe"]),
        .executable(name: "inflate_probe", targets: ["inflate_probe"]),
    ],
    targets: [
        /// The ABI header (the source of truth shared with the host and the C SDK).
        .target(name: "WADUPGuestABI", path: "C", publicHeadersPath: "."),
        /// Allocator, mem* and the other C symbols Embedded Swift needs on bare wasm32.
        .target(name: "WADUPGuestRuntime", path: "Swift/Runtime"),
        .target(name: "WADUPGuest", dependencies: ["WADUPGuestABI", "WADUPGuestRuntime"], path: "Swift/WADUPGuest", swiftSettings: embedded),
        module("byte_counter", path: "Modules/byte_counter"),
        /// A DEFLATE decoder (RFC 1951) for any module: no dependencies.
        .target(name: "WADUPInflate", path: "Swift/WADUPInflate", swiftSettings: embedded),
        /// Manifests of the Swift modules: a C file each, since Swift cannot emit a custom section.
        .target(name: "zip_parser_manifest", dependencies: ["WADUPGuestABI"], path: "Manifests/zip_parser", publicHeadersPath: "."),
        module("zip_parser", path: "Modules/zip_parser", dependencies: ["WADUPInflate", "zip_parser_manifest"]),
        .target(name: "sqlite_parser_manifest", dependencies: ["WADUPGuestABI"], path: "Manifests/sqlite_parser", publicHeadersPath: "."),
        module("sqlite_parser", path: "Modules/sqlite_parser", dependencies: ["sqlite_parser_manifest"]),
        module("swift_example", path: "Examples/swift_example"),
        // Test probes (Probes/): modules the host's tests and benchmarks run, not examples to copy.
        /// Tests the SDK's row encoding (run by the host's tests, not shipped).
        module("sdk_probe", path: "Probes/sdk_probe"),
        /// Times the DEFLATE decoder alone (Benchmarks/zip_benchmark.py; tested, not shipped).
        module("inflate_probe", path: "Probes/inflate_probe", dependencies: ["WADUPInflate"]),
    ]
)
