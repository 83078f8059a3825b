#!/usr/bin/env python3
"""A stand-in host for WADUP's Python runtime (issue 24): runs python.wasm with wasmtime's Python
binding, the way the Swift host will, and prints what the module did.

    pip install wasmtime          # in a venv
    python3 scripts/python-smoke.py MODULE.py [FILE...]      # one module over files (or stdin-less demo bytes)
    python3 scripts/python-smoke.py --selftest               # the checks of the runtime's contract
    python3 scripts/python-smoke.py --bench                  # instance start and per-call cost

The contract it documents (the host's side of it):
- python.wasm is a WASI reactor: call `_initialize`, then `init() -> i32` once per instance
  (0 ready, 1 declined, 2 error), then `process() -> i32` per content (0 success, 1 an exception);
  `wadup_accepts() -> i32` after a successful init is a pointer to a NUL-terminated JSON manifest
  (or 0: the module has no ACCEPTS).
- WASI preopens, read-only: /python (python311.zip and the wadup package beside it), /module (a
  folder holding exactly one NAME.py) and /data (the module's NAME.d/, optional; its
  site-packages/ goes on sys.path). No arguments, no environment; stdout/stderr are debug output.
- The `env` imports are the ABI's (docs/modules/ABI.md); the ones python.wasm imports are all
  defined below (the script checks that it defines every import the module has).
"""
import json
import os
import shutil
import sys
import tempfile
import time
import uuid as uuidlib

import wasmtime
from wasmtime import Engine, Config, Store, Module, Linker, WasiConfig, FuncType, ValType

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNTIME = os.environ.get("WADUP_PYTHON_RUNTIME", os.path.join(ROOT, ".build", "guest-modules", "python"))
LEVELS = {0: "debug", 1: "info", 2: "warning", 3: "error"}
ERRORS = {"out_of_bounds": -1, "invalid_utf8": -2, "invalid_json": -3, "invalid_identifier": -4,
          "schema_conflict": -5, "unknown_table": -6, "arity_mismatch": -7, "type_mismatch": -8,
          "limit_reached": -9, "invalid_argument": -10, "no_content": -11, "unknown_stream": -13}


