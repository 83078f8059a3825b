#!/usr/bin/env python3
"""Python modules in WADUP (CPython 3.11 for WASI, release build) against native CPython, same run.

Three figures (issue 24's targets in brackets):
- start: one instance of a Python module made ready (interpreter started, `wadup` and the script
  imported, `init` run) for the first content it accepts, read from `wadup --verbose`'s "instance ready in N ms" line, median of
  --repeat runs; for a trivial script and for one that imports pefile (vendored, with bytecode)
  [<= 150 ms]. Native: `python3 -c 'import pefile'` (process start included) for scale.
- throughput: a trivial script (one row per content: name and size) on --small small files,
  2 threads, the whole run (start-up included) [>= 10,000 contents/s]; native baseline: one
  CPython process walking the same files and inserting the same rows into SQLite.
- pefile: the same pefile script (parse, imphash, every section's entropy) inside WADUP and in
  native CPython 3.11 (Debian's python3 and python3-pefile, the same pefile version vendored into
  the module's data folder) over the Windows PE files of this machine, whole runs, best of
  --repeat [<= 2.5x], at 1 thread and at 2.

Usage: /usr/bin/python3 Benchmarks/python_benchmark.py [--repeat R] [--small N] [--engine wasmtime|wasmkit]
The compiled-module cache is warmed first (a run's first compile of python.wasm is not timed).
"""
import argparse, hashlib, os, re, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import timed, windows_pe_files  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.environ.get("WADUP_BINARY", os.path.join(ROOT, ".build", "release", "wadup"))
NATIVE = "/usr/bin/python3"

TRIVIAL = """import wadup

rows = wadup.table("trivial_rows", {"name": str, "size": int})


def process(content):
    rows.insert((content.filename, content.size))
"""

PE_BODY = """
def summary(pe):
    return (pe.get_imphash(), pe.FILE_HEADER.Machine,
            ["%s:%d:%d:%.6f" % (s.Name.rstrip(b"\\0").decode("latin-1"), s.VirtualAddress, s.SizeOfRawData, s.get_entropy())
             for s in pe.sections])
"""

PE_MODULE = """import wadup, pefile
ACCEPTS = {"magic": [{"offset": 0, "hex": "4d5a"}]}
info = wadup.table("pe_seen", {"name": str, "imphash": str, "machine": int, "sections": int})
""" + PE_BODY + """

def process(content):
    imphash, machine, sections = summary(pefile.PE(data=bytes(content)))
    info.insert((content.filename, imphash, machine, len(sections)))
"""

PE_NATIVE = """import sys, pefile
""" + PE_BODY + """
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        imphash, machine, sections = summary(pefile.PE(data=f.read()))
"""

TRIVIAL_NATIVE = """import os, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE trivial_rows (name TEXT, size INTEGER)")
with db:
    for name in sorted(os.listdir(sys.argv[1])):
        path = os.path.join(sys.argv[1], name)
        with open(path, "rb") as f:
            data = f.read()
        db.execute("INSERT INTO trivial_rows VALUES (?, ?)", (name, len(data)))
"""


