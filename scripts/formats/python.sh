#!/usr/bin/env bash
# python.wasm: CPython 3.11 compiled to wasm32-wasi as a WASI reactor, the runtime of WADUP's
# Python modules (issue 24), with the standard library as python311.zip beside it
# (scripts/formats/common.sh: the toolchain, pinned sources, the cache outside the clone).
#
# Sources: Debian bookworm's python3.11 source package (3.11.2 with Debian's patches, its security
# fixes included) and the zlib, bzip2 and xz-utils sources archive.sh pins (for zlib, bz2 and
# lzma). bookworm-security's newer 3.11.2-6+deb12u9 is listed by the archive but its .dsc is not
# served (404); deb12u8 is.
#
# Two cached builds (~/.cache/wadup/build, keyed by the pins, this script, common.sh and the files
# named), so a second clone only links:
#   python-build-KEY/  the native interpreter of the same source (CPython's cross build runs it:
#                      --with-build-python), also used to compile the standard library's .pyc
#   python-KEY/        lib/libpython3.11.a (the interpreter and its C modules, compiled in
#                      statically), libmpdec, libexpat, libz, libbz2, liblzma; include/;
#                      lib/stdlib.zip
# In the clone, .build/guest-modules/python/ (VERSION: the interpreter's version):
#   python.wasm        that library linked with Guests/Python/wadup_python.c (init, process,
#                      wadup_accepts and the _wadup module over wadup.h), stripped unless
#                      WADUP_KEEP_SYMBOLS=1
#   lib/python311.zip  the standard library plus the wadup package (Guests/Python/wadup), .pyc only
#   lib/wadup.pyi      the API's type stubs, for editors
# The host preopens lib/ at /python (see Guests/Python/README.md for the whole contract).
set -euo pipefail
source "$(dirname "$0")/common.sh"

# package     version              sha256 of the .dsc
pins="
python3.11 3.11.2-6+deb12u8 197fa19ab45f41c820f40f6d9ead671c2ea29ddc53ba9424b36f1bf58458a10e
zlib       1:1.2.13.dfsg-1  3fa1e6b2fc525062aa88207dda52fed8e045373c809d362fe8a2bfbf7cf515a8
bzip2      1.0.8-5          ed9c40f4de3f9e064535e15eac1c61a0f606763db98f4579dbc04067b94a8944
xz-utils   5.4.1-1+deb12u2  bffc9917562b5787661379621bb1f7510bf7271b03d8ce4181cebc84b90d3c35
"
fetch_sources "$pins"
cpython=$(source_dir python3.11 3.11.2-6+deb12u8)
zlib=$(source_dir zlib 1:1.2.13.dfsg-1)
bzip2=$(source_dir bzip2 1.0.8-5)
xz=$(source_dir xz-utils 5.4.1-1+deb12u2)
guest=$root/Guests/Python

# Runs a noisy build step with its output in a log, shown (its end) only when the step fails.
quietly() {  # log command...
  local log=$1; shift
  "$@" >"$log" 2>&1 || { echo "formats: python: failed: $*" >&2; tail -40 "$log" >&2; return 1; }
}

# --- the native interpreter (the build Python) ---
build_native() {
  echo "formats: python: the native build interpreter"
  mkdir -p "$prefix/build" && cd "$prefix/build"
  quietly "$obj/configure.log" "$cpython/configure" --without-ensurepip --disable-test-modules
  # Everything (the shared modules too: the standard library's zip is written with binascii).
  quietly "$obj/make.log" make -j"$jobs"
  ./python -c "import binascii, sys; assert sys.version_info[:2] == (3, 11)"
  # Only ./python and what it loads (Lib in the source, build/lib.* here) are used from the cache.
  find . \( -name "*.o" -o -name "*.a" \) -delete
  rm -rf build/temp.* Programs _bootstrap_python Python/deepfreeze
}
native=$(cached_prefix python-build "$pins" build_native)/build

# --- CPython for wasm32-wasi ---
# The C modules of Modules/Setup.stdlib are compiled in (configure makes them static on wasm32);
# those that cannot work in the sandbox or need libraries not built here are switched off with
# configure's py_cv_module_NAME=n/a. _socket and select stay: `email` and `mailbox` import
# socket (getfqdn) and socket imports selectors; WASI gives a module no socket to use (creating
# or connecting one fails), and subprocess imports but cannot start anything (fork/exec fail).
disabled="_ssl _hashlib _ctypes _sqlite3 _uuid _crypt _curses _curses_panel _dbm _gdbm
  _tkinter readline audioop _asyncio xxlimited xxlimited_35 _testcapi _testinternalcapi _testbuffer
  _testimportmultiple _testmultiphase _xxtestfuzz _ctypes_test"