class Host:
    """The WADUP side: content, tables, rows, sub-contents and log lines of one instance."""

    def __init__(self, quiet=False):
        self.content = None  # (bytes, filename, uuid bytes, mime) during process()
        self.tables = {}     # id -> (name, columns)
        self.rows = []       # (table name, values)
        self.emits = []      # (name, bytes)
        self.logs = []       # (level name, text)
        self.streams = {}
        self.next_stream = 0
        self.quiet = quiet

    # --- memory helpers: every pointer/length checked, as the ABI asks
    def mem(self, caller):
        return caller["memory"]

    def get(self, caller, ptr, n):
        m = self.mem(caller)
        if ptr < 0 or n < 0 or ptr + n > m.data_len(caller):
            raise IndexError
        return bytes(m.read(caller, ptr, ptr + n))

    def put(self, caller, ptr, data):
        m = self.mem(caller)
        if ptr + len(data) > m.data_len(caller):
            raise IndexError
        if data:
            m.write(caller, data, ptr)

    def define(self, linker):
        i32, i64 = ValType.i32(), ValType.i64()

        def f(name, params, results, fn):
            def wrapped(caller, *args):
                try:
                    return fn(caller, *args)
                except IndexError:
                    return ERRORS["out_of_bounds"]
            linker.define_func("env", name, FuncType(params, results), wrapped, access_caller=True)

        def need_content(fn):
            def g(caller, *a):
                return ERRORS["no_content"] if self.content is None else fn(caller, *a)
            return g

        data = lambda: self.content[0]

        f("get_content_size", [], [i32], need_content(lambda c: min(len(data()), 0xFFFFFFFF)))
        f("get_content_size64", [], [i64], need_content(lambda c: len(data())))

        def read(c, off, n, dest):
            off &= 0xFFFFFFFF if off >= 0 else -1
            if off < 0 or off + n > len(data()):
                return ERRORS["out_of_bounds"]
            self.put(c, dest, data()[off:off + n])
            return 0
        f("read_content", [i32, i32, i32], [i32], need_content(lambda c, o, n, d: read(c, o & 0xFFFFFFFF, n & 0xFFFFFFFF, d & 0xFFFFFFFF)))
        f("read_content64", [i64, i32, i32], [i32], need_content(lambda c, o, n, d: read(c, o, n & 0xFFFFFFFF, d & 0xFFFFFFFF)))
        f("get_content_uuid", [i32], [i32], need_content(lambda c, d: (self.put(c, d & 0xFFFFFFFF, self.content[2]), 0)[1]))

        def string(value):
            def g(c, dest, cap):
                b = value()
                self.put(c, dest & 0xFFFFFFFF, b[:cap & 0xFFFFFFFF])
                return len(b)
            return g
        f("get_content_filename", [i32, i32], [i32], need_content(string(lambda: self.content[1].encode())))
        f("get_content_type", [i32, i32], [i32], need_content(string(lambda: (self.content[3] or "").encode())))

        def text(c, p, n):
            b = self.get(c, p & 0xFFFFFFFF, n & 0xFFFFFFFF)
            return b.decode("utf-8")

        def define_table(c, np, nl, cp, cl):
            try:
                name, cols = text(c, np, nl), json.loads(text(c, cp, cl))
            except UnicodeDecodeError:
                return ERRORS["invalid_utf8"]
            except ValueError:
                return ERRORS["invalid_json"]
            for tid, (n, cs) in self.tables.items():
                if n.lower() == name.lower():
                    return tid if (n, cs) == (name, cols) else ERRORS["schema_conflict"]
            tid = len(self.tables)
            self.tables[tid] = (name, cols)
            return tid
        f("define_table", [i32] * 4, [i32], define_table)

        def insert_row(c, tid, p, n):
            if tid not in self.tables:
                return ERRORS["unknown_table"]
            try:
                row = json.loads(text(c, p, n))
            except UnicodeDecodeError:
                return ERRORS["invalid_utf8"]
            except ValueError:
                return ERRORS["invalid_json"]
            name, cols = self.tables[tid]
            if len(row) != len(cols):
                return ERRORS["arity_mismatch"]
            values = []
            for col, v in zip(cols, row):
                if v is None:
                    values.append(None)
                    continue
                (kind, x), = v.items()
                if kind != col["data_type"]:
                    return ERRORS["type_mismatch"]
                values.append(x)
            self.rows.append((name, values))
            return 0
        f("insert_row", [i32] * 3, [i32], need_content(insert_row))

        def emit_bytes(c, dp, dl, np, nl):
            self.emits.append((text(c, np, nl), self.get(c, dp & 0xFFFFFFFF, dl & 0xFFFFFFFF)))
            return 0
        f("emit_subcontent_bytes", [i32] * 4, [i32], need_content(emit_bytes))

        def emit_slice(c, off, n, np, nl):
            if off < 0 or n < 0 or off + n > len(data()):
                return ERRORS["out_of_bounds"]
            self.emits.append((text(c, np, nl), data()[off:off + n]))
            return 0
        f("emit_subcontent_slice", [i32] * 4, [i32], need_content(lambda c, o, n, np, nl: emit_slice(c, o & 0xFFFFFFFF, n & 0xFFFFFFFF, np, nl)))
        f("emit_subcontent_slice64", [i64, i64, i32, i32], [i32], need_content(emit_slice))

        def emit_extents(c, p, count, np, nl):
            raw = self.get(c, p & 0xFFFFFFFF, 16 * count)
            import struct
            out = b""
            for k in range(count):
                off, n = struct.unpack_from("<qq", raw, 16 * k)
                if off == -1:
                    out += bytes(n)
                elif off < 0 or n < 0 or off + n > len(data()):
                    return ERRORS["out_of_bounds"]
                else:
                    out += data()[off:off + n]
            self.emits.append((text(c, np, nl), out))
            return 0
        f("emit_subcontent_extents", [i32] * 4, [i32], need_content(emit_extents))

        def stream_begin(c, np, nl):
            h = self.next_stream
            self.next_stream += 1
            self.streams[h] = (text(c, np, nl), bytearray())
            return h
        f("emit_stream_begin", [i32] * 2, [i32], need_content(stream_begin))

        def stream_write(c, h, p, n):
            if h not in self.streams:
                return ERRORS["unknown_stream"]
            self.streams[h][1].extend(self.get(c, p & 0xFFFFFFFF, n & 0xFFFFFFFF))
            return 0
        f("emit_stream_write", [i32] * 3, [i32], need_content(stream_write))

        def stream_skip(c, h, n):
            if h not in self.streams:
                return ERRORS["unknown_stream"]
            if n < 0:
                return ERRORS["out_of_bounds"]
            self.streams[h][1].extend(bytes(n))
            return 0
        f("emit_stream_skip", [i32, i64], [i32], need_content(stream_skip))

        def stream_end(c, h):
            if h not in self.streams:
                return ERRORS["unknown_stream"]
            name, b = self.streams.pop(h)
            self.emits.append((name, bytes(b)))
            return 0
        f("emit_stream_end", [i32], [i32], need_content(stream_end))
        f("emit_stream_abort", [i32], [i32], need_content(lambda c, h: 0 if self.streams.pop(h, None) else ERRORS["unknown_stream"]))

        def log_message(c, level, p, n):
            if level not in LEVELS:
                return ERRORS["invalid_argument"]
            msg = text(c, p, n)
            self.logs.append((LEVELS[level], msg))
            if not self.quiet:
                print("    log %-7s %s" % (LEVELS[level], msg.replace("\n", "\n" + " " * 16)))
            return 0
        f("log_message", [i32] * 3, [i32], log_message)
        f("set_content_type", [i32] * 4, [i32], need_content(lambda c, mp, ml, dp, dl: (self.logs.append(("type", text(c, mp, ml))), 0)[1]))


