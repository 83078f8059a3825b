#!/usr/bin/env bash
# Installs wasmtime's C API library (the default engine) into .build/wasmtime/libwasmtime.so and
# beside every built wadup binary (.build/{debug,release}/lib/), where wadup looks for it.
# The library comes from PyPI's `wasmtime` wheel, pinned by version and sha256; nothing is built.
set -euo pipefail
cd "$(dirname "$0")/.."
version=50.0.1
case "$(uname -m)" in
  x86_64) wheel="wasmtime-$version-py3-none-manylinux1_x86_64.whl"; sha=cc14c3a17654e0394e0225b11813532ef0cd7bd1e222a0c5494cdedaabeddac4; dir=linux-x86_64 ;;
  *) echo "install-wasmtime: no pinned wheel for $(uname -m); wadup will run on WasmKit" >&2; exit 0 ;;
esac
out=.build/wasmtime
lib="$out/libwasmtime.so"
if [ ! -f "$lib" ] || [ "$(cat "$lib.version" 2>/dev/null)" != "$version" ]; then
  mkdir -p "$out/wheel"
  if [ ! -f "$out/wheel/$wheel" ]; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux1_x86_64 \
      -d "$out/wheel" "wasmtime==$version"
  fi
  echo "$sha  $out/wheel/$wheel" | sha256sum -c --quiet - || { echo "install-wasmtime: $wheel does not match its pinned sha256" >&2; rm -f "$out/wheel/$wheel"; exit 1; }
  python3 - "$out/wheel/$wheel" "wasmtime/$dir/_libwasmtime.so" "$lib.tmp" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  mv "$lib.tmp" "$lib"
  echo "$version" > "$lib.version"
fi
for config in debug release; do
  if [ -d ".build/$config" ]; then
    mkdir -p ".build/$config/lib"
    cp "$lib" "$lib.version" ".build/$config/lib/"
  fi
done
echo "wasmtime $version in $lib"
