#!/usr/bin/env bash
# Runs every test: installs what is missing, builds `wadup` (the Ctrl-C and default-modules tests
# run the real binary) and every guest module (the integration tests run them), then the Swift
# Testing suite. Release mode: the WasmKit interpreter is ~100x slower unoptimised.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
bash scripts/install-wasmtime.sh
bash scripts/build-guests.sh
swift test -c release
