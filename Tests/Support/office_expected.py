"""The office module's test corpus and what independent native readers say about it.

  office_expected.py --make DIR     makes the corpus in DIR (see `make`: which tool made which file)
  office_expected.py FILE...        prints, as JSON by file name, what these readers say:
    - 7-Zip (`7z l -slt`, `7z x`): a compound file's streams (path, size, sha256) and storages,
      or null where 7-Zip does not open the file
    - Debian's python3-olefile 0.46: the streams (path, size, sha256, as 7-Zip names them) and the
      SummaryInformation/DocumentSummaryInformation properties
    - olevba and rtfobj (oletools 0.60.2 with its dependencies, msoffcrypto-tool included, pinned
      by hash in oletools-requirements.txt, fetched once into the build cache): `olevba -j --attr`'s
      macros and analysis, and the files `rtfobj -s all` saves (names without rtfobj's prefix)
    - oleobj (the same oletools): the files of the OLE packages in a compound file (`oleobj -d`)
    - msoffcrypto-tool: whether the document is encrypted
    - the standard library's zipfile and ElementTree: docProps/core.xml, app.xml and meta.xml

Run with Debian's /usr/bin/python3; needs p7zip-full, LibreOffice (writer, calc and impress,
`-nogui`), msitools and python3-olefile, python3-xlsxwriter (scripts/install-deps.sh).
"""
import glob
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from xml.etree import ElementTree

import pinned_wheels

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = pinned_wheels.CACHE

#: Published test data: oletools' source distribution (its tests/test-data: documents with VBA,
#: Excel 4 macros, encrypted documents, OLE objects, RTF) and XlsxWriter's (examples/vbaProject.bin,
#: a VBA project Excel saved), pinned by sha256.
SDISTS = {
    "oletools": ("oletools==0.60.2", "oletools-0.60.2.zip", "ad452099f4695ffd8855113f453348200d195ee9fa341a09e197d66ee7e0b2c3"),
    "xlsxwriter": ("XlsxWriter==3.3.1", "xlsxwriter-3.3.1.tar.gz", "0867761912cceac76f97ffa76eeda18c623ae9217f601be8512f55b1af4bdb6e"),
}
#: What the corpus takes from oletools' test data.
OLETOOLS_FILES = [
    "olevba/sample_with_vba.ppt", "oleform/oleform-PR314.docm", "excel4-macros/excel4_sample_macro.xls",
    "oleobj/sample_with_lnk_file.doc", "oleobj/embedded-simple-2007.xlsm", "msodde/harmless-clean.doc",
    "oleobj/embedded-simple-2007.ppt",
    "encrypted/encrypted.xls", "encrypted/encrypted.docx", "encrypted/encrypted.ppt",
    "encrypted/autostart-encrypt-standardpassword.xls", "rtfobj/issue_251.rtf",
]
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def run(*args, check=True, **kwargs):
    return subprocess.run(args, check=check, capture_output=True, **kwargs)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def sdist(name):
    """The pinned source distribution, downloaded once into the build cache and checked."""
    requirement, filename, digest = SDISTS[name]
    path = os.path.join(CACHE, "sdist-" + digest[:16], filename)
    if not os.path.exists(path):
        # PyPI's simple index names the file's address (pip would try to build an sdist it downloads).
        project = requirement.split("==")[0].lower()
        with urllib.request.urlopen(f"https://pypi.org/simple/{project}/", timeout=60) as response:
            page = response.read().decode()
        url = re.search(r'href="([^"#]*/' + re.escape(filename) + r')[#"]', page).group(1)
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
        if sha256(data) != digest:
            raise SystemExit(f"office_expected: {filename}: sha256 differs from the pin")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=os.path.dirname(path), delete=False) as f:
            f.write(data)
        os.rename(f.name, path)
    return path


# The corpus

META = """<office:meta>
  <dc:title>Quarterly report</dc:title>
  <dc:subject>Finance</dc:subject>
  <dc:description>Figures for the third quarter</dc:description>
  <meta:keyword>quarterly</meta:keyword>
  <meta:initial-creator>Alice Analyst</meta:initial-creator>
  <dc:creator>Bob Reviewer</dc:creator>
  <meta:creation-date>2026-01-02T03:04:05</meta:creation-date>
  <dc:date>2026-02-03T04:05:06</dc:date>
 </office:meta>"""
