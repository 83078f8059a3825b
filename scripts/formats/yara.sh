#!/usr/bin/env bash
# yara.wasm: libyara 4.2.3 with its pe, elf, math, hash, time, console, dotnet, macho and dex
# modules, and Debian's libmd for the digests (hash module, pe.imphash), compiled to wasm32-wasi
# (scripts/formats/common.sh: the toolchain, pinned sources, the cache outside the clone).
set -euo pipefail
source "$(dirname "$0")/common.sh"

# package  version  sha256 of the .dsc
pins="
libmd 1.0.4-2 5e060cb277f31e67b91033e05ece00832ca8056decba873b1698a5680414a177
"
fetch_sources "$pins"
libmd=$src/libmd-1.0.4

# libyara's source. Debian's yara 4.2.3-4 (.dsc sha256 4aeb79ac2c0cf0855067466af330583be1c942ddad89dfa32f4e8c50ac72b143)
# is the version the tests compare against, but its source tarballs are not served by the package
# mirror this project builds from (404), so the same upstream release is taken from the PyPI
# sdist of yara-python 4.2.3, which carries libyara 4.2.3's source under yara/libyara; it is
# fetched with pip and checked against its pinned sha256.
yara_sha256=31f6f6f2fdca4c5ddfeed7cc6d29afad6af7dc259dde284df2d7ea5ae15ee69a
yara_dir=$src/yara-python-4.2.3
fetch_pypi_source yara-python 4.2.3 "$yara_sha256"
yara_src=$yara_dir/yara/libyara
shim=$root/Guests/Formats/yara/wasi

build_libs() {
  mkdir -p "$obj/libmd-config"; : > "$obj/libmd-config/config.h"
  lib md "-I$obj/libmd-config -I$libmd/include" "$libmd/src/md5.c" "$libmd/src/sha1.c" "$libmd/src/sha2.c"
  cp "$libmd/include/md5.h" "$libmd/include/sha1.h" "$libmd/include/sha2.h" "$prefix/include/"

  echo "formats: libyara"
  # A copy of libyara with its four void-returning free callbacks, cast to an int-returning type,
  # replaced by wrappers of the right type (wasi_callbacks.c: wasm traps on such an indirect call).
  rm -rf "$obj/libyara"; cp -r "$yara_src" "$obj/libyara"; yara=$obj/libyara
  sed -i 's/(YR_HASH_TABLE_FREE_VALUE_FUNC) yr_object_destroy/yr_wasi_object_destroy_value/' "$yara/compiler.c" "$yara/scanner.c"
  sed -i 's/(YR_HASH_TABLE_FREE_VALUE_FUNC) yr_free/yr_wasi_free_value/' "$yara/modules/hash/hash.c" "$yara/modules/pe/pe.c"
  [ "$(grep -c "yr_wasi_" "$yara/compiler.c" "$yara/scanner.c" "$yara/modules/hash/hash.c" "$yara/modules/pe/pe.c" | grep -c ':1$')" -eq 4 ] \
    || { echo "formats: libyara's free callbacks were not all rewritten" >&2; exit 1; }
  if grep -rn "_FUNC) yr_" "$yara" --include=*.c; then echo "formats: another cast callback in libyara" >&2; exit 1; fi
  # Speed, same results (the patch says why): a hash per structure member, the Aho-Corasick loop
  # eight bytes per iteration.
  patch -s -p1 -d "$yara" < "$root/Guests/Formats/yara/libyara-wasm-speed.patch"
  # No threads, signals or processes on wasm32-wasi: threading.c is replaced by single_thread.c
  # (a module instance is single-threaded), yara_wasi.h turns TLS into globals and YR_TRYCATCH's
  # signal handlers off, and the process scanner is the "none" one. Digests come through the
  # CommonCrypto route of crypto.h, mapped onto libmd (wasi/CommonCrypto/CommonDigest.h).
  local flags="-std=gnu99 -D_GNU_SOURCE -DNDEBUG=1 -D_WASI_EMULATED_MMAN -DUSE_NO_PROC -DHAVE_STDBOOL_H=1 -DHAVE_MEMMEM=1
    -DHAVE_STRLCPY=1 -DHAVE_STRLCAT=1 -DHAVE_TIMEGM=1 -DHAVE_COMMONCRYPTO_COMMONCRYPTO_H=1
    -DHASH_MODULE=1 -DDOTNET_MODULE=1 -DMACHO_MODULE=1 -DDEX_MODULE=1
    -I$shim -I$prefix/include -I$yara/include -I$yara -include $shim/yara_wasi.h -include yara/globals.h"
  lib yara "$(echo $flags)" \
    $(ls "$yara"/*.c | grep -v "/threading.c$") "$root/Guests/Formats/yara/single_thread.c" "$root/Guests/Formats/yara/wasi_callbacks.c" "$yara/proc/none.c"
  # The modules apart: libyara's hash.c (hash tables) and the hash module's hash.c share a name.
  lib yaramodules "$(echo $flags)" \
    "$yara/modules/tests/tests.c" "$yara/modules/pe/pe.c" "$yara/modules/pe/pe_utils.c" "$yara/modules/elf/elf.c" \
    "$yara/modules/math/math.c" "$yara/modules/time/time.c" "$yara/modules/console/console.c" "$yara/modules/hash/hash.c" \
    "$yara/modules/dotnet/dotnet.c" "$yara/modules/macho/macho.c" "$yara/modules/dex/dex.c"
  # `lib` compiles in parallel and archives what it got: check that every file made an object.
  [ "$(ls "$obj/yara"/*.o | wc -l)" -eq "$(( $(ls "$yara"/*.c | wc -l) + 2 ))" ] && [ "$(ls "$obj/yaramodules"/*.o | wc -l)" -eq 11 ] \
    || { echo "formats: libyara did not compile completely" >&2; exit 1; }
  cp -r "$yara/include/." "$prefix/include/"
}
prefix=$(cached_prefix yara "$pins" build_libs Guests/Formats/yara/libyara-wasm-speed.patch Guests/Formats/yara/single_thread.c Guests/Formats/yara/wasi_callbacks.c Guests/Formats/yara/wasi/pthread.h Guests/Formats/yara/wasi/setjmp.h \
  Guests/Formats/yara/wasi/yara_wasi.h Guests/Formats/yara/wasi/CommonCrypto/CommonDigest.h)

sources="Guests/Formats/yara/yara.c"
if module_current yara "$prefix" $sources Guests/C/wadup.h Guests/Formats/common/*.h; then
  cp "$fmt/yara.wasm" "$out/"; echo "formats: yara.wasm up to date"; exit 0
fi
# A 1 MiB stack: libyara's parser and regular-expression code keep sizeable frames.
$CC $MODULE_LINK -Wl,-z,stack-size=1048576 -I "$shim" -I "$prefix/include" -L "$prefix/lib" -o "$fmt/yara.wasm" $sources \
  -lyara -lyaramodules -lmd -lwasi-emulated-mman
module_done yara
