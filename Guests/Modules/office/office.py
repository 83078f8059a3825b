"""The standard module `office`: OLE2 compound files (.doc, .xls, .ppt, .msg, .msi, vbaProject.bin,
any CFB), OOXML and OpenDocument documents' properties and RTF documents' embedded objects, read with olefile and
oletools (vendored in office.d/site-packages, pinned in requirements.txt) on WADUP's Python runtime.
What it writes and emits: docs/modules/office.md.

- `office_documents`: one row per document (format, encrypted, root CLSID, VBA modules found).
- `ole_streams`: every storage and stream of a compound file (path, size, CLSID, times); every
  stream is emitted as a sub-content named by its path, as 7-Zip names it (`[5]SummaryInformation`,
  `Macros/VBA/ThisDocument`; an MSI's encoded names decoded); an OLE package's embedded file
  (`[1]Ole10Native`) is emitted too, by its own name.
- `office_properties`: the SummaryInformation and DocumentSummaryInformation properties (olefile's
  names: `title`, `author`, `last_saved_by`, `create_time`, `creating_application`, `company`, ...)
  and an OOXML document's docProps/core.xml and app.xml, under the same names where OLE has one.
- `vba_modules` and `vba_indicators`: olevba's macro extraction (MS-OVBA decompression, the
  PowerPoint and Excel 4 forms) and its analysis (auto-executing and suspicious keywords, IOCs,
  hex/Base64/Dridex strings, VBA stomping) as `olevba -j` reports them; every module's source is
  emitted as a sub-content (`ThisDocument.cls`, UTF-8).
- `rtf_objects`: an RTF document's embedded objects (`\\objdata`), each emitted as `rtfobj -s all`
  saves it: an OLE package's file by its name, an OLE object's data, or the raw object.
- `office_problems`: what kept the document from being read whole.

An OOXML document's macros are read from its `vbaProject.bin`, which `zip_parser` emits. An
encrypted document is a row (`encrypted` = 1), not a failure: its streams are listed, its
contents are not decrypted (that needs `cryptography`, a compiled extension).
"""
import datetime
import fnmatch
import logging
import sys
import types
import warnings
import zipfile
from xml.etree import ElementTree

import wadup


def _colourless():
    """colorclass (olevba's console colours) imports ctypes, which the runtime does not have; the
    module never prints, so a stand-in without colours takes its place."""
    try:
        import colorclass  # noqa: F401
    except ImportError:
        stand_in = types.ModuleType("colorclass")
        stand_in.Color = str
        stand_in.Windows = types.SimpleNamespace(enable=lambda *a, **k: None, disable=lambda *a, **k: None)
        stand_in.disable_all_colors = stand_in.enable_all_colors = lambda *a, **k: None
        stand_in.is_enabled = lambda: False
        sys.modules["colorclass"] = stand_in


_colourless()
with warnings.catch_warnings():  # pyparsing's deprecation notices about oletools' grammar
    warnings.simplefilter("ignore")
    import olefile
    from oletools import crypto, olevba, rtfobj
    from oletools.common.codepages import codepage2codec
    from oletools.oleobj import OleNativeStream
    from oletools.ppt_record_parser import PptFile, PptRecordExOleVbaActiveXAtom

ROLE = "analyze"
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
ACCEPTS = {
    # Compound files by their signature whatever libmagic calls them; RTF as Word reads it (it
    # needs only "{\rt"); OOXML by the types libmagic gives it and by name.
    "mime": ["application/vnd.openxmlformats-officedocument.*", "application/vnd.ms-*.macroenabled.*",
             "application/vnd.oasis.opendocument.*", "text/rtf", "application/rtf"],
    "magic": [{"offset": 0, "hex": OLE_MAGIC.hex()}, {"offset": 0, "hex": "7b5c7274"}],
    "names": ["*.docx", "*.docm", "*.dotx", "*.dotm", "*.xlsx", "*.xlsm", "*.xltx", "*.xltm", "*.xlam",
              "*.pptx", "*.pptm", "*.potx", "*.potm", "*.ppsx", "*.ppsm", "*.ppam", "*.odt", "*.ods", "*.odp", "*.odg", "*.rtf"],
}

