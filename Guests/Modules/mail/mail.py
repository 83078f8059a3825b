"""The standard module `mail`: e-mail messages (RFC 5322 / MIME, `.eml`) and mbox mailboxes, read
with the standard library's `email` (under `email.policy.default`) and `mailbox` on WADUP's Python
runtime. What it writes and emits: docs/modules/mail.md.

- A message: one `mail_messages` row, every header in `mail_headers` (in order, decoded), every MIME
  part in `mail_parts` (IMAP part numbers), what Python's `email` found wrong in `mail_defects`.
  Bodies and attachments are emitted as sub-contents (transfer-decoded bytes, named by their
  filename or `part-N.EXT`); a nested message (`message/rfc822`) is emitted whole, as `NAME.eml`,
  and read as a message of its own by the recursion, not walked here.
- An mbox: one `mail_mbox_messages` row per message, and the message emitted as
  `message-NNNN.eml`, a zero-copy slice of the mailbox (its bytes after the `From ` line), which
  the recursion then reads as a message.

Malformed mail is read as far as `email` reads it; what it notes is a defect row, and an exception
in one part is a defect of that part, not a failure of the content.
"""
import email.errors
import email.headerregistry
import email.message
import email.policy
import fnmatch
import mailbox
import mimetypes
from email.parser import BytesParser

import wadup

ACCEPTS = {
    # libmagic says message/rfc822 for a message starting with a header it knows (From:, Received:,
    # Return-Path:, Date:, ...) and text/plain for an mbox; application/mbox is the registered type.
    "mime": ["message/rfc822", "application/mbox"],
    "names": ["*.eml", "*.mbox", "*.mbx"],
    "magic": [{"offset": 0, "hex": "46726f6d20"}],  # "From ": an mbox's first envelope line
}

MIME_TYPES = ("message/rfc822", "application/mbox")
NAME_GLOBS = ("*.eml", "*.mbox", "*.mbx")
MBOX_MAGIC = b"From "
#: Nested messages emitted whole rather than walked.
MESSAGE_TYPES = ("message/rfc822", "message/global")

class _Registry(email.headerregistry.HeaderRegistry):
    """email.policy.default's header registry, its per-name header classes made once instead of
    on every header read (the same classes, so the same values; a tenth of the module's time).
    At most `LIMIT` names are kept: a message of a million made-up header names does not grow
    the interpreter kept from one content to the next."""

    LIMIT = 512

    def __init__(self):
        super().__init__()
        self._made = {}

    def __getitem__(self, name):
        made = self._made.get(name)
        if made is None:
            made = super().__getitem__(name)
            if len(self._made) < self.LIMIT:
                self._made[name] = made
        return made


POLICY = email.policy.default.clone(header_factory=_Registry())
#: The parser's fallback when `email.policy.default` raises on a header while parsing.
FALLBACK_POLICY = email.policy.compat32
#: Built-in extensions only: the same names on every machine, whatever /etc/mime.types says.
EXTENSIONS = mimetypes.MimeTypes(filenames=())

messages = wadup.table("mail_messages", {
    "message_id": str, "date": str, "sender": str, "recipients": str, "cc": str, "subject": str,
    "in_reply_to": str, "x_mailer": str, "received_hops": int,
})
headers = wadup.table("mail_headers", {"name": str, "value": str})
parts = wadup.table("mail_parts", {"part": str, "content_type": str, "filename": str, "size": int, "disposition": str})
defects = wadup.table("mail_defects", {"part": str, "defect": str, "detail": str})
mbox_messages = wadup.table("mail_mbox_messages", {"number": int, "envelope": str, "offset": int, "size": int})


def text(value):
    """`value` as text SQLite can hold: bytes `email` kept as surrogates (8-bit headers) are read
    as UTF-8, and a byte that is not UTF-8 is written `\\xhh` (as WADUP writes input paths)."""
    if value is None:
        return None
    try:
        raw = str(value).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte (a decoded UTF-16 word)
        raw = str(value).encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


