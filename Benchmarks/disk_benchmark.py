#!/usr/bin/env python3
"""The standard `disk` module against The Sleuth Kit run natively, on large file systems.

Images (made once into --work, kept for the next run): an ext4 file system (`mke2fs -t ext4 -d`)
and an NTFS one (`mkntfs`, filled through an ntfs-3g FUSE mount; left out where FUSE is not
available), --size bytes each, holding the same --files real files of this machine (/usr, sorted,
at most 8 MiB each), and the ext4 image as an E01 (`ewfacquire`, deflate fast).

Timed, whole runs, best of --repeat:
- wadup: `wadup --modules DIR --threads T` where DIR holds only disk.wasm: every entry listed into
  fs_entries, every file emitted (extents of a raw image; streamed out of the E01) and hashed
  (WADUP's SHA-256 of every content), SQLite output included;
- native: `tsk_recover -e` (every file, allocated and deleted, extracted by TSK 4.11.1 into a folder
  on tmpfs, /dev/shm, where wadup's database goes too) then `sha256sum` of every extracted file, and `fls -r -p -m` for the listing;
  for the E01, `ewfexport` to a raw image first, then the same.
The ratio is wadup's time over the native time (lower is better).

Usage: python3 Benchmarks/disk_benchmark.py [--files N] [--size BYTES] [--threads T ...] [--repeat R] [--work DIR]
(WADUP_BINARY=PATH times another built wadup; the module is .build/guest-modules/standard/disk.wasm.)
"""
import argparse, os, shutil, sqlite3, subprocess, sys, tempfile, time

from benchlib import real_files, timed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.environ.get("WADUP_BINARY", os.path.join(ROOT, ".build", "release", "wadup"))
MODULE = os.path.join(ROOT, ".build", "guest-modules", "standard", "disk.wasm")


def make_tree(folder, files):
    """Copies the files into folder, keeping their paths under /."""
    for p in files:
        dest = os.path.join(folder, p.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(p, dest)


def make_images(work, count, size):
    tree = os.path.join(work, "tree")
    stamp = os.path.join(work, f"made-{count}-{size}")
    images = {"ext4.img": os.path.join(work, "ext4.img"), "ntfs.img": os.path.join(work, "ntfs.img"), "ext4.E01": os.path.join(work, "ext4.E01")}
    if os.path.exists(stamp):
        return {k: v for k, v in images.items() if os.path.exists(v)}
    shutil.rmtree(tree, ignore_errors=True)
    files, total = real_files(size * 6 // 10, 8 << 20, ["/usr"], max_count=count)
    make_tree(tree, files)
    print(f"disk: {len(files)} files, {total / 1e6:.0f} MB of /usr", file=sys.stderr)
    for path in images.values():
        if os.path.exists(path):
            os.remove(path)
    with open(images["ext4.img"], "wb") as f:
        f.truncate(size)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", tree, images["ext4.img"]], check=True)
    with open(images["ntfs.img"], "wb") as f:
        f.truncate(size)
    subprocess.run(["mkntfs", "-q", "-F", "-Q", images["ntfs.img"]], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mount = os.path.join(work, "mnt")
    os.makedirs(mount, exist_ok=True)
    if subprocess.run(["ntfs-3g", images["ntfs.img"], mount], stderr=subprocess.DEVNULL).returncode == 0:
        try:
            subprocess.run(["cp", "-r", tree + "/.", mount], check=True)
        finally:
            subprocess.run(["umount", mount], check=True)
    else:
        print("disk: ntfs-3g could not mount (no FUSE): the NTFS image is left out", file=sys.stderr)
        os.remove(images["ntfs.img"])
    target = images["ext4.E01"][:-4]
    subprocess.run(["ewfacquire", "-u", "-q", "-t", target, "-f", "encase6", "-c", "deflate:fast", "-S", "1572864000",
                    "-C", "bench", "-D", "ext4", "-e", "wadup", "-E", "1", "-N", "benchmark", images["ext4.img"]], check=True,
                   stdout=subprocess.DEVNULL)
    shutil.rmtree(tree)
    open(stamp, "w").close()
    return {k: v for k, v in images.items() if os.path.exists(v)}


def native(image, scratch):
    """tsk_recover -e + sha256sum of every file + fls -r -p -m (an E01 exported to raw first)."""
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    steps = []
    raw = image
    if image.endswith(".E01"):
        raw = os.path.join(scratch, "export")
        steps.append(f"ewfexport -u -q -t {raw} -f raw {image} >/dev/null")
        raw += ".raw"
    out = os.path.join(scratch, "recovered")
    steps.append(f"tsk_recover -e {raw} {out} >/dev/null")
    steps.append(f"find {out} -type f -print0 | xargs -0 -r sha256sum >/dev/null")
    steps.append(f"fls -r -p -m / {raw} >/dev/null")
    wall, cpu = timed(["bash", "-c", " && ".join(steps)])
    shutil.rmtree(scratch, ignore_errors=True)
    return wall, cpu


def wadup(image, modules, scratch, threads):
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    out = os.path.join(scratch, "out.db")
    start = time.perf_counter()
    p = subprocess.Popen([WADUP, "--modules", modules, "--input", image, "--output", out, "--threads", str(threads),
                          "--max-subcontent", "10000000", "--max-rows", "100000000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"wadup failed on {image}")
    cpu = usage.ru_utime + usage.ru_stime
    rss = usage.ru_maxrss / 1024
    db = sqlite3.connect(out)
    counts = db.execute("SELECT count(*), sum(emitted) FROM fs_entries").fetchone()
    failed = db.execute("SELECT count(*) FROM __wadup_content WHERE status = 'failed'").fetchone()[0]
    db.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return wall, cpu, counts, failed, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=50000)
    ap.add_argument("--size", type=int, default=2 << 30)
    ap.add_argument("--threads", type=int, nargs="+", default=[2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "wadup-disk-benchmark"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    images = make_images(args.work, args.files, args.size)
    modules = os.path.join(args.work, "modules")
    os.makedirs(modules, exist_ok=True)
    shutil.copyfile(MODULE, os.path.join(modules, "disk.wasm"))
    # Extracted files and the output on tmpfs where there is one: the native tools' writes are not
    # timed as the disk's speed, and neither is wadup's database.
    scratch = os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else args.work, "wadup-disk-benchmark-scratch")
    print(f"disk: {args.files} files in {args.size >> 20} MiB file systems; best of {args.repeat}")
    for name, image in sorted(images.items()):
        base = min((native(image, scratch) for _ in range(args.repeat)), key=lambda r: r[0])
        print(f"  {name}: native (tsk_recover -e + sha256sum + fls -m{', after ewfexport' if name.endswith('.E01') else ''}): "
              f"{base[0]:.2f} s (CPU {base[1]:.2f} s)")
        for t in args.threads:
            runs = [wadup(image, modules, scratch, t) for _ in range(args.repeat)]
            wall, cpu, counts, failed, rss = min(runs, key=lambda r: r[0])
            print(f"  {name}: wadup disk.wasm, {t} thread(s): {wall:.2f} s (CPU {cpu:.2f} s) = {wall / base[0]:.2f}x; "
                  f"peak RSS {max(r[4] for r in runs):.0f} MiB; {counts[0]} entries, {counts[1]} files emitted, {failed} failed")


if __name__ == "__main__":
    main()