documents = wadup.table("office_documents", {"format": str, "encrypted": int, "clsid": str, "vba_modules": int})
streams = wadup.table("ole_streams", {"path": str, "kind": str, "size": int, "clsid": str, "created": str, "modified": str})
properties = wadup.table("office_properties", {"source": str, "name": str, "value": str})
modules = wadup.table("vba_modules", {"name": str, "stream": str, "code_size": int})
indicators = wadup.table("vba_indicators", {"kind": str, "keyword": str, "description": str})
objects = wadup.table("rtf_objects", {"start": int, "kind": str, "class_name": str, "size": int, "filename": str})
problems = wadup.table("office_problems", {"step": str, "problem": str})

# olevba and olefile log what they skip; the problems worth a row are the exceptions below.
for _name in ("olevba", "olefile", "rtfobj", "oleobj", "crypto", "ppt_parser", "oleform"):
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1)

#: OOXML's core.xml and app.xml names that olefile's OLE properties have under another name.
OOXML_NAMES = {
    "creator": "author", "lastModifiedBy": "last_saved_by", "created": "create_time",
    "modified": "last_saved_time", "lastPrinted": "last_printed", "description": "comments",
    "revision": "revision_number", "Application": "creating_application", "Company": "company",
    "Manager": "manager", "Template": "template", "TotalTime": "total_edit_time", "Pages": "num_pages",
    "Words": "num_words", "Characters": "num_chars", "CharactersWithSpaces": "chars_with_spaces",
    "Lines": "lines", "Paragraphs": "paragraphs", "Slides": "slides", "Notes": "notes",
    "HiddenSlides": "hidden_slides", "MMClips": "mm_clips", "ScaleCrop": "scale_crop",
    "LinksUpToDate": "links_dirty", "SharedDoc": "shared_doc", "HyperlinksChanged": "hlinks_changed",
    "AppVersion": "version", "DocSecurity": "security", "PresentationFormat": "presentation_target",
    "HyperlinkBase": "link_base", "category": "category", "contentStatus": "content_status",
    "language": "language", "version": "doc_version", "title": "title", "subject": "subject",
    "keywords": "keywords",
}
#: OpenDocument's meta.xml names (and its document-statistic attributes) under olefile's names.
ODF_NAMES = {
    "initial-creator": "author", "creator": "last_saved_by", "creation-date": "create_time",
    "date": "last_saved_time", "generator": "creating_application", "description": "comments",
    "keyword": "keywords", "editing-cycles": "revision_number", "editing-duration": "total_edit_time",
    "print-date": "last_printed", "printed-by": "printed_by", "page-count": "num_pages",
    "word-count": "num_words", "character-count": "num_chars", "paragraph-count": "paragraphs",
}
#: Properties that are binary blobs (a thumbnail, a signature, hyperlink tables), not text.
BLOBS = {"thumbnail", "dig_sig", "hlinks", "heading_pairs", "titles_of_parts"}

# 7-Zip's names for compound-file entries (CPP/7zip/Archive/ComHandler.cpp): an MSI's encoded
# names decoded, control characters as [N].
MSI_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._"
MSI_START = 0x3800
MSI_RANGE = 64 * 65


def entry_name(name):
    """A directory entry's name as 7-Zip shows it."""
    if name and all(MSI_START <= ord(c) <= MSI_START + MSI_RANGE for c in name):
        out = []
        for c in name:
            c = ord(c) - MSI_START
            low, high = c & 63, c >> 6
            if high <= 64:
                out.append(MSI_CHARS[low])
                if high == 64:
                    break
                out.append(MSI_CHARS[high])
            else:
                out.append("!")
        return "".join(out)
    return "".join("[%d]" % ord(c) if ord(c) < 0x20 else c for c in name)


def local_name(tag):
    """An XML name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def text(value):
    """Text SQLite can hold (lone surrogates written as \\uXXXX)."""
    return None if value is None else str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def value_text(value, codec):
    """A property's value as text: dates in ISO 8601, 8-bit strings decoded with the document's
    code page, numbers and flags as digits; blobs and vectors are not text (None)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, bytes):
        return text(value.decode(codec, "replace").rstrip("\x00"))
    if isinstance(value, str):
        return text(value.rstrip("\x00"))
    return None


