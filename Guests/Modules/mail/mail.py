"""The standard module `mail`: e-mail messages (RFC 5322 / MIME, `.eml`), mbox mailboxes, Outlook
`.msg` files and TNEF (`winmail.dat`), read with the standard library's `email` (under
`email.policy.default`) and `mailbox`, and for `.msg` the vendored `olefile` (the OLE2 compound
file) under this module's own reading of MS-OXMSG, on WADUP's Python runtime. What it writes and
emits: docs/modules/mail.md.

- A message: one `mail_messages` row, every header in `mail_headers` (in order, decoded), every MIME
  part in `mail_parts` (IMAP part numbers), what Python's `email` found wrong in `mail_defects`.
  Bodies and attachments are emitted as sub-contents (transfer-decoded bytes, named by their
  filename or `part-N.EXT`); a nested message (`message/rfc822`) is emitted whole, as `NAME.eml`,
  and read as a message of its own by the recursion, not walked here.
- An mbox: one `mail_mbox_messages` row per message, and the message emitted as
  `message-NNNN.eml`, a zero-copy slice of the mailbox (its bytes after the `From ` line), which
  the recursion then reads as a message.

- An Outlook `.msg` (MS-OXMSG: an OLE2 compound file, read with the vendored `olefile`) and a TNEF
  stream (MS-OXTNEF, `winmail.dat`): the same tables, filled from the message's properties (and
  from its transport headers, parsed by `email` as an EML's, when it kept them); the plain, HTML
  and RTF bodies (the RTF decompressed, MS-OXRTFCP) and every attachment emitted.

Malformed mail is read as far as `email` reads it; what it notes is a defect row, and an exception
in one part is a defect of that part, not a failure of the content. A damaged `.msg` or TNEF is
read as far as its structure goes, the rest a defect row.
"""
import codecs
import email.errors
import email.headerregistry
import email.message
import email.policy
import fnmatch
import mailbox
import mimetypes
import struct
import zlib
from datetime import datetime, timedelta, timezone
from email.parser import BytesParser, Parser

import wadup

ACCEPTS = {
    # libmagic says message/rfc822 for a message starting with a header it knows (From:, Received:,
    # Return-Path:, Date:, ...) and text/plain for an mbox; application/mbox is the registered type.
    # An Outlook .msg is application/vnd.ms-outlook to libmagic, TNEF application/vnd.ms-tnef.
    "mime": ["message/rfc822", "application/mbox", "application/vnd.ms-outlook", "application/vnd.ms-tnef", "application/ms-tnef"],
    "names": ["*.eml", "*.mbox", "*.mbx", "*.msg", "winmail.dat", "*.tnef"],
    "magic": [
        {"offset": 0, "hex": "46726f6d20"},        # "From ": an mbox's first envelope line
        {"offset": 0, "hex": "789f3e22"},          # TNEF's signature 0x223E9F78, little-endian
        {"offset": 0, "hex": "d0cf11e0a1b11ae1"},  # an OLE2 compound file (process looks for a .msg's properties)
    ],
}

MIME_TYPES = ("message/rfc822", "application/mbox")
NAME_GLOBS = ("*.eml", "*.mbox", "*.mbx")
OUTLOOK_MIME_TYPES = ("application/vnd.ms-outlook", "application/vnd.ms-tnef", "application/ms-tnef")
OUTLOOK_NAME_GLOBS = ("*.msg", "winmail.dat", "*.tnef")
MBOX_MAGIC = b"From "
TNEF_MAGIC = bytes.fromhex("789f3e22")
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
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


#: The stream of a .msg holding its transport headers (001E: 8-bit, 001F: UTF-16), lowercased.
TRANSPORT_HEADERS_STREAM = "__substg1.0_007d"


def recognised(content):
    """The manifest's test again, so that `--no-dispatch` and a run without an identifier give
    the same results as dispatch: "mime" (an RFC 5322 message or an mbox), "outlook" (a .msg or
    TNEF by its type or name) or None."""
    mime = (content.mime or "").lower()
    name = content.filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if name.startswith(TRANSPORT_HEADERS_STREAM):
        # A .msg's transport headers (PR_TRANSPORT_MESSAGE_HEADERS), which `office` emits with the
        # .msg's other streams: they are the .msg's own headers, read with it, not a message.
        return None
    head = content.read(0, 8)
    if mime in MIME_TYPES or any(fnmatch.fnmatchcase(name, g) for g in NAME_GLOBS) or head[:5] == MBOX_MAGIC:
        return "mime"
    if mime in OUTLOOK_MIME_TYPES or any(fnmatch.fnmatchcase(name, g) for g in OUTLOOK_NAME_GLOBS) or head[:4] == TNEF_MAGIC or head == OLE_MAGIC:
        return "outlook"
    return None


