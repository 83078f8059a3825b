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

Usage: /usr/bin/python3 Benchmarks/pdf_benchmark.py [--copies C] [--repeat R] [--threads T ...]
(WADUP_BINARY=PATH times another built wadup; the module is .build/guest-modules/standard/pdf.py.)
"""
import argparse, os

from benchlib import standard_module_against_native

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    args = ap.parse_args()
    standard_module_against_native(
        ROOT, "pdf", lambda made: ["/usr/bin/python3", os.path.join(ROOT, "Tests", "Support", "pdf_expected.py"), "--make", made],
        lambda data, copy: data + b"\n%% copy %d\n" % copy, args.copies, args.repeat, args.threads,
        lambda query: f"{query('SELECT count(*) FROM pdf_documents')} documents, {query('SELECT sum(pages) FROM pdf_documents')} pages")


if __name__ == "__main__":
    main()
