#!/usr/bin/env bash
# disk.wasm: The Sleuth Kit 4.11.1 (volume systems; NTFS, FAT, exFAT, ext2/3/4, HFS+, ISO 9660,
# UFS, YAFFS2; HFS+ compressed files with libyal's zlib), libyal's libewf, libvmdk, libvhdi and
# libqcow (scripts/formats/disk-containers.sh), and libyal's libfsapfs for APFS
# (scripts/formats/disk-apfs.sh, Guests/Formats/disk/apfs.c: TSK's own APFS code is C++ that
# throws, which cannot be built here), compiled to wasm32-wasi (scripts/formats/common.sh: the
# toolchain, pinned sources, the cache outside the clone).
set -euo pipefail
source "$(dirname "$0")/common.sh"

# The Sleuth Kit's source. Debian's sleuthkit 4.11.1+dfsg-1 (.dsc sha256
# ae9f5d0cb3db18edeaf4884fa2391abcfbcd15a88907c6cf50f238338c38b9ef) is the version the tests
# compare against (its `fls`, `icat`, `mmls`, `fsstat`), but the package mirror this project builds
# from does not serve its tarballs (404), so the same upstream release is taken from the PyPI sdist
# of pytsk3 20211111, which carries sleuthkit 4.11.1 under sleuthkit/; it is fetched with pip and
# checked against its pinned sha256.
tsk_sha256=9fde6875ab57d356cbe91c84231b1664197c94b6535ac44f783ee74b71c89a25
fetch_pypi_source pytsk3 20211111 "$tsk_sha256"
tsk_src=$src/pytsk3-20211111/sleuthkit
here=$root/Guests/Formats/disk

# libyal's container libraries first: their zlib is TSK's too (HFS+ compressed files).
source "$(dirname "$0")/disk-containers.sh"
fetch_sources "$container_pins"
cprefix=$(cached_prefix disk-containers "$container_pins" build_container_libs Guests/Formats/disk/containers.c Guests/Formats/disk/containers.h scripts/formats/disk-containers.sh)

# libfsapfs for APFS, with the containers' zlib and the same renaming (scripts/formats/disk-apfs.sh).
source "$(dirname "$0")/disk-apfs.sh"
fetch_pypi_source libfsapfs-python 20201107 "$apfs_sha256"
aprefix=$(cached_prefix disk-apfs "libfsapfs $apfs_sha256 $cprefix" build_apfs_lib scripts/formats/disk-containers.sh scripts/formats/disk-apfs.sh)

build_tsk() {
  echo "formats: The Sleuth Kit"
  # A copy of the source tree with this build's configuration headers in place of configure's.
  rm -rf "$obj/sleuthkit"; mkdir -p "$obj/sleuthkit"; cp -r "$tsk_src/tsk" "$obj/sleuthkit/tsk"
  local t=$obj/sleuthkit
  rm -f "$t/tsk/tsk_config.h"; cp "$here/tsk/tsk_incs.h" "$t/tsk/tsk_incs.h"
  # Left out: APFS and pools (C++ that throws; wasm32-wasi's libc++ has no exceptions),
  # the image-format readers (libyal decodes containers before TSK reads the disk), AFF, the
  # database and hash-database code.
  local c_files cpp_files
  c_files="$(ls "$t"/tsk/base/*.c | grep -v XGetopt) $t/tsk/img/img_io.c $t/tsk/img/img_types.c $t/tsk/img/raw.c
    $t/tsk/img/mult_files.c $t/tsk/img/unsupported_types.c $(ls "$t"/tsk/vs/*.c) $(ls "$t"/tsk/fs/*.c)
    $t/tsk/util/detect_encryption.c $here/tsk/wasi_compat.c"
  cpp_files="$t/tsk/img/img_open.cpp $(ls "$t"/tsk/fs/*.cpp | grep -v /apfs)"
  local flags="-I$here/tsk -I$t -include $here/tsk/tsk_config.h -DHAVE_LIBZ=1 -I$cprefix/include"
  lib tsk "$flags" $c_files
  local objs=$obj/tskcpp; mkdir -p "$objs"
  printf '%s\n' $cpp_files | xargs -P "$jobs" -I{} sh -c "$CXX -std=c++14 $CFLAGS $flags -c {} -o $objs/\$(basename {} .cpp).o"
  "$AR" rs "$prefix/lib/libtsk.a" "$objs"/*.o
  [ "$(ls "$obj/tsk"/*.o "$objs"/*.o | wc -l)" -eq "$(echo $c_files $cpp_files | wc -w)" ] \
    || { echo "formats: The Sleuth Kit did not compile completely" >&2; exit 1; }
  (cd "$t" && find tsk -name '*.h' -o -name '*.hpp' | while read -r h; do mkdir -p "$prefix/include/$(dirname "$h")"; cp "$h" "$prefix/include/$h"; done)
  cp "$here/tsk/tsk_config.h" "$prefix/include/tsk/tsk_config.h"
}
prefix=$(cached_prefix tsk "tsk $tsk_sha256 $cprefix" build_tsk Guests/Formats/disk/tsk/tsk_config.h Guests/Formats/disk/tsk/tsk_incs.h Guests/Formats/disk/tsk/wasi_compat.c)


sources="Guests/Formats/disk/disk.c Guests/Formats/disk/manifest.c"
if module_current disk "$prefix $cprefix $aprefix" $sources Guests/Formats/disk/apfs.c Guests/Formats/disk/apfs.h Guests/C/wadup.h Guests/Formats/common/*.h; then
  cp "$fmt/disk.wasm" "$out/"; echo "formats: disk.wasm up to date"; exit 0
fi
# The APFS glue calls libfsapfs's internals (its renamed libbfio): compiled with its configuration.
mkdir -p "$fmt/disk-obj"
eval "\$CC \$CFLAGS -Wall $(cat "$aprefix/apfs.flags") -I \"$root/Guests/C\" -I \"$root/Guests/Formats/common\" -c Guests/Formats/disk/apfs.c -o \"$fmt/disk-obj/apfs.o\""
# TSK's C++ parts need libc++; a 1 MiB stack for TSK's recursive directory walk.
$CXX $MODULE_LINK -Wl,-z,stack-size=1048576 -x c -include "$here/tsk/tsk_config.h" -I "$prefix/include" -I "$cprefix/include" \
  -o "$fmt/disk.wasm" $sources -x none "$fmt/disk-obj/apfs.o" -L "$prefix/lib" -L "$cprefix/lib" -L "$aprefix/lib" -ltsk -ldiskapfs $container_libs
module_done disk
