/// The files `wadup new` writes: the smallest useful module in each language (a table, one row per
/// content: the first 8 bytes in hex and the size), a `build.sh` and a README.
///
/// `@NAME@` is the module's name and `@SDK@` the SDK folder found at creation (the build scripts
/// let `WADUP_SDK` override it).
enum ModuleTemplates {
    enum Language: String, CaseIterable {
        case swift, c, rust, python

        /// The module file a build leaves in the folder.
        var moduleFile: String { self == .python ? "@NAME@.py" : "@NAME@.wasm" }
    }

    static func files(for language: Language) -> [(path: String, text: String, executable: Bool)] {
        switch language {
        case .c: [("@NAME@.c", cSource, false), ("build.sh", cBuild, true), ("README.md", readme(language), false)]
        case .rust: [("Cargo.toml", rustManifest, false), ("src/lib.rs", rustSource, false), ("build.sh", rustBuild, true), ("README.md", readme(language), false)]
        case .swift: [("Package.swift", swiftManifest, false), ("Sources/@NAME@/@NAME@.swift", swiftSource, false),
                      ("Sources/@NAME@_manifest/manifest.c", swiftManifestSource, false), ("build.sh", swiftBuild, true), ("README.md", readme(language), false)]
        case .python: [("@NAME@.py", pythonSource, false), ("requirements.txt", pythonRequirements, false), ("build.sh", pythonBuild, true),
                       ("README.md", readme(language), false)]
        }
    }

    static let buildPreamble = """
        #!/usr/bin/env bash
        # Builds @NAME@.wasm in this folder. WADUP_SDK overrides where the WADUP SDK is.
        set -euo pipefail
        cd "$(dirname "$0")"
        SDK="${WADUP_SDK:-@SDK@}"
        [ -f "$SDK/C/wadup.h" ] || { echo "build.sh: no WADUP SDK at $SDK (set WADUP_SDK to the sdk folder of a WADUP installation, or to Guests/ of a checkout)" >&2; exit 1; }

        """

    static let cSource = #"""
        /* @NAME@: a WADUP module in C with nothing but wadup.h.
         * Table @NAME@(magic TEXT, size INTEGER): the first 8 bytes of every content in hex, and its size. */
        #include "wadup.h"

        /* What this module accepts (docs/modules/ABI.md, Manifest): every content. A module for PDFs
         * would say {\"accepts\": {\"mime\": [\"application/pdf\"], \"magic\": [{\"offset\": 0, \"hex\": \"25504446\"}]}}. */
        WADUP_MANIFEST("{\"version\": 1, \"role\": \"analyze\"}");

        static int32_t table = -1;

        static uint32_t length(const char *s) {
            uint32_t n = 0;
            while (s[n]) n++;
            return n;
        }

        __attribute__((export_name("process"))) int32_t process(void) {
            static const char name[] = "@NAME@";
            static const char columns[] = "[{\"name\":\"magic\",\"data_type\":\"String\"},{\"name\":\"size\",\"data_type\":\"Int64\"}]";
            if (table < 0) {
                table = define_table(name, length(name), columns, length(columns));
                if (table < 0) return table;
            }
            uint64_t size = (uint64_t)get_content_size64();
            unsigned char head[8];
            uint32_t n = size < 8 ? (uint32_t)size : 8;
            if (n > 0) {
                int32_t rc = read_content(0, n, head);
                if (rc < 0) return rc;
            }
            /* The row is a JSON array of tagged values, in column order: [{"String":"..."},{"Int64":N}]. */
            char row[64];
            uint32_t p = 0;
            const char *hex = "0123456789abcdef", *a = "[{\"String\":\"", *b = "\"},{\"Int64\":", *c = "}]";
            for (uint32_t i = 0; a[i]; i++) row[p++] = a[i];
            for (uint32_t i = 0; i < n; i++) {
                row[p++] = hex[head[i] >> 4];
                row[p++] = hex[head[i] & 15];
            }
            for (uint32_t i = 0; b[i]; i++) row[p++] = b[i];
            char digits[20];
            uint32_t d = 0;
            do { digits[d++] = (char)('0' + size % 10); size /= 10; } while (size);
            while (d) row[p++] = digits[--d];
            for (uint32_t i = 0; c[i]; i++) row[p++] = c[i];
            int32_t rc = insert_row(table, row, p);
            return rc < 0 ? rc : 0;
        }

