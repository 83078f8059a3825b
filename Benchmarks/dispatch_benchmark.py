#!/usr/bin/env python3
"""WADUP dispatch benchmark: what twenty modules cost when one of them accepts the contents.

Twenty modules in one run: `byte_counter` (no manifest: it accepts everything) and 19 copies of
it given manifests (`wadup manifest --set`) that accept other kinds: each its own magic number
at the start, another at the end, and a file-name glob, all checked on every content. (No MIME
patterns: the run has no identifier, and an untyped content matches every MIME pattern.)
Baseline, in the same run: `byte_counter` alone over the same 20,000 small files. Target:
<= 1.2x. A third line runs the twenty with --no-dispatch, to show what dispatch saves.

Usage: python3 Benchmarks/dispatch_benchmark.py [--small N] [--modules K]
"""
import argparse, json, os, random, shutil, subprocess, sys, tempfile

from benchcorpus import small_files
from host_benchmark import WADUP, STANDARD, best, run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=20000)
    ap.add_argument("--modules", type=int, default=20)
    args = ap.parse_args()
    source = os.path.join(STANDARD, "byte_counter.wasm")
    if not os.path.exists(WADUP) or not os.path.exists(source):
        sys.exit("build first: bash scripts/setup.sh")
    work = tempfile.mkdtemp(prefix="wadup-dispatch-")
    try:
        inputs = small_files(os.path.join(work, "in"), args.small, random.Random(22))
        one = os.path.join(work, "one")
        many = os.path.join(work, "many")
        os.makedirs(one)
        os.makedirs(many)
        shutil.copy(source, one)
        shutil.copy(source, many)
        for k in range(1, args.modules):
            target = os.path.join(many, f"other_{k:02d}.wasm")
            shutil.copy(source, target)
            manifest = os.path.join(work, f"m{k}.json")
            with open(manifest, "w") as f:
                json.dump({"version": 1, "accepts": {
                    "magic": [{"offset": 0, "hex": f"ff{k:02x}57414455"}, {"offset": -4, "hex": f"{k:02x}eeeeee"}],
                    "names": [f"*.kind{k}"]}}, f)
            subprocess.run([WADUP, "manifest", target, "--set", manifest], check=True, stdout=subprocess.DEVNULL)
        out = os.path.join(work, "out.db")

        def once(modules, extra=()):
            if os.path.exists(out):
                os.remove(out)
            return run([WADUP, "--modules", modules, "--input", inputs, "--output", out, "--threads", "2", *extra])

        alone = best(3, lambda: once(one))
        twenty = best(3, lambda: once(many))
        everything = best(3, lambda: once(many, ["--no-dispatch"]))
        n = args.small
        print(f"{n} files of 1-8 KiB, 2 threads, best of 3")
        print(f"  byte_counter alone:                        {alone[0]:6.2f} s  {n / alone[0]:8.0f} contents/s  (baseline)")
        print(f"  {args.modules} modules, 1 accepts (dispatch):          {twenty[0]:6.2f} s  {n / twenty[0]:8.0f} contents/s  {twenty[0] / alone[0]:.2f}x")
        print(f"  {args.modules} modules, --no-dispatch (all run):       {everything[0]:6.2f} s  {n / everything[0]:8.0f} contents/s  {everything[0] / alone[0]:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