def process(content):
    """By the content's signature: a TNEF stream, an OLE2 compound file (read when it is a .msg:
    other compound files, Word or Excel documents, cost a look at their directory), an mbox (it
    starts with an envelope line) or a message; anything else is left alone."""
    kind = recognised(content)
    if kind is None:
        return
    head = content.read(0, 8)
    if head[:4] == TNEF_MAGIC:
        read_tnef(content)
    elif head == OLE_MAGIC:
        read_msg(content)
    elif kind == "outlook":
        return  # named .msg or winmail.dat, or typed so, but neither a compound file nor TNEF
    elif head[:5] == MBOX_MAGIC:
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


def read_headers(message, root, fallback=None):
    """Every header of `message` a `mail_headers` row, in order; returns the first value of each
    name (lowercase), the date as ISO 8601 when it parses, and the number of `Received` headers."""
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
    return first, date, len(message.get_all("received") or [])


def read_message(content):
    message, fallback = parse(content)
    root = "0" if message.is_multipart() else "1"
    if fallback is not None:
        record_defect(root, fallback, "email.policy.default failed; parsed with compat32")
    first, date, hops = read_headers(message, root, fallback)
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


# Outlook: MAPI properties, shared by .msg (MS-OXMSG) and TNEF (MS-OXTNEF)

PR_SUBJECT = 0x0037
PR_CLIENT_SUBMIT_TIME = 0x0039
PR_SENT_REPRESENTING_NAME = 0x0042
PR_SENT_REPRESENTING_EMAIL_ADDRESS = 0x0065
PR_TRANSPORT_MESSAGE_HEADERS = 0x007D
PR_SENDER_NAME = 0x0C1A
PR_SENDER_EMAIL_ADDRESS = 0x0C1F
PR_SENDER_ADDRTYPE = 0x0C1E
PR_RECIPIENT_TYPE = 0x0C15
PR_MESSAGE_DELIVERY_TIME = 0x0E06
PR_BODY = 0x1000
PR_RTF_COMPRESSED = 0x1009
PR_HTML = 0x1013
PR_INTERNET_MESSAGE_ID = 0x1035
PR_IN_REPLY_TO_ID = 0x1042
PR_DISPLAY_NAME = 0x3001
PR_ADDRTYPE = 0x3002
PR_EMAIL_ADDRESS = 0x3003
PR_ATTACH_DATA = 0x3701
PR_ATTACH_FILENAME = 0x3704
PR_ATTACH_METHOD = 0x3705
PR_ATTACH_LONG_FILENAME = 0x3707
PR_ATTACH_MIME_TAG = 0x370E
PR_SMTP_ADDRESS = 0x39FE
PR_INTERNET_CPID = 0x3FDE
PR_MESSAGE_CODEPAGE = 0x3FFD
PR_SENDER_SMTP_ADDRESS = 0x5D01
PR_ATTACHMENT_HIDDEN = 0x7FFE
ATTACH_EMBEDDED_MSG = 5

PT_I2, PT_LONG, PT_R4, PT_DOUBLE, PT_CURRENCY, PT_APPTIME, PT_ERROR, PT_BOOLEAN = 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0xA, 0xB
PT_OBJECT, PT_I8, PT_STRING8, PT_UNICODE, PT_SYSTIME, PT_CLSID, PT_BINARY = 0xD, 0x14, 0x1E, 0x1F, 0x40, 0x48, 0x102
MV_FLAG = 0x1000
#: The bytes a fixed-size value takes in TNEF's encoding of a property list (MS-OXTNEF 2.1.3.4).
FIXED_SIZES = {PT_I2: 4, PT_LONG: 4, PT_R4: 4, PT_DOUBLE: 8, PT_CURRENCY: 8, PT_APPTIME: 8, PT_ERROR: 4, PT_BOOLEAN: 4,
               PT_I8: 8, PT_SYSTIME: 8, PT_CLSID: 16}
VARIABLE_TYPES = (PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT)
#: Windows code pages whose Python codec is not named cpNNN (UTF-16's, 1200 and 1201, are not 8-bit
#: strings' and fall back to cp1252).
CODEPAGES = {65001: "utf-8", 65000: "utf-7", 20127: "ascii", 20866: "koi8-r",
             21866: "koi8-u", 50220: "iso2022-jp", 50221: "iso2022-jp", 50222: "iso2022-jp", 51932: "euc-jp", 51949: "euc-kr",
             52936: "hz", 54936: "gb18030", 936: "gbk", 10000: "mac-roman", **{28590 + n: "iso8859-%d" % n for n in range(1, 16)}}
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=timezone.utc)