        """#

    static let cBuild = buildPreamble + """
        CC="${CC:-}"
        if [ -z "$CC" ]; then
          for candidate in clang clang-19 clang-16 clang-14; do
            if command -v "$candidate" >/dev/null && "$candidate" --print-targets 2>/dev/null | grep -q wasm32; then CC=$candidate; break; fi
          done
        fi
        [ -n "$CC" ] || { echo "build.sh: needs clang with the wasm32 target and wasm-ld: the Swift toolchain's clang, or Debian's (apt-get install clang lld)" >&2; exit 1; }
        "$CC" --target=wasm32-unknown-unknown -O2 -nostdlib -I "$SDK/C" -Wl,--no-entry -Wl,--export=process -o @NAME@.wasm @NAME@.c \\
          || { echo "build.sh: the link needs wasm-ld (apt-get install lld, or use the Swift toolchain's clang)" >&2; exit 1; }
        echo "built @NAME@.wasm; try it: wadup try @NAME@.wasm FILE..."

        """

    static let rustManifest = """
        [package]
        name = "@NAME@"
        version = "0.1.0"
        edition = "2021"

        [lib]
        crate-type = ["cdylib"]
        path = "src/lib.rs"

        [dependencies]
        wadup-guest = { path = "@SDK@/Rust/wadup-guest" }

        [profile.release]
        opt-level = "s"
        lto = true

        """

    static let rustSource = """
        //! @NAME@: table `@NAME@(magic TEXT, size INTEGER)`: the first 8 bytes of every content in hex, and its size.
        use wadup_guest::*;

