#!/usr/bin/env python3
"""How WADUP reads its inputs: the cost of reading with pread instead of mmap, and no regression.

Measures, in one run, every time the best of 3 (page cache warm, so the read mechanism is what
differs, not the disk; with --before, the two binaries take turns run by run):
  1. the mechanism alone, in Python over the same file: SHA-256 of a GIB-GiB file through a
     read-only mmap (MADV_SEQUENTIAL, 16 MiB windows given back with MADV_DONTNEED: what WADUP
     did) against pread into one reused 1 MiB buffer (what WADUP does now);
  2. `wadup` hashing that file (a trivial module: the host's SHA-256 is the work) and a module
     reading every byte through read_content, against `sha256sum` of it;
  3. 20,000 small files (trivial module, 2 threads) and a JDK's folder (the standard modules,
     2 threads), where most inputs are under the 1 MiB read-at-once threshold.
With --before BINARY (a wadup built from an earlier commit, e.g. `git worktree add /tmp/before
COMMIT && cd /tmp/before && swift build -c release`), steps 2 and 3 run it too, interleaved.

Usage: python3 Benchmarks/input_read_benchmark.py [--gib 4] [--small 20000] [--jdk DIR] [--before BINARY]
"""
import argparse, hashlib, mmap, os, random, shutil, subprocess, sys, tempfile, time

from benchcorpus import small_files, wat_modules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.path.join(ROOT, ".build", "release", "wadup")
STANDARD = os.path.join(ROOT, ".build", "guest-modules", "standard")


def best(fn, runs=3):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def sha_mmap(path):
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        m = mmap.mmap(f.fileno(), size, prot=mmap.PROT_READ)
        m.madvise(mmap.MADV_SEQUENTIAL)
        view = memoryview(m)
        h = hashlib.sha256()
        window = 16 << 20
        for offset in range(0, size, window):
            n = min(window, size - offset)
            h.update(view[offset:offset + n])
            m.madvise(mmap.MADV_DONTNEED, offset, n - n % mmap.PAGESIZE)
        view.release()
        m.close()
        return h.hexdigest()


def sha_pread(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        buffer = bytearray(1 << 20)
        view = memoryview(buffer)
        h = hashlib.sha256()
        offset = 0
        while offset < size:
            n = os.preadv(fd, [view[:min(len(buffer), size - offset)]], offset)
            if n <= 0:
                raise OSError("short read")
            h.update(view[:n])
            offset += n
        return h.hexdigest()
    finally:
        os.close(fd)


def quiet(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=int, default=4)
    ap.add_argument("--small", type=int, default=20000)
    ap.add_argument("--jdk", default="/usr/lib/jvm/temurin-25-jdk-amd64")
    ap.add_argument("--before", help="an earlier wadup binary to compare with")
    args = ap.parse_args()
    if not os.path.exists(WADUP) or not os.path.exists(os.path.join(STANDARD, "zip_parser.wasm")):
        sys.exit("build first: bash scripts/setup.sh")
    binaries = [("wadup", WADUP)] + ([("before", os.path.abspath(args.before))] if args.before else [])
    work = tempfile.mkdtemp(prefix="wadup-read-bench-")
    try:
        mods = wat_modules(work, ["trivial", "reader"])
        rnd = random.Random(42)
        big_dir = os.path.join(work, "big")
        os.makedirs(big_dir)
        big = os.path.join(big_dir, "big.bin")
        block = rnd.randbytes(64 << 20)
        with open(big, "wb") as f:
            for i in range(args.gib * 16):
                f.write(block[i % 7:] + block[:i % 7])
        small = small_files(os.path.join(work, "small"), args.small, rnd)
        out = os.path.join(work, "out.db")
        quiet(["sh", "-c", f"cat {big} > /dev/null; find {small} -type f -print0 | xargs -0 cat > /dev/null"])
        if os.path.isdir(args.jdk):
            quiet(["sh", "-c", f"find {args.jdk} -type f -print0 | xargs -0 cat > /dev/null"])

        def wadup(binary, modules, inputs, threads):
            return lambda: quiet([binary, "--modules", modules, "--input", inputs, "--output", out, "--overwrite", "--threads", str(threads)])

        gib = args.gib
        mb = gib * 1073.741824
        assert sha_mmap(big) == sha_pread(big)
        t_mmap = best(lambda: sha_mmap(big))
        t_pread = best(lambda: sha_pread(big))
        t_sum = best(lambda: quiet(["sha256sum", big]))
        # The binaries take turns, run by run, so that a slow moment of the machine falls on both.
        results = {label: {} for label, _ in binaries}
        workloads = [("hash", mods["trivial"], big_dir, 1), ("read", mods["reader"], big_dir, 1), ("small", mods["trivial"], small, 2)]
        if os.path.isdir(args.jdk):
            workloads.append(("jdk", STANDARD, args.jdk, 2))
        for key, modules, inputs, threads in workloads:
            for _ in range(3):
                for label, binary in binaries:
                    t = best(wadup(binary, modules, inputs, threads), runs=1)
                    results[label][key] = min(t, results[label].get(key, t))
        now = results["wadup"]
        before = results.get("before")

        print(f"| measurement | WADUP | baseline (same run) | ratio |")
        print(f"|---|---|---|---|")
        print(f"| SHA-256 of a {gib} GiB file in Python: pread into a 1 MiB buffer | {mb / t_pread:,.0f} MB/s | mmap, 16 MiB windows, MADV_DONTNEED behind: {mb / t_mmap:,.0f} MB/s | {t_mmap / t_pread:.2f}x |")
        print(f"| wadup hashing a {gib} GiB file (trivial module) | {mb / now['hash']:,.0f} MB/s ({now['hash']:.2f} s) | sha256sum: {mb / t_sum:,.0f} MB/s ({t_sum:.2f} s) | {t_sum / now['hash']:.2f}x |")
        if before:
            print(f"| the same, earlier build (mmap) | {mb / before['hash']:,.0f} MB/s ({before['hash']:.2f} s) | this build: {now['hash']:.2f} s | {before['hash'] / now['hash']:.2f}x |")
        print(f"| wadup, a module reading every byte of the {gib} GiB file (read_content) | {mb / now['read']:,.0f} MB/s ({now['read']:.2f} s) | sha256sum: {t_sum:.2f} s | {t_sum / now['read']:.2f}x |")
        if before:
            print(f"| the same, earlier build (mmap) | {mb / before['read']:,.0f} MB/s ({before['read']:.2f} s) | this build: {now['read']:.2f} s | {before['read'] / now['read']:.2f}x |")
        n = args.small
        if before:
            print(f"| {n} small files, trivial module, 2 threads | {n / now['small']:,.0f} contents/s | earlier build: {n / before['small']:,.0f} contents/s | {before['small'] / now['small']:.2f}x |")
        else:
            print(f"| {n} small files, trivial module, 2 threads | {n / now['small']:,.0f} contents/s | | |")
        if "jdk" in now:
            if before:
                print(f"| {args.jdk}, standard modules, 2 threads | {now['jdk']:.2f} s | earlier build: {before['jdk']:.2f} s | {before['jdk'] / now['jdk']:.2f}x |")
            else:
                print(f"| {args.jdk}, standard modules, 2 threads | {now['jdk']:.2f} s | | |")
        print("(ratios: baseline time / WADUP time; above 1 is WADUP faster)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