#: A compound file is opened where it is (olefile reads the content on demand) and its large
#: streams are emitted as extents of it, so a compound file of any size is listed and unpacked.
#: Its macros and a presentation's OLE objects are read from memory: for a compound file larger
#: than this they are not read (an `office_problems` row says so).
WHOLE_READ_LIMIT = 256 << 20
#: The largest properties part (core.xml, app.xml, meta.xml, manifest.xml) read: they are a few KB.
MAX_PART = 16 << 20
#: The most extents one sub-content may have (the host's bound); a stream more fragmented than
#: that is copied to the host piece by piece instead.
MAX_EXTENTS = 65536


def sector_extents(ole, entry):
    """(offset, length) runs of the file holding a stream kept in the regular sectors (MS-CFB 2.2:
    sector N starts at (N + 1) * sector size), consecutive sectors merged."""
    size, sector = entry.size, ole.sectorsize
    runs, remaining, current, visited = [], size, entry.isectStart, 0
    while remaining > 0:
        if current >= len(ole.fat) or visited > size // sector + 1:
            raise ValueError("broken sector chain")
        offset, length = (current + 1) * sector, min(sector, remaining)
        if runs and runs[-1][0] + runs[-1][1] == offset:
            runs[-1][1] += length
        else:
            runs.append([offset, length])
        remaining -= length
        visited += 1
        current = ole.fat[current]
    return [tuple(run) for run in runs]