        // What this module accepts (docs/modules/ABI.md, Manifest): every content. A module for PDFs
        // would say r#"{"accepts": {"mime": ["application/pdf"], "magic": [{"offset": 0, "hex": "25504446"}]}}"#.
        wadup_guest::manifest!(r#"{"version": 1, "role": "analyze"}"#);

        #[no_mangle]
        pub extern "C" fn process() -> i32 {
            run(|| {
                let table = TableBuilder::new("@NAME@")
                    .column("magic", DataType::String)
                    .column("size", DataType::Int64)
                    .define()?;
                let size = Content::size();
                let head = Content::read(0, size.min(8) as usize)?;
                let magic: String = head.iter().map(|b| format!("{:02x}", b)).collect();
                table.insert().value("magic", magic.as_str()).value("size", size as i64).execute()
            })
        }

        """

    static let rustBuild = buildPreamble + """
        CARGO="${CARGO:-$(command -v cargo || true)}"
        [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] && CARGO=/usr/bin/cargo && export RUSTC=/usr/bin/rustc
        [ -n "$CARGO" ] || { echo "build.sh: needs cargo and rustc with the wasm32 standard library: apt-get install cargo rustc libstd-rust-dev-wasm32 (or rustup target add wasm32-unknown-unknown)" >&2; exit 1; }
        "$CARGO" build --offline --release --target wasm32-unknown-unknown \\
          || { echo "build.sh: if the wasm32 standard library is missing: apt-get install libstd-rust-dev-wasm32 (or rustup target add wasm32-unknown-unknown)" >&2; exit 1; }
        cp target/wasm32-unknown-unknown/release/@NAME@.wasm @NAME@.wasm
        echo "built @NAME@.wasm; try it: wadup try @NAME@.wasm FILE..."

        """

    static let swiftManifest = """
        // swift-tools-version:6.2
        import Foundation
        import PackageDescription

        // @NAME@: a WADUP module in Embedded Swift. Build with ./build.sh.
        let sdk = Context.environment["WADUP_SDK"] ?? "@SDK@"

        let package = Package(
            name: "@NAME@",
            dependencies: [.package(path: sdk)],
            targets: [
                // The manifest: a C file, since Swift cannot write a custom section.
                .target(
                    name: "@NAME@_manifest",
                    dependencies: [.product(name: "WADUPGuest", package: URL(fileURLWithPath: sdk).lastPathComponent)],
                    path: "Sources/@NAME@_manifest", publicHeadersPath: "."),
                .executableTarget(
                    name: "@NAME@",
                    dependencies: [.product(name: "WADUPGuest", package: URL(fileURLWithPath: sdk).lastPathComponent), "@NAME@_manifest"],
                    swiftSettings: [
                        .enableExperimentalFeature("Embedded"),
                        .enableExperimentalFeature("Extern"),
                        // A module is a reactor with no top-level code.
                        .unsafeFlags(["-wmo", "-enforce-exclusivity=unchecked", "-parse-as-library"]),
                    ],
                    linkerSettings: [.unsafeFlags(["-Xclang-linker", "-nostdlib", "-Xlinker", "--no-entry"])])
            ]
        )

        """

    static let swiftSource = """
        import WADUPGuest

        /// @NAME@(magic TEXT, size INTEGER): the first 8 bytes of every content in hex, and its size.
        @_expose(wasm, "process") @_cdecl("process")
        package func process() -> Int32 {
            run { () throws(GuestError) in
                let table = try TableBuilder("@NAME@").column("magic", .string).column("size", .int64).define()
                let head = try Content.read(offset: 0, count: min(8, Content.size))
                let digits = Array("0123456789abcdef".utf8)
                let hex = head.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }
                try table.row().set("magic", .string(String(decoding: hex, as: UTF8.self))).set("size", .int64(Int64(Content.size))).insert()
            }
        }

        """

    static let swiftManifestSource = #"""
        /* @NAME@'s manifest (docs/modules/ABI.md, Manifest): every content. A module for PDFs would say
         * {\"accepts\": {\"mime\": [\"application/pdf\"], \"magic\": [{\"offset\": 0, \"hex\": \"25504446\"}]}}. */
        #include "wadup.h"

        WADUP_MANIFEST("{\"version\": 1, \"role\": \"analyze\"}");

        """#

    static let swiftBuild = buildPreamble + """
        command -v swift >/dev/null || { echo "build.sh: needs a Swift toolchain with Embedded Swift for wasm32 (swift.org, 6.2 or later)" >&2; exit 1; }
        swift build --triple wasm32-unknown-none-wasm -c release
        cp .build/wasm32-unknown-none-wasm/release/@NAME@.wasm @NAME@.wasm
        echo "built @NAME@.wasm; try it: wadup try @NAME@.wasm FILE..."

        """

    static let pythonSource = #"""
        """@NAME@: a WADUP module in Python (docs/modules/python.md has the whole API).

        Table @NAME@(magic TEXT, size INTEGER): the first 8 bytes of every content in hex, and its size.
        """
        import wadup

        # What this module accepts (docs/modules/ABI.md, Manifest); without ACCEPTS, every content.
        # A module for PDFs would say:
        # ACCEPTS = {"mime": ["application/pdf"], "magic": [{"offset": 0, "hex": "25504446"}]}

        table = wadup.table("@NAME@", {"magic": str, "size": int})


        def process(content):
            """Called once per content; an exception is a recorded failure of this content only."""
            table.insert((content[0:8].hex(), content.size))

        """#

    static let pythonRequirements = """
        # Pure-Python packages this module imports, one per line (pip's format), e.g. pefile or olefile.
        # ./build.sh vendors them into @NAME@.d/site-packages; a package that needs a compiled
        # extension is refused (WADUP's Python runs inside the sandbox, without native code).

