#!/usr/bin/env bash
# Builds every guest module: the standard modules and the Swift example (Embedded Swift), the C
# example (clang + wasm-ld) and the Rust example (Debian's rustc/cargo, wasm32-unknown-unknown).
# Outputs:
#   .build/guest-modules/standard/  byte_counter, zip_parser, sqlite_parser, archive, file_type (also copied to
#                                   modules/ beside each built wadup binary: its default --modules)
#   .build/guest-modules/examples/  swift_example, sdk_probe (tests the SDK), inflate_probe (times the decoder), c_line_counter, rust_byte_counter, rust_wasi_probe (WASI)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/guest-modules
mkdir -p "$out/standard" "$out/examples"

swift build --package-path Guests --triple wasm32-unknown-none-wasm -c release
bin=Guests/.build/wasm32-unknown-none-wasm/release
for m in byte_counter zip_parser sqlite_parser; do cp "$bin/$m.wasm" "$out/standard/"; done
cp "$bin/swift_example.wasm" "$bin/sdk_probe.wasm" "$bin/inflate_probe.wasm" "$out/examples/"

clang --target=wasm32-unknown-unknown -O2 -nostdlib -I Guests/C -Wl,--no-entry \
  -o "$out/examples/c_line_counter.wasm" Guests/Examples/c_line_counter/c_line_counter.c

if [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/wasm32-unknown-unknown ] && [ -d /usr/lib/rustlib/wasm32-wasi ]; then
  RUSTC=/usr/bin/rustc /usr/bin/cargo build --offline --release --target wasm32-unknown-unknown \
    --manifest-path Guests/Examples/rust_byte_counter/Cargo.toml --target-dir Guests/.build/rust
  cp Guests/.build/rust/wasm32-unknown-unknown/release/rust_byte_counter.wasm "$out/examples/"
  RUSTC=/usr/bin/rustc /usr/bin/cargo build --offline --release --target wasm32-wasi \
    --manifest-path Guests/Examples/rust_wasi_probe/Cargo.toml --target-dir Guests/.build/rust
  cp Guests/.build/rust/wasm32-wasi/release/rust_wasi_probe.wasm "$out/examples/"
else
  echo "build-guests: Debian's rustc/cargo/libstd-rust-dev-wasm32 missing (scripts/setup.sh installs them); skipping the Rust example" >&2
fi

# The format modules (archive, file_type) from pinned Debian sources; cached after the first build.
bash scripts/build-formats.sh

# The standard set is what `wadup` runs when --modules is not given.
for config in debug release; do
  if [ -d ".build/$config" ]; then
    mkdir -p ".build/$config/modules"
    cp "$out"/standard/*.wasm ".build/$config/modules/"
  fi
done
echo "guest modules in $out"