class String8(bytes):
    """An 8-bit string property (PT_STRING8), kept as bytes until its message's code page is known."""


def codec(codepage):
    """The Python codec of a Windows code page; cp1252 (what Outlook writes by default) when there
    is none or Python has no such codec."""
    name = (CODEPAGES.get(codepage) or "cp%d" % codepage) if isinstance(codepage, int) and codepage not in (1200, 1201) else None
    try:
        return codecs.lookup(name).name if name else "cp1252"
    except LookupError:
        return "cp1252"


def string8(value, encoding):
    """A PT_STRING8 value as text: decoded in the message's code page, to its first NUL."""
    return value.split(b"\0", 1)[0].decode(encoding, "surrogateescape")


def unicode_string(value):
    """A PT_UNICODE value (UTF-16LE) as text, to its first NUL."""
    text_value = value[:len(value) & ~1].decode("utf-16-le", "surrogatepass")
    return text_value.split("\0", 1)[0]


def filetime(value):
    """A FILETIME (100 ns since 1601, UTC) as an aware datetime; None for 0 or out of range."""
    if not value:
        return None
    try:
        return FILETIME_EPOCH + timedelta(microseconds=value // 10)
    except OverflowError:
        return None


def fixed_value(ptype, raw):
    """A fixed-size property value from its little-endian bytes."""
    if ptype == PT_I2:
        return struct.unpack_from("<h", raw)[0]
    if ptype in (PT_LONG, PT_ERROR):
        return struct.unpack_from("<i", raw)[0]
    if ptype == PT_BOOLEAN:
        return raw[0] != 0  # one byte in a .msg (the rest of the 8 reserved, not always zero), more in TNEF
    if ptype == PT_I8:
        return struct.unpack_from("<q", raw)[0]
    if ptype == PT_SYSTIME:
        return filetime(struct.unpack_from("<Q", raw)[0])
    if ptype in (PT_DOUBLE, PT_APPTIME):
        return struct.unpack_from("<d", raw)[0]
    if ptype == PT_R4:
        return struct.unpack_from("<f", raw)[0]
    return bytes(raw)


class Properties:
    """A property set: `values` by property id (the first of several types under one id wins);
    PT_STRING8 values are decoded in the set's code page (PR_MESSAGE_CODEPAGE, else
    PR_INTERNET_CPID, else `codepage`, the TNEF stream's OEM code page) when read."""

    def __init__(self, values, codepage=None):
        self.values = values
        cp = values.get(PR_MESSAGE_CODEPAGE)
        if not isinstance(cp, int):
            cp = values.get(PR_INTERNET_CPID)
        self.encoding = codec(cp if isinstance(cp, int) else codepage)

    def get(self, pid):
        value = self.values.get(pid)
        if isinstance(value, String8):
            return string8(value, self.encoding)
        return value

    def text(self, pid):
        value = self.get(pid)
        return text(value) if isinstance(value, str) and value else None

    def data(self, pid):
        value = self.values.get(pid)
        return bytes(value) if isinstance(value, (bytes, bytearray)) else None


# Compressed RTF (MS-OXRTFCP)

RTF_DICTIONARY = (b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript "
                  b"\\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par "
                  b"\\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx")
RTF_COMPRESSED, RTF_UNCOMPRESSED = 0x75465A4C, 0x414C454D  # "LZFu", "MELA"


def decompress_rtf(data):
    """(the RTF, [what is wrong]) of a PR_RTF_COMPRESSED value: LZFu (a 4 KB dictionary primed with
    RTF_DICTIONARY, references of 12-bit offset and 4-bit length) or stored (MELA). The CRC of
    the compressed bytes is checked; a stream cut short is decompressed as far as it goes."""
    if len(data) < 16:
        raise ValueError("compressed RTF shorter than its 16-byte header")
    comp_size, raw_size, comp_type, crc = struct.unpack_from("<IIII", data)
    problems = []
    body = data[16:4 + comp_size]
    if 4 + comp_size > len(data):
        problems.append("cut short: %d of %d compressed bytes" % (len(data) - 16, comp_size - 12))
    if comp_type == RTF_UNCOMPRESSED:
        return bytes(body[:raw_size]), problems
    if comp_type != RTF_COMPRESSED:
        raise ValueError("unknown compressed RTF type 0x%08x" % comp_type)
    computed = zlib.crc32(body, 0xFFFFFFFF) ^ 0xFFFFFFFF  # MS-OXRTFCP's CRC-32: no pre- or post-inversion
    if computed != crc:
        problems.append("CRC 0x%08x, header says 0x%08x" % (computed, crc))
    dictionary = bytearray(4096)
    dictionary[:len(RTF_DICTIONARY)] = RTF_DICTIONARY
    write = len(RTF_DICTIONARY)
    out = bytearray()
    i, n, ended = 0, len(body), False
    while i < n and not ended:
        control = body[i]
        i += 1
        for bit in range(8):
            if control & (1 << bit):
                if i + 2 > n:
                    i = n
                    break
                reference = (body[i] << 8) | body[i + 1]
                i += 2
                offset = reference >> 4
                if offset == write:
                    ended = True
                    break
                for k in range(offset, offset + (reference & 0xF) + 2):
                    byte = dictionary[k & 0xFFF]
                    out.append(byte)
                    dictionary[write] = byte
                    write = (write + 1) & 0xFFF
            else:
                if i >= n:
                    break
                byte = body[i]
                i += 1
                out.append(byte)
                dictionary[write] = byte
                write = (write + 1) & 0xFFF
    if not ended:
        problems.append("no end marker")
    if len(out) != raw_size:
        problems.append("%d bytes decompressed, header says %d" % (len(out), raw_size))
    return bytes(out[:raw_size]), problems


# What a .msg and a TNEF message share: rows and sub-contents from a property set


def mapi_address(name, address):
    """`Name <address>`, or whichever of the two there is."""
    if name and address and name != address:
        return "%s <%s>" % (name, address)
    return address or name or None


class OutlookMessage:
    """One message of a .msg or TNEF stream: its properties, its recipients (property sets), its
    attachments (property sets and, for a .msg's embedded message, an OutlookMessage) and where it
    is (`prefix`: "" for the content's message, "attach-N/" for one embedded in attachment N)."""

    def __init__(self, props, recipients, attachments, prefix=""):
        self.props, self.recipients, self.attachments, self.prefix = props, recipients, attachments, prefix
        self.fallback = {}  # TNEF's own attributes: subject, message id, dates, sender, body

    def where(self, name=None):
        """The part path of `name` in this message, or of the message itself (None at the top)."""
        if name is None:
            return self.prefix.rstrip("/") or None
        return self.prefix + name

    def emitted_name(self, name):
        return self.prefix.replace("/", ".") + name


def record_outlook_message(message):
    """The message's `mail_messages` row (from its transport headers when it kept them, else its
    properties), its headers, and its bodies and attachments as `mail_parts` rows and sub-contents."""
    props, where = message.props, message.where()
    first, date, hops = {}, None, 0
    transport = props.get(PR_TRANSPORT_MESSAGE_HEADERS)
    if isinstance(transport, str) and transport.strip():
        try:
            parsed = Parser(policy=POLICY).parsestr(transport.lstrip("\r\n"), headersonly=True)
            first, date, hops = read_headers(parsed, where)
        except wadup.Error:
            raise
        except Exception as error:
            record_defect(where, error, "reading the transport headers")
    if date is None:
        for value in (props.get(PR_CLIENT_SUBMIT_TIME), props.get(PR_MESSAGE_DELIVERY_TIME),
                      message.fallback.get("sent"), message.fallback.get("received")):
            if isinstance(value, datetime):
                date = value.isoformat()
                break
    sender = first.get("from") or mapi_address(
        props.text(PR_SENDER_NAME) or props.text(PR_SENT_REPRESENTING_NAME) or message.fallback.get("sender_name"),
        props.text(PR_SENDER_SMTP_ADDRESS) or smtp(props, PR_SENDER_EMAIL_ADDRESS, PR_SENDER_ADDRTYPE)
        or props.text(PR_SENT_REPRESENTING_EMAIL_ADDRESS) or message.fallback.get("sender_address"))
    kinds = {1: [], 2: []}  # MAPI_TO, MAPI_CC
    for recipient in message.recipients:
        kind = recipient.get(PR_RECIPIENT_TYPE)
        if kind in kinds:
            address = recipient.text(PR_SMTP_ADDRESS) or smtp(recipient, PR_EMAIL_ADDRESS, PR_ADDRTYPE)
            entry = mapi_address(recipient.text(PR_DISPLAY_NAME), address)
            if entry:
                kinds[kind].append(entry)
    messages.insert((
        props.text(PR_INTERNET_MESSAGE_ID) or first.get("message-id") or message.fallback.get("message_id"),
        date, text(sender),
        first.get("to") or (", ".join(kinds[1]) or None), first.get("cc") or (", ".join(kinds[2]) or None),
        props.text(PR_SUBJECT) or first.get("subject") or message.fallback.get("subject"),
        props.text(PR_IN_REPLY_TO_ID) or first.get("in-reply-to"), first.get("x-mailer"), hops))
    record_bodies(message)
    for number, attachment in message.attachments:
        record_attachment(message, number, attachment)


def smtp(props, address_pid, type_pid):
    """An address property when its type says SMTP (an Exchange address, /O=.../CN=..., is not one)."""
    address = props.text(address_pid)
    kind = props.text(type_pid)
    return address if address and (kind is None or kind.upper() == "SMTP") else None


def record_bodies(message):
    """The plain (PR_BODY), HTML (PR_HTML, binary or text) and RTF (PR_RTF_COMPRESSED, decompressed)
    bodies: a `mail_parts` row each, emitted as `body.txt`, `body.html`, `body.rtf` (text bodies
    as stored: an 8-bit one in its code page, a UTF-16 one as UTF-8; the HTML in the charset it
    names, as stored)."""
    values = message.props.values
    plain = values.get(PR_BODY)
    if not isinstance(plain, (str, bytes)):
        plain = message.fallback.get("body")
    html = values.get(PR_HTML)
    rtf = message.props.data(PR_RTF_COMPRESSED)
    for name, content_type, data in (("text", "text/plain", plain), ("html", "text/html", html), ("rtf", "application/rtf", rtf)):
        if not isinstance(data, (str, bytes)):
            continue
        path = message.where(name)
        try:
            if isinstance(data, str):
                data = data.encode("utf-8", "surrogatepass")
            elif isinstance(data, String8):
                data = bytes(data.split(b"\0", 1)[0])
            elif name == "rtf":
                data, problems = decompress_rtf(data)
                for problem in problems:
                    defects.insert((path, "CompressedRTFDefect", problem))
        except wadup.Error:
            raise
        except Exception as error:
            record_defect(path, error, "reading the body")
            parts.insert((path, content_type, None, None, "inline"))
            continue
        parts.insert((path, content_type, None, len(data), "inline"))
        if data:
            emit(path, message.emitted_name("body" + {"text": ".txt", "html": ".html", "rtf": ".rtf"}[name]), data)


def record_attachment(message, number, attachment):
    """One attachment: a `mail_parts` row, its bytes emitted under its name (the long filename,
    else the short one, else `attachment-N`; `.eml` added to a MIME message or multipart, so the
    recursion reads it as mail); an embedded .msg message read in place (its rows' parts under
    `attach-N/`); a TNEF embedded message emitted as a TNEF stream of its own (`.tnef`)."""
    path = message.where("attach-%d" % number)
    props = attachment.props
    filename = props.text(PR_ATTACH_LONG_FILENAME) or attachment.title or props.text(PR_ATTACH_FILENAME)
    disposition = "inline" if props.get(PR_ATTACHMENT_HIDDEN) is True else "attachment"
    if attachment.embedded is not None:  # a .msg's embedded message, read in place
        parts.insert((path, "application/vnd.ms-outlook", filename or props.text(PR_DISPLAY_NAME), None, disposition))
        record_outlook_message(attachment.embedded)
        return
    data = attachment.data
    content_type = (props.text(PR_ATTACH_MIME_TAG) or "").strip().lower() or None
    if content_type is None and filename:
        content_type = EXTENSIONS.guess_type(filename, strict=False)[0]
    if attachment.tnef:
        content_type = "application/vnd.ms-tnef"
    content_type = content_type or "application/octet-stream"
    parts.insert((path, content_type, filename, None if data is None else len(data), disposition))
    for problem in attachment.problems:
        defects.insert((path, "AttachmentDefect", problem))
    if data:
        name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].replace("\0", "")[:255]
        if name in ("", ".", ".."):
            name = message.emitted_name("attachment-%d" % number)
        if attachment.tnef and not name.lower().endswith(".tnef"):
            name += ".tnef"
        elif (content_type in MESSAGE_TYPES or content_type.startswith("multipart/")) and not name.lower().endswith(".eml") \
                and data[:4] != TNEF_MAGIC and data[:8] != OLE_MAGIC:
            name += ".eml"  # a MIME entity (a signed message's multipart/signed): read as mail by the recursion
        emit(path, name, data)


