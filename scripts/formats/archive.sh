#!/usr/bin/env bash
# archive.wasm: libarchive with zlib, bzip2, liblzma (xz-utils), zstd, lz4, expat and libmd (XAR),
# from pinned Debian sources compiled to wasm32-wasi (scripts/formats/common.sh: fetching, checks,
# the cache outside the clone).
set -euo pipefail
source "$(dirname "$0")/common.sh"

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
"
regenerate="libarchive"
fetch_sources "$pins"
zlib=$src/zlib-1.2.13.dfsg; bzip2=$src/bzip2-1.0.8; xz=$src/xz-utils-5.4.1; zstd=$src/libzstd-1.5.4+dfsg2
lz4=$src/lz4-1.9.4; expat=$src/expat-2.5.0/expat; libmd=$src/libmd-1.0.4; libarchive=$src/libarchive-3.6.2

build_libs() {
  echo "formats: compression libraries"
  lib z "-DHAVE_UNISTD_H" $(for f in adler32 crc32 deflate infback inffast inflate inftrees trees zutil compress uncompr; do echo "$zlib/$f.c"; done)
  cp "$zlib/zlib.h" "$zlib/zconf.h" "$prefix/include/"
  lib bz2 "" $(for f in blocksort huffman crctable randtable compress decompress bzlib; do echo "$bzip2/$f.c"; done)
  cp "$bzip2/bzlib.h" "$prefix/include/"
  lib lz4 "" "$lz4/lib/lz4.c" "$lz4/lib/lz4frame.c" "$lz4/lib/lz4hc.c" "$lz4/lib/xxhash.c"
  cp "$lz4/lib/lz4.h" "$lz4/lib/lz4frame.h" "$lz4/lib/lz4hc.h" "$prefix/include/"
  lib zstd "-DZSTD_DISABLE_ASM -DZSTD_LEGACY_SUPPORT=0" "$zstd"/lib/common/*.c "$zstd"/lib/decompress/*.c "$zstd"/lib/compress/*.c
  cp "$zstd/lib/zstd.h" "$zstd/lib/zstd_errors.h" "$prefix/include/"
  mkdir -p "$obj/expat-config"
  printf '%s\n' "#define HAVE_ARC4RANDOM_BUF 1" "#define XML_NS 1" "#define XML_DTD 1" "#define XML_CONTEXT_BYTES 1024" \
    "#define BYTEORDER 1234" "#define HAVE_STDINT_H 1" > "$obj/expat-config/expat_config.h"
  lib expat "-D_GNU_SOURCE -I$obj/expat-config" "$expat/lib/xmlparse.c" "$expat/lib/xmltok.c" "$expat/lib/xmlrole.c"
  cp "$expat/lib/expat.h" "$expat/lib/expat_external.h" "$prefix/include/"

  # XAR checks its table of contents with MD5 or SHA-1: libarchive takes them from libmd.
  mkdir -p "$obj/libmd-config"; : > "$obj/libmd-config/config.h"
  lib md "-I$obj/libmd-config -I$libmd/include" "$libmd/src/md5.c" "$libmd/src/sha1.c" "$libmd/src/rmd160.c"
  cp "$libmd/include/md5.h" "$libmd/include/sha1.h" "$libmd/include/sha.h" "$libmd/include/rmd160.h" "$libmd/include/ripemd.h" "$prefix/include/"

  echo "formats: liblzma"
  mkdir -p "$obj/xz" && cd "$obj/xz"
  # liblzma's single-threaded build declares a sigprocmask helper only the xz program calls; WASI has
  # no signals, so the type and a no-op are supplied (the helper is never linked into the module).
  printf '%s\n' "#include <__typedef_sigset_t.h>" \
    "static inline int sigprocmask(int how, const sigset_t *set, sigset_t *old) { (void)how; (void)set; (void)old; return 0; }" \
    > "$obj/xz/wasi-sigmask.h"
  "$xz/configure" -q --host=wasm32-unknown-wasi CC="$CC" CFLAGS="$CFLAGS" CPPFLAGS="-D_WASI_EMULATED_SIGNAL -include $obj/xz/wasi-sigmask.h" --prefix="$prefix" \
    --disable-threads --disable-shared --enable-static --disable-xz --disable-xzdec --disable-lzmadec \
    --disable-lzmainfo --disable-lzma-links --disable-scripts --disable-doc --disable-nls >/dev/null
  make -s -j"$jobs" -C src/liblzma >/dev/null && make -s -C src/liblzma install >/dev/null

  echo "formats: libarchive"
  mkdir -p "$obj/libarchive" && cd "$obj/libarchive"
  "$libarchive/configure" -q --host=wasm32-unknown-wasi CC="$CC" CFLAGS="$CFLAGS" \
    CPPFLAGS="-I$prefix/include -D_WASI_EMULATED_SIGNAL" LDFLAGS="-L$prefix/lib" --prefix="$prefix" \
    --disable-shared --enable-static --disable-bsdtar --disable-bsdcpio --disable-bsdcat --disable-acl \
    --disable-xattr --without-openssl --without-xml2 --without-nettle --without-mbedtls --without-cng \
    --without-lzo2 --without-libb2 --with-expat --with-zlib --with-bz2lib --with-lzma --with-zstd --with-lz4 >/dev/null
  grep -E "define (HAVE_(ZLIB_H|BZLIB_H|LZMA_H|ZSTD_H|LZ4_H|EXPAT_H|LIBZSTD|LIBLZ4|LIBLZMA|LIBBZ2|LIBZ|LIBEXPAT)|ARCHIVE_CRYPTO_(MD5|SHA1)_LIBMD) " config.h | wc -l | grep -qx 14 \
    || { echo "formats: libarchive's configure did not find every compression library:" >&2; grep -E "HAVE_(ZLIB|BZLIB|LZMA|ZSTD|LZ4|EXPAT)|CRYPTO_(MD5|SHA1)" config.h >&2; exit 1; }
  # The reading half only: the disk reader/writer and the write side need users, groups, ACLs and
  # processes that WASI does not have, and a module never writes archives.
  # External decompressors (lrzip, grzip, lzop without liblzo2) cannot be started in the sandbox:
  # libarchive's fork helper already fails cleanly there; its wait calls only need to compile.
  printf '%s\n' "#include <sys/types.h>" "static inline pid_t waitpid(pid_t p, int *s, int o) { (void)p; (void)s; (void)o; return -1; }" \
    "#define WIFSIGNALED(s) 0" "#define WTERMSIG(s) 0" "#define WIFEXITED(s) 0" "#define WEXITSTATUS(s) 0" > "$obj/libarchive/wasi-wait.h"
  lib archive "-DHAVE_CONFIG_H -I$obj/libarchive -I$libarchive/libarchive -I$prefix/include -D_WASI_EMULATED_SIGNAL -include $obj/libarchive/wasi-wait.h" \
    $(ls "$libarchive"/libarchive/*.c | grep -v -E "windows|disk|/archive_write|read_extract|standard_lookup")
  cp "$libarchive/libarchive/archive.h" "$libarchive/libarchive/archive_entry.h" "$prefix/include/"
}
prefix=$(cached_prefix archive "$pins" build_libs)

sources="Guests/Formats/archive/archive.c Guests/Formats/archive/no_processes.c Guests/Formats/archive/manifest.c"
if module_current archive "$prefix" $sources Guests/C/wadup.h Guests/Formats/common/*.h; then
  cp "$fmt/archive.wasm" "$out/"; echo "formats: archive.wasm up to date"; exit 0
fi
$CC $MODULE_LINK -I "$prefix/include" -L "$prefix/lib" -o "$fmt/archive.wasm" $sources \
  -larchive -lmd -lexpat -llzma -lzstd -llz4 -lbz2 -lz
module_done archive
