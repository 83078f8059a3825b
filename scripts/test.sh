#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the host (the Ctrl-C and default-modules
# tests run the real binary) and every guest module (the integration tests run them), then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build
bash scripts/build-guests.sh
swift test