class Instance:
    """One python.wasm instance for one module file (and its optional NAME.d data folder)."""

    def __init__(self, module_file, data_dir=None, runtime=RUNTIME, engine=None, compiled=None, quiet=False):
        self.engine = engine or Engine()
        self.compiled = compiled or Module.from_file(self.engine, os.path.join(runtime, "python.wasm"))
        self.host = Host(quiet=quiet)
        self.moddir = tempfile.mkdtemp(prefix="wadup-py-module-")
        shutil.copy(module_file, self.moddir)
        self.store = Store(self.engine)
        try:
            self.store.set_fuel(10 ** 15)  # when the engine meters fuel
        except wasmtime.WasmtimeError:
            pass
        wasi = WasiConfig()
        self.out = os.path.join(self.moddir + ".out")
        wasi.stdout_file = self.out
        wasi.stderr_file = self.out + ".err"
        wasi.preopen_dir(os.path.join(runtime, "lib"), "/python", False)
        wasi.preopen_dir(self.moddir, "/module", False)
        if data_dir:
            wasi.preopen_dir(data_dir, "/data", False)
        self.store.set_wasi(wasi)
        linker = Linker(self.engine)
        linker.define_wasi()
        self.host.define(linker)
        missing = [i.name for i in self.compiled.imports if i.module == "env" and i.name not in ENV_DEFINED]
        assert not missing, "python.wasm imports env functions the harness does not define: %s" % missing
        self.instance = linker.instantiate(self.store, self.compiled)
        self.exports = self.instance.exports(self.store)
        self.exports["_initialize"](self.store)

    def init(self):
        return self.exports["init"](self.store)

    def accepts(self):
        ptr = self.exports["wadup_accepts"](self.store)
        if ptr == 0:
            return None
        mem = self.exports["memory"]
        raw = bytes(mem.read(self.store, ptr, ptr + 65536))
        return json.loads(raw[:raw.index(b"\0")].decode())

    def process(self, data, filename="content.bin", mime=None):
        self.host.content = (data, filename, uuidlib.uuid4().bytes, mime)
        try:
            return self.exports["process"](self.store)
        finally:
            self.host.content = None

    def stdout(self):
        text = ""
        for p in (self.out, self.out + ".err"):
            try:
                with open(p, "rb") as f:
                    text += f.read().decode("utf-8", "replace")
            except OSError:
                pass
        return text

    def close(self):
        shutil.rmtree(self.moddir, ignore_errors=True)
        for p in (self.out, self.out + ".err"):
            try:
                os.unlink(p)
            except OSError:
                pass


