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
  on its path and a minimal native `wadup` module below (rows kept in lists, sub-contents processed
  depth-first, identical contents skipped by SHA-256 as WADUP's dedup does), interpreter start included.
The ratio is wadup's time over the native time (lower is better).

Usage: /usr/bin/python3 Benchmarks/pdf_benchmark.py [--copies C] [--repeat R]
(WADUP_BINARY=PATH times another built wadup; the module is .build/guest-modules/standard/pdf.py.)
"""
import argparse, os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.environ.get("WADUP_BINARY", os.path.join(ROOT, ".build", "release", "wadup"))
MODULE = os.path.join(ROOT, ".build", "guest-modules", "standard", "pdf.py")
NATIVE_PYTHON = "/usr/bin/python3"

# The native side: a `wadup` module with the API pdf.py uses, over bytes in memory.
NATIVE_RUNNER = r'''
import hashlib, importlib.util, io, os, sys, types, uuid

class Error(Exception):
    pass

class LimitReachedError(Error):
    pass

class Table:
    def __init__(self, name, columns):
        self.name, self.columns, self.rows = name, columns, []
    def insert(self, row):
        self.rows.append(tuple(row.get(c) for c in self.columns) if isinstance(row, dict) else tuple(row))

class Content:
    def __init__(self, data, filename):
        self.data, self.filename, self.mime, self.uuid = data, filename, None, uuid.uuid4()
    @property
    def size(self):
        return len(self.data)
    def __len__(self):
        return len(self.data)
    def read(self, offset=0, n=None):
        return self.data[offset:] if n is None else self.data[offset:offset + n]
    def __getitem__(self, key):
        return self.data[key]
    def __bytes__(self):
        return self.data
    def open(self):
        return io.BytesIO(self.data)

tables, emitted, current = {}, [], []
wadup = types.ModuleType("wadup")
wadup.Error, wadup.LimitReachedError = Error, LimitReachedError
wadup.table = lambda name, columns: tables.setdefault(name, Table(name, columns))
wadup.emit = lambda name, data: emitted.append((name, bytes(data)))
wadup.emit_slice = lambda name, offset, length: emitted.append((name, current[-1].data[offset:offset + length]))
wadup.log = types.SimpleNamespace(debug=print, info=print, warning=print, error=print)
sys.modules["wadup"] = wadup
sys.path.insert(0, os.path.join(os.path.dirname(sys.argv[1]), "pdf.d", "site-packages"))  # the vendored pypdf
wadup.InputUnavailableError = type("InputUnavailableError", (Error,), {})
wadup.TemporaryStorageError = type("TemporaryStorageError", (Error,), {})
spec = importlib.util.spec_from_file_location("pdf_module", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

seen = set()
def run(data, name):
    digest = hashlib.sha256(data).digest()
    if digest in seen:
        return
    seen.add(digest)
    content = Content(data, name)
    current.append(content)
    start = len(emitted)
    module.process(content)
    children = emitted[start:]
    del emitted[start:]
    current.pop()
    for child, child_data in children:
        run(child_data, child)

folder = sys.argv[2]
for name in sorted(os.listdir(folder)):
    run(open(os.path.join(folder, name), "rb").read(), name)
print(sum(len(t.rows) for t in tables.values()), "rows")
'''


def best(command, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


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
        modules = os.path.join(work, "modules")
        os.makedirs(modules)
        shutil.copy(MODULE, modules)
        shutil.copytree(os.path.join(os.path.dirname(MODULE), "pdf.d"), os.path.join(modules, "pdf.d"))
        runner = os.path.join(work, "native_runner.py")
        open(runner, "w").write(NATIVE_RUNNER)
        out = os.path.join(work, "out.db")
        wadup = best([WADUP, "--modules", modules, "--input", inputs, "--output", out, "--overwrite", "--threads", "1"], args.repeat)
        native = best([NATIVE_PYTHON, runner, os.path.join(modules, "pdf.py"), inputs], args.repeat)
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
