#!/usr/bin/env python3
"""Format modules benchmark: `archive` and `file_type` against the native tools, same run.

  - archive: a tar of ~200 MB of real files of this machine (programs, libraries, documentation,
    the Swift toolchain), compressed by gzip, xz and zstd. WADUP with only the archive module and
    --max-recursion-depth 0 (decompress, emit every file, the host hashes and records it; the files
    are not processed again) against the native command line doing the same decompression and
    unpacking: `tar -xzf`/`-xJf`/`--zstd -xf` into a tmpfs (/dev/shm). Also shown: the full
    recursive run (every compressed file inside unpacked in turn), which tar does not do, and a
    second native baseline doing WADUP's work: unpack, then `sha256sum` every file.
  - file_type: 10,000 real files; WADUP with only file_type (--no-dedup, 1 and 2 threads) against
    one `file -b` process over the same files (the database loaded once, as in the module).
  - module sizes, and the start-up cost of an instance: a run over one empty file with the module
    minus the same run with byte_counter (compile cache warm).
Each time is the best of 3 runs (the archive ones interleaved). Usage: python3 Benchmarks/formats_benchmark.py [--mib N] [--files N]
"""
import argparse, os, shutil, subprocess, sys, tempfile, time

from benchlib import real_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.path.join(ROOT, ".build", "release", "wadup")
STANDARD = os.path.join(ROOT, ".build", "guest-modules", "standard")


def timed(cmd, **kw):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - start


def best(fn, runs=3):
    return min(fn() for _ in range(runs))


def modules_dir(work, names):
    d = tempfile.mkdtemp(dir=work)
    for n in names:
        shutil.copy(os.path.join(STANDARD, n + ".wasm"), d)
    return d


def wadup(modules, inputs, out, *extra):
    def once():
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(out + suffix):
                os.remove(out + suffix)
        return timed([WADUP, "--modules", modules, "--input", inputs, "--output", out, *extra])
    return once


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--archive-only", action="store_true", help="skip the file_type part")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="wadup-formats-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        roots = ["/usr/lib/x86_64-linux-gnu", "/usr/share/doc", "/usr/bin", "/opt/swift/usr/lib/swift/linux"]
        files, total = real_files(args.mib << 20, 16 << 20, roots)
        listing = os.path.join(work, "files.txt")
        with open(listing, "w") as f:
            f.write("\n".join(p.lstrip("/") for p in files) + "\n")
        tar = os.path.join(work, "real.tar")
        subprocess.run(["tar", "-C", "/", "-cf", tar, "-T", listing], check=True, stderr=subprocess.DEVNULL)
        print(f"archive: {len(files)} real files, {total / 1e6:.0f} MB in the tar")
        archive_modules = modules_dir(work, ["archive"])
        rows = []
        for tool, suffix, flag, compress in (("gzip", "tar.gz", "-xzf", ["gzip", "-6", "-c"]),
                                             ("xz", "tar.xz", "-xJf", ["xz", "-T2", "-6", "-c"]),
                                             ("zstd", "tar.zst", "--zstd -xf", ["zstd", "-q", "-3", "-c"])):
            folder = os.path.join(work, suffix)
            os.makedirs(folder)
            packed = os.path.join(folder, "real." + suffix)
            with open(tar, "rb") as i, open(packed, "wb") as o:
                subprocess.run(compress, stdin=i, stdout=o, check=True)
            def native():
                target = os.path.join(work, "x")
                shutil.rmtree(target, ignore_errors=True)
                os.makedirs(target)
                t = timed(["tar", *flag.split(), packed, "-C", target])
                shutil.rmtree(target)
                return t
            def native_hashed():
                # The same work as WADUP's: unpack, then a SHA-256 of every file (sha256sum).
                target = os.path.join(work, "x")
                shutil.rmtree(target, ignore_errors=True)
                os.makedirs(target)
                t = timed(["sh", "-c", f"tar {flag} '{packed}' -C '{target}' && find '{target}' -type f -print0 | xargs -0 -r sha256sum >/dev/null"])
                shutil.rmtree(target)
                return t
            # The same work as tar -x: decompress, emit every file (hashed and recorded by the host),
            # the files themselves not processed again. Interleaved (native, hashed, wadup) three
            # times, best of each: this VM has slow spells that a block of runs would land in whole.
            shallow = wadup(archive_modules, folder, os.path.join(work, "a.db"), "--max-recursion-depth", "0")
            times = [(native(), native_hashed(), shallow()) for _ in range(3)]
            n, h, w = (min(t[i] for t in times) for i in range(3))
            # Then the whole job: every compressed file inside unpacked in turn.
            r = best(wadup(archive_modules, folder, os.path.join(work, "a.db")), runs=1)
            rows.append((suffix, os.path.getsize(packed) / 1e6, n, h, w, r))
            os.remove(packed)
        print(f"{'input':<10}{'packed MB':>10}{'tar -x s':>10}{'+sha256sum s':>14}{'wadup s':>10}{'vs tar':>8}{'vs +sha':>9}{'recursive s':>13}")
        for suffix, size, n, h, w, r in rows:
            print(f"{suffix:<10}{size:>10.0f}{n:>10.2f}{h:>14.2f}{w:>10.2f}{w / n:>7.2f}x{w / h:>8.2f}x{r:>13.2f}")
        os.remove(tar)

        if args.archive_only:
            return
        # file_type over N real files, copied flat into one folder.
        sample, _ = real_files(1 << 40, 4 << 20, ["/usr/share", "/usr/lib", "/usr/bin", "/etc"])
        step = max(1, len(sample) // args.files)
        sample = sample[::step][:args.files]
        flat = os.path.join(work, "flat")
        os.makedirs(flat)
        for i, p in enumerate(sample):
            shutil.copyfile(p, os.path.join(flat, "%05d" % i))
        names = sorted(os.listdir(flat))
        env = dict(os.environ, LC_ALL="C", TZ="UTC")
        native = best(lambda: timed(["file", "-b", "--", *names], cwd=flat, env=env))
        native_mime = best(lambda: timed(["file", "-b", "--mime-type", "--", *names], cwd=flat, env=env))
        ft = modules_dir(work, ["file_type"])
        one = best(wadup(ft, flat, os.path.join(work, "f.db"), "--no-dedup", "--threads", "1"))
        two = best(wadup(ft, flat, os.path.join(work, "f.db"), "--no-dedup", "--threads", "2"))
        print(f"file_type: {len(names)} files; `file -b` {native:.2f} s + `file --mime-type` {native_mime:.2f} s "
              f"= {native + native_mime:.2f} s (the module answers both)")
        print(f"  wadup 1 thread {one:.2f} s ({one / (native + native_mime):.2f}x), 2 threads {two:.2f} s ({two / (native + native_mime):.2f}x)")

        # Sizes and start-up cost of an instance.
        empty = os.path.join(work, "empty")
        os.makedirs(empty)
        open(os.path.join(empty, "e"), "wb").close()
        base = best(wadup(modules_dir(work, ["byte_counter"]), empty, os.path.join(work, "s.db"), "--threads", "1"), runs=5)
        for m in ("archive", "file_type"):
            t = best(wadup(modules_dir(work, [m]), empty, os.path.join(work, "s.db"), "--threads", "1"), runs=5)
            size = os.path.getsize(os.path.join(STANDARD, m + ".wasm"))
            print(f"{m}: {size / 1e6:.2f} MB module; one run over one empty file {t * 1000:.0f} ms vs byte_counter {base * 1000:.0f} ms "
                  f"(+{(t - base) * 1000:.0f} ms: instantiate + first use)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