ENV_DEFINED = {"get_content_size", "get_content_size64", "read_content", "read_content64", "get_content_uuid",
               "get_content_filename", "get_content_type", "define_table", "insert_row", "emit_subcontent_bytes",
               "emit_subcontent_slice", "emit_subcontent_slice64", "emit_subcontent_extents", "emit_stream_begin",
               "emit_stream_write", "emit_stream_skip", "emit_stream_end", "emit_stream_abort", "log_message",
               "set_content_type"}


def run_module(path, files):
    inst = Instance(path, data_dir=os.path.splitext(path)[0] + ".d" if os.path.isdir(os.path.splitext(path)[0] + ".d") else None)
    t = time.perf_counter()
    rc = inst.init()
    print("init -> %d (%.1f ms)" % (rc, (time.perf_counter() - t) * 1000))
    if rc != 0:
        return 1
    print("manifest:", json.dumps(inst.accepts()))
    for name in files:
        with open(name, "rb") as fh:
            data = fh.read()
        n0, e0 = len(inst.host.rows), len(inst.host.emits)
        t = time.perf_counter()
        rc = inst.process(data, filename=name)
        print("process %s -> %d (%.2f ms)" % (name, rc, (time.perf_counter() - t) * 1000))
        for table, row in inst.host.rows[n0:]:
            print("    row  %s %s" % (table, row))
        for ename, b in inst.host.emits[e0:]:
            print("    emit %s (%d bytes)" % (ename, len(b)))
    out = inst.stdout()
    if out:
        print("stdout/stderr:\n" + out)
    inst.close()
    return 0


# ------------------------------------------------------------------------------ self test --

TRIVIAL = '''
import wadup
sizes = wadup.table("sizes", {"name": str, "size": int, "ratio": float})
ACCEPTS = {"names": ["*.bin", "*.zip"], "min_size": 1}

def process(content):
    data = content[:]
    sizes.insert((content.filename, content.size, len(set(data)) / 256))
    sizes.insert({"name": "tail", "size": content[-1]})
    if content.read(0, 2) == b"PK":
        wadup.emit("copy.zip", data)
        wadup.emit_slice("slice", 1, 3)
        with wadup.emit_stream("stream") as s:
            s.write(b"abc"); s.skip(2); s.write(memoryview(b"de"))
        wadup.emit_extents("extents", [(0, 2), (wadup.HOLE, 2), (2, 1)])
    wadup.log.info("uuid %s mime %s", content.uuid, content.mime)
'''

RAISES = '''
import wadup
def process(content):
    if content[0] == 0x21:
        raise ValueError("bad header %r" % content[:4])
    wadup.log.info("fine")
'''

SYNTAX = '''
import wadup

def process(content):
    return 1 +
'''

NOPROCESS = '''
X = 1
'''

