#!/usr/bin/env python3
"""The standard `pdf` module in WADUP against native CPython 3.11 running the same pypdf calls.

Corpus: Tests/Support/pdf_expected.py --make (the machine's real PDFs from /usr/share/doc, files
attached by pdfattach, JavaScript/links/XFA and encryption by qpdf, a truncated and a broken-xref
document), --copies times (a comment line appended to each copy, so nothing is a duplicate).
Timed, whole runs, best of --repeat:
- wadup: `wadup --modules DIR --threads 1` where DIR holds only pdf.py and pdf.d (the standard
  module and its vendored pypdf), on the Python runtime (wasmtime), start-up, SQLite output and
  recursion included (the embedded files and scripts it emits are offered to it again);
- native: Debian's /usr/bin/python3 (3.11) running the same pdf.py with the same vendored pypdf
  on its path and a minimal native `wadup` module (Benchmarks/native_wadup.py: rows kept in lists, sub-contents processed
  depth-first, identical contents skipped by SHA-256 as WADUP's dedup does), interpreter start included.
The ratio is wadup's time over the native time (lower is better).

Usage: /usr/bin/python3 Benchmarks/pdf_benchmark.py [--copies C] [--repeat R]
(WADUP_BINARY=PATH times another built wadup; the module is .build/guest-modules/standard/pdf.py.)
"""
import argparse, os, shutil, subprocess, sys, tempfile

from benchlib import best, standard_module_folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.environ.get("WADUP_BINARY", os.path.join(ROOT, ".build", "release", "wadup"))
MODULE = os.path.join(ROOT, ".build", "guest-modules", "standard", "pdf.py")
NATIVE_PYTHON = "/usr/bin/python3"

# The native side: Debian's CPython running the same module on a stand-in for the `wadup` API.
NATIVE_RUNNER = os.path.join(ROOT, "Benchmarks", "native_wadup.py")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(WADUP) or not os.path.exists(MODULE):
        sys.exit("build first: swift build -c release && bash scripts/build-guests.sh")
    work = tempfile.mkdtemp(prefix="wadup-pdf-bench-")
    try:
        made, inputs = os.path.join(work, "made"), os.path.join(work, "in")
        subprocess.run([NATIVE_PYTHON, os.path.join(ROOT, "Tests", "Support", "pdf_expected.py"), "--make", made], check=True)
        os.makedirs(inputs)
        for copy in range(args.copies):
            for name in sorted(os.listdir(made)):
                data = open(os.path.join(made, name), "rb").read() + b"\n%% copy %d\n" % copy
                open(os.path.join(inputs, "%d-%s" % (copy, name)), "wb").write(data)
        total = sum(os.path.getsize(os.path.join(inputs, f)) for f in os.listdir(inputs))
        modules = standard_module_folder(ROOT, "pdf", work)
        out = os.path.join(work, "out.db")
        wadup = best([WADUP, "--modules", modules, "--input", inputs, "--output", out, "--overwrite", "--threads", "1"], args.repeat)
        native = best([NATIVE_PYTHON, NATIVE_RUNNER, os.path.join(modules, "pdf.py"), inputs], args.repeat)
        query = lambda sql: subprocess.run(["sqlite3", out, sql], capture_output=True, text=True).stdout.strip()
        print(f"pdf benchmark: {len(os.listdir(inputs))} inputs, {total / 1e6:.1f} MB, {query('SELECT count(*) FROM __wadup_content')} contents, "
              f"{query('SELECT count(*) FROM pdf_documents')} documents, {query('SELECT sum(pages) FROM pdf_documents')} pages "
              f"({args.copies} copies), best of {args.repeat}")
        print(f"  wadup (pdf.py alone, 1 thread, wasmtime): {wadup:.2f} s")
        print(f"  native CPython 3.11, the same pdf.py:      {native:.2f} s")
        print(f"  ratio: {wadup / native:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
