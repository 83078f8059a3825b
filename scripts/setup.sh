#!/usr/bin/env bash
# Sets up a fresh clone: Debian's tools, the release build of `wadup`, and every guest module
# (the standard set lands beside the binary, where `wadup` finds it without --modules).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
bash scripts/install-wasmtime.sh
bash scripts/build-guests.sh
echo "ready: .build/release/wadup (standard modules in .build/release/modules)"