IMPORTS = '''
import email, email.policy, json, zipfile, hashlib, struct, zlib, io, re, datetime, csv, base64
import binascii, unicodedata, xml.etree.ElementTree as ET, pyexpat, math, array, bisect, heapq, random
import mailbox, tarfile, gzip, collections, dataclasses, typing, decimal, uuid, codecs, statistics
import lzma, bz2, mmap, socket, subprocess, html.parser, urllib.parse, ipaddress, email.parser
import wadup

t = wadup.table("imports", {"md5": str, "crc": int, "members": int, "subject": str})

def process(content):
    data = bytes(content)
    z = zipfile.ZipFile(content.open())
    msg = email.message_from_bytes(z.read("mail.eml"), policy=email.policy.default)
    for part in msg.iter_attachments():
        wadup.emit(part.get_filename(), part.get_content())
    hashlib.sha256(data).hexdigest(); hashlib.sha3_256(data); hashlib.blake2b(data); hashlib.sha1(data)
    ET.fromstring("<a><b/></a>")
    json.loads(json.dumps({"x": [1, 2.5, "é"]}))
    "日本".encode("iso2022_jp")
    assert lzma.decompress(lzma.compress(data)) == data and bz2.decompress(bz2.compress(data)) == data
    assert zlib.decompress(zlib.compress(data)) == data and gzip.decompress(gzip.compress(data)) == data
    t.insert((hashlib.md5(data).hexdigest(), zlib.crc32(data), len(z.namelist()), str(msg["subject"])))
'''

ERRORS_MODULE = '''
import wadup
def process(content):
    try:
        content.read(-1, 2)
    except ValueError:
        pass
    try:
        wadup.emit_slice("x", content.size, 10)
    except wadup.OutOfBoundsError as e:
        wadup.log.info("raised %s %s %d", type(e).__name__, e.name, e.code)
    try:
        wadup.table("t", {"a": int}); wadup.table("T", {"a": str})
    except wadup.SchemaConflictError as e:
        wadup.log.info("raised %s", e)
    import socket, subprocess
    for what, attempt in (("socket", lambda: socket.create_connection(("192.0.2.1", 80), timeout=1)),
                          ("subprocess", lambda: subprocess.run(["/bin/sh", "-c", "id"])),
                          ("passwd", lambda: open("/etc/passwd").read()),
                          ("write", lambda: open("/module/x", "w")),
                          ("thread", lambda: __import__("threading").Thread(target=print).start())):
        try:
            attempt()
            wadup.log.error("%s: no error", what)
        except Exception as e:
            wadup.log.info("%s refused: %s: %s", what, type(e).__name__, e)
'''

API = r'''
import wadup
ROLE = "identify"
t = wadup.table("api", {"a": "Int64", "b": "Float64", "c": "String"})

def expect(exc, f):
    try:
        f()
    except exc:
        return
    raise AssertionError("no %s" % exc.__name__)

def process(content):
    b = bytes(range(10))
    assert content.size == len(content) == 10 and bytes(content) == b and content.read() == b
    assert content[2:5] == b[2:5] and content[-3:] == b[-3:] and content[::3] == b[::3]
    assert content[8:2:-2] == b[8:2:-2] and content[::-1] == b[::-1] and content[5:2] == b""
    assert content[3] == 3 and content[-1] == 9 and content.read(8, 100) == b[8:] and content.read(50, 1) == b""
    expect(IndexError, lambda: content[10])
    buf = bytearray(4)
    assert content.readinto(7, buf) == 3 and buf[:3] == b[7:]
    f = content.open()
    f.seek(-4, 2); assert f.read(2) == b[6:8] and f.tell() == 8
    t.insert({"a": 1, "c": "x\u00e9\"q"})
    t.insert([True, 2, None])
    expect(TypeError, lambda: t.insert((1.5, 1.0, "x")))
    expect(TypeError, lambda: t.insert((1, 1.0, b"x")))
    expect(ValueError, lambda: t.insert((1, float("nan"), "x")))
    expect(OverflowError, lambda: t.insert((1 << 63, 1.0, "x")))
    expect(ValueError, lambda: t.insert((1, 2)))
    expect(KeyError, lambda: t.insert({"d": 1}))
    expect(TypeError, lambda: wadup.table("bad", {"a": bytes}))
    expect(wadup.InvalidJsonError, lambda: wadup._check("x", -3))
    wadup.emit("ba", bytearray(b"12")); wadup.emit("mv", memoryview(b"345")[1:])
    try:
        with wadup.emit_stream("aborted") as s:
            s.write(b"zz")
            raise KeyError("inside")
    except KeyError:
        pass
    wadup.log.warning("%d%% done, %s", 50, "ok")
    content.set_type("application/x-test", "a test")
'''

