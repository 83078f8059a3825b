#!/usr/bin/env python3
"""WADUP's two engines side by side, through `wadup` itself, in one run.

On the generated ZIP benchmark archive (Benchmarks/zip_benchmark.py's generator) and on the
sample inputs, each engine runs the same modules into a fresh database; times are the best of 3.

  - zip_parser's `process` on the archive (from __wadup_modules): inflate, CRC-32, emit, rows;
  - the whole run, standard modules, 2 threads: wall time;
  - the cost of the limits on wasmtime: the same zip_parser run with `--fuel` (metering), with
    `--timeout 0` (no deadline; the epoch checks stay compiled in, for Ctrl-C), and on an engine
    built without epoch checks (the hidden `--tuning no-epoch`, which exists only for this measurement);
  - a run over the 7 sample files (Tests/Fixtures/peer-wadup2) with a cold compile cache and
    with a warm one.

Usage: python3 Benchmarks/engine_comparison.py [--entries N] [--mb M]
Needs: bash scripts/setup.sh (release build, wasmtime's library, the guest modules)
"""
import argparse, os, shutil, sqlite3, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from zip_benchmark import STANDARD, make_archive, module_ms, run_wadup  # noqa: E402

SAMPLES = os.path.join(ROOT, "Tests", "Fixtures", "peer-wadup2")


def best(fn, runs=3):
    return min(fn() for _ in range(runs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--mb", type=int, default=210)
    args = ap.parse_args()
    if not os.path.exists(os.path.join(STANDARD, "zip_parser.wasm")):
        sys.exit("build first: bash scripts/setup.sh")
    work = tempfile.mkdtemp(prefix="wadup-engines-")
    try:
        indir = os.path.join(work, "in")
        zip_only = os.path.join(work, "zip-only")
        os.makedirs(indir)
        os.makedirs(zip_only)
        archive = os.path.join(indir, "bench.zip")
        total = make_archive(archive, args.entries, args.mb)
        shutil.copy(os.path.join(STANDARD, "zip_parser.wasm"), zip_only)
        out = os.path.join(work, "out.db")
        cache = os.path.join(work, "cache")

        def zip_parser(engine, *extra):
            def once():
                run_wadup(zip_only, indir, out, "--engine", engine, "--max-recursion-depth", "0", "--cache-dir", cache, *extra)
                db = sqlite3.connect(out)
                ms = module_ms(db, "zip_parser")
                emitted = db.execute("select sum(emitted) from zip_entries").fetchone()[0]
                db.close()
                if emitted != args.entries:
                    sys.exit(f"{engine}: {emitted} entries emitted, expected {args.entries}")
                return ms / 1000
            return best(once)

        def whole(engine):
            return best(lambda: run_wadup(STANDARD, indir, out, "--engine", engine, "--threads", "2", "--cache-dir", cache)[0])

        def samples(engine, cold):
            def once():
                if cold:
                    shutil.rmtree(cache, ignore_errors=True)
                return run_wadup(STANDARD, SAMPLES, out, "--engine", engine, "--cache-dir", cache)[0]
            return best(once)

        zk, zw = zip_parser("wasmkit"), zip_parser("wasmtime")
        zfuel = zip_parser("wasmtime", "--fuel", "1000000000000")
        znotimeout = zip_parser("wasmtime", "--timeout", "0")
        # An engine without epoch checks (the hidden --tuning switch): only to measure them.
        znoepoch = zip_parser("wasmtime", "--timeout", "0", "--tuning", "no-epoch")
        wk, ww = whole("wasmkit"), whole("wasmtime")
        sk, swc, sww = samples("wasmkit", True), samples("wasmtime", True), samples("wasmtime", False)

        mb = total / 1e6
        print(f"archive: {args.entries} entries, {mb:.0f} MB uncompressed; best of 3 runs each")
        print("| measurement | WasmKit | wasmtime | wasmtime vs WasmKit |")
        print("|---|---|---|---|")
        print(f"| zip_parser's process (inflate, CRC-32, emit, rows) | {zk:.2f} s ({mb / zk:.0f} MB/s) | {zw:.2f} s ({mb / zw:.0f} MB/s) | {zk / zw:.2f}x faster |")
        print(f"| whole run, standard modules, 2 threads | {wk:.2f} s | {ww:.2f} s | {wk / ww:.2f}x faster |")
        print(f"| 7 sample files, cold compile cache | {sk:.3f} s | {swc:.3f} s | |")
        print(f"| 7 sample files, warm compile cache | | {sww:.3f} s | |")
        print()
        print("| wasmtime limits (zip_parser's process) | time | vs default (--timeout 60) |")
        print("|---|---|---|")
        print(f"| default: epoch checks, 60 s timeout | {zw:.2f} s | 1.00x |")
        print(f"| --timeout 0 (epoch checks still compiled in, no deadline) | {znotimeout:.2f} s | {znotimeout / zw:.2f}x |")
        print(f"| no epoch checks compiled in (--tuning no-epoch, measuring only) | {znoepoch:.2f} s | {znoepoch / zw:.2f}x |")
        print(f"| --fuel 10^12 (fuel metering on) | {zfuel:.2f} s | {zfuel / zw:.2f}x |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
