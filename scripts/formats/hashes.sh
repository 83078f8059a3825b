#!/usr/bin/env bash
# hashes.wasm: MD5 and SHA-1 (libmd), ssdeep (libfuzzy) and TLSH compiled to wasm32-wasi
# (scripts/formats/common.sh: fetching, checks, the cache outside the clone).
#
# libmd and ssdeep are pinned Debian sources. TLSH: Debian's tlsh 3.4.4+20151206 source package is
# listed by the archive but its tarballs are not served (404), so the library comes from PyPI's
# python-tlsh 3.17.0 source distribution (Trend Micro's same C++ library, pinned by its sha256 and
# fetched with pip). Built as Debian's `tlsh` is (128 buckets, 1-byte checksum, a 5-byte window),
# and asked for 3.4.4's 256-byte minimum (final's "conservative" option), it gives exactly what
# Debian's `tlsh -f` prints: the module's tests compare the two on hundreds of files.
set -euo pipefail
source "$(dirname "$0")/common.sh"

# package  version  sha256 of the .dsc
pins="
libmd      1.0.4-2                        5e060cb277f31e67b91033e05ece00832ca8056decba873b1698a5680414a177
ssdeep     2.14.1+git20180629.57fcfff-3   4089f5852fb8b6cac7c3a48464654de5c7538256b6aa371e4e1add53720620af
"
# PyPI source distribution  version  sha256 of the .tar.gz
tlsh_pin="python-tlsh 3.17.0 daeab966d63fd87a5f3d341301b22952f28d72a06a4c71936123c4bb7fa5ae5a"
fetch_sources "$pins"
libmd=$(source_dir libmd 1.0.4-2); ssdeep=$(source_dir ssdeep 2.14.1+git20180629.57fcfff-3)

read -r tlsh_name tlsh_version tlsh_sum <<< "$tlsh_pin"
fetch_pypi_source "$tlsh_name" "$tlsh_version" "$tlsh_sum"
tlsh=$src/$tlsh_name-$tlsh_version

# The digests are the module's whole work, on every content: -O3 (measured: docs/modules/hashes.md).
HASH_CFLAGS="-O3 -g0 -w"
# TLSH as Debian's CMake build configures it: 128 buckets, a 1-byte checksum (no CHECKSUM_3B).
HASH_CXXFLAGS="-DBUCKETS_128"
build_libs() {
  mkdir -p "$obj/config"; : > "$obj/config/config.h"
  CFLAGS=$HASH_CFLAGS lib md "-I$obj/config -I$libmd/include" "$libmd/src/md5.c" "$libmd/src/sha1.c"
  cp "$libmd/include/md5.h" "$libmd/include/sha1.h" "$prefix/include/"
  CFLAGS=$HASH_CFLAGS lib fuzzy "" "$ssdeep/fuzzy.c" "$ssdeep/edit_dist.c"
  cp "$ssdeep/fuzzy.h" "$ssdeep/edit_dist.h" "$prefix/include/"
  mkdir -p "$obj/tlsh"
  local f pids=()
  for f in tlsh tlsh_impl tlsh_util; do
    $CXX $HASH_CFLAGS $HASH_CXXFLAGS -I"$tlsh/include" -c "$tlsh/src/$f.cpp" -o "$obj/tlsh/$f.o" & pids+=($!)
  done
  for f in "${pids[@]}"; do wait "$f"; done
  "$AR" rcs "$prefix/lib/libtlsh.a" "$obj/tlsh"/*.o
  cp "$tlsh/include/tlsh.h" "$tlsh/include/version.h" "$prefix/include/"
}
prefix=$(cached_prefix hashes "$pins $tlsh_pin" build_libs)

sources="Guests/Formats/hashes/hashes.c Guests/Formats/hashes/tlsh_c.cpp"
if module_current hashes "$prefix" $sources Guests/Formats/hashes/tlsh_c.h Guests/C/wadup.h Guests/Formats/common/*.h; then
  cp "$fmt/hashes.wasm" "$out/"; echo "formats: hashes.wasm up to date"; exit 0
fi
mkdir -p "$fmt/hashes-obj"
$CXX -O3 -g0 $HASH_CXXFLAGS -I "$prefix/include" -c Guests/Formats/hashes/tlsh_c.cpp -o "$fmt/hashes-obj/tlsh_c.o"
$CXX $MODULE_LINK -O3 -I "$prefix/include" -L "$prefix/lib" -o "$fmt/hashes.wasm" \
  -x c Guests/Formats/hashes/hashes.c -x none "$fmt/hashes-obj/tlsh_c.o" -lfuzzy -ltlsh -lmd
module_done hashes