class Attachment:
    """An attachment's properties and bytes (`data`, None when it has none: by reference, or an
    OLE object storage a .msg keeps as a storage); `embedded` an embedded .msg message; `tnef`
    True when `data` is an embedded message as a TNEF stream; `title` TNEF's attAttachTitle."""

    def __init__(self, props, data=None, embedded=None, title=None, tnef=False, problems=()):
        self.props, self.data, self.embedded, self.title, self.tnef, self.problems = props, data, embedded, title, tnef, list(problems)


# Outlook .msg (MS-OXMSG): an OLE2 compound file

#: The __properties_version1.0 stream's header before its 16-byte entries, by where it is.
HEADER_TOP, HEADER_EMBEDDED, HEADER_OTHER = 32, 24, 8
MAX_EMBEDDING = 16


def read_msg(content):
    """A .msg: the compound file's root must hold `__properties_version1.0`; any other compound
    file (a Word or Excel document, a thumbnail database) is left alone. olefile is imported here,
    not with the module: a run without .msg files does not load it, and a `mail.py` copied without
    its `mail.d/` still reads the rest of mail."""
    try:
        import olefile
    except ImportError as error:
        record_defect(None, error, "olefile (mail.d/site-packages) is missing: the compound file is not read")
        return
    try:
        ole = olefile.OleFileIO(content.open())
    except wadup.Error:
        raise
    except Exception as error:
        # Damage worth a row only in what claims to be a .msg; another compound file is not ours.
        if (content.mime or "").lower() == "application/vnd.ms-outlook" or content.filename.lower().endswith(".msg"):
            record_defect(None, error, "reading the compound file")
        return
    try:
        if not ole.exists("__properties_version1.0"):
            return
        streams = {}  # storage path ("" or "a/b/") -> the names directly in it
        for entry in ole.listdir(streams=True, storages=True):
            for depth in range(len(entry)):
                streams.setdefault("".join(part + "/" for part in entry[:depth]), set()).add(entry[depth])
        for kind, message in getattr(ole, "parsing_issues", ()):
            defects.insert((None, getattr(kind, "__name__", str(kind)), text(message)))
        record_outlook_message(msg_message(ole, streams, "", HEADER_TOP, "", 0))
    finally:
        ole.close()


