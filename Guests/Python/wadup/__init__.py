"""WADUP's Python API: what a module's ``process(content)`` uses to read the content and report.

A module is one file ``NAME.py`` with a function ``process(content)``, called once per content::

    import wadup

    sizes = wadup.table("sizes", {"name": str, "size": int})

    def process(content):
        sizes.insert((content.filename, content.size))
        if content[:2] == b"PK":
            wadup.emit("first-kilobyte", content[:1024])

Every call reaches the host through ``_wadup`` (the interpreter's compiled-in module over the
functions of docs/modules/ABI.md); a host error becomes a ``wadup.Error`` subclass naming the
code. The type stubs are in ``wadup.pyi``.
"""
import _wadup
from _json import encode_basestring as _quote

__all__ = ["Content", "Table", "Stream", "table", "emit", "emit_slice", "emit_extents", "emit_stream",
           "log", "Error", "HOLE"]

HOLE = -1  # an extent's offset for a run of zero bytes (emit_extents)


# --------------------------------------------------------------------------------- errors --

class Error(Exception):
    """A host function refused a call. ``code`` is the ABI's negative code, ``name`` its name."""
    code = 0
    name = "error"

    def __init__(self, call, code=None):
        if code is not None and type(self) is Error:
            self.code = code
        super().__init__("%s: %s (%d)" % (call, self.name, self.code))
        self.call = call


def _error_class(name, code, doc):
    cls = type("".join(p.capitalize() for p in name.split("_")) + "Error", (Error,),
               {"code": code, "name": name, "__doc__": doc, "__module__": __name__})
    globals()[cls.__name__] = cls
    __all__.append(cls.__name__)
    return cls


_ERRORS = {code: _error_class(name, code, doc) for code, name, doc in (
    (-1, "out_of_bounds", "An offset/length outside the content (or a pointer outside memory)."),
    (-2, "invalid_utf8", "A name, string or JSON text is not valid UTF-8."),
    (-3, "invalid_json", "Column or row JSON the host could not parse."),
    (-4, "invalid_identifier", "A table or column name that breaks the identifier rule or is reserved."),
    (-5, "schema_conflict", "The table exists with other columns."),
    (-6, "unknown_table", "A table id this instance did not get from define_table."),
    (-7, "arity_mismatch", "A row with another number of values than the table has columns."),
    (-8, "type_mismatch", "A value not of its column's type (or an Int64 out of range)."),
    (-9, "limit_reached", "A per-run limit (rows, sub-contents, log lines) or a per-input budget."),
    (-10, "invalid_argument", "An invalid argument (a sub-content name with NUL or over 4096 bytes)."),
    (-11, "no_content", "A content function called outside process()."),
    (-12, "input_unavailable", "The input changed or failed while it was read: the content has failed, return."),
    (-13, "unknown_stream", "A stream handle not open in this run."),
    (-14, "temporary_storage", "The host's temporary folder is full or failing: the run fails, return."),
)}


def _check(call, rc):
    """Returns rc (a non-negative result) or raises the Error its negative code names."""
    if isinstance(rc, int) and rc < 0:
        cls = _ERRORS.get(rc)
        raise cls(call) if cls else Error(call, rc)
    return rc


def _name(name):
    if isinstance(name, str):
        return name.encode("utf-8")
    if isinstance(name, (bytes, bytearray)):
        return bytes(name)
    raise TypeError("a name is str or bytes, not %s" % type(name).__name__)


# -------------------------------------------------------------------------------- content --