        """

    static let pythonBuild = #"""
        #!/usr/bin/env bash
        # Vendors requirements.txt's packages into @NAME@.d/site-packages (pure-Python wheels only:
        # pip download --only-binary=:all: --platform any), where @NAME@.py imports them from.
        # PYTHON overrides the python3 that runs pip.
        set -euo pipefail
        cd "$(dirname "$0")"
        py=${PYTHON:-python3}
        site=@NAME@.d/site-packages
        rm -rf "$site" .wheels
        mkdir -p "$site" .wheels
        if grep -qvE '^[[:space:]]*(#|$)' requirements.txt; then
          if ! "$py" -m pip download --quiet --disable-pip-version-check --only-binary=:all: --platform any --implementation py                --python-version 3.11 --abi none -d .wheels -r requirements.txt 2> .pip-errors; then
            package=$(grep -oE 'for [A-Za-z0-9_.-]+' .pip-errors | head -1 | cut -d' ' -f2 || true)
            echo "build.sh: ${package:-a requirement} has no pure-Python wheel (py3-none-any): it needs a compiled extension, which a WADUP Python module cannot load; pip said:" >&2
            cat .pip-errors >&2
            rm -rf .wheels .pip-errors
            exit 1
          fi
          for wheel in .wheels/*.whl; do "$py" -m zipfile -e "$wheel" "$site"; done
          # Bytecode, when this python3 is a 3.11 (WADUP's interpreter reads its __pycache__): each
          # interpreter start then loads instead of compiling (pefile: 120 ms to 74 ms).
          if "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then "$py" -m compileall -q "$site" >/dev/null; fi
        fi
        rm -rf .wheels .pip-errors
        echo "vendored $(ls "$site" | grep -c '\.dist-info$' || true) packages into $site; try it: wadup try @NAME@.py FILE..."

        """#

    static func readme(_ language: Language) -> String {
        let source = switch language {
        case .c: "`@NAME@.c` (C with nothing but `wadup.h`)"
        case .rust: "`src/lib.rs` (Rust, with the `wadup-guest` crate)"
        case .swift: "`Sources/@NAME@/@NAME@.swift` (Embedded Swift, with `WADUPGuest`)"
        case .python: "`@NAME@.py` (Python 3.11, with the `wadup` module; `wadup.pyi` beside it describes it to editors)"
        }
        let steps = language == .python
            ? """
                ./build.sh                                   # vendors requirements.txt's pure-Python packages into @NAME@.d/site-packages
                wadup check @NAME@.py                        # the interpreter starts, imports the module, finds process()
                wadup try @NAME@.py some/file                # its rows, sub-contents and log on one file, no database
                mkdir -p modules && cp -R @NAME@.py @NAME@.d modules/
                """
            : """
                ./build.sh                                   # builds @NAME@.wasm here
                wadup check @NAME@.wasm                      # the module against the ABI, without running it
                wadup try @NAME@.wasm some/file              # its rows, sub-contents and log on one file, no database
                mkdir -p modules && cp @NAME@.wasm modules/
                """
        return """
            # @NAME@

            A WADUP module made by `wadup new`. Its source is \(source); it defines the table
            `@NAME@(magic TEXT, size INTEGER)` and writes one row per content: the first 8 bytes in hex
            and the size.

            ```bash
            \(steps)
            wadup --modules modules --input some/folder --output out.db
            sqlite3 out.db 'SELECT c.filename, t.magic, t.size FROM "@NAME@" t JOIN __wadup_content c ON c.uuid = t.content_uuid'
            ```

            Tables the standard modules already write (choose another name for yours; join with them
            on `content_uuid`):

            \(StandardTables.markdown)

            The SDK is at `@SDK@` (set `WADUP_SDK` to use another). The ABI: `@SDK@/../docs/modules/ABI.md` (in a
            checkout and in the package); the SDK's guide: `@SDK@/README.md`.

            """
    }
}
