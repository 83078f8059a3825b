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
import argparse, os

from benchlib import standard_module_against_native

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    standard_module_against_native(
        ROOT, "office", lambda made: ["/usr/bin/python3", os.path.join(ROOT, "Tests", "Support", "office_expected.py"), "--make", made],
        lambda data, copy: data + b"\0copy %d\n" % copy, args.copies, args.repeat, args.threads,
        lambda query: f"{query('SELECT count(*) FROM office_documents')} documents, {query('SELECT count(*) FROM vba_modules')} macro modules")


if __name__ == "__main__":
    main()
