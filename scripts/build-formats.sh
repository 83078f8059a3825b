#!/usr/bin/env bash
# Builds the format modules from pinned Debian source packages, compiled to wasm32-wasi:
#   archive.wasm    libarchive with zlib, bzip2, liblzma (xz-utils), zstd, lz4, expat and libmd (XAR)
#   file_type.wasm  libmagic (file) with its compiled database built in, on GNU regex (sed's gnulib)
# Sources are fetched with `apt-get source` (a deb-src entry is added when missing), each .dsc is
# checked against the sha256 pinned below (the .dsc pins the tarballs; dpkg-source checks them),
# and nothing of them is committed. The result is cached in .build/formats: a second run with the
# same pins and module sources only copies the modules.
# Outputs: .build/guest-modules/standard/{archive,file_type}.wasm, .build/formats/magic.mgc and
# .build/formats/bin/file (the native `file` of the same source, for the tests).
# The module's libmagic is that source with Guests/Formats/file_type/patches/*.patch applied (the
# native `file` stays unpatched). WADUP_KEEP_SYMBOLS=1 links the modules without --strip-all, so
# that a profiler (perf with WADUP_WASMTIME_PROFILER=perfmap) names their functions.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.build/formats
out=$root/.build/guest-modules/standard
mkdir -p "$work" "$out"

# package  version  sha256 of the .dsc
pins="
zlib       1:1.2.13.dfsg-1        3fa1e6b2fc525062aa88207dda52fed8e045373c809d362fe8a2bfbf7cf515a8
bzip2      1.0.8-5                ed9c40f4de3f9e064535e15eac1c61a0f606763db98f4579dbc04067b94a8944
xz-utils   5.4.1-1+deb12u2        bffc9917562b5787661379621bb1f7510bf7271b03d8ce4181cebc84b90d3c35
libzstd    1.5.4+dfsg2-5          8f602f92b575aa8b5e979196fb6ee82d78f233521dc9636526d3ecba1f63c1b1
lz4        1.9.4-1                e16302bca544d08d106efc216541f4a0403c8f8a5fad5eaac7588223a55af263
expat      2.5.0-1+deb12u2        6fc87dbd01f49999ed368cfb37c08d35e41348dda2281d60642f3aa14cb77e32
libmd      1.0.4-2                5e060cb277f31e67b91033e05ece00832ca8056decba873b1698a5680414a177
libarchive 3.6.2-1+deb12u5        aa86e919d6899ed11cc78c812d25a99b0493cbcc0e89b303507bf66d7dbda216
file       1:5.44-3               842e0ef356949218966d1521a95652b00aed18c152174ffc7e000cc3d79501e4
sed        4.9-1+deb12u1          6bf366b84fd2025e355689e524132b3c38a2b4ef136de2e6129595be1e3bdd4f
"

keep_symbols=${WADUP_KEEP_SYMBOLS:-0}
stamp_now=$( (echo "$pins keep_symbols=$keep_symbols"; cat "$0" Guests/C/wadup.h $(find Guests/Formats -type f | LC_ALL=C sort)) | sha256sum | cut -c1-64)
if [ -f "$work/stamp" ] && [ "$(cat "$work/stamp")" = "$stamp_now" ] \
   && [ -f "$work/archive.wasm" ] && [ -f "$work/file_type.wasm" ]; then
  cp "$work/archive.wasm" "$work/file_type.wasm" "$out/"
  echo "build-formats: up to date (archive.wasm, file_type.wasm)"
  exit 0
fi
started=$(date +%s)