NAMESPACES = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
              'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
              'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
              'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
              'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
              'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
              'xmlns:dc="http://purl.org/dc/elements/1.1/" '
              'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"')
FLAT = {
    "memo.fodt": ("text", '<office:text><text:p>Quarterly report: revenue up, costs down.</text:p></office:text>'),
    "sheet.fods": ("spreadsheet", '<office:spreadsheet><table:table table:name="Figures"><table:table-row>'
                   '<table:table-cell><text:p>Revenue</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet>'),
    "deck.fodp": ("presentation", '<office:presentation><draw:page draw:name="One"><draw:frame svg:width="10cm" svg:height="2cm" '
                  'svg:x="1cm" svg:y="1cm"><draw:text-box><text:p>Quarterly report</text:p></draw:text-box></draw:frame></draw:page>'
                  '</office:presentation>'),
}
CONVERSIONS = {"memo.fodt": ["doc", "docx", "odt", "rtf"], "sheet.fods": ["xls", "xlsx", "ods"], "deck.fodp": ["ppt", "pptx", "odp"]}


def soffice(work, source, target, outdir):
    run("soffice", "-env:UserInstallation=file://" + work + "/profile", "--headless", "--norestore",
        "--convert-to", target, "--outdir", outdir, source, timeout=300)


def make(folder):
    """LibreOffice (headless) writes .doc/.docx/.odt/.rtf, .xls/.xlsx/.ods and .ppt/.pptx/.odp from
    flat OpenDocument files with the same properties; LibreOffice converts oletools' document
    with an embedded OLE object to RTF (\\objdata); XlsxWriter (Debian's python3-xlsxwriter)
    writes an .xlsm holding the VBA project Excel saved in XlsxWriter's examples; msibuild
    (msitools) writes an MSI; the rest is oletools' published test data."""
    os.makedirs(folder, exist_ok=True)
    work = tempfile.mkdtemp()
    for name, (kind, body) in FLAT.items():
        with open(os.path.join(work, name), "w") as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {NAMESPACES} office:version="1.3" '
                    f'office:mimetype="application/vnd.oasis.opendocument.{kind}">\n {META}\n <office:body>{body}</office:body>\n'
                    '</office:document>\n')
        for target in CONVERSIONS[name]:
            soffice(work, os.path.join(work, name), target, folder)

    with zipfile.ZipFile(sdist("oletools")) as archive:
        for member in OLETOOLS_FILES:
            with open(os.path.join(folder, os.path.basename(member)), "wb") as f:
                f.write(archive.read("oletools-0.60.2/tests/test-data/" + member))
        with open(os.path.join(work, "embedded.docx"), "wb") as f:
            f.write(archive.read("oletools-0.60.2/tests/test-data/oleobj/embedded-simple-2007.docx"))
    # LibreOffice writes no \objdata, so the RTF with an OLE package is assembled around a real
    # package: the Ole10Native stream Word wrote in oletools' sample_with_lnk_file.doc (a .lnk),
    # in an OLE 1.0 embedded object header (MS-OLEDS 2.2.5), hex-encoded in \objdata.
    sys.path = [p for p in sys.path if "oletools-" not in p]
    import olefile
    with olefile.OleFileIO(os.path.join(folder, "sample_with_lnk_file.doc")) as ole:
        native = next(ole.openstream(n).read() for n in ole.listdir() if n[-1] == "\x01Ole10Native")
    package = native[4:]
    header = (struct.pack("<II", 0x0501, 2) + struct.pack("<I", 8) + b"Package\0" + struct.pack("<II", 0, 0)
              + struct.pack("<I", len(package)))
    hexed = (header + package).hex()
    with open(os.path.join(folder, "package-object.rtf"), "w") as f:
        f.write("{\\rtf1\\ansi{\\fonttbl{\\f0 Calibri;}}\\f0 Open the attachment:\\par\n"
                "{\\object\\objemb{\\*\\objclass Package}\\objw960\\objh720{\\*\\objdata\n"
                + "\n".join(hexed[i:i + 128] for i in range(0, len(hexed), 128)) + "\n}}\\par}\n")

    with tarfile.open(sdist("xlsxwriter")) as archive:
        project = archive.extractfile("xlsxwriter-3.3.1/examples/vbaProject.bin").read()
    with open(os.path.join(work, "vbaProject.bin"), "wb") as f:
        f.write(project)
    run("/usr/bin/python3", "-c", """if True:
        import sys, xlsxwriter
        book = xlsxwriter.Workbook(sys.argv[1])
        book.set_properties({"title": "Macro book", "author": "Carol Coder", "company": "Example Ltd"})
        book.add_worksheet().write("A1", "Press the button")
        book.add_vba_project(sys.argv[2])
        book.close()""", os.path.join(folder, "macros.xlsm"), os.path.join(work, "vbaProject.bin"))

    with open(os.path.join(work, "payload.txt"), "w") as f:
        f.write("installer payload\n" * 100)
    msi = os.path.join(folder, "setup.msi")
    run("msibuild", msi, "-s", "Example installer", "Dave Packager", "Intel;1033", "{12345678-1234-1234-1234-123456789012}")
    run("msibuild", msi, "-q", "CREATE TABLE `Property` (`Property` CHAR(72) NOT NULL, `Value` LONGCHAR NOT NULL PRIMARY KEY `Property`)",
        "-q", "INSERT INTO `Property` (`Property`, `Value`) VALUES ('ProductName', 'Example')")
    run("msibuild", msi, "-a", "Payload", os.path.join(work, "payload.txt"))
    shutil.rmtree(work)


