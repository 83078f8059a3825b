"""The standard module `pdf`: PDF documents, read with pypdf (vendored in pdf.d/site-packages,
pinned in requirements.txt) on WADUP's Python runtime. What it writes and emits: docs/modules/pdf.md.

- `pdf_documents`: one row (version, pages, encrypted, producer, creator, title, author, created,
  modified; dates as ISO 8601).
- `pdf_features`: the keywords pdfid counts, counted lexically over the raw bytes as pdfid does
  (names' `#xx` escapes decoded), so a file pypdf cannot parse is still counted.
- `pdf_links`: every URI action of a page's annotations, with the page number.
- `pdf_problems`: what kept the document from being read whole (pypdf's warnings while it repairs a
  broken cross-reference table, an exception, encryption it cannot open): the rows above are then
  as far as the reading went.
- Sub-contents: embedded files (the EmbeddedFiles name tree and file-attachment annotations, by
  their names), JavaScript (document-level, OpenAction, additional actions, annotations' actions:
  `javascript-N.js`) and the XFA form (`xfa.xml`).

A malformed PDF is never a failure of the content: pypdf runs with strict=False and each step
that raises is a problem row, the others still run.
"""
import collections
import io
import logging
import re

import wadup
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

ACCEPTS = {
    # libmagic (file_type) says application/pdf; a header anywhere in the first 1024 bytes is a PDF
    # to the readers that matter (Acrobat), and so to this module.
    "mime": ["application/pdf"],
    "magic": [{"offset": 0, "range": 1024, "hex": "25504446"}],
}

#: pdfid's keywords (its default list, plus /URI), in its order.
KEYWORDS = ("obj", "endobj", "stream", "endstream", "xref", "trailer", "startxref", "/Page", "/Encrypt",
            "/ObjStm", "/JS", "/JavaScript", "/AA", "/OpenAction", "/AcroForm", "/JBIG2Decode", "/RichMedia",
            "/Launch", "/EmbeddedFile", "/XFA", "/URI", "/Colors > 2^24")
#: pdfid's words are runs of letters and digits; its letters include the byte 0xDF: it tests
#: `chr(byte).upper()`, and "ß".upper() is "SS".
#: A name as pdfid reads it: "/" then letters, digits and #xx escapes.
NAME_RE = re.compile(rb"/((?:[A-Za-z0-9\xdf]|#[0-9A-Fa-f]{2})+)")
#: pdfid's letters and digits (0xDF included, as above).
WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789\xdf")
HEADER_RE = re.compile(rb"%PDF-(\d+\.\d+)")
HEX_RE = re.compile(rb"#([0-9A-Fa-f]{2})")
DIGITS_RE = re.compile(rb"(?<![A-Za-z0-9\xdf])([0-9]+)(?![A-Za-z0-9\xdf])")
NAMES = {k[1:].encode(): k for k in KEYWORDS if k.startswith("/") and " " not in k}

documents = wadup.table("pdf_documents", {
    "version": str, "pages": int, "encrypted": int, "producer": str, "creator": str, "title": str,
    "author": str, "created": str, "modified": str,
})
features = wadup.table("pdf_features", {"keyword": str, "count": int})
links = wadup.table("pdf_links", {"uri": str, "page": int})
problems = wadup.table("pdf_problems", {"step": str, "problem": str})


class _Warnings(logging.Handler):
    """pypdf's warnings (what it repaired or skipped under strict=False) for the current content."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.step = "open"
        self.seen = collections.OrderedDict()

    def emit(self, record):
        if len(self.seen) < 100:
            self.seen.setdefault((self.step, text(record.getMessage())[:500]), None)


WARNINGS = _Warnings()
logging.getLogger("pypdf").addHandler(WARNINGS)
logging.getLogger("pypdf").propagate = False


def text(value):
    """A PDF string or name as text SQLite can hold (lone surrogates written as \\uXXXX)."""
    if value is None:
        return None
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def recognised(content):
    """The manifest's test again, so that `--no-dispatch` gives the same results as dispatch."""
    return (content.mime or "").lower() == "application/pdf" or b"%PDF" in content.read(0, 1027)


