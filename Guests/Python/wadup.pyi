"""Type stubs of ``wadup``, the API of WADUP's Python modules (for editors and type checkers).

A module is one file ``NAME.py`` defining ``process(content)``, called once per content::

    import wadup

    ACCEPTS = {"names": ["*.eml"], "max_size": 50_000_000}   # optional: the manifest's "accepts"
    mails = wadup.table("mails", {"subject": str, "parts": int})

    def process(content: wadup.Content) -> None:
        import email
        msg = email.message_from_binary_file(content.open())
        mails.insert((msg["subject"], len(msg.get_payload()) if msg.is_multipart() else 1))

Module-level names WADUP reads:

- ``process(content)`` (required): returns normally for success; an exception is a failure of kind
  ``nonzero_return`` whose detail is ``Type: message`` (the traceback is logged at debug level),
  and the next content runs normally.
- ``ACCEPTS`` (optional): a dict, the manifest's ``accepts`` (``mime``, ``magic``, ``names``,
  ``min_size``, ``max_size``; docs/modules/ABI.md "Manifest"). Without it the module is offered
  every content.
- ``ROLE`` (optional): ``"analyze"`` (the default) or ``"identify"`` (may call ``content.set_type``).
- ``init()`` (optional): called once per instance after the import; returning ``False`` declines
  (the module is not loaded for the run; say why with ``wadup.log.info``), raising is a
  configuration error that stops the run.

The module's own read-only folder ``NAME.d/`` is at ``/data`` (``/data/site-packages`` is on
``sys.path``). There is no network, no subprocess, no threads and no other file.
"""
from types import TracebackType
from typing import Any, BinaryIO, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple, Type, Union, overload
import uuid as _uuid

Buffer = Union[bytes, bytearray, memoryview]
ColumnType = Union[Type[int], Type[float], Type[str], Literal["Int64", "Float64", "String"]]
Value = Union[int, float, str, None]

HOLE: int
"""An extent's offset meaning a run of zero bytes (``emit_extents``)."""


class Error(Exception):
    """A host function refused a call. ``code`` is the ABI's negative code, ``name`` its name
    (docs/modules/ABI.md "Error codes"), ``call`` the host function."""
    code: int
    name: str
    call: str

class OutOfBoundsError(Error):
    """out_of_bounds (-1): an offset/length outside the content."""
class InvalidUtf8Error(Error):
    """invalid_utf8 (-2)."""
class InvalidJsonError(Error):
    """invalid_json (-3)."""
class InvalidIdentifierError(Error):
    """invalid_identifier (-4): a table or column name that is not [A-Za-z_][A-Za-z0-9_]{0,62}, or reserved."""
class SchemaConflictError(Error):
    """schema_conflict (-5): the table exists with other columns."""
class UnknownTableError(Error):
    """unknown_table (-6)."""
class ArityMismatchError(Error):
    """arity_mismatch (-7)."""
class TypeMismatchError(Error):
    """type_mismatch (-8)."""
class LimitReachedError(Error):
    """limit_reached (-9): --max-rows, --max-subcontent, --max-subcontent-bytes, a per-input budget."""
class InvalidArgumentError(Error):
    """invalid_argument (-10): a sub-content name with NUL or over 4096 bytes."""
class NoContentError(Error):
    """no_content (-11): a content function called outside process()."""
class InputUnavailableError(Error):
    """input_unavailable (-12): the input changed or failed while it was read; the content has
    failed whatever the module does: let the exception end process()."""
class UnknownStreamError(Error):
    """unknown_stream (-13)."""
class TemporaryStorageError(Error):
    """temporary_storage (-14): the host's temporary folder is full or failing; the run fails."""


