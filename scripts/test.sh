#!/usr/bin/env bash
# Runs every test: builds the package (the Ctrl-C test runs the real binary), then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test