# --- sources -------------------------------------------------------------------------------
if ! grep -rqs "^Types:.*deb-src" /etc/apt/sources.list.d/ && ! grep -qs "^deb-src" /etc/apt/sources.list; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO tee /etc/apt/sources.list.d/wadup-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  $SUDO apt-get update -qq
fi
mkdir -p "$work/src"
cd "$work/src"
echo "$pins" | while read -r pkg version sum; do
  [ -n "$pkg" ] || continue
  upstream=${version#*:}; dsc="${pkg}_${upstream}.dsc"
  if [ ! -f "$dsc" ] || ! echo "$sum  $dsc" | sha256sum -c --quiet - 2>/dev/null; then
    apt-get source --download-only -qq "$pkg=$version" 2>&1 | grep -v "unsandboxed" >&2 || true
  fi
  echo "$sum  $dsc" | sha256sum -c --quiet - || { echo "build-formats: $dsc does not match its pinned sha256" >&2; exit 1; }
  dir="${pkg}-${upstream%-*}"
  if [ ! -d "$dir" ]; then
    dpkg-source -x -q "$dsc" "$dir" 2>&1 | grep -v "gpgv\|signature" >&2 || true
    [ -d "$dir" ] || { echo "build-formats: dpkg-source could not unpack $dsc" >&2; exit 1; }
    # Debian's patches change Makefile.am (file's adds magic files), so regenerate as Debian does.
    case "$pkg" in libarchive|file) (cd "$dir" && autoreconf -fi >/dev/null 2>&1) ;; esac
  fi
done
src=$work/src
zlib=$src/zlib-1.2.13.dfsg; bzip2=$src/bzip2-1.0.8; xz=$src/xz-utils-5.4.1; zstd=$src/libzstd-1.5.4+dfsg2
lz4=$src/lz4-1.9.4; expat=$src/expat-2.5.0/expat; libmd=$src/libmd-1.0.4; libarchive=$src/libarchive-3.6.2; file=$src/file-5.44
sed=$src/sed-4.9

# --- the cross compiler: the toolchain's clang, Debian's wasi-libc, compiler-rt's builtins ---
sysroot=$work/sysroot; prefix=$work/prefix; bindir=$work/bin
mkdir -p "$sysroot/include" "$sysroot/lib" "$prefix/include" "$prefix/lib" "$bindir"
ln -sfn /usr/include/wasm32-wasi "$sysroot/include/wasm32-wasi"
ln -sfn /usr/lib/wasm32-wasi "$sysroot/lib/wasm32-wasi"
builtins=$(ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a 2>/dev/null | tail -1)
[ -n "$builtins" ] || { echo "build-formats: libclang_rt.builtins-wasm32.a missing (apt-get install libclang-rt-19-dev-wasm32)" >&2; exit 1; }
cat > "$bindir/wasm-cc" <<EOF
#!/bin/sh
# clang for wasm32-wasi: links wasi-libc and compiler-rt's builtins when it links.
for a in "\$@"; do case "\$a" in -c|-E|-S|-M|-MM) exec clang --target=wasm32-wasi --sysroot=$sysroot "\$@";; esac; done
exec clang --target=wasm32-wasi --sysroot=$sysroot "\$@" -nodefaultlibs -lc $builtins
EOF
chmod +x "$bindir/wasm-cc"
CC=$bindir/wasm-cc
AR=$(command -v llvm-ar)
CFLAGS="-O2 -g0 -w"
# libmagic and GNU regex are file_type's hot code: -O3 and link-time optimisation with the module
# (bitcode archives, so made with the toolchain's own llvm-ar) save about 5% of its time.
MAGIC_CFLAGS="-O3 -flto -g0 -w"
LTO_AR=$(dirname "$(readlink -f "$(command -v clang)")")/llvm-ar
[ -x "$LTO_AR" ] || LTO_AR=$AR
jobs=$(nproc)

