#!/usr/bin/env bash
# Native check of the disk module's container shim (Guests/Formats/disk/containers.c): builds the
# same libraries as scripts/formats/disk-containers.sh with the host's gcc in a temporary folder,
# makes images of a small file system with ewfacquire and qemu-img, and checks that the decoded
# media of each has the raw image's sha256 (VHD: the first raw-size bytes; qemu rounds its size up).
#   Tests/Support/containers_native_check.sh [workdir]     (needs ewfacquire, qemu-img, mkfs.ext4)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d /tmp/containers-check.XXXXXX)}
mkdir -p "$work"
source "$here/scripts/formats/common.sh"
source "$here/scripts/formats/disk-containers.sh"
fetch_sources "$container_pins"

if [ ! -f "$work/prefix/.done" ]; then
  CC=${HOST_CC:-gcc}; AR=ar; CFLAGS="-O1 -g -w"; jobs=${JOBS:-2}; container_host=""
  prefix=$work/prefix; obj=$work/obj
  rm -rf "$prefix" "$obj"; mkdir -p "$prefix/include" "$prefix/lib" "$obj"
  ( set -e; build_container_libs )
  touch "$prefix/.done"
fi

cat > "$work/check.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "containers.h"
static int64_t rd(void *ctx, int64_t off, void *buf, size_t len) {
  ssize_t n = pread(*(int *)ctx, buf, len, off);
  return n < 0 ? -1 : n;
}
/* check IMAGE [OUT [OFFSET LENGTH]]: prints format, media size, sector size, description, hashes; writes the media to OUT. */
int main(int argc, char **argv) {
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) { perror(argv[1]); return 2; }
  struct stat st; fstat(fd, &st);
  const char *fmt = disk_container_detect(rd, &fd, st.st_size);
  if (!fmt) { printf("format: none\n"); return 3; }
  disk_container *c; char err[256];
  if (disk_container_open(fmt, rd, &fd, st.st_size, &c, err, sizeof err) != 0) { printf("format: %s\nopen failed: %s\n", fmt, err); return 4; }
  printf("format: %s\nmedia: %lld\nsector: %u\ndescription: %s\nmd5: %s\nsha1: %s\n", fmt,
         (long long)disk_container_media_size(c), disk_container_sector_size(c), disk_container_description(c),
         disk_container_stored_md5(c) ? disk_container_stored_md5(c) : "-", disk_container_stored_sha1(c) ? disk_container_stored_sha1(c) : "-");
  if (argc > 4) {  /* check IMAGE OUT OFFSET LENGTH: one read of a range */
    int64_t off = strtoll(argv[3], 0, 0); size_t len = (size_t)strtoull(argv[4], 0, 0);
    char *buf = malloc(len ? len : 1);
    int64_t n = disk_container_read(c, off, buf, len, err, sizeof err);
    if (n < 0) { printf("read failed at %lld: %s\n", (long long)off, err); free(buf); disk_container_close(c); return 5; }
    FILE *out = fopen(argv[2], "wb"); fwrite(buf, 1, (size_t)n, out); fclose(out);
    printf("read: %lld\n", (long long)n);
    free(buf);
  } else if (argc > 2) {
    FILE *out = fopen(argv[2], "wb");
    static char buf[1 << 20 | 12345];
    int64_t off = 0, n;
    while ((n = disk_container_read(c, off, buf, sizeof buf, err, sizeof err)) > 0) { fwrite(buf, 1, n, out); off += n; }
    fclose(out);
    if (n < 0) { printf("read failed at %lld: %s\n", (long long)off, err); disk_container_close(c); return 5; }
    /* A read past the end is 0; a read straddling it is short. */
    if (disk_container_read(c, disk_container_media_size(c), buf, 10, err, sizeof err) != 0) { printf("read past end not 0\n"); disk_container_close(c); return 6; }
  }
  disk_container_close(c);
  close(fd);
  return 0;
}
EOF
gcc -O1 -g -I "$work/prefix/include" -o "$work/check" "$work/check.c" -L "$work/prefix/lib" $container_libs

cd "$work"
fail=0
if [ ! -f raw.img ]; then
  truncate -s 64M raw.img && mkfs.ext4 -q -F raw.img
  mkdir -p fill && for i in $(seq 1 40); do head -c $((i * 37000)) /dev/urandom > fill/f$i; done
  # Some content in the file system (debugfs writes without mounting).
  for i in $(seq 1 40); do echo "write fill/f$i f$i"; done | debugfs -w raw.img >/dev/null 2>&1 || true