DECLINE = '''
import wadup
def init():
    wadup.log.info("nothing to do here")
    return False
def process(content):
    pass
'''

RECURSE = '''
def f(n):
    return f(n + 1)
def process(content):
    f(0)
'''


def _mail_zip():
    import io, zipfile
    from email.message import EmailMessage
    m = EmailMessage()
    m["Subject"] = "invoice"
    m.set_content("see attached")
    m.add_attachment(b"MZ\x90\x00payload", maintype="application", subtype="octet-stream", filename="a.exe")
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mail.eml", m.as_bytes())
    return b.getvalue()


def selftest():
    engine = Engine()
    t = time.perf_counter()
    compiled = Module.from_file(engine, os.path.join(RUNTIME, "python.wasm"))
    print("compile python.wasm: %.2f s" % (time.perf_counter() - t))
    imports = sorted("%s.%s" % (i.module, i.name) for i in compiled.imports)
    exports = sorted(e.name for e in compiled.exports)
    print("imports:", ", ".join(imports))
    print("exports:", ", ".join(exports))
    tmp = tempfile.mkdtemp(prefix="wadup-py-smoke-")
    failures = []

    def check(what, ok, detail=""):
        print("%s %s%s" % ("ok  " if ok else "FAIL", what, (": " + detail) if detail and not ok else ""))
        if not ok:
            failures.append(what)

    def module(name, text):
        p = os.path.join(tmp, name + ".py")
        with open(p, "w") as fh:
            fh.write(text)
        return p

    def instance(name, text, **kw):
        print("--- %s" % name)
        return Instance(module(name, text), engine=engine, compiled=compiled, **kw)

    # 1. a table row and sub-contents
    inst = instance("trivial", TRIVIAL)
    t = time.perf_counter()
    rc = inst.init()
    init_ms = (time.perf_counter() - t) * 1000
    check("init of a module -> 0 (%.0f ms)" % init_ms, rc == 0, str(rc))
    check("ACCEPTS -> manifest JSON", inst.accepts() == {"version": 1, "role": "analyze", "accepts": {"names": ["*.bin", "*.zip"], "min_size": 1}}, str(inst.accepts()))
    rc = inst.process(b"PK\x03\x04hello", filename="a.zip", mime="application/zip")
    check("process -> 0", rc == 0, str(rc))
    check("rows", inst.host.rows == [("sizes", ["a.zip", 9, 8 / 256]), ("sizes", ["tail", 111, None])], str(inst.host.rows))
    check("emits", inst.host.emits == [("copy.zip", b"PK\x03\x04hello"), ("slice", b"K\x03\x04"), ("stream", b"abc\0\0de"), ("extents", b"PK\0\0\x03")], str(inst.host.emits))
    check("content.uuid / mime", any("mime application/zip" in m for _, m in inst.host.logs), str(inst.host.logs))
    # the per-call overhead of a trivial module
    n = 200
    inst.host.quiet = True
    t = time.perf_counter()
    for i in range(n):
        inst.process(b"x" * 100, filename="f.bin")
    per_call = (time.perf_counter() - t) / n * 1000
    inst.host.quiet = False
    print("    per content (2 rows, 4 host reads, a log line; harness in Python): %.3f ms" % per_call)
    inst.close()

    # 2. an exception: 1, type and message at error level, traceback at debug
    inst = instance("raises", RAISES)
    check("init -> 0", inst.init() == 0)
    rc = inst.process(b"!bad")
    check("an exception -> 1", rc == 1, str(rc))
    errors = [m for l, m in inst.host.logs if l == "error"]
    check("error line: type and message", errors == ["ValueError: bad header b'!bad' (/module/raises.py:5)"], str(errors))
    check("traceback at debug", any(l == "debug" and "Traceback" in m for l, m in inst.host.logs), str(inst.host.logs))
    check("the next content runs", inst.process(b"ok") == 0)
    inst.close()

    # 3. a syntax error: init 2, file:line
    inst = instance("syntax", SYNTAX)
    rc = inst.init()
    check("a syntax error -> init 2", rc == 2, str(rc))
    errors = [m for l, m in inst.host.logs if l == "error"]
    check("SyntaxError with file:line", len(errors) == 1 and "SyntaxError: invalid syntax" in errors[0] and "/module/syntax.py:5" in errors[0], str(errors))
    inst.close()

    inst = instance("noprocess", NOPROCESS)
    rc = inst.init()
    check("no process() -> init 2", rc == 2 and "has no function process" in inst.host.logs[-1][1], "%s %s" % (rc, inst.host.logs))
    check("no ACCEPTS -> wadup_accepts 0", inst.accepts() is None)
    inst.close()

    inst = instance("api", API)
    check("init -> 0", inst.init() == 0, str(inst.host.logs))
    check("ROLE identify -> manifest without accepts", inst.accepts() == {"version": 1, "role": "identify"}, str(inst.accepts()))
    rc = inst.process(bytes(range(10)))
    check("the API's edge cases (slices, files, rows, type errors, streams)", rc == 0, str(inst.host.logs))
    check("rows of the api module", inst.host.rows == [("api", [1, None, "x\u00e9\"q"]), ("api", [1, 2.0, None])], str(inst.host.rows))
    check("emits of bytearray/memoryview, the aborted stream dropped", inst.host.emits == [("ba", b"12"), ("mv", b"45")], str(inst.host.emits))
    check("log with % arguments, set_type", ("warning", "50% done, ok") in inst.host.logs and ("type", "application/x-test") in inst.host.logs, str(inst.host.logs))
    inst.close()

    inst = instance("email", "import email.parser, sys\ndef process(content):\n    assert __name__ == 'wadup_module_email' and sys.modules['email'].__file__.startswith('/python/')\n")
    check("a module named like a standard one (email.py) imports the standard one", inst.init() == 0 and inst.process(b"x") == 0, str(inst.host.logs))
    inst.close()

    inst = instance("decline", DECLINE)
    rc = inst.init()
    check("init() returning False -> 1", rc == 1 and inst.host.logs == [("info", "nothing to do here")], "%s %s" % (rc, inst.host.logs))
    inst.close()

    # 4. the standard library
    inst = instance("imports", IMPORTS)
    t = time.perf_counter()
    rc = inst.init()
    check("init importing email, json, zipfile, hashlib, ... -> 0 (%.0f ms)" % ((time.perf_counter() - t) * 1000), rc == 0, str(rc))
    rc = inst.process(_mail_zip(), filename="mail.zip")
    check("process with email/zipfile/hashlib -> 0", rc == 0, str(inst.host.logs))
    check("the attachment emitted", inst.host.emits == [("a.exe", b"MZ\x90\x00payload")], str(inst.host.emits))
    check("row", len(inst.host.rows) == 1 and inst.host.rows[0][1][2:] == [1, "invoice"], str(inst.host.rows))
    inst.close()

    # 5. host errors as wadup.Error subclasses; no sockets
    inst = instance("errors", ERRORS_MODULE)
    check("init -> 0", inst.init() == 0)
    rc = inst.process(b"abc")
    logs = [m for _, m in inst.host.logs]
    check("OutOfBoundsError", "raised OutOfBoundsError out_of_bounds -1" in logs, str(logs))
    check("SchemaConflictError", any(m.startswith("raised define_table(T): schema_conflict (-5)") for m in logs), str(logs))
    check("sockets, processes, files outside the preopens, writes, threads refused", rc == 0 and
          sum(m.endswith(" refused", 0, m.find(":")) or " refused: " in m for m in logs) == 5, str(logs))
    inst.close()

    inst = instance("recurse", RECURSE)
    inst.init()
    rc = inst.process(b"x")
    check("unbounded recursion -> RecursionError, 1", rc == 1 and any("RecursionError" in m for _, m in inst.host.logs), str(inst.host.logs[-2:]))
    check("and the instance goes on", inst.process(b"y") == 1)
    inst.close()

    shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