# Compiles C files into one static library, in parallel.
lib() {  # name, flags, files...
  local name=$1 flags=$2; shift 2
  local objs=$work/obj/$name; rm -rf "$objs"; mkdir -p "$objs"
  printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh -c "$CC $CFLAGS $flags -c {} -o $objs/\$(basename {} .c).o"
  rm -f "$prefix/lib/lib$name.a"; "$AR" rcs "$prefix/lib/lib$name.a" "$objs"/*.o
}

# The libraries are rebuilt only when the pins, this script or the libmagic I/O shim change.
magic_patches=$(ls "$root"/Guests/Formats/file_type/patches/*.patch | LC_ALL=C sort)
libs_stamp=$( (echo "$pins"; cat "$root/scripts/build-formats.sh" "$root/Guests/Formats/file_type/content_io.h" $magic_patches) | sha256sum | cut -c1-64)
if [ ! -f "$work/libs.stamp" ] || [ "$(cat "$work/libs.stamp")" != "$libs_stamp" ]; then
rm -f "$work/libs.stamp"
echo "build-formats: compression libraries"
lib z "-DHAVE_UNISTD_H" $(for f in adler32 crc32 deflate infback inffast inflate inftrees trees zutil compress uncompr; do echo "$zlib/$f.c"; done)
cp "$zlib/zlib.h" "$zlib/zconf.h" "$prefix/include/"
lib bz2 "" $(for f in blocksort huffman crctable randtable compress decompress bzlib; do echo "$bzip2/$f.c"; done)
cp "$bzip2/bzlib.h" "$prefix/include/"
lib lz4 "" "$lz4/lib/lz4.c" "$lz4/lib/lz4frame.c" "$lz4/lib/lz4hc.c" "$lz4/lib/xxhash.c"
cp "$lz4/lib/lz4.h" "$lz4/lib/lz4frame.h" "$lz4/lib/lz4hc.h" "$prefix/include/"
lib zstd "-DZSTD_DISABLE_ASM -DZSTD_LEGACY_SUPPORT=0" "$zstd"/lib/common/*.c "$zstd"/lib/decompress/*.c "$zstd"/lib/compress/*.c
cp "$zstd/lib/zstd.h" "$zstd/lib/zstd_errors.h" "$prefix/include/"
mkdir -p "$work/expat"
printf '%s\n' "#define HAVE_ARC4RANDOM_BUF 1" "#define XML_NS 1" "#define XML_DTD 1" "#define XML_CONTEXT_BYTES 1024" \
  "#define BYTEORDER 1234" "#define HAVE_STDINT_H 1" > "$work/expat/expat_config.h"
lib expat "-D_GNU_SOURCE -I$work/expat" \
  "$expat/lib/xmlparse.c" "$expat/lib/xmltok.c" "$expat/lib/xmlrole.c"
cp "$expat/lib/expat.h" "$expat/lib/expat_external.h" "$prefix/include/"

# XAR checks its table of contents with MD5 or SHA-1: libarchive takes them from libmd.
mkdir -p "$work/libmd"; : > "$work/libmd/config.h"
lib md "-I$work/libmd -I$libmd/include" "$libmd/src/md5.c" "$libmd/src/sha1.c" "$libmd/src/rmd160.c"
cp "$libmd/include/md5.h" "$libmd/include/sha1.h" "$libmd/include/sha.h" "$libmd/include/rmd160.h" "$libmd/include/ripemd.h" "$prefix/include/"

echo "build-formats: liblzma"
mkdir -p "$work/xz" && cd "$work/xz"
# liblzma's single-threaded build declares a sigprocmask helper only the xz program calls; WASI has
# no signals, so the type and a no-op are supplied (the helper is never linked into the module).
printf '%s\n' "#include <__typedef_sigset_t.h>" \
  "static inline int sigprocmask(int how, const sigset_t *set, sigset_t *old) { (void)how; (void)set; (void)old; return 0; }" \
  > "$work/xz/wasi-sigmask.h"
"$xz/configure" -q --host=wasm32-unknown-wasi CC="$CC" CFLAGS="$CFLAGS" CPPFLAGS="-D_WASI_EMULATED_SIGNAL -include $work/xz/wasi-sigmask.h" --prefix="$prefix" \
  --disable-threads --disable-shared --enable-static --disable-xz --disable-xzdec --disable-lzmadec \
  --disable-lzmainfo --disable-lzma-links --disable-scripts --disable-doc --disable-nls >/dev/null
make -s -j"$jobs" -C src/liblzma >/dev/null && make -s -C src/liblzma install >/dev/null

echo "build-formats: libarchive"
mkdir -p "$work/libarchive" && cd "$work/libarchive"
"$libarchive/configure" -q --host=wasm32-unknown-wasi CC="$CC" CFLAGS="$CFLAGS" \
  CPPFLAGS="-I$prefix/include -D_WASI_EMULATED_SIGNAL" LDFLAGS="-L$prefix/lib" --prefix="$prefix" \
  --disable-shared --enable-static --disable-bsdtar --disable-bsdcpio --disable-bsdcat --disable-acl \
  --disable-xattr --without-openssl --without-xml2 --without-nettle --without-mbedtls --without-cng \
  --without-lzo2 --without-libb2 --with-expat --with-zlib --with-bz2lib --with-lzma --with-zstd --with-lz4 >/dev/null
grep -E "define (HAVE_(ZLIB_H|BZLIB_H|LZMA_H|ZSTD_H|LZ4_H|EXPAT_H|LIBZSTD|LIBLZ4|LIBLZMA|LIBBZ2|LIBZ|LIBEXPAT)|ARCHIVE_CRYPTO_(MD5|SHA1)_LIBMD) " config.h | wc -l | grep -qx 14 \
  || { echo "build-formats: libarchive's configure did not find every compression library:" >&2; grep -E "HAVE_(ZLIB|BZLIB|LZMA|ZSTD|LZ4|EXPAT)|CRYPTO_(MD5|SHA1)" config.h >&2; exit 1; }
# The reading half only: the disk reader/writer and the write side need users, groups, ACLs and
# processes that WASI does not have, and a module never writes archives.
# External decompressors (lrzip, grzip, lzop without liblzo2) cannot be started in the sandbox:
# libarchive's fork helper already fails cleanly there; its wait calls only need to compile.
printf '%s\n' "#include <sys/types.h>" "static inline pid_t waitpid(pid_t p, int *s, int o) { (void)p; (void)s; (void)o; return -1; }" \
  "#define WIFSIGNALED(s) 0" "#define WTERMSIG(s) 0" "#define WIFEXITED(s) 0" "#define WEXITSTATUS(s) 0" > "$work/libarchive/wasi-wait.h"
lib archive "-DHAVE_CONFIG_H -I$work/libarchive -I$libarchive/libarchive -I$prefix/include -D_WASI_EMULATED_SIGNAL -include $work/libarchive/wasi-wait.h" \
  $(ls "$libarchive"/libarchive/*.c | grep -v -E "windows|disk|/archive_write|read_extract|standard_lookup")
cp "$libarchive/libarchive/archive.h" "$libarchive/libarchive/archive_entry.h" "$prefix/include/"

echo "build-formats: libmagic and its database"
mkdir -p "$work/file-native" && cd "$work/file-native"
[ -x src/file ] || { "$file/configure" -q --disable-shared --disable-libseccomp >/dev/null && make -s -j"$jobs" >/dev/null; }
cp src/file "$bindir/file"; cp magic/magic.mgc "$work/magic.mgc"
# libmagic's regular expressions on GNU regex (gnulib's copy in sed, the same code as glibc's),
# not wasi-libc's musl regex: Debian's `file` runs them on glibc, so the answers stay the same,
# and musl's regexec was half of file_type's time.
echo "build-formats: GNU regex (sed's gnulib)"
mkdir -p "$work/sed" && cd "$work/sed"
[ -f config.h ] || "$sed/configure" -q --host=wasm32-unknown-wasi CC="$CC" CFLAGS="$CFLAGS" \
  CPPFLAGS="-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS" --disable-nls --disable-acl --without-selinux >/dev/null 2>&1
# regex.c and the gnulib replacements it calls (the linker takes from the archive only what is used).
regex_objects=$(for o in regex mbrtowc nl_langinfo nl_langinfo-lock hard-locale setlocale_null setlocale-lock malloc realloc \
  calloc free btowc mbsinit wcrtomb mbtowc-lock; do echo lib/libsed_a-$o.o; done; echo lib/malloc/libsed_a-dynarray_resize.o)
# gnulib's generated headers (locale.h, wchar.h, …) first: `make all` would make them, but also sed.
built=$(printf 'print-built:\n\t@echo $(BUILT_SOURCES)\n' | make -s -f Makefile -f - print-built | tr ' ' '\n' | grep '^lib/' || true)
make -s $built >/dev/null
rm -f $regex_objects; make -s $regex_objects CFLAGS="$MAGIC_CFLAGS" >/dev/null
rm -f "$prefix/lib/libgnuregex.a"; "$LTO_AR" rcs "$prefix/lib/libgnuregex.a" $regex_objects
mkdir -p "$work/regex-include"
{ echo "/* gnulib's regex.h with the names and layout sed's configure chose for regex.c */"
  grep -E "^#define (_REGEX_[A-Z_]+|re_[a-z_]+ rpl_|reg[a-z]+ rpl_)" config.h
  echo "#include \"$sed/lib/regex.h\""; } > "$work/regex-include/regex.h"