# pdfid's lexical counts


def count_keywords(data):
    """pdfid's counts: from the end of the header line (pdfid's `FindPDFHeaderRelaxed`), every word
    (letters and digits) and every name ("/" and letters, digits and `#xx` escapes, decoded)."""
    start = data.find(b"%PDF", 0, 1024)
    if start >= 0:
        end = start + 4
        while end < start + 13 and end < len(data) and data[end] not in b"\r\n":
            end += 1
        data = data[end:]
    counts = count_words(data)
    names = collections.Counter(NAME_RE.findall(data))
    colors = False
    for name, n in names.items():
        if b"#" in name:
            name = HEX_RE.sub(lambda m: bytes([int(m.group(1), 16)]), name)
        keyword = NAMES.get(name)
        if keyword:
            counts[keyword] += n
        colors = colors or name == b"Colors"
    if colors:
        counts["/Colors > 2^24"] = count_colors(data)
    return counts


def count_words(data):
    """The plain keywords: whole words (not after "/", which makes a name, nor inside a longer
    word). Each keyword's last part is searched as a literal (a fast scan in `re`) and the bytes
    around the few places found are checked: a sixth of the time of one regular expression
    matching every keyword at every byte, with the same counts."""
    counts = collections.Counter()
    for literal, longer in ((b"obj", b"end"), (b"stream", b"end"), (b"xref", b"start"), (b"trailer", None)):
        for m in re.finditer(re.escape(literal), data):
            start, end = m.start(), m.end()
            if end < len(data) and data[end] in WORD_BYTES:
                continue
            if longer and data[max(0, start - len(longer)):start] == longer:
                start -= len(longer)
            if start > 0 and (data[start - 1] in WORD_BYTES or data[start - 1] == 0x2F):
                continue
            counts[data[start:end].decode()] += 1
    return counts


def count_colors(data):
    """pdfid's CVE-2009-3459 check: a number over 2^24 after the name /Colors (before the next name)."""
    found = 0
    matches = list(NAME_RE.finditer(data))
    for i, m in enumerate(matches):
        if HEX_RE.sub(lambda h: bytes([int(h.group(1), 16)]), m.group(1)) != b"Colors":
            continue
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(data)
        found += sum(1 for d in DIGITS_RE.findall(data, m.end(), stop) if int(d) > 2 ** 24)
    return found


# pypdf


def resolve(value):
    while isinstance(value, IndirectObject):
        value = value.get_object()
    return value


def name_tree(root, seen):
    """The (key, value) pairs of a name tree (/Names [key value ...] and /Kids), breadth first;
    a node already in `seen` (by identity) is not walked again, and walked nodes are added to it."""
    todo = [root] if isinstance(root, DictionaryObject) else []
    while todo:
        node = resolve(todo.pop(0))
        if not isinstance(node, DictionaryObject) or id(node) in seen:
            continue
        seen.add(id(node))
        pairs = resolve(node.get("/Names")) or []
        for i in range(1, len(pairs), 2):
            yield pairs[i - 1], pairs[i]
        todo.extend(resolve(node.get("/Kids")) or [])


def pdf_date(value):
    """A PDF date (D:YYYYMMDDHHmmSSOHH'mm) as ISO 8601, as far as its fields go; another string as it is."""
    raw = text(value)
    if raw is None:
        return None
    m = re.match(r"\s*(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*([Zz+-])?\s*(\d{2})?'?(\d{2})?'?", raw)
    if not m:
        return raw
    year, month, day, hour, minute, second, sign, tzh, tzm = m.groups()
    out = f"{year}-{month or '01'}-{day or '01'}T{hour or '00'}:{minute or '00'}:{second or '00'}"
    if sign in ("Z", "z"):
        out += "Z"
    elif sign:
        out += f"{sign}{tzh or '00'}:{tzm or '00'}"
    return out


