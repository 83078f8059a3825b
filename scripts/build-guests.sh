#!/usr/bin/env bash
# Builds every guest module: the standard modules, the Swift example and the Swift probes (Embedded
# Swift), the C example (clang + wasm-ld), the Rust example and the Rust probe (Debian's rustc/cargo,
# wasm32-unknown-unknown and wasm32-wasi).
# Outputs:
#   .build/guest-modules/standard/  byte_counter, zip_parser, sqlite_parser, archive, file_type, ... and the
#                                   standard Python modules (mail.py, run on the Python runtime); also copied
#                                   to modules/ beside each built wadup binary: its default --modules
#   .build/guest-modules/examples/  swift_example, c_line_counter, rust_byte_counter (Guests/Examples/)
#   .build/guest-modules/probes/    sdk_probe (tests the SDK), inflate_probe (times the decoder), rust_wasi_probe (WASI),
#                                   rust_data_probe (a module's read-only data folder at /data)
#                                   (Guests/Probes/: modules for the tests and benchmarks, not examples)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/guest-modules
mkdir -p "$out/standard" "$out/examples" "$out/probes"
# The probes were built into examples/ before they had their own folder.
rm -f "$out/examples/sdk_probe.wasm" "$out/examples/inflate_probe.wasm" "$out/examples/rust_wasi_probe.wasm"

swift build --package-path Guests --triple wasm32-unknown-none-wasm -c release
bin=Guests/.build/wasm32-unknown-none-wasm/release
for m in byte_counter zip_parser sqlite_parser; do cp "$bin/$m.wasm" "$out/standard/"; done
cp "$bin/swift_example.wasm" "$out/examples/"
cp "$bin/sdk_probe.wasm" "$bin/inflate_probe.wasm" "$out/probes/"

clang --target=wasm32-unknown-unknown -O2 -nostdlib -I Guests/C -Wl,--no-entry \
  -o "$out/examples/c_line_counter.wasm" Guests/Examples/c_line_counter/c_line_counter.c

if [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/wasm32-unknown-unknown ] && [ -d /usr/lib/rustlib/wasm32-wasi ]; then
  RUSTC=/usr/bin/rustc /usr/bin/cargo build --offline --release --target wasm32-unknown-unknown \
    --manifest-path Guests/Examples/rust_byte_counter/Cargo.toml --target-dir Guests/.build/rust
  cp Guests/.build/rust/wasm32-unknown-unknown/release/rust_byte_counter.wasm "$out/examples/"
  RUSTC=/usr/bin/rustc /usr/bin/cargo build --offline --release --target wasm32-wasi \
    --manifest-path Guests/Probes/rust_wasi_probe/Cargo.toml --target-dir Guests/.build/rust
  cp Guests/.build/rust/wasm32-wasi/release/rust_wasi_probe.wasm "$out/probes/"
  RUSTC=/usr/bin/rustc /usr/bin/cargo build --offline --release --target wasm32-wasi \
    --manifest-path Guests/Probes/rust_data_probe/Cargo.toml --target-dir Guests/.build/rust
  cp Guests/.build/rust/wasm32-wasi/release/rust_data_probe.wasm "$out/probes/"
else
  echo "build-guests: Debian's rustc/cargo/libstd-rust-dev-wasm32 missing (scripts/setup.sh installs them); skipping the Rust example and probe" >&2
fi

# The format modules (archive, file_type) from pinned Debian sources; cached after the first build.
bash scripts/build-formats.sh

# The standard Python modules: Guests/Modules/NAME/NAME.py, run on the Python runtime below
# (docs/modules/python.md); their source is the module, nothing to compile.
for f in Guests/Modules/*/*.py; do
  [ "$(basename "$(dirname "$f")")" = "$(basename "$f" .py)" ] || continue
  cp "$f" "$out/standard/"
done

# The standard Python modules' vendored pure-Python packages (Guests/Modules/NAME/requirements.txt,
# pinned by sha256; the wheels cached outside the clone) into standard/NAME.d/site-packages.
bash scripts/formats/python-packages.sh

# A standard module's read-only data folder (docs/guide/module-data.md), when it has one: kept in
# Guests/Modules/NAME.d/ or Guests/Formats/NAME/NAME.d/, placed beside NAME.wasm (none has one today).
for d in Guests/Modules/*.d Guests/Formats/*/*.d; do
  [ -d "$d" ] || continue
  rm -rf "$out/standard/$(basename "$d")"
  cp -R "$d" "$out/standard/"
done

# The standard set is what `wadup` runs when --modules is not given (with their data folders).
for config in debug release; do
  if [ -d ".build/$config" ]; then
    mkdir -p ".build/$config/modules"
    cp "$out"/standard/*.wasm ".build/$config/modules/"
    for f in "$out"/standard/*.py; do [ -f "$f" ] && cp "$f" ".build/$config/modules/"; done
    for d in "$out"/standard/*.d; do
      [ -d "$d" ] || continue
      rm -rf ".build/$config/modules/$(basename "$d")"
      cp -R "$d" ".build/$config/modules/"
    done
    # The Python runtime `.py` modules run on (scripts/formats/python.sh): python/ beside the binary.
    if [ -d "$out/python" ]; then
      rm -rf ".build/$config/python"
      cp -R "$out/python" ".build/$config/python"
    fi
  fi
done
echo "guest modules in $out"
