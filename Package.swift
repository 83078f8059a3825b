// swift-tools-version:6.2

import PackageDescription

// Layers, each a target with one job (bottom to top); folders inside a target show its parts:
//   WADUPCore      ABI constants, error codes, values, identifiers, limits, failure kinds, content and
//                  run states, settings named apart from flags, test tuning (no dependencies)
//   CWasmtime      wasmtime's C API, declared by hand and opened at run time (dlopen)
//   WADUPRuntime   Engine/ (the engine interface, module checks, RunContext), ABI/ (the host ABI),
//                  Wasmtime/ and WasmKit/ (the two engines)
//   WADUPStore     Output/ (RunOutput: the one owner of the output; ResultStore; RunSettings; the lock),
//                  SQLite/ (the store, its single batched writer, merge); the target that writes SQL
//   WADUPPostgres  Connection/, Store/ (run registry, work queue with leases, tree writer), Tools/ (status, copy)
//   WADUPPipeline  Inputs/ (walker, queue, input trees), Run/ (pipeline, scheduler, workers, module runner)
//   WADUPInspect   read-only views of a run's database: report (HTML), tree, show, stats, export
//   CInterrupt     the SIGINT/SIGTERM/SIGHUP handler (the second signal exits from inside the handler)
//   WADUPCommands  argument-parser commands, testable; the only layer that knows flags and exit codes
//   wadup          @main only
let package = Package(
    name: "WADUP",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wadup", targets: ["wadup"]),
        .library(name: "WADUPPipeline", targets: ["WADUPPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        .target(name: "WADUPCore"),
        .target(name: "CWasmtime", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CInterrupt"),
        .target(
            name: "WADUPRuntime",
            dependencies: [
                "WADUPCore", "CWasmtime",
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WasmParser", package: "WasmKit"),
                .product(name: "WasmKitWASI", package: "WasmKit"),
                .product(name: "WASI", package: "WasmKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "WADUPStore",
            dependencies: [
                "WADUPCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "WADUPPostgres",
            dependencies: [
                "WADUPCore", "WADUPStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "WADUPPipeline",
            dependencies: [
                "WADUPCore", "WADUPRuntime", "WADUPStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "WADUPInspect",
            dependencies: [
                "WADUPCore", "WADUPStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "WADUPCommands",
            dependencies: [
                "WADUPPipeline", "WADUPRuntime", "WADUPInspect", "WADUPStore", "WADUPPostgres", "CInterrupt",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "wadup", dependencies: ["WADUPCommands"],
            // An installed package keeps its own libsqlite3 in lib/wadup/ (scripts/package.sh).
            linkerSettings: [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/../lib/wadup"])]),
        // Tests: one target per layer, its folder mirroring the sources, each depending on the layer
        // it tests and the shared support (SwiftPM on Linux links them all into one
        // WADUPPackageTests.xctest, so `swift test` runs every suite).
        //   WADUPTestSupport  the run harness, WAT modules, built guest modules, the process launcher,
        //                     the run dump, fixtures: a regular target, so every test target can use it
        .target(
            name: "WADUPTestSupport",
            dependencies: [
                "WADUPCore", "WADUPRuntime", "WADUPPipeline",
                .product(name: "WAT", package: "WasmKit"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/WADUPTestSupport"
        ),
        .testTarget(name: "WADUPCoreTests", dependencies: ["WADUPCore"]),
        .testTarget(
            name: "WADUPRuntimeTests",
            dependencies: [
                "WADUPRuntime", "WADUPCore", "WADUPTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .testTarget(name: "WADUPStoreTests", dependencies: ["WADUPStore", "WADUPCore"]),
        .testTarget(
            name: "WADUPPostgresTests",
            dependencies: ["WADUPPostgres", "WADUPTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "WADUPPipelineTests",
            dependencies: [
                "WADUPPipeline", "WADUPCore", "WADUPTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "WADUPInspectTests",
            dependencies: ["WADUPInspect", "WADUPTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "WADUPCommandsTests",
            dependencies: [
                "WADUPCommands", "WADUPPipeline", "WADUPCore", "WADUPTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ]
)
