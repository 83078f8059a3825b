#!/usr/bin/env python3
"""The standard `mail` module in WADUP against native CPython 3.11 running the same parsing.

Corpus: Tests/Support/mail_expected.py --make (a multipart message with several charsets, a ZIP and
a nested message; an ISO-8859-1 message; a message cut short; an mbox of --messages messages, with
ZIPs and nested messages), --copies times (an X-Copy header before every To:, so nothing is a
duplicate). Timed, whole runs, best of --repeat:
- wadup: `wadup --modules DIR --threads T` for each T of --threads (default 1 and 2) where DIR holds only mail.py (the standard module) and its mail.d (olefile), on
  the Python runtime (wasmtime), start-up, SQLite output and recursion included;
- native: Debian's /usr/bin/python3 (3.11) running the same mail.py, with a minimal native `wadup`
  module (Benchmarks/native_wadup.py: rows kept in lists, sub-contents processed depth-first like WADUP does, identical
  contents skipped by SHA-256 as WADUP's dedup does), so the same `email` and `mailbox` calls run
  over the same bytes, interpreter start included.
The ratio is wadup's time over the native time (lower is better).

Usage: /usr/bin/python3 Benchmarks/mail_benchmark.py [--messages N] [--copies C] [--repeat R]
(WADUP_BINARY=PATH times another built wadup; the module is .build/guest-modules/standard/mail.py.)
"""
import argparse, os

from benchlib import standard_module_against_native

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    standard_module_against_native(
        ROOT, "mail",
        lambda made: ["/usr/bin/python3", os.path.join(ROOT, "Tests", "Support", "mail_expected.py"), "--make", made, "--messages", str(args.messages)],
        # Distinct bytes in every copy and every message of it, so that dedup skips none.
        lambda data, copy: data.replace(b"\nTo: ", b"\nX-Copy: %d\nTo: " % copy), args.copies, args.repeat, args.threads,
        lambda query: f"{query('SELECT count(*) FROM mail_messages')} messages ({args.messages} a mailbox)")


if __name__ == "__main__":
    main()
