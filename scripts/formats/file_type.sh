#!/usr/bin/env bash
# file_type.wasm: libmagic (file) with its compiled database built in, on GNU regex (sed's gnulib),
# from pinned Debian sources compiled to wasm32-wasi (scripts/formats/common.sh: fetching, checks,
# the cache outside the clone). Also .build/formats/magic.mgc and .build/formats/bin/file: the
# native `file` of the same source, unpatched, for the tests.
# The module's libmagic is that source with Guests/Formats/file_type/patches/*.patch applied.
# WADUP_KEEP_SYMBOLS=1 links the module without --strip-all, so that a profiler (perf with
# WADUP_WASMTIME_PROFILER=perfmap) names its functions.
set -euo pipefail
source "$(dirname "$0")/common.sh"

# package  version  sha256 of the .dsc
pins="
file       1:5.44-3               842e0ef356949218966d1521a95652b00aed18c152174ffc7e000cc3d79501e4
sed        4.9-1+deb12u1          6bf366b84fd2025e355689e524132b3c38a2b4ef136de2e6129595be1e3bdd4f
"
regenerate="file"
fetch_sources "$pins"
file=$src/file-5.44; sed=$src/sed-4.9
magic_patches=$(ls "$root"/Guests/Formats/file_type/patches/*.patch | LC_ALL=C sort)
# libmagic and GNU regex are file_type's hot code: -O3 and link-time optimisation with the module
# (bitcode archives, so made with the toolchain's own llvm-ar) save about 5% of its time.
MAGIC_CFLAGS="-O3 -flto -g0 -w"

build_libs() {
  echo "formats: the native file and its database"
  mkdir -p "$obj/file-native" "$prefix/bin" "$prefix/share" && cd "$obj/file-native"
  "$file/configure" -q --disable-shared --disable-libseccomp CFLAGS="-O2 -w" >/dev/null && make -s -j"$jobs" >/dev/null
  cp src/file "$prefix/bin/file"; cp magic/magic.mgc "$prefix/share/magic.mgc"

  # libmagic's regular expressions on GNU regex (gnulib's copy in sed, the same code as glibc's),
  # not wasi-libc's musl regex: Debian's `file` runs them on glibc, so the answers stay the same,
  # and musl's regexec was half of file_type's time.
  echo "formats: GNU regex (sed's gnulib)"
  mkdir -p "$obj/sed" && cd "$obj/sed"
  "$sed/configure" -q --host=wasm32-unknown-wasi CC="$CC" CFLAGS="$CFLAGS" \
    CPPFLAGS="-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS" --disable-nls --disable-acl --without-selinux >/dev/null 2>&1
  # regex.c and the gnulib replacements it calls (the linker takes from the archive only what is used).
  local regex_objects
  regex_objects=$(for o in regex mbrtowc nl_langinfo nl_langinfo-lock hard-locale setlocale_null setlocale-lock malloc realloc \
    calloc free btowc mbsinit wcrtomb mbtowc-lock; do echo lib/libsed_a-$o.o; done; echo lib/malloc/libsed_a-dynarray_resize.o)
  # gnulib's generated headers (locale.h, wchar.h, …) first: `make all` would make them, but also sed.
  local built
  built=$(printf 'print-built:\n\t@echo $(BUILT_SOURCES)\n' | make -s -f Makefile -f - print-built | tr ' ' '\n' | grep '^lib/' || true)
  make -s $built >/dev/null
  make -s $regex_objects CFLAGS="$MAGIC_CFLAGS" >/dev/null
  "$LTO_AR" rcs "$prefix/lib/libgnuregex.a" $regex_objects
  # The generated headers regex.h includes stay with the library.
  mkdir -p "$prefix/include/gnuregex"
  { echo "/* gnulib's regex.h with the names and layout sed's configure chose for regex.c */"
    grep -E "^#define (_REGEX_[A-Z_]+|re_[a-z_]+ rpl_|reg[a-z]+ rpl_)" config.h
    echo "#include \"$sed/lib/regex.h\""; } > "$prefix/include/gnuregex/regex.h"

  # The module's libmagic: the same source with WADUP's patches (magic_share_scans: both answers
  # from one scan of the soft magic), in a copy, so that the native `file` above stays Debian's.
  cp -a "$file" "$obj/file-patched"
  for p in $magic_patches; do patch -s -p1 -d "$obj/file-patched" < "$p"; done
  mkdir -p "$obj/file" && cd "$obj/file"
  "$obj/file-patched/configure" -q --host=wasm32-unknown-wasi CC="$CC" CFLAGS="$CFLAGS" --disable-shared --enable-static \
    --disable-libseccomp --disable-zlib --disable-bzlib --disable-xzlib --disable-zstdlib --disable-lzlib >/dev/null
  # libmagic reads a content through a descriptor (magic_descriptor): its reads of the start, the
  # tail (negative offsets), ELF sections and OLE2 sectors. In the module that descriptor is the
  # content itself, read with read_content64 (content_io.h), so the answer is `file`'s at any size.
  make -s -C src magic.h >/dev/null
  make -s -j"$jobs" -C src libmagic.la CFLAGS="$MAGIC_CFLAGS" \
    CPPFLAGS="-I$prefix/include/gnuregex -include $root/Guests/Formats/file_type/content_io.h" >/dev/null
  mkdir -p "$obj/magic" && (cd "$obj/magic" && "$LTO_AR" x "$obj/file/src/.libs/libmagic.a")
  "$LTO_AR" rcs "$prefix/lib/libmagic.a" "$obj/magic"/*.o; cp src/magic.h "$prefix/include/"
}
prefix=$(cached_prefix file_type "$pins" build_libs "$root/Guests/Formats/file_type/content_io.h" $magic_patches)
cp "$prefix/bin/file" "$fmt/bin/file"; cp "$prefix/share/magic.mgc" "$fmt/magic.mgc"

sources="Guests/Formats/file_type/file_type.c Guests/Formats/file_type/single_thread.c"
if module_current file_type "$prefix" $sources Guests/C/wadup.h Guests/Formats/common/*.h; then
  cp "$fmt/file_type.wasm" "$out/"; echo "formats: file_type.wasm up to date"; exit 0
fi
$CC $MODULE_LINK -O3 -flto -I "$prefix/include" -L "$prefix/lib" -o "$fmt/file_type.wasm" \
  -DWADUP_MAGIC_DB="\"$prefix/share/magic.mgc\"" $sources -lmagic -lgnuregex
module_done file_type