NOOP = '''
def process(content):
    pass
'''

ONEROW = '''
import wadup
t = wadup.table("one", {"size": int, "head": str})
def process(content):
    t.insert((content.size, content[:8].hex()))
'''


def bench(instances=10, calls=2000):
    """Instance start (instantiate + _initialize + init) and the cost of a process() call."""
    import statistics
    engine = Engine()
    compiled = Module.from_file(engine, os.path.join(RUNTIME, "python.wasm"))
    tmp = tempfile.mkdtemp(prefix="wadup-py-bench-")
    config = Config()
    config.consume_fuel = True
    fuel_engine = Engine(config)
    fuel_compiled = Module.from_file(fuel_engine, os.path.join(RUNTIME, "python.wasm"))
    for name, text in (("noop", NOOP), ("onerow", ONEROW), ("imports", IMPORTS)):
        path = os.path.join(tmp, name + ".py")
        with open(path, "w") as fh:
            fh.write(text)
        starts, inits = [], []
        for _ in range(instances):
            t0 = time.perf_counter()
            inst = Instance(path, engine=engine, compiled=compiled, quiet=True)
            t1 = time.perf_counter()
            assert inst.init() == 0, inst.host.logs
            t2 = time.perf_counter()
            starts.append((t1 - t0) * 1000)
            inits.append((t2 - t1) * 1000)
            mem = inst.exports["memory"].data_len(inst.store)
            if _ + 1 < instances:
                inst.close()
        line = "%-8s instantiate+_initialize %.1f ms, init median %.1f ms (min %.1f), memory after init %.1f MiB" % (
            name, statistics.median(starts), statistics.median(inits), min(inits), mem / 1048576)
        if name != "imports":
            data = b"MZ" + bytes(98)
            for _ in range(50):
                inst.process(data)
            t0 = time.perf_counter()
            for _ in range(calls):
                inst.process(data)
            per = (time.perf_counter() - t0) / calls * 1e6
            line += "; process %.0f us/call, memory after %d calls %.1f MiB" % (
                per, calls + 50, inst.exports["memory"].data_len(inst.store) / 1048576)
        inst.close()
        # Fuel (wasmtime's count of executed instructions, roughly): what --fuel must allow.
        inst = Instance(path, engine=fuel_engine, compiled=fuel_compiled, quiet=True)
        inst.store.set_fuel(10 ** 12)
        inst.init()
        line += "; fuel: init %.1fM" % ((10 ** 12 - inst.store.get_fuel()) / 1e6)
        if name != "imports":
            inst.store.set_fuel(10 ** 12)
            inst.process(data)
            line += ", process %.0fk" % ((10 ** 12 - inst.store.get_fuel()) / 1e3)
        inst.close()
        print(line)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--selftest":
        sys.exit(selftest())
    if len(sys.argv) >= 2 and sys.argv[1] == "--bench":
        sys.exit(bench())
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(run_module(sys.argv[1], sys.argv[2:]))
