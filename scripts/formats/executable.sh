#!/usr/bin/env bash
# executable (Guests/Formats/executable/): PE, ELF and Mach-O. No library: one C file over
# wasi-libc (its reader follows pefile's rules itself), so there are no pins, nothing to fetch and
# no library cache; the module is relinked only when its sources change.
set -euo pipefail
source "$(dirname "$0")/common.sh"

sources="Guests/Formats/executable/executable.c"
if module_current executable none $sources Guests/Formats/executable/ordlookup.h Guests/C/wadup.h Guests/Formats/common/*.h; then
  cp "$fmt/executable.wasm" "$out/"; echo "formats: executable.wasm up to date"; exit 0
fi
$CC $MODULE_LINK -Wall -o "$fmt/executable.wasm" $sources
module_done executable