class Content:
    """The content being processed (one object per ``process`` call; valid only during it).

    ``len(content)`` and ``content[a:b]`` work like on bytes; ``size`` is exact at any size
    (``len`` cannot pass 2**31 - 1 on wasm32: use ``size`` for disk images)."""
    __slots__ = ("_size", "_filename", "_uuid", "_mime")

    def __init__(self):
        self._size = None
        self._filename = None
        self._uuid = None
        self._mime = False

    @property
    def size(self):
        """The content's size in bytes (64-bit)."""
        if self._size is None:
            self._size = _check("get_content_size64", _wadup.size())
        return self._size

    def __len__(self):
        return self.size

    def read(self, offset=0, n=-1):
        """Up to ``n`` bytes from ``offset`` (all the rest when ``n`` is negative); fewer at the
        end of the content, ``b""`` past it, like a file's read."""
        offset = _index(offset, "offset")
        n = _index(n, "n")
        if offset < 0:
            raise ValueError("negative offset")
        size = self.size
        if offset >= size:
            return b""
        if n < 0 or n > size - offset:
            n = size - offset
        data = _wadup.read(offset, n)
        if isinstance(data, int):
            _check("read_content64", data)
        return data

    def readinto(self, offset, buffer):
        """Fills a writable buffer (bytearray, memoryview) from ``offset``; returns how many bytes
        were read (fewer at the end of the content)."""
        offset = _index(offset, "offset")
        if offset < 0:
            raise ValueError("negative offset")
        view = memoryview(buffer).cast("B")
        n = max(0, min(len(view), self.size - offset))
        if n:
            _check("read_content64", _wadup.readinto(offset, view[:n]))
        return n

    def __getitem__(self, key):
        size = self.size
        if isinstance(key, slice):
            start, stop, step = key.indices(size) if size < (1 << 31) else _indices64(key, size)
            if step == 1:
                return self.read(start, max(0, stop - start)) if stop > start else b""
            lo, hi = (start, stop) if step > 0 else (stop + 1, start + 1)
            if hi <= lo:
                return b""
            return self.read(lo, hi - lo)[start - lo::step]
        i = _index(key, "index")
        if i < 0:
            i += size
        if not 0 <= i < size:
            raise IndexError("content index out of range")
        return self.read(i, 1)[0]

    def __bytes__(self):
        return self.read(0, -1)

    def open(self):
        """A read-only, seekable binary file over the content (for zipfile, tarfile, email's
        BytesParser, anything that wants a file); reads go to the host on demand."""
        global _raw_class
        import io
        if _raw_class is None:
            _raw_class = _make_raw()
        return io.BufferedReader(_raw_class(self), buffer_size=65536)

    @property
    def filename(self):
        """The content's name: the file's path for an input, the name given for a sub-content."""
        if self._filename is None:
            raw = _wadup.filename()
            if isinstance(raw, int):
                _check("get_content_filename", raw)
            self._filename = raw.decode("utf-8", "surrogateescape")
        return self._filename

    @property
    def uuid(self):
        """The content's UUID (a uuid.UUID)."""
        if self._uuid is None:
            raw = _wadup.uuid()
            if isinstance(raw, int):
                _check("get_content_uuid", raw)
            import uuid
            self._uuid = uuid.UUID(bytes=raw)
        return self._uuid

    @property
    def mime(self):
        """The MIME type an identifying module reported for this content, or None."""
        if self._mime is False:
            raw = _wadup.content_type()
            if isinstance(raw, int):
                _check("get_content_type", raw)
            self._mime = raw.decode("utf-8", "replace") if raw else None
        return self._mime

    def set_type(self, mime, description=""):
        """Reports the content's type (modules whose ROLE is "identify" only)."""
        _check("set_content_type", _wadup.set_content_type(_name(mime), _name(description)))

    def __repr__(self):
        return "<wadup.Content %r, %d bytes>" % (self.filename, self.size)


def _index(v, what):
    try:
        return v.__index__()
    except AttributeError:
        raise TypeError("%s must be an integer, not %s" % (what, type(v).__name__)) from None


def _indices64(key, size):
    # slice.indices() needs Py_ssize_t (32-bit on wasm32): the same rules for larger contents.
    step = 1 if key.step is None else _index(key.step, "step")
    if step == 0:
        raise ValueError("slice step cannot be zero")
    def fix(v, default):
        if v is None:
            return default
        v = _index(v, "index")
        if v < 0:
            v += size
        return max(-1 if step < 0 else 0, min(v, size - 1 if step < 0 else size))
    if step > 0:
        return fix(key.start, 0), fix(key.stop, size), step
    return fix(key.start, size - 1), fix(key.stop, -1), step


