#!/usr/bin/env python3
"""A native stand-in for WADUP's Python API, for the benchmarks that time a standard Python module
against native CPython running the same module (mail_benchmark.py, pdf_benchmark.py).

Usage: /usr/bin/python3 Benchmarks/native_wadup.py MODULE.py INPUT_FOLDER
The `wadup` module below keeps rows in lists and emitted sub-contents in memory; every input of
the folder and every sub-content is processed depth-first as WADUP does, identical contents skipped
by SHA-256 as WADUP's dedup does; MODULE.d/site-packages is on sys.path as in the runtime.
"""
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
wadup.HOLE = -1
wadup.emit_extents = lambda name, extents: emitted.append((name, b"".join(
    bytes(length) if offset == wadup.HOLE else current[-1].data[offset:offset + length] for offset, length in extents)))

class _Stream(io.BytesIO):
    def __init__(self, name):
        super().__init__()
        self.name = name
    def skip(self, n):
        self.write(bytes(n))
    def __exit__(self, kind, *rest):
        if kind is None:
            emitted.append((self.name, self.getvalue()))
        return super().__exit__(kind, *rest)

wadup.emit_stream = _Stream
wadup.log = types.SimpleNamespace(debug=print, info=print, warning=print, error=print)
sys.modules["wadup"] = wadup
# The module's vendored packages, as the runtime puts NAME.d/site-packages on sys.path.
stem = os.path.splitext(os.path.basename(sys.argv[1]))[0]
sys.path.insert(0, os.path.join(os.path.dirname(sys.argv[1]), stem + ".d", "site-packages"))
wadup.InputUnavailableError = type("InputUnavailableError", (Error,), {})
wadup.TemporaryStorageError = type("TemporaryStorageError", (Error,), {})
spec = importlib.util.spec_from_file_location(stem + "_module", sys.argv[1])
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
