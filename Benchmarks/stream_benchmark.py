#!/usr/bin/env python3
"""WADUP streaming benchmark: a module streams a 4 GiB sub-content (4096 writes of 1 MiB of
non-zero bytes) through emit_stream_write; the host hashes it (SHA-256) and writes it to an
unlinked file in --temp-dir. Measured against the same run with no stream (the module's own cost
and the start-up) and, in the same run, the native floor: `dd` of 4 GiB into a file in the same
folder, then `sha256sum` of it.

Usage: python3 Benchmarks/stream_benchmark.py [--temp-dir DIR] [--gib N] [--runs N]
"""
import argparse, os, subprocess, sys, tempfile, time

from benchcorpus import wat_modules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.path.join(ROOT, ".build", "release", "wadup")


def timed(cmd, **kw):
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {p.stderr.decode()}")
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--temp-dir", default=tempfile.gettempdir())
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    size = 4 << 30
    with tempfile.TemporaryDirectory() as work:
        modules = wat_modules(work, ["streamer"])["streamer"]
        seed = os.path.join(work, "in")
        os.makedirs(seed)
        with open(os.path.join(seed, "seed"), "wb") as f:
            f.write(b"x")
        empty = os.path.join(work, "empty-in")
        os.makedirs(empty)
        with open(os.path.join(empty, "seed"), "wb") as f:
            f.write(b"y" * 100)  # more than 64 bytes: the module streams nothing
        out = os.path.join(work, "out.db")

        def wadup(inputs):
            return timed([WADUP, "--modules", modules, "--input", inputs, "--output", out, "--overwrite", "--threads", "1",
                          "--temp-dir", args.temp_dir, "--timeout", "0"])

        base = min(wadup(empty) for _ in range(args.runs))
        streamed = min(wadup(seed) for _ in range(args.runs))
        target = os.path.join(args.temp_dir, "wadup-stream-bench.bin")
        try:
            dd = min(timed(["dd", "if=/dev/zero", f"of={target}", "bs=1M", "count=4096", "status=none"]) for _ in range(args.runs))
            sha = min(timed(["sha256sum", target]) for _ in range(args.runs))
        finally:
            if os.path.exists(target):
                os.remove(target)
    mb = size / 1e6
    net = streamed - base
    print(f"stream of 4 GiB through the host (1 MiB writes), best of {args.runs}, temp dir {args.temp_dir}:")
    print(f"  wadup run with the stream        {streamed:7.2f} s")
    print(f"  wadup run without it (baseline)  {base:7.2f} s")
    print(f"  streaming, hashing included      {net:7.2f} s  = {mb / net:7.0f} MB/s")
    print(f"  native: dd 4 GiB to a file       {dd:7.2f} s  = {mb / dd:7.0f} MB/s")
    print(f"  native: sha256sum of it          {sha:7.2f} s  = {mb / sha:7.0f} MB/s")
    print(f"  native: dd then sha256sum        {dd + sha:7.2f} s  = {mb / (dd + sha):7.0f} MB/s")


if __name__ == "__main__":
    main()