# The module's libmagic: the same source with WADUP's patches (magic_share_scans: both answers from
# one scan of the soft magic), in a copy, so that the native `file` above stays Debian's.
rm -rf "$work/file-patched"; cp -a "$file" "$work/file-patched"
for p in $magic_patches; do patch -s -p1 -d "$work/file-patched" < "$p"; done
mkdir -p "$work/file" && cd "$work/file"
"$work/file-patched/configure" -q --host=wasm32-unknown-wasi CC="$CC" CFLAGS="$CFLAGS" --disable-shared --enable-static \
  --disable-libseccomp --disable-zlib --disable-bzlib --disable-xzlib --disable-zstdlib --disable-lzlib >/dev/null
# libmagic reads a content through a descriptor (magic_descriptor): its reads of the start, the
# tail (negative offsets), ELF sections and OLE2 sectors. In the module that descriptor is the
# content itself, read with read_content64 (content_io.h), so the answer is `file`'s at any size.
make -s -C src clean >/dev/null
make -s -C src magic.h >/dev/null
make -s -j"$jobs" -C src libmagic.la CFLAGS="$MAGIC_CFLAGS" \
  CPPFLAGS="-I$work/regex-include -include $root/Guests/Formats/file_type/content_io.h" >/dev/null
rm -rf "$work/obj/magic"; mkdir -p "$work/obj/magic"; (cd "$work/obj/magic" && "$LTO_AR" x "$work/file/src/.libs/libmagic.a")
rm -f "$prefix/lib/libmagic.a"; "$LTO_AR" rcs "$prefix/lib/libmagic.a" "$work/obj/magic"/*.o; cp src/magic.h "$prefix/include/"

echo "$libs_stamp" > "$work/libs.stamp"
fi

echo "build-formats: modules"
cd "$root"
strip="-Wl,--strip-all"; [ "$keep_symbols" = 1 ] && strip=""
link="-O2 -Wno-c23-extensions -mexec-model=reactor -Wl,--export=process $strip -I Guests/C -I $prefix/include -L $prefix/lib"
$CC $link -o "$work/archive.wasm" Guests/Formats/archive/archive.c Guests/Formats/archive/no_processes.c Guests/Formats/archive/manifest.c -larchive -lmd -lexpat -llzma -lzstd -llz4 -lbz2 -lz
$CC $link -O3 -flto -o "$work/file_type.wasm" -DWADUP_MAGIC_DB="\"$work/magic.mgc\"" Guests/Formats/file_type/file_type.c Guests/Formats/file_type/single_thread.c -lmagic -lgnuregex
cp "$work/archive.wasm" "$work/file_type.wasm" "$out/"
echo "$stamp_now" > "$work/stamp"
echo "build-formats: archive.wasm $(stat -c %s "$work/archive.wasm") B, file_type.wasm $(stat -c %s "$work/file_type.wasm") B, built in $(( $(date +%s) - started )) s"
