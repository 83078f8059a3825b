#!/usr/bin/env python3
"""hashes benchmark: the `hashes` module against the native tools, same run, same files.

  - inputs: real files of this machine (programs, libraries, documentation), sorted, until --mib MiB,
    each at most 64 MiB; linked from a folder so both sides read the same files.
  - WADUP: `wadup --modules DIR` with only hashes.wasm, default threads (the number of cores),
    --no-dedup (every file hashed, as the tools do), output to a fresh database; and the same with
    --threads 1 (one core, as each tool uses).
  - native: md5sum, sha1sum, `ssdeep -b` and `tlsh -r` (the same digest as `tlsh -f`, one process for
    the folder) run one after another over the same files, each one process for all of them. Python's
    entropy is left out of the baseline: it is the slowest of all (collections.Counter in pure
    Python), so counting it would flatter the module; its time is printed apart.
  - every time is the best of --runs runs, WADUP and the tools interleaved (page cache warm for both).
  - module size, and the fuel the module uses per byte on the set (`wadup try`).
Usage: python3 Benchmarks/hashes_benchmark.py [--mib N] [--runs N] [--wadup PATH]
"""
import argparse, collections, math, os, re, shutil, subprocess, tempfile, time

from benchlib import real_files, timed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.path.join(ROOT, ".build", "release", "wadup")
MODULE = os.path.join(ROOT, ".build", "guest-modules", "standard", "hashes.wasm")


def entropy(path):
    counts, n = collections.Counter(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            n += len(chunk)
            counts.update(chunk)
    return -sum(c / n * math.log2(c / n) for _, c in sorted(counts.items())) if n else 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=400, help="size of the file set (MiB)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wadup", default=WADUP, help="the wadup binary (default: this checkout's release build)")
    args = parser.parse_args()
    wadup_binary = args.wadup
    work = tempfile.mkdtemp(prefix="wadup-hashes-bench-")
    try:
        files, total = real_files(args.mib << 20, 64 << 20, ["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/share/doc", "/usr/share"])
        inputs = os.path.join(work, "inputs")
        os.mkdir(inputs)
        for i, p in enumerate(files):
            os.symlink(p, os.path.join(inputs, "%06d" % i))
        links = [os.path.join(inputs, n) for n in sorted(os.listdir(inputs))]
        modules = os.path.join(work, "modules")
        os.mkdir(modules)
        shutil.copy(MODULE, modules)
        out = os.path.join(work, "out.db")

        def wadup(*extra):
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(out + suffix):
                    os.remove(out + suffix)
            return timed([wadup_binary, "--modules", modules, "--input", inputs, "--output", out, "--follow-symlinks", "--no-dedup", *extra])[0]

        tools = {
            "md5sum": ["md5sum", "--", *links],
            "sha1sum": ["sha1sum", "--", *links],
            "ssdeep -b": ["ssdeep", "-b", *links],
            "tlsh -r": ["tlsh", "-r", inputs],
        }
        best_wadup, best_one, best_tool = float("inf"), float("inf"), {name: float("inf") for name in tools}
        for _ in range(args.runs):
            best_wadup = min(best_wadup, wadup())
            best_one = min(best_one, wadup("--threads", "1"))
            for name, cmd in tools.items():
                best_tool[name] = min(best_tool[name], timed(cmd)[0])
        native = sum(best_tool.values())
        start = time.perf_counter()
        for p in links:
            entropy(p)
        python_entropy = time.perf_counter() - start

        # The module's fuel per byte over the set (wadup try meters fuel; its time is not the run's).
        said = subprocess.run([wadup_binary, "try", "--fuel", str(1 << 62), "--timeout", "0", MODULE, *links[:200]],
                              capture_output=True, text=True).stdout
        fuel = sum(int(x) for x in re.findall(r"fuel used (\d+)", said))
        tried = sum(os.path.getsize(p) for p in links[:200])

        print(f"files: {len(files)}, {total / 1e6:.1f} MB; cores: {os.cpu_count()}; best of {args.runs}")
        for name, t in best_tool.items():
            print(f"  {name:10s} {t:7.2f} s  {total / 1e6 / t:7.1f} MB/s")
        print(f"  native, one after another: {native:.2f} s ({total / 1e6 / native:.1f} MB/s)")
        print(f"  wadup with hashes:         {best_wadup:.2f} s ({total / 1e6 / best_wadup:.1f} MB/s)")
        print(f"  ratio wadup / native:      {best_wadup / native:.2f}x")
        print(f"  wadup --threads 1:         {best_one:.2f} s ({total / 1e6 / best_one:.1f} MB/s), ratio {best_one / native:.2f}x")
        print(f"  (python entropy alone, not in the baseline: {python_entropy:.2f} s; with it the ratio is "
              f"{best_wadup / (native + python_entropy):.2f}x)")
        print(f"hashes.wasm: {os.path.getsize(MODULE)} bytes; fuel per byte on the first 200 files: {fuel / max(tried, 1):.0f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