_raw_class = None


def _make_raw():
    import io

    class RawContent(io.RawIOBase):
        def __init__(self, content):
            self._content = content
            self._pos = 0

        def readable(self):
            return True

        def seekable(self):
            return True

        def readinto(self, b):
            n = self._content.readinto(self._pos, b)
            self._pos += n
            return n

        def seek(self, offset, whence=0):
            if whence == 0:
                pos = offset
            elif whence == 1:
                pos = self._pos + offset
            elif whence == 2:
                pos = self._content.size + offset
            else:
                raise ValueError("invalid whence")
            if pos < 0:
                raise OSError(22, "negative seek position")
            self._pos = pos
            return pos

        def tell(self):
            return self._pos

    return RawContent


# --------------------------------------------------------------------------------- tables --

_TYPES = {int: "Int64", float: "Float64", str: "String",
          "Int64": "Int64", "Float64": "Float64", "String": "String",
          "int": "Int64", "float": "Float64", "str": "String"}
_tables = {}


class Table:
    """A table made by ``wadup.table``; ``insert`` adds one row."""
    __slots__ = ("name", "columns", "_id", "_types", "_names")

    def __init__(self, name, columns, table_id):
        self.name = name
        self.columns = dict(columns)
        self._id = table_id
        self._names = list(self.columns)
        self._types = [self.columns[c] for c in self._names]

    def insert(self, row):
        """Inserts a row: a tuple/list in column order, or a dict by column name (a missing key
        is NULL). ``None`` is NULL in any column; an int column takes ints (and bools), a float
        column ints and floats (not NaN or infinities), a text column str."""
        if isinstance(row, dict):
            unknown = set(row) - set(self._names)
            if unknown:
                raise KeyError("table %s has no column %s" % (self.name, ", ".join(sorted(map(str, unknown)))))
            values = [row.get(c) for c in self._names]
        else:
            values = list(row)
            if len(values) != len(self._names):
                raise ValueError("table %s has %d columns, the row %d values" % (self.name, len(self._names), len(values)))
        parts = []
        for name, kind, v in zip(self._names, self._types, values):
            if v is None:
                parts.append("null")
            elif kind == "Int64":
                if not isinstance(v, int):
                    raise TypeError("column %s.%s is int, not %s" % (self.name, name, type(v).__name__))
                v = int(v)
                if not -(1 << 63) <= v < (1 << 63):
                    raise OverflowError("column %s.%s: %d does not fit in 64 bits" % (self.name, name, v))
                parts.append('{"Int64":%d}' % v)
            elif kind == "Float64":
                if not isinstance(v, (int, float)):
                    raise TypeError("column %s.%s is float, not %s" % (self.name, name, type(v).__name__))
                v = float(v)
                if v != v or v in (float("inf"), float("-inf")):
                    raise ValueError("column %s.%s: %r has no JSON form (store None)" % (self.name, name, v))
                parts.append('{"Float64":%r}' % v)
            else:
                if not isinstance(v, str):
                    raise TypeError("column %s.%s is str, not %s" % (self.name, name, type(v).__name__))
                parts.append('{"String":%s}' % _quote(v))
        _check("insert_row", _wadup.insert_row(self._id, ("[" + ",".join(parts) + "]").encode("utf-8")))

    def __repr__(self):
        return "<wadup.Table %s %r>" % (self.name, self.columns)


def table(name, columns):
    """Defines (or finds) a table: ``columns`` maps each column name to ``int``, ``float`` or
    ``str`` (or "Int64", "Float64", "String"), in order. The same name and columns give the same
    table; other columns under an existing name raise SchemaConflictError."""
    if not isinstance(name, str):
        raise TypeError("a table name is str")
    if not isinstance(columns, dict) or not columns:
        raise TypeError("columns is a non-empty dict: {\"name\": int|float|str, ...}")
    cols = {}
    for c, t in columns.items():
        if not isinstance(c, str):
            raise TypeError("a column name is str")
        try:
            cols[c] = _TYPES[t]
        except (KeyError, TypeError):
            raise TypeError("column %s: type %r is not int, float or str" % (c, t)) from None
    key = (name, tuple(cols.items()))
    t = _tables.get(key)
    if t is None:
        spec = "[" + ",".join('{"name":%s,"data_type":"%s"}' % (_quote(c), k) for c, k in cols.items()) + "]"
        tid = _check("define_table(%s)" % name, _wadup.define_table(name.encode("utf-8"), spec.encode("utf-8")))
        t = _tables[key] = Table(name, cols, tid)
    return t


