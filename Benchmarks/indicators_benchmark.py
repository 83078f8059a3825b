#!/usr/bin/env python3
"""indicators benchmark: the module against GNU `strings -a -n 6` plus `strings -a -n 6 -el`, same run.

The corpus is real files of this machine (programs and libraries under /usr/bin and
/usr/lib/x86_64-linux-gnu, each at most 64 MiB, the module's bound, so both sides read every byte)
plus the Windows PE files found under Python's folders, up to --mib MiB, linked into one folder.

  - native: one `strings -a -n 6` process over every file, then one `strings -a -n 6 -el` (output
    to /dev/null): the two scans the module does, without finding anything in the strings.
  - wadup: a run with only indicators.wasm (--no-dedup --follow-symlinks), 1 and 2 threads: the
    host reads and hashes each file, the module finds the strings of both encodings and the
    indicators in them and inserts the rows.
  - byte_counter: the same run with byte_counter, when it is built: what the host costs alone.
Each time is the best of 3 runs, interleaved: wall-clock and CPU (user + system, of the process and its
children: on a shared machine the steadier figure). MB/s are of the corpus (bytes / time).
Usage: python3 Benchmarks/indicators_benchmark.py [--mib N] [--wadup PATH]
"""
import argparse, os, shutil, subprocess, tempfile, time

from benchlib import regular_files, timed, windows_pe_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDARD = os.path.join(ROOT, ".build", "guest-modules", "standard")
BOUND = 64 << 20


def corpus(limit):
    picked, total = [], 0
    for root in ["/usr/bin", "/usr/lib/x86_64-linux-gnu"]:
        for p, size in regular_files(root, min_size=6, max_size=BOUND):
            if total < limit:
                picked.append(p)
                total += size
    for p in windows_pe_files():
        picked.append(p)
        total += os.path.getsize(p)
    return picked, total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=300)
    parser.add_argument("--wadup", default=os.path.join(ROOT, ".build", "release", "wadup"))
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="wadup-indicators-bench-")
    try:
        files, total = corpus(args.mib << 20)
        inputs = os.path.join(work, "in")
        os.makedirs(inputs)
        for i, p in enumerate(files):
            os.symlink(p, os.path.join(inputs, "%05d" % i))
        listing = os.path.join(work, "files")
        with open(listing, "wb") as f:
            f.write(b"\0".join(p.encode() for p in files))
        print(f"corpus: {len(files)} files, {total / 1e6:.0f} MB")

        def native():
            a = timed(["sh", "-c", f"xargs -0 strings -a -n 6 < '{listing}'"])
            b = timed(["sh", "-c", f"xargs -0 strings -a -n 6 -el < '{listing}'"])
            return a[0] + b[0], a[1] + b[1]

        def run(module, threads):
            modules = os.path.join(work, "m-" + module)
            if not os.path.isdir(modules):
                os.makedirs(modules)
                shutil.copy(os.path.join(STANDARD, module + ".wasm"), modules)
            out = os.path.join(work, "out.db")
            def once():
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(out + suffix):
                        os.remove(out + suffix)
                return timed([args.wadup, "--modules", modules, "--input", inputs, "--output", out, "--no-dedup",
                              "--follow-symlinks", "--threads", str(threads)])
            return once

        runs = [("strings -a -n 6 + -el (1 process each)", native), ("wadup indicators, 1 thread", run("indicators", 1)),
                ("wadup indicators, 2 threads", run("indicators", 2))]
        if os.path.exists(os.path.join(STANDARD, "byte_counter.wasm")):
            runs.append(("wadup byte_counter, 1 thread (host alone)", run("byte_counter", 1)))
        times = [[fn() for _, fn in runs] for _ in range(3)]
        wall = [min(t[i][0] for t in times) for i in range(len(runs))]
        cpu = [min(t[i][1] for t in times) for i in range(len(runs))]
        print(f"  {'':<44}{'wall s':>8}{'MB/s':>7}{'ratio':>7}{'CPU s':>8}{'MB/s':>7}{'ratio':>7}")
        for (label, _), w, c in zip(runs, wall, cpu):
            print(f"  {label:<44}{w:>8.2f}{total / w / 1e6:>7.0f}{w / wall[0]:>6.2f}x{c:>8.2f}{total / c / 1e6:>7.0f}{c / cpu[0]:>6.2f}x")
        out = os.path.join(work, "out.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(out + suffix):
                os.remove(out + suffix)
        subprocess.run([args.wadup, "--modules", os.path.join(work, "m-indicators"), "--input", inputs, "--output", out,
                        "--no-dedup", "--follow-symlinks"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows = subprocess.run(["sqlite3", out, "SELECT kind, count(*) FROM indicators GROUP BY kind"], capture_output=True, text=True).stdout
        print("  rows: " + ", ".join(rows.split()))
        print(f"  indicators.wasm: {os.path.getsize(os.path.join(STANDARD, 'indicators.wasm'))} bytes")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