def msg_properties(ole, streams, storage, header, where):
    """The property set of one storage: fixed-size values from `__properties_version1.0`, strings
    and binaries from their `__substg1.0_IIIITTTT` streams."""
    values = {}
    try:
        raw = ole.openstream(storage + "__properties_version1.0").read()
        if (len(raw) - header) % 16:
            defects.insert((where, "PropertyStreamDefect", "%d bytes after the entries" % ((len(raw) - header) % 16)))
        for offset in range(header, len(raw) - 15, 16):
            tag = struct.unpack_from("<I", raw, offset)[0]
            ptype, pid = tag & 0xFFFF, tag >> 16
            if ptype in FIXED_SIZES and pid not in values:
                values[pid] = fixed_value(ptype, raw[offset + 8:offset + 16])
    except wadup.Error:
        raise
    except Exception as error:
        record_defect(where, error, "reading %s__properties_version1.0" % storage)
    for name in sorted(streams.get(storage, ())):
        if not name.startswith("__substg1.0_") or len(name) != 20:
            continue
        try:
            pid, ptype = int(name[12:16], 16), int(name[16:], 16)
        except ValueError:
            continue
        if ptype not in (PT_UNICODE, PT_STRING8, PT_BINARY) or (pid in values and ptype != PT_UNICODE):
            continue
        name = storage + name
        try:
            data = ole.openstream(name).read()
        except wadup.Error:
            raise
        except Exception as error:
            record_defect(where, error, "reading " + name)
            continue
        values[pid] = unicode_string(data) if ptype == PT_UNICODE else String8(data) if ptype == PT_STRING8 else data
    return Properties(values)