# ---------------------------------------------------------------------------- sub-content --

def emit(name, data):
    """Emits ``data`` (bytes-like) as a sub-content named ``name``; it is copied to the host once."""
    _check("emit_subcontent_bytes", _wadup.emit_bytes(data, _name(name)))


def emit_slice(name, offset, length):
    """Emits ``length`` bytes of the current content from ``offset`` as a sub-content, without a
    copy (64-bit offset and length)."""
    _check("emit_subcontent_slice64", _wadup.emit_slice(_index(offset, "offset"), _index(length, "length"), _name(name)))


def emit_extents(name, extents):
    """Emits a sub-content made of ranges of the current content, one after the other, without a
    copy: ``extents`` is an iterable of ``(offset, length)``; offset ``wadup.HOLE`` (-1) is a run of
    ``length`` zero bytes."""
    import struct
    packed = b"".join(struct.pack("<qq", _index(o, "offset"), _index(n, "length")) for o, n in extents)
    _check("emit_subcontent_extents", _wadup.emit_extents(packed, _name(name)))


class Stream:
    """A sub-content written piece by piece (``wadup.emit_stream``): of any size, kept by the host
    (not in the module's memory). Use it in a ``with`` block: it ends when the block does, and is
    discarded when the block raises."""
    __slots__ = ("name", "_handle", "size")

    def __init__(self, name):
        self.name = name
        self._handle = None
        self.size = 0

    def __enter__(self):
        self._handle = _check("emit_stream_begin", _wadup.stream_begin(_name(self.name)))
        return self

    def write(self, data):
        """Appends bytes; returns how many."""
        if self._handle is None:
            raise ValueError("the stream is not open")
        n = len(memoryview(data).cast("B"))
        _check("emit_stream_write", _wadup.stream_write(self._handle, data))
        self.size += n
        return n

    def skip(self, length):
        """Appends ``length`` zero bytes without sending them (a hole)."""
        if self._handle is None:
            raise ValueError("the stream is not open")
        length = _index(length, "length")
        _check("emit_stream_skip", _wadup.stream_skip(self._handle, length))
        self.size += length

    def __exit__(self, exc_type, exc, tb):
        handle, self._handle = self._handle, None
        if handle is None:
            return False
        if exc_type is None:
            _check("emit_stream_end", _wadup.stream_end(handle))
        else:
            _wadup.stream_abort(handle)  # the exception that got here is the one to report
        return False


def emit_stream(name):
    """``with wadup.emit_stream(name) as s: s.write(b)``: a sub-content of any size."""
    return Stream(name)


# -------------------------------------------------------------------------------- logging --

class _Log:
    """``wadup.log.info("parsed %d entries", n)``: lines in WADUP's log with the module and the
    content (at most 1000 a run; past that they are dropped). ``%`` arguments as in ``logging``."""
    DEBUG, INFO, WARNING, ERROR = 0, 1, 2, 3

    @staticmethod
    def _log(level, msg, args):
        text = (str(msg) % args) if args else str(msg)
        rc = _wadup.log(level, text.encode("utf-8", "replace"))
        if rc == -9:  # limit_reached: a module's log never stops its work
            return
        _check("log_message", rc)

    def debug(self, msg, *args):
        self._log(0, msg, args)

    def info(self, msg, *args):
        self._log(1, msg, args)

    def warning(self, msg, *args):
        self._log(2, msg, args)

    warn = warning

    def error(self, msg, *args):
        self._log(3, msg, args)


log = _Log()
