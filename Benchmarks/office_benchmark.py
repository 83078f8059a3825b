#!/usr/bin/env python3
"""The standard `office` module in WADUP against native CPython 3.11 running the same module.

Corpus: Tests/Support/office_expected.py --make (LibreOffice's .doc/.xls/.ppt/.docx/.xlsx/.pptx/
.odt/.ods/.odp/.rtf, XlsxWriter's .xlsm with Excel's VBA project, msibuild's MSI, oletools' test
data: VBA, Excel 4 macros, OLE packages, encrypted documents, RTF), --copies times (bytes appended
to each copy, so no input is a duplicate; their streams are, as in a real case file). Timed, whole
runs, best of --repeat:
- wadup: `wadup --modules DIR --threads 1` where DIR holds only office.py and office.d (olefile,
  oletools), on the Python runtime (wasmtime), start-up, SQLite output and recursion included (every
  stream, macro source and object it emits is offered to it again);
- native: Debian's /usr/bin/python3 (3.11) running the same office.py with the same vendored
  packages through Benchmarks/native_wadup.py (rows in lists, sub-contents depth-first, identical
  contents skipped by SHA-256 as WADUP's dedup does), interpreter start included.
The ratio is wadup's time over the native time (lower is better).

Usage: /usr/bin/python3 Benchmarks/office_benchmark.py [--copies C] [--repeat R] [--threads T ...]
(WADUP_BINARY=PATH times another built wadup; the module is .build/guest-modules/standard/office.py.)
"""
import argparse, os, shutil, subprocess, sys, tempfile

from benchlib import best, standard_module_folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.environ.get("WADUP_BINARY", os.path.join(ROOT, ".build", "release", "wadup"))
NATIVE_PYTHON = "/usr/bin/python3"
NATIVE_RUNNER = os.path.join(ROOT, "Benchmarks", "native_wadup.py")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    if not os.path.exists(WADUP):
        sys.exit("build first: swift build -c release && bash scripts/build-guests.sh")
    work = tempfile.mkdtemp(prefix="wadup-office-bench-")
    try:
        made, inputs = os.path.join(work, "made"), os.path.join(work, "in")
        subprocess.run([NATIVE_PYTHON, os.path.join(ROOT, "Tests", "Support", "office_expected.py"), "--make", made], check=True)
        os.makedirs(inputs)
        for copy in range(args.copies):
            for name in sorted(os.listdir(made)):
                data = open(os.path.join(made, name), "rb").read() + b"\0copy %d\n" % copy
                open(os.path.join(inputs, "%d-%s" % (copy, name)), "wb").write(data)
        total = sum(os.path.getsize(os.path.join(inputs, f)) for f in os.listdir(inputs))
        modules = standard_module_folder(ROOT, "office", work)
        out = os.path.join(work, "out.db")
        wadup = {t: best([WADUP, "--modules", modules, "--input", inputs, "--output", out, "--overwrite", "--threads", str(t)], args.repeat)
                 for t in args.threads}
        native = best([NATIVE_PYTHON, NATIVE_RUNNER, os.path.join(modules, "office.py"), inputs], args.repeat)
        query = lambda sql: subprocess.run(["sqlite3", out, sql], capture_output=True, text=True).stdout.strip()
        print(f"office benchmark: {len(os.listdir(inputs))} inputs, {total / 1e6:.1f} MB, {query('SELECT count(*) FROM __wadup_content')} contents, "
              f"{query('SELECT count(*) FROM office_documents')} documents, {query('SELECT count(*) FROM vba_modules')} macro modules "
              f"({args.copies} copies), best of {args.repeat}")
        print(f"  native CPython 3.11, the same office.py (one process): {native:.2f} s")
        for t, seconds in wadup.items():
            print(f"  wadup (office.py alone, wasmtime), {t} thread(s): {seconds:.2f} s = {seconds / native:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