# The readers


def oletools_site():
    """oletools with its dependencies (msoffcrypto-tool and cryptography included), pinned by hash."""
    return pinned_wheels.site("oletools-requirements.txt", "oletools")


def seven_zip(path):
    """7-Zip's listing of a compound file and each stream's sha256, or None if it does not open it."""
    listing = run("7z", "l", "-slt", "-tCompound", path, check=False)
    if listing.returncode != 0:
        return None
    entries, entry = [], {}
    for line in listing.stdout.decode("utf-8", "replace").split("\n----------\n", 1)[-1].splitlines() + [""]:
        if not line.strip():
            if "Path" in entry:
                entries.append(entry)
            entry = {}
        elif " = " in line:
            key, value = line.split(" = ", 1)
            entry[key] = value
    out = tempfile.mkdtemp()
    run("7z", "x", "-tCompound", "-y", "-o" + out, path, check=False)
    streams, storages = [], []
    for entry in entries:
        if os.path.isdir(os.path.join(out, entry["Path"])):
            storages.append(entry["Path"])
            continue
        with open(os.path.join(out, entry["Path"]), "rb") as f:
            streams.append([entry["Path"], int(entry["Size"]), sha256(f.read())])
    shutil.rmtree(out)
    return {"streams": sorted(streams), "storages": sorted(storages)}


def olefile_reading(path):
    """Debian's olefile: streams as 7-Zip names them (control characters as [N]) and properties."""
    sys.path = [p for p in sys.path if "oletools-" not in p]
    import olefile
    ole = olefile.OleFileIO(path)
    streams = []
    for names in ole.listdir(streams=True, storages=False):
        name = "/".join("".join("[%d]" % ord(c) if ord(c) < 0x20 else c for c in part) for part in names)
        data = ole.openstream(names).read()
        streams.append([name, len(data), sha256(data)])
    meta = ole.get_metadata()
    props = []
    for source, attributes, codepage in (("SummaryInformation", meta.SUMMARY_ATTRIBS, meta.codepage),
                                         ("DocumentSummaryInformation", meta.DOCSUM_ATTRIBS, meta.codepage_doc)):
        codec = {65001: "utf-8", 1200: "utf-16-le", 10000: "mac-roman"}.get((codepage or 0) & 0xFFFF, "cp%d" % ((codepage or 1252) & 0xFFFF))
        for name in attributes:
            value = getattr(meta, name, None)
            if value is None or name in ("thumbnail", "dig_sig", "hlinks", "heading_pairs", "titles_of_parts"):
                continue
            if name in ("codepage", "codepage_doc"):
                value &= 0xFFFF
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif isinstance(value, bool):
                value = "1" if value else "0"
            elif isinstance(value, bytes):
                value = value.decode(codec, "replace").rstrip("\x00")
            elif not isinstance(value, (int, float, str)):
                continue
            props.append([source, name, str(value)])
    ole.close()
    return {"streams": sorted(streams), "properties": sorted(props)}


