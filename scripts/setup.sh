#!/usr/bin/env bash
# Sets up a fresh clone: the Debian tools the project uses, then the release build of `wadup`.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v wat2wasm >/dev/null || need+=(wabt)
command -v sqlite3 >/dev/null || need+=(sqlite3)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
swift build -c release
echo "built .build/release/wadup"
