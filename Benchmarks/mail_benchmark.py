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
import argparse, os, shutil, subprocess, sys, tempfile

from benchlib import best, standard_module_folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.environ.get("WADUP_BINARY", os.path.join(ROOT, ".build", "release", "wadup"))
MODULE = os.path.join(ROOT, ".build", "guest-modules", "standard", "mail.py")
NATIVE_PYTHON = "/usr/bin/python3"

# The native side: Debian's CPython running the same module on a stand-in for the `wadup` API.
NATIVE_RUNNER = os.path.join(ROOT, "Benchmarks", "native_wadup.py")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    if not os.path.exists(WADUP) or not os.path.exists(MODULE):
        sys.exit("build first: swift build -c release && bash scripts/build-guests.sh")
    work = tempfile.mkdtemp(prefix="wadup-mail-bench-")
    try:
        made, inputs = os.path.join(work, "made"), os.path.join(work, "in")
        subprocess.run([NATIVE_PYTHON, os.path.join(ROOT, "Tests", "Support", "mail_expected.py"), "--make", made,
                        "--messages", str(args.messages)], check=True)
        os.makedirs(inputs)
        for copy in range(args.copies):
            for name in sorted(os.listdir(made)):
                data = open(os.path.join(made, name), "rb").read()
                # Distinct bytes in every copy and every message of it, so that dedup skips none.
                data = data.replace(b"\nTo: ", b"\nX-Copy: %d\nTo: " % copy)
                open(os.path.join(inputs, "%d-%s" % (copy, name)), "wb").write(data)
        total = sum(os.path.getsize(os.path.join(inputs, f)) for f in os.listdir(inputs))
        modules = standard_module_folder(ROOT, "mail", work)
        out = os.path.join(work, "out.db")
        wadup = {t: best([WADUP, "--modules", modules, "--input", inputs, "--output", out, "--overwrite", "--threads", str(t)], args.repeat)
                 for t in args.threads}
        native = best([NATIVE_PYTHON, NATIVE_RUNNER, MODULE, inputs], args.repeat)
        contents = subprocess.run(["sqlite3", out, "SELECT count(*) FROM __wadup_content"], capture_output=True, text=True).stdout.strip()
        messages = subprocess.run(["sqlite3", out, "SELECT count(*) FROM mail_messages"], capture_output=True, text=True).stdout.strip()
        print(f"mail benchmark: {len(os.listdir(inputs))} inputs, {total / 1e6:.1f} MB, {contents} contents, {messages} messages "
              f"({args.messages} a mailbox, {args.copies} copies), best of {args.repeat}")
        print(f"  native CPython 3.11, the same mail.py (one process): {native:.2f} s")
        for t, seconds in wadup.items():
            print(f"  wadup (mail.py alone, wasmtime), {t} thread(s): {seconds:.2f} s = {seconds / native:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