def script_bytes(js):
    """A /JS value's bytes: a stream's decoded data, a string's bytes as the file has them."""
    if isinstance(js, StreamObject):
        return js.get_data()
    if isinstance(js, bytes):
        return bytes(js)
    original = getattr(js, "original_bytes", None)
    return bytes(original) if original is not None else str(js).encode("utf-8", "surrogatepass")


class Reading:
    """One document: what each step found, and the problems of the steps that failed."""

    def __init__(self, data):
        self.data = data
        self.problems = []
        self.scripts = []
        self.reader = None

    def step(self, name, action, *args):
        WARNINGS.step = name
        try:
            return action(*args)
        except (wadup.InputUnavailableError, wadup.TemporaryStorageError):
            raise
        except RecursionError:
            self.problems.append((name, "RecursionError: nesting too deep"))
        except Exception as error:  # a malformed PDF: this step goes no further
            self.problems.append((name, f"{type(error).__name__}: {text(error)}"[:1000]))
        return None

    def open(self):
        self.reader = PdfReader(io.BytesIO(self.data), strict=False)
        if self.reader.is_encrypted:
            # RC4 and an empty user password open without `cryptography`; AES needs it, which
            # cannot run here: such a document is recorded as encrypted, its metadata unread.
            self.reader.decrypt("")

    def version(self):
        header = self.reader.pdf_header
        version = header[5:] if header.startswith("%PDF-") else None
        catalog = self.reader.trailer["/Root"]
        declared = catalog.get("/Version")
        if declared is not None:
            declared = str(declared).lstrip("/")
            if version is None or tuple(map(int, re.findall(r"\d+", declared))) > tuple(map(int, re.findall(r"\d+", version))):
                version = declared
        return version

    def info(self):
        info = self.reader.metadata or {}
        return {key: info.get(name) for key, name in (
            ("producer", "/Producer"), ("creator", "/Creator"), ("title", "/Title"), ("author", "/Author"),
            ("created", "/CreationDate"), ("modified", "/ModDate"))}

    def javascript(self, action, seen):
        """The JavaScript of an action and of the actions after it (/Next)."""
        action = resolve(action)
        todo = [action]
        while todo:
            action = resolve(todo.pop(0))
            if not isinstance(action, DictionaryObject) or id(action) in seen:
                continue
            seen.add(id(action))
            if action.get("/S") == "/JavaScript" and "/JS" in action:
                js = resolve(action["/JS"])
                self.scripts.append(script_bytes(js))
            following = resolve(action.get("/Next"))
            todo.extend(following if isinstance(following, ArrayObject) else [following] if following is not None else [])

    def additional(self, holder, seen):
        """An /AA dictionary's actions."""
        aa = resolve(holder.get("/AA"))
        if isinstance(aa, DictionaryObject):
            for key in aa:
                self.javascript(aa[key], seen)

    def catalog_scripts(self, seen):
        catalog = resolve(self.reader.trailer["/Root"])
        names = resolve(resolve(catalog.get("/Names", {})).get("/JavaScript")) if "/Names" in catalog else None
        for _, action in name_tree(names, seen):
            self.javascript(action, seen)
        open_action = resolve(catalog.get("/OpenAction"))
        if isinstance(open_action, DictionaryObject):
            self.javascript(open_action, seen)
        self.additional(catalog, seen)

    def page(self, number, page, seen, attachments):
        self.additional(page, seen)
        for annotation in resolve(page.get("/Annots")) or []:
            annotation = resolve(annotation)
            if not isinstance(annotation, DictionaryObject):
                continue
            action = resolve(annotation.get("/A"))
            if isinstance(action, DictionaryObject):
                if action.get("/S") == "/URI" and "/URI" in action:
                    links.insert({"uri": text(resolve(action["/URI"])), "page": number})
                self.javascript(action, seen)
            self.additional(annotation, seen)
            if annotation.get("/Subtype") == "/FileAttachment":
                spec = resolve(annotation.get("/FS"))
                if isinstance(spec, DictionaryObject):
                    attachments.append(spec)

    def pages(self, attachments):
        seen = set()
        self.step("javascript", self.catalog_scripts, seen)
        for number, page in enumerate(self.reader.pages, 1):
            self.step("page %d" % number, self.page, number, page, seen, attachments)

    def embedded(self, attachments):
        """The EmbeddedFiles name tree's file specifications, then the annotations'."""
        catalog = resolve(self.reader.trailer["/Root"])
        names = resolve(catalog.get("/Names"))
        tree = resolve(names.get("/EmbeddedFiles")) if isinstance(names, DictionaryObject) else None
        specs = [(text(resolve(key)), resolve(spec)) for key, spec in name_tree(tree, set())]
        specs += [(None, spec) for spec in attachments]
        for n, (key, spec) in enumerate(specs, 1):
            self.step("embedded file %d" % n, self.emit_file, key, spec, n)

    def emit_file(self, key, spec, n):
        if not isinstance(spec, DictionaryObject):
            return
        name = next((text(resolve(spec[k])) for k in ("/UF", "/F", "/DOS", "/Unix", "/Mac") if k in spec), None) or key
        ef = resolve(spec.get("/EF"))
        if not isinstance(ef, DictionaryObject):
            return
        stream = next((resolve(ef[k]) for k in ("/UF", "/F", "/DOS", "/Unix", "/Mac") if k in ef), None)
        if isinstance(stream, StreamObject):
            emit(self, name.replace("\\", "/").rsplit("/", 1)[-1] if name else "embedded-%d" % n, stream.get_data())

    def xfa(self):
        catalog = resolve(self.reader.trailer["/Root"])
        form = resolve(catalog.get("/AcroForm"))
        xfa = resolve(form.get("/XFA")) if isinstance(form, DictionaryObject) else None
        if isinstance(xfa, StreamObject):
            emit(self, "xfa.xml", xfa.get_data())
        elif isinstance(xfa, ArrayObject):
            packets = [resolve(xfa[i]) for i in range(1, len(xfa), 2)]
            emit(self, "xfa.xml", b"".join(p.get_data() for p in packets if isinstance(p, StreamObject)))