def olevba_reading(site, path):
    """`olevba -j --attr`: every macro (name, stream, code) and the analysis."""
    result = run(sys.executable, "-W", "ignore", "-m", "oletools.olevba", "-j", "--attr", path,
                 env=dict(os.environ, PYTHONPATH=site), check=False)
    found = [r for r in json.loads(result.stdout) if r.get("type") not in ("MetaInformation", "msg")]
    if not found:
        return None
    report = found[0]
    # Each module's whole source (the JSON's is stripped), from olevba's API, for its sha256.
    code = ("import sys, json, hashlib\nfrom oletools.olevba import VBA_Parser\np = VBA_Parser(sys.argv[1])\n"
            "print(json.dumps([[n, s, hashlib.sha256(c.encode('utf-8', 'surrogateescape')).hexdigest()]"
            " for _, s, n, c in p.extract_all_macros()] if p.detect_macros() else []))")
    sources = json.loads(run(sys.executable, "-W", "ignore", "-c", code, path, env=dict(os.environ, PYTHONPATH=site)).stdout)
    return {"type": report.get("type"),
            "macros": sorted([m["vba_filename"], m["ole_stream"]] for m in report.get("macros") or []),
            "sources": sorted(sources),
            "analysis": sorted([a["type"], a["keyword"], a["description"]] for a in report.get("analysis") or [])}


def oleobj_reading(site, path):
    """The files `oleobj -d` saves from a compound file's OLE packages: name (without its `<file>_`
    prefix) -> sha256."""
    return rtfobj_reading(site, path, tool="oleobj", arguments=[])


def rtfobj_reading(site, path, tool="rtfobj", arguments=("-s", "all")):
    """What `rtfobj -s all` saves: name (without its `<file>_` prefix) -> sha256."""
    out = tempfile.mkdtemp()
    run(sys.executable, "-W", "ignore", "-m", "oletools." + tool, *arguments, "-d", out, path,
        env=dict(os.environ, PYTHONPATH=site), check=False)
    prefix = os.path.basename(path) + "_"
    saved = {}
    for name in os.listdir(out):
        with open(os.path.join(out, name), "rb") as f:
            saved[name[len(prefix):] if name.startswith(prefix) else name] = sha256(f.read())
    shutil.rmtree(out)
    return saved


def encrypted(site, path):
    """msoffcrypto-tool's answer for a compound file (an OOXML or OpenDocument ZIP: not encrypted)."""
    code = "import sys, msoffcrypto; print(int(msoffcrypto.OfficeFile(open(sys.argv[1], 'rb')).is_encrypted()))"
    result = run(sys.executable, "-W", "ignore", "-c", code, path, env=dict(os.environ, PYTHONPATH=site), check=False)
    return result.stdout.strip() == b"1"


def xml_properties(path):
    """docProps/core.xml and app.xml's simple elements and meta.xml's, by their local names."""
    out = []
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        for part in ("docProps/core.xml", "docProps/app.xml", "meta.xml"):
            if part not in names:
                continue
            root = ElementTree.fromstring(archive.read(part))
            elements = list(root)
            if part == "meta.xml":
                elements = [e for child in root if child.tag.endswith("}meta") for e in child]
            for element in elements:
                local = element.tag.rsplit("}", 1)[-1]
                if local == "document-statistic":
                    out += [[part.rsplit("/", 1)[-1], k.rsplit("}", 1)[-1], v] for k, v in element.attrib.items()]
                elif not len(element) and (element.text or "").strip():
                    out.append([part.rsplit("/", 1)[-1], local, element.text.strip()])
    return sorted(out)


def main():
    if sys.argv[1:2] == ["--make"]:
        make(sys.argv[2])
        return
    site = oletools_site()
    result = {}
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            head = f.read(8)
        entry = {}
        if head == OLE_MAGIC:
            entry["seven_zip"] = seven_zip(path)
            entry["olefile"] = olefile_reading(path)
            entry["encrypted"] = encrypted(site, path)
            entry["oleobj"] = oleobj_reading(site, path)
        elif head.startswith(b"PK"):
            entry["xml"] = xml_properties(path)
        elif head.startswith(b"{\\rt"):
            entry["rtfobj"] = rtfobj_reading(site, path)
        if head == OLE_MAGIC or head.startswith(b"PK"):
            entry["olevba"] = olevba_reading(site, path)
        result[os.path.basename(path)] = entry
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