def msg_message(ole, streams, storage, header, prefix, depth):
    """The message in `storage` ("" for the root, "__attach_version1.0_#N/__substg1.0_3701000D/"
    for an embedded one): its properties, recipients and attachments."""
    where = prefix.rstrip("/") or None
    props = msg_properties(ole, streams, storage, header, where)
    children = sorted(name for name in streams.get(storage, ()) if storage + name + "/" in streams)
    recipients = [msg_properties(ole, streams, storage + child + "/", HEADER_OTHER, where)
                  for child in children if child.startswith("__recip_version1.0_#")]
    attachments = []
    for child in children:
        if not child.startswith("__attach_version1.0_#"):
            continue
        try:
            number = int(child.rsplit("#", 1)[1], 16)
        except ValueError:
            number = len(attachments)
        base = storage + child + "/"
        props_a = msg_properties(ole, streams, base, HEADER_OTHER, prefix + "attach-%d" % number)
        inner = base + "__substg1.0_3701000D/"
        if inner in streams:
            if props_a.get(PR_ATTACH_METHOD) == ATTACH_EMBEDDED_MSG or "__properties_version1.0" in streams[inner]:
                if depth >= MAX_EMBEDDING:
                    attachments.append((number, Attachment(props_a, problems=["embedded more than %d deep: not read" % MAX_EMBEDDING])))
                    continue
                embedded = msg_message(ole, streams, inner, HEADER_EMBEDDED, prefix + "attach-%d/" % number, depth + 1)
                attachments.append((number, Attachment(props_a, embedded=embedded)))
                continue
            attachments.append((number, Attachment(props_a, problems=["an OLE object stored as a storage: not extracted"])))
            continue
        attachments.append((number, Attachment(props_a, data=props_a.data(PR_ATTACH_DATA))))
    return OutlookMessage(props, recipients, attachments, prefix)