def emit(reading, name, data):
    """`wadup.emit`, but a sub-content the host's limits refuse is a problem row, not a failure that
    would drop everything read."""
    try:
        wadup.emit(name, data)
    except wadup.LimitReachedError as error:
        reading.problems.append(("emit " + name, f"{type(error).__name__}: {text(error)}"))


def process(content):
    if not recognised(content):
        return
    data = content.read()
    for keyword, count in count_keywords(data).items():
        features.insert({"keyword": keyword, "count": count})
    WARNINGS.seen.clear()
    reading = Reading(data)
    reading.step("open", reading.open)
    reader = reading.reader
    row = {"version": None, "pages": None, "encrypted": None}
    if reader is not None:
        row["encrypted"] = int(bool(reading.step("encryption", lambda: reader.is_encrypted)))
        row["version"] = reading.step("version", reading.version)
        row["pages"] = reading.step("pages", lambda: len(reader.pages))
        row.update(reading.step("info", reading.info) or {})
        for key in ("producer", "creator", "title", "author"):
            row[key] = text(row.get(key))
        for key in ("created", "modified"):
            row[key] = pdf_date(row.get(key))
        attachments = []
        if row["pages"] is not None:
            reading.step("pages", reading.pages, attachments)
        reading.step("embedded files", reading.embedded, attachments)
        reading.step("xfa", reading.xfa)
        for n, script in enumerate(reading.scripts, 1):
            emit(reading, "javascript-%d.js" % n, script)
    else:
        # pypdf could not open it: the header's version, and encryption pypdf refused to open
        # (AES without `cryptography` fails in PdfReader itself).
        header = HEADER_RE.search(data[:1024])
        row["version"] = header.group(1).decode() if header else None
        if any(problem.startswith("DependencyError") for _, problem in reading.problems):
            row["encrypted"] = 1
    documents.insert(row)
    for step, problem in WARNINGS.seen:
        problems.insert({"step": step, "problem": problem})
    for step, problem in reading.problems:
        problems.insert({"step": step, "problem": problem})