def recognised(content):
    """The manifest's test again, so that `--no-dispatch` and a run without an identifier give
    the same results as dispatch."""
    mime = (content.mime or "").lower()
    name = content.filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return mime in MIME_TYPES or any(fnmatch.fnmatchcase(name, g) for g in NAME_GLOBS) or content.read(0, 5) == MBOX_MAGIC


def process(content):
    """An mbox (it starts with an envelope line) or a message; anything else is left alone."""
    if not recognised(content):
        return
    if content.read(0, 5) == MBOX_MAGIC:
        read_mbox(content)
    else:
        read_message(content)


# mbox


class _OpenMbox(mailbox.mbox):
    """`mailbox.mbox`'s reader over an open binary file instead of a path: its table of contents
    (`_generate_toc`, the standard library's rule for where each message starts and stops)."""

    def __init__(self, file):
        self._file = file
        self._toc = None
        self._next_key = 0
        self._pending = False
        self._pending_sync = False
        self._locked = False
        self._file_length = None
        self._factory = None
        self._message_factory = mailbox.mboxMessage
        self._path = "<content>"

    def ranges(self):
        self._generate_toc()
        return [self._toc[key] for key in sorted(self._toc)]


def read_mbox(content):
    file = content.open()
    for number, (start, stop) in enumerate(_OpenMbox(file).ranges(), 1):
        file.seek(start)
        from_line = file.readline()
        offset = start + len(from_line)
        size = max(stop - offset, 0)
        envelope = from_line[len(MBOX_MAGIC):].rstrip(b"\r\n").decode("utf-8", "backslashreplace")
        mbox_messages.insert((number, envelope, offset, size))
        try:
            wadup.emit_slice("message-%04d.eml" % number, offset, size)
        except wadup.LimitReachedError as error:
            # The host's sub-content limit or the input's budget: the rest stays listed, not emitted.
            record_defect(None, error, "message %d and later not emitted" % number)
            break


# A message


def parse(content):
    """The message under `email.policy.default`; under `compat32` (a defect row says so) when
    the default policy raises on a header the parser looks at. From bytes (`parsebytes`, as
    `email.message_from_bytes`): a parser given a file reads it as text with universal newlines,
    which would turn a body's CRLF line ends into LF."""
    data = content.read()
    try:
        return BytesParser(policy=POLICY).parsebytes(data), None
    except wadup.Error:
        raise
    except Exception as error:
        return BytesParser(policy=FALLBACK_POLICY).parsebytes(data), error


def header_value(name, raw):
    """(decoded text, header defects) of one header: `str()` of `email.policy.default`'s header
    object (RFC 2047 encoded words decoded, folding removed); the raw unfolded text when that
    header does not parse."""
    try:
        value = POLICY.header_fetch_parse(name, raw)
        return text(value), list(getattr(value, "defects", ()))
    except Exception as error:
        unfolded = "".join(str(raw).splitlines())
        return text(unfolded), [error]


def record_defect(path, defect, where=None):
    """One `mail_defects` row: the defect's class name and its message, after `where` (the header
    or the step it was met in) when there is one; NULL when there is neither."""
    detail = text(str(defect)) or None
    if where:
        detail = "%s: %s" % (where, detail) if detail else where
    defects.insert((path, type(defect).__name__, detail))


def read_message(content):
    message, fallback = parse(content)
    root = "0" if message.is_multipart() else "1"
    if fallback is not None:
        record_defect(root, fallback, "email.policy.default failed; parsed with compat32")
    first = {}
    for name, raw in message.raw_items():
        value, header_defects = header_value(name, raw)
        headers.insert((text(name), value))
        first.setdefault(name.lower(), value)
        for defect in header_defects:
            record_defect(root, defect, "header " + text(name))
    date = first.get("date")
    try:
        parsed = message["date"].datetime if fallback is None and "date" in message else None
        if parsed is not None:
            date = parsed.isoformat()
    except Exception:
        pass
    hops = len(message.get_all("received") or [])
    messages.insert((first.get("message-id"), date, first.get("from"), first.get("to"), first.get("cc"), first.get("subject"),
                     first.get("in-reply-to"), first.get("x-mailer"), hops))
    linesep = "\r\n" if content.read(0, 4096).split(b"\n", 1)[0].endswith(b"\r") else "\n"
    walk(message, root, linesep)


