#!/usr/bin/env bash
# indicators.wasm: URLs, e-mail addresses, IP addresses, domains and registry keys in the strings
# GNU `strings -a -n 6` (and -el) finds (docs/modules/indicators.md). No library: the module is
# one C file on wasi-libc, compiled and linked by the framework's toolchain, rebuilt only when its
# source, the headers or the link flags change.
set -euo pipefail
source "$(dirname "$0")/common.sh"

sources="Guests/Formats/indicators/indicators.c"
if module_current indicators none $sources Guests/C/wadup.h Guests/Formats/common/*.h; then
  cp "$fmt/indicators.wasm" "$out/"; echo "formats: indicators.wasm up to date"; exit 0
fi
$CC $MODULE_LINK -O3 -o "$fmt/indicators.wasm" $sources
module_done indicators