# TNEF (MS-OXTNEF)

LVL_MESSAGE, LVL_ATTACHMENT = 1, 2
ATT_FROM, ATT_SUBJECT, ATT_DATE_SENT, ATT_DATE_RECD, ATT_MESSAGE_ID, ATT_BODY = 0x8000, 0x8004, 0x8005, 0x8006, 0x8009, 0x800C
ATT_ATTACH_DATA, ATT_ATTACH_TITLE, ATT_ATTACH_RENDDATA, ATT_ATTACHMENT = 0x800F, 0x8010, 0x9002, 0x9005
ATT_MSG_PROPS, ATT_RECIP_TABLE, ATT_OEM_CODEPAGE = 0x9003, 0x9004, 0x9007


class Reader:
    """Little-endian reads from `data` at `pos`; a read past the end raises ValueError."""

    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("cut short at %d: %d bytes wanted, %d left" % (self.pos, n, len(self.data) - self.pos))
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value

    def u16(self):
        return struct.unpack("<H", self.take(2))[0]

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]


def tnef_property_list(reader):
    """One encoded property list (MS-OXTNEF 2.1.3.4: a count, then each property's tag, its name
    when named, and its value or values) as {id: value}; a named property is read past, not kept."""
    values = {}
    for _ in range(reader.u32()):
        ptype, pid = reader.u16(), reader.u16()
        if pid >= 0x8000:
            reader.take(16)  # the property set's GUID
            if reader.u32() == 0:
                reader.u32()
            else:
                length = reader.u32()
                reader.take((length + 3) & ~3)
        base, multiple = ptype & ~MV_FLAG, bool(ptype & MV_FLAG)
        if base not in VARIABLE_TYPES and base not in FIXED_SIZES:
            raise ValueError("property 0x%04x has unknown type 0x%04x" % (pid, ptype))
        count = reader.u32() if multiple or base in VARIABLE_TYPES else 1
        found = []
        for _ in range(count):
            if base in VARIABLE_TYPES:
                length = reader.u32()
                raw = reader.take(length)
                reader.take(-length & 3)
                found.append(unicode_string(raw) if base == PT_UNICODE else String8(raw) if base == PT_STRING8 else bytes(raw))
            else:
                found.append(fixed_value(base, reader.take(FIXED_SIZES[base])))
        if pid >= 0x8000 or pid in values:
            continue
        values[pid] = found if multiple else (found[0] if found else None)
    return values


def tnef_date(data):
    """A TNEF date (attDateSent, attDateRecd: year, month, day, hour, minute, second, weekday as
    16-bit words) as ISO 8601 without an offset (TNEF does not say one)."""
    year, month, day, hour, minute, second = struct.unpack_from("<6H", data)
    return datetime(year, month, day, hour, minute, second)


def tnef_sender(data):
    """attFrom's TRP structure (MS-OXTNEF 2.1.3.3.17): (display name, address without its type)."""
    _, _, name_length, address_length = struct.unpack_from("<4H", data)
    name = data[8:8 + name_length].split(b"\0", 1)[0]
    address = data[8 + name_length:8 + name_length + address_length].split(b"\0", 1)[0]
    if b":" in address:
        address = address.split(b":", 1)[1]
    return name, address