build_wasm() {
  echo "formats: python: zlib"
  lib z "-DHAVE_UNISTD_H" $(for f in adler32 crc32 deflate infback inffast inflate inftrees trees zutil compress uncompr gzclose gzlib gzread gzwrite; do echo "$zlib/$f.c"; done)
  cp "$zlib/zlib.h" "$zlib/zconf.h" "$prefix/include/"
  lib bz2 "" $(for f in blocksort huffman crctable randtable compress decompress bzlib; do echo "$bzip2/$f.c"; done)
  cp "$bzip2/bzlib.h" "$prefix/include/"
  echo "formats: python: liblzma"
  # As archive.sh builds it: WASI has no signals, the unused sigprocmask helper only has to compile.
  mkdir -p "$obj/xz" && cd "$obj/xz"
  printf '%s\n' "#include <__typedef_sigset_t.h>" \
    "static inline int sigprocmask(int how, const sigset_t *set, sigset_t *old) { (void)how; (void)set; (void)old; return 0; }" \
    > "$obj/xz/wasi-sigmask.h"
  quietly "$obj/xz-configure.log" "$xz/configure" --host=wasm32-unknown-wasi CC="$CC" CFLAGS="$CFLAGS" \
    CPPFLAGS="-D_WASI_EMULATED_SIGNAL -include $obj/xz/wasi-sigmask.h" --prefix="$prefix" \
    --disable-threads --disable-shared --enable-static --disable-xz --disable-xzdec --disable-lzmadec \
    --disable-lzmainfo --disable-lzma-links --disable-scripts --disable-doc --disable-nls
  quietly "$obj/xz-make.log" make -j"$jobs" -C src/liblzma
  quietly "$obj/xz-install.log" make -C src/liblzma install

  echo "formats: python: CPython for wasm32-wasi"
  mkdir -p "$obj/wasm" "$obj/no-pkg-config" && cd "$obj/wasm"
  local na=() m
  for m in $disabled; do na+=("py_cv_module_$m=n/a"); done
  # pymalloc (off by default on WASI; its arenas then come from malloc): pefile runs ~5% faster.
  # -O3 and link-time optimisation across the interpreter (bitcode archives, linked by the
  # toolchain's llvm-ar/wasm-ld): pefile's module time 9% lower (2.03-2.12 s against 2.21-2.40 s).
  # configure finds the float word order by grepping an object file, which LTO makes bitcode: preset.
  # Debian's wasi-libc declares clockid_t as a pointer: time's CLOCK_* constants convert it to an
  # int (a warning in the compilers CPython 3.11 knew, an error in today's clang).
  CONFIG_SITE=$cpython/Tools/wasm/config.site-wasm32-wasi PKG_CONFIG_LIBDIR=$obj/no-pkg-config PKG_CONFIG_PATH= \
    quietly "$obj/configure-wasm.log" "$cpython/configure" --host=wasm32-unknown-wasi --build="$("$cpython/config.guess")" \
    --with-build-python="$native/python" --disable-ipv6 --disable-test-modules --without-ensurepip --with-pymalloc \
    CC="$CC" AR="$LTO_AR" RANLIB="$(dirname "$LTO_AR")/llvm-ranlib" READELF=true ax_cv_c_float_words_bigendian=no \
    CFLAGS="-O3 -flto -g0 -Wno-int-conversion -Wno-incompatible-function-pointer-types" \
    ZLIB_CFLAGS="-I$prefix/include" ZLIB_LIBS="-L$prefix/lib -lz" BZIP2_CFLAGS="-I$prefix/include" BZIP2_LIBS="-L$prefix/lib -lbz2" \
    LIBLZMA_CFLAGS="-I$prefix/include" LIBLZMA_LIBS="-L$prefix/lib -llzma" "${na[@]}"
  for m in ZLIB BINASCII _STRUCT _JSON _CSV _DATETIME MATH ARRAY UNICODEDATA PYEXPAT _MD5 _SHA1 _SHA256 _SHA512 _SHA3 _BLAKE2 \
           _BISECT _HEAPQ _RANDOM _IO _ELEMENTTREE _DECIMAL _PICKLE _SOCKET SELECT _BZ2 _LZMA; do
    grep -q "^MODULE_${m}_STATE=yes" Makefile || { echo "formats: python: module $m is not built (configure says $(grep "^MODULE_${m}_STATE=" Makefile))" >&2; exit 1; }
  done
  # mmap, which configure leaves out on WASI: pefile and others import it. wasi-libc's emulated
  # mmap reads the file into memory (a read-only or private map works; a shared writable one
  # fails); Guests/Python/wasi/sys/mman.h supplies the msync Debian's wasi-libc lacks.
  printf '%s\n' '*static*' "mmap mmapmodule.c -D_WASI_EMULATED_MMAN -I$guest/wasi -lwasi-emulated-mman" > Modules/Setup.local
  quietly "$obj/make-wasm.log" make -j"$jobs" all
  "$LTO_AR" t libpython3.11.a | grep -qx mmapmodule.o || { echo "formats: python: mmap was not compiled in" >&2; exit 1; }
  cp libpython3.11.a "$prefix/lib/"
  cp Modules/_decimal/libmpdec/libmpdec.a "$prefix/lib/libmpdec.a"
  cp Modules/expat/libexpat.a "$prefix/lib/libexpat.a"
  rm -f "$prefix/lib/liblzma.la"; rm -rf "$prefix/lib/pkgconfig"
  cp -r "$cpython/Include/." "$prefix/include/"
  cp pyconfig.h "$prefix/include/"

  echo "formats: python: the standard library"
  mkdir -p "$obj/sysconfig"
  cp build/lib.wasi-wasm32-3.11/_sysconfigdata__wasi_wasm32-wasi.py "$obj/sysconfig/"
  "$native/python" -S "$guest/stdlib_zip.py" "$prefix/lib/stdlib.zip" --stdlib "$cpython/Lib" "$obj/sysconfig"
}
prefix=$(cached_prefix python "$pins" build_wasm Guests/Python/stdlib_zip.py Guests/Python/wasi/sys/mman.h)

