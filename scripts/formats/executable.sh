#!/usr/bin/env bash
# executable (Guests/Formats/executable/): PE, ELF and Mach-O. No library: one C file over
# wasi-libc (its reader follows pefile's rules itself), so there is nothing to fetch or cache.
set -euo pipefail
source "$(dirname "$0")/common.sh"
$CC -O2 -Wall -Wno-c23-extensions -mexec-model=reactor -Wl,--export=process -Wl,--strip-all -I "$root/Guests/C" \
  -o "$out/executable.wasm" "$root/Guests/Formats/executable/executable.c"