def read_tnef(content):
    """A TNEF stream: its attributes in order; a message attribute's value into the message, an
    attachment attribute's into the attachment attAttachRendData (or the first one) started."""
    data = content.read()
    reader = Reader(data, 6)  # the signature and the legacy key
    message_values, oem_codepage, attributes, recipients = {}, None, {}, []
    attachments = []  # [values from attAttachment, data, title, problems]
    while reader.pos < len(data):
        start = reader.pos
        try:
            level = reader.take(1)[0]
            tag = reader.u32()
            length = reader.u32()
            value = reader.take(length)
            checksum = reader.u16()
        except ValueError as error:
            defects.insert((None, "TNEFDefect", "attribute at %d: %s" % (start, error)))
            break
        attribute_id = tag & 0xFFFF
        where = None if level == LVL_MESSAGE else "attach-%d" % max(len(attachments) - 1, 0)
        if sum(value) & 0xFFFF != checksum:
            defects.insert((where, "TNEFDefect", "attribute 0x%08x at %d: checksum 0x%04x, stored 0x%04x" % (tag, start, sum(value) & 0xFFFF, checksum)))
        try:
            if level == LVL_MESSAGE:
                if attribute_id == ATT_MSG_PROPS:
                    message_values.update({k: v for k, v in tnef_property_list(Reader(value)).items() if k not in message_values})
                elif attribute_id == ATT_RECIP_TABLE:
                    rows = Reader(value)
                    for _ in range(rows.u32()):
                        recipients.append(tnef_property_list(rows))
                elif attribute_id == ATT_OEM_CODEPAGE and len(value) >= 4:
                    oem_codepage = struct.unpack_from("<I", value)[0]
                else:
                    attributes.setdefault(attribute_id, value)
            elif level == LVL_ATTACHMENT:
                if attribute_id == ATT_ATTACH_RENDDATA or not attachments:
                    attachments.append([{}, None, None, []])
                current = attachments[-1]
                if attribute_id == ATT_ATTACH_DATA:
                    current[1] = value
                elif attribute_id == ATT_ATTACH_TITLE:
                    current[2] = value
                elif attribute_id == ATT_ATTACHMENT:
                    current[0].update(tnef_property_list(Reader(value)))
            else:
                defects.insert((None, "TNEFDefect", "attribute 0x%08x at %d has level %d" % (tag, start, level)))
        except wadup.Error:
            raise
        except Exception as error:
            record_defect(where, error, "reading attribute 0x%08x at %d" % (tag, start))
    props = Properties(message_values, oem_codepage)
    message = OutlookMessage(props, [Properties(r, oem_codepage) for r in recipients], [], "")
    encoding = props.encoding
    fallback = message.fallback
    for key, attribute_id in (("subject", ATT_SUBJECT), ("message_id", ATT_MESSAGE_ID)):
        if attribute_id in attributes:
            fallback[key] = text(string8(attributes[attribute_id], encoding)) or None
    if ATT_BODY in attributes:
        fallback["body"] = String8(attributes[ATT_BODY])
    for key, attribute_id in (("sent", ATT_DATE_SENT), ("received", ATT_DATE_RECD)):
        try:
            if attribute_id in attributes:
                fallback[key] = tnef_date(attributes[attribute_id])
        except (ValueError, struct.error) as error:
            record_defect(None, error, "reading the date attribute 0x%04x" % attribute_id)
    if ATT_FROM in attributes:
        try:
            name, address = tnef_sender(attributes[ATT_FROM])
            fallback["sender_name"] = text(name.decode(encoding, "surrogateescape")) or None
            fallback["sender_address"] = text(address.decode(encoding, "surrogateescape")) or None
        except struct.error as error:
            record_defect(None, error, "reading attFrom")
    for number, (values, attach_data, title, problems) in enumerate(attachments):
        attach_props = Properties(values, oem_codepage)
        embedded = attach_props.get(PR_ATTACH_METHOD) == ATTACH_EMBEDDED_MSG
        mapi_data = values.get(PR_ATTACH_DATA)
        if isinstance(mapi_data, bytes) and (embedded or attach_data is None):
            # PT_OBJECT: the interface's 16-byte IID, then the object (an embedded message: a TNEF stream)
            attach_data = mapi_data[16:] if mapi_data[16:20] == TNEF_MAGIC or embedded else mapi_data
        title_text = text(string8(title, encoding)) if title else None
        message.attachments.append((number, Attachment(attach_props, data=attach_data, title=title_text,
                                                       tnef=bool(attach_data) and attach_data[:4] == TNEF_MAGIC and embedded,
                                                       problems=problems)))
    record_outlook_message(message)