# --- the runtime: the reactor linked in the clone, the zip with the wadup package ---
pyout=$root/.build/guest-modules/python
mkdir -p "$pyout/lib"
# A 1 MiB stack (CPython's WASI default is 512 KiB): C recursion (repr, json, re) past Python's
# recursion limit of 600 on WASI must meet RecursionError, not the stack's end; first in memory, so
# overflowing it traps instead of overwriting data. No --initial-memory (CPython's WASI build asks
# 10 MiB): the memory grows from what the data needs, and a trivial module's instance stays at 6 MiB.
PYTHON_LINK="-O3 -flto -Wno-c23-extensions -mexec-model=reactor -Wl,-z,stack-size=1048576 -Wl,--stack-first $strip"
inputs="Guests/Python/wadup_python.c Guests/C/wadup.h Guests/Python/stdlib_zip.py Guests/Python/wadup.pyi $(ls Guests/Python/wadup/*.py)"
stamp=$( (echo "$PYTHON_LINK $prefix $native"; cat "$0" "${BASH_SOURCE[0]}" $inputs) | sha256sum | cut -c1-64)
if [ -f "$fmt/python.stamp" ] && [ "$(cat "$fmt/python.stamp")" = "$stamp" ] && [ -f "$pyout/python.wasm" ] && [ -f "$pyout/lib/python311.zip" ] && [ -f "$pyout/VERSION" ]; then
  echo "formats: python.wasm up to date"; exit 0
fi
rm -f "$fmt/python.stamp"
# The link optimises the whole interpreter (LTO: one to several minutes), so its output is cached
# beside the libraries by the stamp (the clone's paths are mapped away: the same bytes in any clone).
linked=$cache/python-link-${stamp:0:16}
if [ -f "$linked/python.wasm" ]; then
  cp "$linked/python.wasm" "$fmt/python.wasm"
else
  $CC $PYTHON_LINK -I "$prefix/include" -I "$root/Guests/C" -L "$prefix/lib" -o "$fmt/python.wasm" Guests/Python/wadup_python.c \
    -lpython3.11 -lmpdec -lexpat -lz -lbz2 -llzma -lm -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks \
    -lwasi-emulated-mman
  rm -rf "$linked.partial" && mkdir -p "$linked.partial" && cp "$fmt/python.wasm" "$linked.partial/" && rm -rf "$linked" && mv "$linked.partial" "$linked"
fi
"$native/python" -S "$guest/stdlib_zip.py" "$fmt/python311.zip" "$prefix/lib/stdlib.zip" "$guest/wadup" >/dev/null
cp "$fmt/python.wasm" "$pyout/python.wasm"
cp "$fmt/python311.zip" "$pyout/lib/python311.zip"
cp "$guest/wadup.pyi" "$pyout/lib/wadup.pyi"
# The version a run records for a Python module (__wadup_modules.runtime) and `wadup --version` shows.
echo "CPython 3.11.2 (Debian python3.11 3.11.2-6+deb12u8)" > "$pyout/VERSION"
echo "$stamp" > "$fmt/python.stamp"
echo "formats: python.wasm $(stat -c %s "$pyout/python.wasm") B, lib/python311.zip $(stat -c %s "$pyout/lib/python311.zip") B"
