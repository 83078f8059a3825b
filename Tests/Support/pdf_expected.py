"""The pdf module's test corpus and what independent native readers say about it.

  pdf_expected.py --make DIR     makes the corpus in DIR (see `make`: which tool made which file)
  pdf_expected.py FILE...        prints, as JSON by file name, what these readers say:
    - poppler's pdfinfo (-isodates): version, pages, encrypted, producer, creator, title, author, dates
    - poppler's pdfdetach: the embedded files' names (-list) and each one's sha256 (-saveall)
    - qpdf --json: every URI action of a page's annotations (page, uri), every /JS value's sha256,
      the XFA packets' sha256
    - pdfid 1.1.3 (Didier Stevens' pdfid as a library, PyPI's `pdfid`, pinned by hash in
      pdfid-requirements.txt, fetched once into the build cache): its keyword counts

Run with Debian's /usr/bin/python3; needs poppler-utils and qpdf (scripts/install-deps.sh).
"""
import base64
import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

import pinned_wheels

HERE = os.path.dirname(os.path.abspath(__file__))


def run(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# The corpus


def doc_pdfs():
    """The machine's real PDFs in /usr/share/doc (made by TeX, DocBook tool chains, ...), unpacked."""
    found = {}
    for path in sorted(glob.glob("/usr/share/doc/**/*.pdf", recursive=True) + glob.glob("/usr/share/doc/**/*.pdf.gz", recursive=True)):
        name = os.path.basename(path).removesuffix(".gz")
        if name in found or os.path.getsize(path) > 4_000_000:
            continue
        found[name] = path
    return found


def read_doc(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if path.endswith(".gz") else data


def qpdf_json(path):
    return json.loads(run("qpdf", "--json-output", "--json-stream-data=inline", path).stdout)


def with_objects(base, out, edit):
    """qpdf's JSON round trip: `base` as qpdf --json-output writes it, `edit(objects, new)` changes
    it, qpdf --json-input writes `out` (qpdf lays out the file: offsets, xref, lengths)."""
    doc = qpdf_json(base)
    objects = doc["qpdf"][1]
    top = [doc["qpdf"][0]["maxobjectid"]]

    def new(value):
        top[0] += 1
        objects["obj:%d 0 R" % top[0]] = value
        return "%d 0 R" % top[0]

    edit(objects, new)
    doc["qpdf"][0]["maxobjectid"] = top[0]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f)
    try:
        run("qpdf", "--json-input", f.name, out)
    finally:
        os.unlink(f.name)


def stream(data, **entries):
    return {"stream": {"dict": entries, "data": base64.b64encode(data).decode()}}


def catalog_and_pages(objects):
    root = objects["trailer"]["value"]["/Root"]
    catalog = objects["obj:" + root]["value"]
    pages = []
    todo = [catalog["/Pages"]]
    while todo:
        node = objects["obj:" + todo.pop(0)]["value"]
        if node.get("/Type") == "/Pages":
            todo = list(node["/Kids"]) + todo
        else:
            pages.append(node)
    return catalog, pages


def make(folder):
    os.makedirs(folder, exist_ok=True)
    docs = doc_pdfs()
    for name, path in docs.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(read_doc(path))
    base = os.path.join(folder, "libtasn1.pdf")
    small = os.path.join(folder, "crc-doc.1.0.pdf") if "crc-doc.1.0.pdf" in docs else base
    # Files to attach: a ZIP (Python's zipfile) and a text file.
    work = tempfile.mkdtemp()
    archive = os.path.join(work, "bundle.zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("inner/readme.txt", "read me\n" * 50)
        z.writestr("data.bin", bytes(range(256)) * 8)
    notes = os.path.join(work, "notes.txt")
    with open(notes, "w") as f:
        f.write("notes attached by pdfattach\n" * 20)
    # attached.pdf: poppler's pdfattach (EmbeddedFiles name tree), twice.
    step = os.path.join(work, "step.pdf")
    run("pdfattach", small, archive, step)
    run("pdfattach", step, notes, os.path.join(folder, "attached.pdf"))
    # pages.pdf: qpdf's page selection over two real documents (a document qpdf writes).
    run("qpdf", "--empty", "--pages", base, "1-3", small, "--", os.path.join(folder, "pages.pdf"))
    # active.pdf: qpdf's JSON round trip with JavaScript (document-level, OpenAction, a link's
    # action), URI links on two pages, a file-attachment annotation and an XFA form.
    def active(objects, new):
        catalog, pages = catalog_and_pages(objects)
        catalog["/OpenAction"] = new({"value": {"/S": "/JavaScript", "/JS": "u:app.alert('opened');"}})
        script = new(stream(b"var n = 6 * 7;\nconsole.println('document script ' + n);\n"))
        catalog["/Names"] = {"/JavaScript": new({"value": {"/Names": ["u:init", new({"value": {"/S": "/JavaScript", "/JS": script}})]}})}
        xfa_template = new(stream(b'<template xmlns="http://www.xfa.org/schema/xfa-template/3.3/"><subform name="form1"/></template>'))
        xfa_data = new(stream(b'<xfa:datasets xmlns:xfa="http://www.xfa.org/schema/xfa-data/1.0/"><xfa:data/></xfa:datasets>'))
        catalog["/AcroForm"] = new({"value": {"/Fields": [], "/XFA": ["u:template", xfa_template, "u:datasets", xfa_data]}})
        payload = new(stream(b"attached to an annotation\n" * 10, **{"/Type": "/EmbeddedFile"}))
        spec = new({"value": {"/Type": "/Filespec", "/F": "u:annotated.txt", "/UF": "u:annotated.txt", "/EF": {"/F": payload}}})
        link = lambda uri: new({"value": {"/Type": "/Annot", "/Subtype": "/Link", "/Rect": [10, 10, 100, 30], "/A": {"/S": "/URI", "/URI": "u:" + uri}}})
        pages[0]["/Annots"] = [
            link("https://example.org/first"),
            new({"value": {"/Type": "/Annot", "/Subtype": "/Link", "/Rect": [10, 40, 100, 60],
                           "/A": {"/S": "/JavaScript", "/JS": "u:this.print();"}}}),
            new({"value": {"/Type": "/Annot", "/Subtype": "/FileAttachment", "/Rect": [10, 70, 30, 90], "/FS": spec}}),
        ]
        pages[-1]["/Annots"] = [link("http://example.com/last?page=2&x=1")]
    with_objects(small, os.path.join(folder, "active.pdf"), active)
    # encrypted-aes.pdf: qpdf's AES-256 with an empty user password (pdfinfo opens it; pypdf
    # needs `cryptography` for AES); encrypted-rc4.pdf: RC4 128-bit (pypdf opens it alone).
    run("qpdf", "--encrypt", "", "owner", "256", "--", base, os.path.join(folder, "encrypted-aes.pdf"))
    run("qpdf", "--allow-weak-crypto", "--encrypt", "", "owner", "128", "--use-aes=n", "--", small,
        os.path.join(folder, "encrypted-rc4.pdf"))
    # truncated.pdf: a real document cut in half.
    data = read_doc(docs.get("shared-mime-info-spec.pdf", base))
    with open(os.path.join(folder, "truncated.pdf"), "wb") as f:
        f.write(data[: len(data) // 2])
    # broken-xref.pdf: active.pdf with its startxref pointing nowhere and /JavaScript written with
    # #xx escapes (so the cross-reference offsets after them are wrong too).
    with open(os.path.join(folder, "active.pdf"), "rb") as f:
        data = f.read()
    data = data.replace(b"/JavaScript", b"/J#61va#53cript")
    data = re.sub(rb"startxref\s+\d+", b"startxref\n999999999", data)
    with open(os.path.join(folder, "broken-xref.pdf"), "wb") as f:
        f.write(data)
    shutil.rmtree(work)


# The readers


def pdfid_module():
    sys.path.insert(0, pinned_wheels.site("pdfid-requirements.txt", "pdfid"))
    from pdfid import pdfid
    return pdfid


def pdfid_counts(pdfid, path):
    xml = pdfid.PDFiD(path, allNames=True, force=True)
    counts = {}
    for keyword in xml.documentElement.getElementsByTagName("Keyword"):
        counts[keyword.getAttribute("Name")] = int(keyword.getAttribute("Count"))
    return counts


def iso(value):
    """pdfinfo -isodates' form as the module writes it: YYYY-MM-DDTHH:MM:SS then Z or ±HH:MM."""
    m = re.match(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(Z|[+-]\d{2}(?::?\d{2})?)?$", value)
    if not m:
        return value
    zone = m.group(2) or ""
    if zone not in ("", "Z"):
        digits = zone[1:].replace(":", "")
        zone = zone[0] + digits[:2] + ":" + (digits[2:4] or "00")
    return m.group(1) + zone


def pdfinfo(path):
    done = run("pdfinfo", "-isodates", path, check=False)
    if done.returncode != 0:
        return None
    fields = {}
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    date = lambda key: iso(fields[key]) if fields.get(key) else None
    return {
        "version": fields.get("PDF version"), "pages": int(fields["Pages"]) if "Pages" in fields else None,
        "encrypted": fields.get("Encrypted", "no").startswith("yes"),
        "producer": fields.get("Producer"), "creator": fields.get("Creator"), "title": fields.get("Title"),
        "author": fields.get("Author"), "created": date("CreationDate"), "modified": date("ModDate"),
    }


def pdfdetach(path):
    listing = run("pdfdetach", "-list", path, check=False)
    if listing.returncode != 0:
        return None
    names = [line.split(": ", 1)[1] for line in listing.stdout.decode("utf-8", "replace").splitlines()[1:] if ": " in line]
    folder = tempfile.mkdtemp()
    try:
        run("pdfdetach", "-saveall", "-o", folder, path)
        files = {name: sha256(open(os.path.join(folder, name), "rb").read()) for name in os.listdir(folder)}
    finally:
        shutil.rmtree(folder)
    return {"names": names, "files": files}


def qpdf_view(path):
    """Links, JavaScript and XFA as qpdf's JSON shows them."""
    done = run("qpdf", "--json-output", "--json-stream-data=inline", "--decode-level=generalized", path, check=False)
    if done.returncode not in (0, 3):
        return None
    doc = json.loads(done.stdout)
    objects = doc["qpdf"][1]

    def value(ref):
        while isinstance(ref, str) and re.fullmatch(r"\d+ \d+ R", ref):
            entry = objects.get("obj:" + ref, {})
            ref = entry.get("value", entry)
        return ref

    def data(item):
        item = value(item)
        if isinstance(item, dict) and "stream" in item:
            return base64.b64decode(item["stream"]["data"])
        if isinstance(item, str) and item.startswith("u:"):
            return item[2:].encode("utf-8")
        if isinstance(item, str) and item.startswith("b:"):
            return bytes.fromhex(item[2:])
        return None

    catalog, pages = catalog_and_pages(objects)
    links = []
    for number, page in enumerate(pages, 1):
        for annotation in value(page.get("/Annots")) or []:
            action = value(value(annotation).get("/A"))
            if isinstance(action, dict) and action.get("/S") == "/URI":
                links.append([number, data(action["/URI"]).decode("utf-8")])
    scripts = []
    for entry in objects.values():
        entry = entry.get("value", entry)
        if isinstance(entry, dict) and entry.get("/S") == "/JavaScript" and "/JS" in entry:
            scripts.append(sha256(data(entry["/JS"])))
        for key in ("/A", "/OpenAction"):  # direct action dictionaries inside another object
            inner = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(inner, dict) and inner.get("/S") == "/JavaScript":
                scripts.append(sha256(data(inner["/JS"])))
    form = value(value(catalog.get("/AcroForm")))
    xfa = None
    if isinstance(form, dict) and "/XFA" in form:
        packets = value(form["/XFA"])
        xfa = sha256(b"".join(data(p) for p in (packets[1::2] if isinstance(packets, list) else [packets])))
    return {"links": links, "scripts": sorted(scripts), "xfa": xfa}


def main(argv):
    if argv[:1] == ["--make"]:
        make(argv[1])
        return
    pdfid = pdfid_module()
    result = {}
    for path in argv:
        result[os.path.basename(path)] = {
            "info": pdfinfo(path), "detach": pdfdetach(path), "qpdf": qpdf_view(path),
            "pdfid": pdfid_counts(pdfid, path),
        }
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