fi
raw_sum=$(sha256sum < raw.img | cut -d' ' -f1); raw_size=$(stat -c %s raw.img)
make_images() {
  rm -f img.E01 && ewfacquire -u -t img -f encase6 -c deflate:best -d sha1 raw.img >/dev/null
  rm -f imgf.E01 && ewfacquire -u -t imgf -f encase6 -c none raw.img >/dev/null 2>&1 || true
  rm -f split.E01 split.E02 && ewfacquire -u -t split -f encase6 -c none -S 20M raw.img >/dev/null 2>&1 || true
  qemu-img convert -O vmdk raw.img sparse.vmdk
  qemu-img convert -O vmdk -o subformat=streamOptimized raw.img stream.vmdk
  qemu-img convert -O vmdk -o subformat=monolithicFlat raw.img flat.vmdk
  qemu-img convert -O vpc raw.img dynamic.vhd
  qemu-img convert -O vpc -o subformat=fixed raw.img fixed.vhd
  qemu-img convert -O vhdx raw.img dynamic.vhdx
  qemu-img convert -O vhdx -o subformat=fixed raw.img fixed.vhdx
  qemu-img convert -O qcow2 raw.img plain.qcow2
  qemu-img convert -c -O qcow2 raw.img compressed.qcow2
  qemu-img create -q -f qcow2 -b plain.qcow2 -F qcow2 overlay.qcow2
  # qemu-img makes no differencing VHD: the dynamic one with its disk type set to differencing.
  python3 - <<'PY'
import struct
d = bytearray(open("dynamic.vhd", "rb").read())
def checksum(start, end, at):
    d[at:at + 4] = bytes(4); d[at:at + 4] = struct.pack(">I", ~sum(d[start:end]) & 0xffffffff)
for footer in (0, len(d) - 512):
    d[footer + 60:footer + 64] = struct.pack(">I", 4); checksum(footer, footer + 512, footer + 64)
name = "parent.vhd".encode("utf-16-be"); d[512 + 64:512 + 64 + len(name)] = name; checksum(512, 1536, 512 + 36)
open("diff.vhd", "wb").write(d)
PY
  # ewfacquire 20140813 writes no EWF2: an Ex01 signature is enough to be refused.
  { printf 'EVF2\r\n\201\000'; head -c 4096 /dev/zero; } > fake.Ex01
  qemu-img create -q -f vmdk -b sparse.vmdk -F vmdk child.vmdk 2>/dev/null || true
  head -c 1M raw.img > notadisk.img
}
[ -f compressed.qcow2 ] || make_images

for image in img.E01 imgf.E01 sparse.vmdk stream.vmdk dynamic.vhd fixed.vhd dynamic.vhdx fixed.vhdx plain.qcow2 compressed.qcow2; do
  [ -f "$image" ] || { echo "SKIP $image (not made)"; continue; }
  start=$(date +%s.%N)
  if ! ./check "$image" media.out > "$image.txt"; then echo "FAIL $image: $(tr '\n' ' ' < "$image.txt")"; fail=1; continue; fi
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  sum=$(head -c "$raw_size" media.out | sha256sum | cut -d' ' -f1)
  media=$(sed -n 's/^media: //p' "$image.txt")
  qsize=$(qemu-img info --output=json "$image" 2>/dev/null | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p' | head -1)
  case $image in *.E01) qsize="n/a" ;; esac
  if [ "$sum" = "$raw_sum" ]; then
    echo "OK   $image: media $media (qemu-img: ${qsize:-?}) ${secs}s | $(sed -n 's/^description: //p' "$image.txt") | md5 $(sed -n 's/^md5: //p' "$image.txt") sha1 $(sed -n 's/^sha1: //p' "$image.txt")"
  else
    echo "FAIL $image: decoded media differs (media $media, qemu-img ${qsize:-?})"; fail=1
  fi
done
# Images that must not open, each with a reason, and one that is no container.
for image in split.E01 fake.Ex01 flat.vmdk overlay.qcow2 diff.vhd child.vmdk notadisk.img; do
  [ -f "$image" ] || { echo "SKIP $image (not made)"; continue; }
  ./check "$image" > "$image.txt" && { echo "FAIL $image opened: $(tr '\n' ' ' < "$image.txt")"; fail=1; continue; }
  echo "OK   $image refused: $(tr '\n' ' ' < "$image.txt")"
done
# Damaged images: truncated and overwritten copies must fail or read, never crash or hang.
for image in img.E01 sparse.vmdk stream.vmdk dynamic.vhd dynamic.vhdx compressed.qcow2; do
  [ -f "$image" ] || continue
  size=$(stat -c %s "$image")
  for cut in 1000 $((size / 3)) $((size - 700)); do
    head -c "$cut" "$image" > damaged.img
    rc=0; timeout 60 ./check damaged.img damaged.out > /dev/null || rc=$?
    [ $rc -ge 124 ] && { echo "FAIL $image cut at $cut: exit $rc"; fail=1; }
  done
  for seed in 1 2 3 4 5 6; do
    cp "$image" damaged.img
    python3 - "$seed" <<'PY'
import random, sys, os
r = random.Random(int(sys.argv[1])); f = open("damaged.img", "r+b"); n = os.path.getsize("damaged.img")
for _ in range(40):
    f.seek(r.randrange(0, min(n, 1 << 16) if r.random() < 0.7 else n)); f.write(bytes(r.randrange(256) for _ in range(r.randrange(1, 9))))
PY
    rc=0; timeout 120 ./check damaged.img damaged.out > /dev/null || rc=$?
    [ $rc -ge 124 ] && { echo "FAIL $image damaged (seed $seed): exit $rc"; fail=1; }
  done
done
[ $fail = 0 ] && echo "containers: all checks passed ($work)" || { echo "containers: some checks failed ($work)"; exit 1; }