class Content:
    """The content being processed: valid only during the ``process`` call that received it.

    Reads go to the host on demand (nothing is loaded unless read). Offsets and sizes are 64-bit;
    ``len()`` cannot pass 2**31 - 1 on wasm32 (use ``size`` for larger contents)."""

    @property
    def size(self) -> int:
        """The size in bytes."""
    def __len__(self) -> int: ...
    def read(self, offset: int = 0, n: int = -1) -> bytes:
        """Up to ``n`` bytes from ``offset`` (``n`` < 0: to the end); fewer at the end, ``b""`` past it."""
    def readinto(self, offset: int, buffer: Union[bytearray, memoryview]) -> int:
        """Fills ``buffer`` from ``offset``; returns the number of bytes read."""
    @overload
    def __getitem__(self, key: int) -> int: ...
    @overload
    def __getitem__(self, key: slice) -> bytes:
        """``content[a:b]``: bytes, with bytes' slice rules (negative indices, steps)."""
    def __bytes__(self) -> bytes:
        """The whole content (``bytes(content)``)."""
    def open(self) -> BinaryIO:
        """A read-only, seekable binary file over the content (for zipfile, tarfile, email)."""
    @property
    def filename(self) -> str:
        """The input file's path, or the name a module gave the sub-content."""
    @property
    def uuid(self) -> _uuid.UUID:
        """The content's UUID (as in the output database)."""
    @property
    def mime(self) -> Optional[str]:
        """The MIME type identified for the content (``file_type``), or None."""
    def set_type(self, mime: str, description: str = "") -> None:
        """Reports the content's type: modules with ``ROLE = "identify"`` only."""


class Table:
    """A table of the output database (``wadup.table``)."""
    name: str
    columns: Dict[str, str]
    def insert(self, row: Union[Sequence[Value], Mapping[str, Value]]) -> None:
        """Adds a row: values in column order, or a dict by column name (a missing one is NULL).
        ``None`` is NULL; an int column takes int, a float column int or float (finite), a text
        column str. Rows are kept only if ``process`` returns normally."""


def table(name: str, columns: Mapping[str, ColumnType]) -> Table:
    """Defines (or finds) the table ``name`` with ``columns`` in order: ``{"col": int|float|str}``.
    Names are ``[A-Za-z_][A-Za-z0-9_]*`` (at most 63 bytes). The same definition gives the same
    table, from any module; other columns under the same name raise SchemaConflictError. The
    database adds ``content_uuid`` to every row."""


def emit(name: str, data: Buffer) -> None:
    """A sub-content made of ``data`` (copied to the host once), processed after this content
    like a file named ``name``."""

def emit_slice(name: str, offset: int, length: int) -> None:
    """A sub-content that is ``length`` bytes of this content from ``offset`` (no copy)."""

def emit_extents(name: str, extents: Iterable[Tuple[int, int]]) -> None:
    """A sub-content made of ``(offset, length)`` ranges of this content one after the other, no
    copy; offset ``HOLE`` is ``length`` zero bytes. At most 65536 extents."""


class Stream:
    """A sub-content written piece by piece; of any size (the host keeps it, not the module)."""
    name: str
    size: int
    def write(self, data: Buffer) -> int:
        """Appends ``data``; returns its length."""
    def skip(self, length: int) -> None:
        """Appends ``length`` zero bytes without sending them."""
    def __enter__(self) -> "Stream": ...
    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> Literal[False]:
        """Ends the stream (it becomes a sub-content), or discards it when the block raised."""

def emit_stream(name: str) -> Stream:
    """``with wadup.emit_stream("entry.bin") as s: s.write(chunk)``: at most 16 open at once."""


class _Log:
    DEBUG: int
    INFO: int
    WARNING: int
    ERROR: int
    def debug(self, msg: Any, *args: Any) -> None: ...
    def info(self, msg: Any, *args: Any) -> None: ...
    def warning(self, msg: Any, *args: Any) -> None: ...
    def warn(self, msg: Any, *args: Any) -> None: ...
    def error(self, msg: Any, *args: Any) -> None: ...

log: _Log
"""WADUP's log, with the module's name and the content's UUID: ``wadup.log.info("%d entries", n)``
(``%`` arguments as in ``logging``). At most 1000 lines a run (later ones are dropped), each cut at
4096 bytes; debug lines show with ``wadup -v``. ``print`` goes to the debug log too."""