def fresh(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return path


def wadup(modules, inputs, out, threads, engine, verbose=False):
    cmd = [WADUP, "--modules", modules, "--input", inputs, "--output", fresh(out), "--threads", str(threads), "--no-dedup", "--engine", engine]
    if verbose:
        return subprocess.run(cmd + ["--verbose"], check=True, capture_output=True, text=True).stderr
    return timed(cmd)


def best(fn, repeat):
    """The fastest of `repeat` runs: (wall seconds, CPU seconds)."""
    return min((fn() for _ in range(repeat)), key=lambda t: t[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--small", type=int, default=20000)
    ap.add_argument("--engine", default="wasmtime")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="wadup-python-bench-")
    try:
        out = os.path.join(work, "out.db")
        trivial = os.path.join(work, "trivial")
        os.makedirs(trivial)
        open(os.path.join(trivial, "trivial.py"), "w").write(TRIVIAL)
        pe = os.path.join(work, "pe")
        site = os.path.join(pe, "pe_info.d", "site-packages")
        os.makedirs(site)
        open(os.path.join(pe, "pe_info.py"), "w").write(PE_MODULE)
        for item in ("pefile.py", "ordlookup"):
            src = os.path.join("/usr/lib/python3/dist-packages", item)
            (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(site, item))
        subprocess.run([NATIVE, "-m", "compileall", "-q", site], check=True)

        one = os.path.join(work, "one")
        os.makedirs(one)
        open(os.path.join(one, "a.txt"), "w").write("hello\n")
        small = os.path.join(work, "small")
        os.makedirs(small)
        for i in range(args.small):
            with open(os.path.join(small, "f%05d.txt" % i), "w") as f:
                f.write(("line %d\n" % i) * (1 + i % 7))
        pes = os.path.join(work, "pes")
        os.makedirs(pes)
        seen = set()
        for path in windows_pe_files():
            blob = open(path, "rb").read()
            digest = hashlib.sha256(blob).hexdigest()
            if digest in seen:
                continue
            probe = subprocess.run([NATIVE, "-c", "import pefile, sys; pefile.PE(sys.argv[1])", path], capture_output=True)
            if probe.returncode == 0:
                seen.add(digest)
                shutil.copy(path, os.path.join(pes, "%03d-%s" % (len(seen), os.path.basename(path))))
        pe_files = sorted(os.path.join(pes, f) for f in os.listdir(pes))
        pe_bytes = sum(os.path.getsize(f) for f in pe_files)

        # Warm the compiled-module cache (python.wasm's first compile) and check the answers agree.
        wadup(pe, pes, out, 1, args.engine)
        rows = subprocess.run(["sqlite3", out, "SELECT count(*) FROM pe_seen"], capture_output=True, text=True, check=True).stdout.strip()
        if int(rows) != len(pe_files):
            sys.exit(f"pe_info read {rows} of {len(pe_files)} PE files")

        onepe = os.path.join(work, "onepe")
        os.makedirs(onepe)
        shutil.copy(pe_files[0], onepe)

        def starts(modules, inputs):
            ms = []
            for _ in range(args.repeat):
                log = wadup(modules, inputs, out, 1, args.engine, verbose=True)
                ms += [float(m) for m in re.findall(r"instance ready in ([0-9.]+) ms", log)]
            return statistics.median(ms), min(ms), max(ms)

        start_trivial = starts(trivial, one)
        start_pe = starts(pe, onepe)
        native_import = best(lambda: timed([NATIVE, "-c", "import pefile"]), args.repeat)[0]

        through = best(lambda: wadup(trivial, small, out, 2, args.engine), args.repeat)
        through_native = best(lambda: timed([NATIVE, "-c", TRIVIAL_NATIVE, small, fresh(out)]), args.repeat)

        pe_native = best(lambda: timed([NATIVE, "-c", PE_NATIVE] + pe_files), args.repeat)
        pe_1 = best(lambda: wadup(pe, pes, out, 1, args.engine), args.repeat)
        pe_2 = best(lambda: wadup(pe, pes, out, 2, args.engine), args.repeat)

        print(f"python benchmark ({args.engine}; median/best of {args.repeat}; {os.cpu_count()} cores)")
        print(f"  start, trivial module:   {start_trivial[0]:.1f} ms median (min {start_trivial[1]:.1f}, max {start_trivial[2]:.1f})")
        print(f"  start, pefile module:    {start_pe[0]:.1f} ms median (min {start_pe[1]:.1f}, max {start_pe[2]:.1f})")
        print(f"  native `python3 -c 'import pefile'` (whole process): {native_import * 1000:.1f} ms")
        print(f"  trivial module, {args.small} small files, 2 threads: {through[0]:.2f} s = {args.small / through[0]:,.0f} contents/s"
              f" (CPU {through[1]:.2f} s; native CPython + sqlite3: {through_native[0]:.2f} s = {args.small / through_native[0]:,.0f} files/s)")
        print(f"  pefile on {len(pe_files)} PE files ({pe_bytes / 1e6:.1f} MB): native {pe_native[0]:.2f} s (CPU {pe_native[1]:.2f} s)")
        for label, (wall, cpu) in (("1 thread", pe_1), ("2 threads", pe_2)):
            print(f"    wadup {label}: {wall:.2f} s = {wall / pe_native[0]:.2f}x (CPU {cpu:.2f} s = {cpu / pe_native[1]:.2f}x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
