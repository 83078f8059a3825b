#!/usr/bin/env python3
"""WADUP host benchmark: generates its corpus, runs the release binary, prints one table.

Measures, in one run and each beside a baseline from the same run:
  - contents/s for 20,000 small files (1-8 KiB) with a trivial module, 1 and 2 threads
    (baseline: the 1-thread run for scaling; `sha256sum` over the same files for a native floor);
  - MB/s of a module reading every byte of a 256 MiB file through read_content
    (baseline: `sha256sum` of the same file, i.e. native read + hash);
  - contents/s for the same files through byte_counter, sqlite_parser and zip_parser on 2 threads,
    wasmtime beside WasmKit, and through the whole default set (those three plus archive and
    file_type, which joined it later: libarchive and libmagic try every content) on wasmtime;
  - peak RSS with 2,000 and 20,000 files (memory must not grow with the number of files).
Every time is the best of 3 runs.

Usage: python3 Benchmarks/host_benchmark.py [--small N] [--big-mib M]
"""
import argparse, os, random, shutil, subprocess, sys, tempfile, time

from benchcorpus import small_files, wat_modules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.path.join(ROOT, ".build", "release", "wadup")


def run(cmd, **kw):
    """Runs cmd, returns (seconds, peak RSS in MiB, CPU seconds)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - start
    err = p.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed ({status}): {err}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def best(runs, fn):
    """Best time of `runs` runs (and the peak RSS of that run): the least disturbed measurement."""
    return min((fn() for _ in range(runs)), key=lambda r: r[0])


def wadup(modules, inputs, out, threads, runs=3, engine="wasmtime"):
    def once():
        if os.path.exists(out):
            os.remove(out)
        return run([WADUP, "--modules", modules, "--input", inputs, "--output", out, "--threads", str(threads), "--overwrite", "--engine", engine])
    return best(runs, once)


STANDARD = os.path.join(ROOT, ".build", "guest-modules", "standard")
# The three modules this benchmark has always measured; the default set has grown since.
THREE = ["byte_counter", "sqlite_parser", "zip_parser"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=20000)
    ap.add_argument("--big-mib", type=int, default=256)
    args = ap.parse_args()
    if not os.path.exists(WADUP) or not os.path.exists(os.path.join(STANDARD, "zip_parser.wasm")):
        sys.exit("build first: bash scripts/setup.sh")
    if not shutil.which("wat2wasm"):
        sys.exit("wat2wasm missing: run scripts/setup.sh (installs Debian's wabt)")
    work = tempfile.mkdtemp(prefix="wadup-bench-")
    try:
        mods = wat_modules(work, ["trivial", "reader"])
        three = os.path.join(work, "three")
        os.makedirs(three)
        for name in THREE:
            shutil.copy(os.path.join(STANDARD, name + ".wasm"), three)
        rnd = random.Random(42)

        def corpus(n):
            return small_files(os.path.join(work, f"small-{n}"), n, rnd)

        small = corpus(args.small)
        few = corpus(args.small // 10)
        big_dir = os.path.join(work, "big")
        os.makedirs(big_dir)
        big = os.path.join(big_dir, "big.bin")
        with open(big, "wb") as f:
            for _ in range(args.big_mib):
                f.write(rnd.randbytes(1 << 20))
        out = os.path.join(work, "out.db")

        # Warm the page cache so every run reads from memory.
        run(["sh", "-c", f"cat $(find {small} {few} -type f) {big} > /dev/null"])
        t1, rss1, c1 = wadup(mods["trivial"], small, out, 1)
        t2, rss2, c2 = wadup(mods["trivial"], small, out, 2)
        r1, _, rc1 = wadup(mods["reader"], small, out, 1)
        r2, _, rc2 = wadup(mods["reader"], small, out, 2)
        tf, rssf, _ = wadup(mods["trivial"], few, out, 2)
        tb, _, _ = best(3, lambda: run(["sh", "-c", f"find {small} -type f -print0 | xargs -0 sha256sum > /dev/null"]))
        sw, _, scw = wadup(three, small, out, 2)
        sk, _, _ = wadup(three, small, out, 2, engine="wasmkit")
        dw, _, dcw = wadup(STANDARD, small, out, 2)
        tr, rssr, _ = wadup(mods["reader"], big_dir, out, 1)
        ts, _, _ = best(3, lambda: run(["sha256sum", big]))

        n, mib = args.small, args.big_mib
        print(f"| measurement | WADUP | baseline (same run) | ratio |")
        print(f"|---|---|---|---|")
        print(f"| {n} small files, trivial module, 1 thread | {n / t1:,.0f} contents/s ({c1 / t1:.2f} cores busy) | sha256sum: {n / tb:,.0f} files/s | {tb / t1:.2f}x |")
        print(f"| {n} small files, trivial module, 2 threads | {n / t2:,.0f} contents/s ({c2 / t2:.2f} cores busy) | 1 thread: {n / t1:,.0f} contents/s | {t1 / t2:.2f}x |")
        print(f"| {n} small files, reader module (every byte), 1 thread | {n / r1:,.0f} contents/s ({rc1 / r1:.2f} cores busy) | | |")
        print(f"| {n} small files, reader module (every byte), 2 threads | {n / r2:,.0f} contents/s ({rc2 / r2:.2f} cores busy) | 1 thread: {n / r1:,.0f} contents/s | {r1 / r2:.2f}x |")
        print(f"| {n} small files, byte_counter + sqlite_parser + zip_parser, 2 threads | {n / sw:,.0f} contents/s ({scw / sw:.2f} cores busy) | WasmKit engine: {n / sk:,.0f} contents/s | {sk / sw:.2f}x |")
        print(f"| {n} small files, the default set ({', '.join(sorted(f[:-5] for f in os.listdir(STANDARD) if f.endswith('.wasm')))}), 2 threads | {n / dw:,.0f} contents/s ({dcw / dw:.2f} cores busy) | the three above: {n / sw:,.0f} contents/s | {sw / dw:.2f}x |")
        print(f"| {mib} MiB file, read_content of every byte, 1 thread | {mib * 1.048576 / tr:,.0f} MB/s | sha256sum: {mib * 1.048576 / ts:,.0f} MB/s | {ts / tr:.2f}x |")
        print(f"| peak RSS, {n // 10} vs {n} files (2 threads) | {rssf:.0f} MiB vs {rss2:.0f} MiB | | {rss2 / rssf:.2f}x |")
        print(f"| peak RSS, {mib} MiB file (read with pread) | {rssr:.0f} MiB | | |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
