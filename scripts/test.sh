#!/usr/bin/env bash
# Runs every test: installs what is missing, builds `wadup` (the Ctrl-C and default-modules tests
# run the real binary) and every guest module (the integration tests run them), then the Swift
# Testing suite. Release mode: the WasmKit interpreter is ~100x slower unoptimised. Then the short
# fuzz run of the host's decoders (scripts/fuzz.sh, 20 s) and 2,000 mutants of real archives and
# databases through the standard modules (scripts/mutants.py; docs/performance.md reports a 10,000 run).
# Last, the release package: built (scripts/package.sh) and run without the Swift toolchain
# (scripts/test-package.sh). The PostgreSQL tests run against a private server started here on
# loopback (scripts/pg-test-server.sh) and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
# What a fresh clone needs: Debian's tools, the release build, wasmtime and every guest module.
bash scripts/setup.sh
bash scripts/pg-test-server.sh start
trap 'bash scripts/pg-test-server.sh stop' EXIT
swift test -c release
bash scripts/fuzz.sh --seconds 20
python3 scripts/mutants.py --count 2000
bash scripts/package.sh
bash scripts/test-package.sh