class Reading:
    """One document: the problems of the steps that failed (the others still run)."""

    def __init__(self, content):
        self.content = content
        self._data = None
        self.problems = []

    @property
    def data(self):
        """The whole content, read once when a step needs it in memory."""
        if self._data is None:
            self._data = self.content.read()
        return self._data

    def step(self, name, action, *args):
        try:
            return action(*args)
        except (wadup.InputUnavailableError, wadup.TemporaryStorageError):
            raise
        except RecursionError:
            self.problems.append((name, "RecursionError: nesting too deep"))
        except Exception as error:  # a malformed document: this step goes no further
            self.problems.append((name, f"{type(error).__name__}: {text(error)}"[:1000]))
        return None

    def emit(self, name, data, call=None):
        """`wadup.emit` (or another emitting call), but a sub-content the host's limits refuse is a
        problem row."""
        try:
            (call or wadup.emit)(name, data)
        except wadup.LimitReachedError as error:
            self.problems.append(("emit " + name, f"{type(error).__name__}: {text(error)}"))

    def finish(self):
        for step, problem in self.problems:
            problems.insert({"step": step, "problem": problem})

    # Compound files

    def ole(self):
        ole = self.step("open", olefile.OleFileIO, self.content.open())
        if ole is None:
            documents.insert({"format": "ole", "encrypted": None, "clsid": None, "vba_modules": None})
            return
        encrypted = bool(self.step("encryption", crypto._is_encrypted_ole, ole))
        clsid = ole.root.clsid or None if ole.root is not None else None
        self.step("streams", self.walk, ole, ole.root, [], [])
        self.step("properties", self.ole_properties, ole)
        found = None
        if self.content.size > WHOLE_READ_LIMIT:
            self.problems.append(("vba", "not read: the compound file is larger than %d MiB" % (WHOLE_READ_LIMIT >> 20)))
        else:
            if ole.exists("PowerPoint Document"):
                self.step("powerpoint objects", self.powerpoint_objects)
            if not encrypted:
                found = self.step("vba", self.vba)
        documents.insert({"format": "ole", "encrypted": int(encrypted), "clsid": clsid, "vba_modules": found})

    def walk(self, ole, storage, path, raw):
        for entry in storage.kids:
            entry_path, entry_raw = path + [entry_name(entry.name)], raw + [entry.name]
            name = "/".join(entry_path)
            created, modified = entry.getctime(), entry.getmtime()
            row = {"path": text(name), "clsid": entry.clsid or None,
                   "created": created.isoformat() if created else None,
                   "modified": modified.isoformat() if modified else None}
            if entry.entry_type == olefile.STGTY_STORAGE:
                streams.insert(dict(row, kind="storage", size=None))
                self.walk(ole, entry, entry_path, entry_raw)
            elif entry.entry_type == olefile.STGTY_STREAM:
                streams.insert(dict(row, kind="stream", size=entry.size))
                self.step("stream " + name, self.emit_stream, ole, entry, entry_raw, text(name))
                if entry.name == "\x01Ole10Native":
                    self.step("package " + name, self.package, ole, entry_raw)

    def emit_stream(self, ole, entry, raw, name):
        """A stream in the regular sectors as extents of the compound file (no copy); one in the
        mini stream (under 4096 bytes) as bytes."""
        if entry.size < ole.minisectorcutoff:
            self.emit(name, ole.openstream(raw).read())
            return
        runs = sector_extents(ole, entry)
        if len(runs) <= MAX_EXTENTS:
            self.emit(name, runs, wadup.emit_extents)
            return
        with wadup.emit_stream(name) as out:
            reader = ole.openstream(raw)
            while chunk := reader.read(1 << 20):
                out.write(chunk)

    def powerpoint_objects(self):
        """A presentation's embedded OLE objects, kept compressed in its records (ExOleObjStg):
        each one uncompressed and emitted as a compound file of its own (read in turn by this
        module), as oletools' oleobj finds them."""
        presentation = PptFile(self.data)
        try:
            number = 0
            for stream in presentation.iter_streams():
                if stream.name != "PowerPoint Document":  # where MS-PPT keeps ExOleObjStg records
                    continue
                for record in stream.iter_records():
                    if isinstance(record, PptRecordExOleVbaActiveXAtom):
                        data = b"".join(record.iter_uncompressed())
                        # An OLE object, not an ActiveX control, nor the VBA project (read above).
                        if data[:8] == OLE_MAGIC and not self.vba_project(data):
                            number += 1
                            self.emit("ole-object-%d" % number, data)
        finally:
            presentation.close()

    @staticmethod
    def vba_project(data):
        with olefile.OleFileIO(data) as ole:
            return any(path[-1].upper() == "DIR" and len(path) > 1 and path[-2].upper() == "VBA" for path in ole.listdir())

    def package(self, ole, raw):
        """An OLE package's embedded file (MS-OLEDS' Ole10Native), by its name."""
        native = OleNativeStream(ole.openstream(raw).read())
        if native.is_link or native.data is None:
            return  # a link to a file, not the file
        names = (n.replace("\\", "/").rsplit("/", 1)[-1] for n in (native.filename, native.src_path, native.temp_path) if n)
        self.emit(text(next((n for n in names if n), "package.bin")), native.data)

    def ole_properties(self, ole):
        meta = ole.get_metadata()
        for source, attributes, codepage in (
                ("SummaryInformation", meta.SUMMARY_ATTRIBS, meta.codepage),
                ("DocumentSummaryInformation", meta.DOCSUM_ATTRIBS, meta.codepage_doc)):
            codec = codepage2codec(codepage & 0xFFFF) if isinstance(codepage, int) else "latin-1"
            for name in attributes:
                if name in BLOBS:
                    continue
                value = getattr(meta, name, None)
                if name in ("codepage", "codepage_doc") and isinstance(value, int):
                    value &= 0xFFFF  # a VT_I2: 65001 (UTF-8) is stored as -535
                value = value_text(value, codec)
                if value is not None:
                    properties.insert({"source": source, "name": name, "value": value})

    def vba(self):
        parser = olevba.VBA_Parser(self.content.filename or "content", data=self.data)
        try:
            if not parser.detect_macros():  # VBA, and Excel 4 (XLM) macros in a workbook
                return 0
            found = parser.extract_all_macros()
            for _, stream, name, code in found:
                source = code.encode("utf-8", "surrogateescape") if isinstance(code, str) else bytes(code)
                modules.insert({"name": text(name), "stream": text(stream), "code_size": len(source)})
                self.emit(text(name) or "module.vba", source)
            for kind, keyword, description in parser.analyze_macros():
                indicators.insert({"kind": text(kind), "keyword": text(keyword), "description": text(description)})
            return len(found)
        finally:
            parser.close()

    # OOXML and OpenDocument

    def package_document(self):
        archive = self.step("open", zipfile.ZipFile, self.content.open())
        if archive is None:
            return
        names = set(archive.namelist())
        if "[Content_Types].xml" in names:
            form, parts = "ooxml", ("docProps/core.xml", "docProps/app.xml")
            encrypted = any(info.flag_bits & 1 for info in archive.infolist())
        elif "mimetype" in names and self.part(archive, "mimetype").startswith(b"application/vnd.oasis.opendocument."):
            form, parts = "odf", ("meta.xml",)
            manifest = self.part(archive, "META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
            encrypted = b"encryption-data" in manifest
        else:
            return  # a ZIP, not a document: zip_parser's
        for part in parts:
            if part in names:
                self.step(part, self.xml_properties, archive, part)
        documents.insert({"format": form, "encrypted": int(encrypted), "clsid": None, "vba_modules": None})

    @staticmethod
    def part(archive, name):
        """A part's bytes, if it says it is under ``MAX_PART`` (zipfile reads no more than it says)."""
        info = archive.getinfo(name)
        if info.file_size > MAX_PART:
            raise ValueError("%s: %d bytes, over %d MiB" % (name, info.file_size, MAX_PART >> 20))
        return archive.read(info)

    def xml_properties(self, archive, part):
        """docProps/core.xml's and app.xml's simple elements; OpenDocument's meta.xml's elements and
        its statistics' attributes."""
        root = ElementTree.fromstring(self.part(archive, part))
        source = part.rsplit("/", 1)[-1]
        elements = root
        if source == "meta.xml":
            meta = next((child for child in root if local_name(child.tag) == "meta"), None)
            elements = meta if meta is not None else []
        for element in elements:
            local = local_name(element.tag)
            if source == "meta.xml" and local == "document-statistic":
                for attribute, value in element.attrib.items():
                    name = local_name(attribute)
                    properties.insert({"source": source, "name": ODF_NAMES.get(name, name), "value": text(value)})
                continue
            if len(element):
                continue  # a vector (HeadingPairs, TitlesOfParts)
            value = (element.text or "").strip()
            if value:
                names = ODF_NAMES if source == "meta.xml" else OOXML_NAMES
                properties.insert({"source": source, "name": names.get(local, local), "value": text(value)})

    # RTF

    def rtf(self):
        parser = rtfobj.RtfObjParser(self.data)
        self.step("objects", parser.parse)
        for obj in parser.objects:
            self.step("object at %d" % obj.start, self.rtf_object, obj)
        documents.insert({"format": "rtf", "encrypted": 0, "clsid": None, "vba_modules": None})

    def rtf_object(self, obj):
        """What `rtfobj -s all` saves for the object, by the name it gives (without its prefix)."""
        class_name = obj.class_name.decode("latin-1") if isinstance(obj.class_name, bytes) else obj.class_name
        if obj.is_package:
            kind, data = "package", obj.olepkgdata
            name = obj.filename.replace("\\", "/").rsplit("/", 1)[-1] if obj.filename else "object_%08X.noname" % obj.start
        elif obj.is_ole and obj.oledata_size is not None:
            lower = (class_name or "").lower()
            ext = "doc" if lower.startswith("word") else "package" if lower.startswith("package") else "bin"
            kind, data, name = "ole", obj.oledata, "object_%08X.%s" % (obj.start, ext)
        else:
            kind, data, name = "raw", obj.rawdata, "object_%08X.raw" % obj.start
        objects.insert({"start": obj.start, "kind": kind, "class_name": text(class_name), "size": len(data),
                        "filename": text(obj.filename) if obj.is_package else None})
        self.emit(text(name), data)


def recognised(content, head):
    """The manifest's test again, so that `--no-dispatch` gives the same results as dispatch (an
    OPC package that is not an Office document, an .xps or a .nupkg, is left alone either way)."""
    if head == OLE_MAGIC or head.startswith(b"{\\rt"):
        return True
    mime = (content.mime or "").lower()
    name = content.filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return any(fnmatch.fnmatchcase(mime, p) for p in ACCEPTS["mime"]) or any(fnmatch.fnmatchcase(name, g) for g in ACCEPTS["names"])


def process(content):
    head = content.read(0, 8)
    if not recognised(content, head):
        return
    reading = Reading(content)
    if head == OLE_MAGIC:
        reading.step("compound file", reading.ole)
    elif head.startswith(b"{\\rt"):
        reading.step("rtf", reading.rtf)
    elif head.startswith(b"PK\x03\x04"):
        reading.step("package", reading.package_document)
    else:
        return
    reading.finish()
