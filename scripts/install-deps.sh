#!/usr/bin/env bash
# Installs the Debian packages the project uses when they are missing: wabt (wat2wasm, for the
# benchmark), sqlite3 and Info-ZIP zip (test archives), Debian's Rust with its wasm32 standard
# library (the Rust guest crate and example).
set -euo pipefail
need=()
command -v wat2wasm >/dev/null || need+=(wabt)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v zip >/dev/null || need+=(zip)
[ -x /usr/bin/cargo ] || need+=(cargo)
[ -x /usr/bin/rustc ] || need+=(rustc)
[ -d /usr/lib/rustlib/wasm32-unknown-unknown ] || need+=(libstd-rust-dev-wasm32)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