def attribute(part, getter, default=None):
    try:
        return getter(part)
    except Exception:
        return default


def part_name(path, content_type, filename):
    """The sub-content's name: the part's filename (its last path component), else `part-PATH.EXT`
    by its type; a nested message's name always ends in `.eml` so that the recursion reads it."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].replace("\0", "")[:255]
    if name in ("", ".", ".."):
        name = "part-%s%s" % (path, EXTENSIONS.guess_extension(content_type) or ".bin")
    if content_type in MESSAGE_TYPES and not name.lower().endswith(".eml"):
        name += ".eml"
    return name


def emit(path, name, data):
    """`wadup.emit`, but a sub-content the host's limits refuse is a defect of its part, not a
    failure that would drop everything read."""
    try:
        wadup.emit(name, data)
    except wadup.LimitReachedError as error:
        record_defect(path, error, "not emitted")


def walk(part, path, linesep):
    """One row per MIME entity (IMAP numbering: a multipart message's root is "0", its children
    "1", "2", their children "2.1", ...; a single-part message's body is "1"), and its bytes
    emitted."""
    content_type = attribute(part, lambda p: p.get_content_type(), "text/plain")
    filename = text(attribute(part, lambda p: p.get_filename()))
    disposition = attribute(part, lambda p: p.get_content_disposition())
    row = [path, content_type, filename, None, text(disposition)]
    try:
        payload = part.get_payload()
        if content_type in MESSAGE_TYPES and isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
            data = nested_bytes(payload[0], linesep)
            encoding = str(attribute(part, lambda p: p.get("content-transfer-encoding", "")) or "").strip().lower()
            if encoding in ("base64", "quoted-printable"):
                data = undo_transfer_encoding(payload[0], data, encoding, linesep)
            row[3] = len(data)
            emit(path, part_name(path, content_type, filename), data)
        elif part.is_multipart():
            parts.insert(row)
            row = None
            for index, child in enumerate(payload, 1):
                walk(child, str(index) if path == "0" else "%s.%d" % (path, index), linesep)
        else:
            data = part.get_payload(decode=True) or b""
            row[3] = len(data)
            if data:
                emit(path, part_name(path, content_type, filename), data)
    except wadup.Error:
        raise
    except Exception as error:
        record_defect(path, error, "reading the part")
    if row is not None:
        parts.insert(row)
    for defect in part.defects:
        record_defect(path, defect)


def undo_transfer_encoding(message, data, encoding, linesep):
    """A nested message sent base64 or quoted-printable (RFC 2046 allows neither; mailers do it):
    `email` parsed the encoded text as a message, which is written back above; here it is decoded
    as `email` decodes any part, so that the message itself is emitted."""
    if not message.keys() and data.startswith(linesep.encode()):
        data = data[len(linesep):]  # no header was found: the blank line written before the body
    carrier = email.message.Message()
    carrier["Content-Transfer-Encoding"] = encoding
    carrier.set_payload(data.decode("ascii", "surrogateescape"))
    return carrier.get_payload(decode=True)


def nested_bytes(message, linesep):
    """A nested message's bytes as `email` writes it back: its headers as in the source (not
    refolded), its bodies as they were, the lines ended as in the enclosing message."""
    policy = message.policy.clone(linesep=linesep)
    if isinstance(policy, email.policy.EmailPolicy):
        policy = policy.clone(refold_source="none")
    return message.as_bytes(policy=policy)
