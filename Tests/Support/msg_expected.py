#!/usr/bin/env python3
"""Real Outlook .msg and TNEF files, and what independent native readers read in them, as JSON, for
MailModuleTests.

Usage: /usr/bin/python3 msg_expected.py --fetch DIR   (copies the real files into DIR)
       /usr/bin/python3 msg_expected.py FILE...        (prints the expectations, by file name)

The files come from pinned Debian source packages, fetched once into the build cache as
scripts/formats/common.sh fetches sources (`apt-get source --download-only`, the .dsc checked
against its pinned sha256, the tarballs against the .dsc): Email::Outlook::Message's test files
(libemail-outlook-message-perl, t/files/*.msg: Outlook 2003-2019 messages, 8-bit and UTF-16
properties, sent and unsent, an RTF body, a JPEG and a PGP-signed attachment) and libytnef's
(test-data/*.tnef and winmail.dat: real `winmail.dat` files with attachments, long filenames,
multi-valued properties and compressed RTF bodies). None of them has an embedded message: one is
written here (embedded.msg, by `compound_file` and `message` below, MS-CFB and MS-OXMSG as
specified) and read by the same readers.

Per file, computed by native readers, nothing copied from the module:
- .msg, by `msgconvert` (Debian's libemail-outlook-message-perl) converting it to an .eml, read
  back by Python's `email` under `email.policy.default`:
  "message": Message-ID, Date (ISO 8601), From, To, Cc, Subject and the number of Received
  headers of that .eml; "sent": whether the .msg kept its transport headers (the .eml has
  Received headers: then msgconvert's headers are the message's own, and its Date is the
  header's, not one msgconvert makes up from the file's times);
  "headers": the .eml's headers but the MIME ones msgconvert writes itself (Content-*,
  MIME-Version), decoded as the module decodes them, names lowercased and white space runs made
  one space (msgconvert renames and refolds the headers it copies);
  "bodies": sha256 of the text/plain and text/html bodies and of the RTF body (msgconvert's
  decompression dictionary has LF CR where MS-OXRTFCP's has CR LF, a slip the RTF bodies of these
  files copy from: its LF CR pairs are put back as CR LF; tnef, below, is compared unchanged);
  "attachments": name and sha256 of every named attachment, embedded messages' included;
  "embedded": Message-ID, Subject and To of every embedded message, in order.
- TNEF, by `tnef -C DIR --save-body -f FILE` (Debian's tnef): "tnef": name and sha256 of every
  file it saves (attachments under their names; the bodies as message.txt, message.html and
  message.rtf, the RTF decompressed).
"""
import email, email.policy, fcntl, glob, hashlib, json, os, shutil, struct, subprocess, sys, tarfile, tempfile

#: package, version, sha256 of its .dsc
PINS = [
    ("libemail-outlook-message-perl", "0.921-1", "97d317bf6ccd742e5d3c651dc7ee2bbd71a2f30d2280d410a686965a8b3b9200"),
    ("libytnef", "2.0-1", "156e4a5e3c81aeb06b463df04871a65fdc405d704367dc12b9f68f629b603386"),
]
DEB_SRC = """Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def sha(data):
    return hashlib.sha256(data).hexdigest()


def sha_file(path):
    return sha(open(path, "rb").read())


def cache_src():
    cache = os.environ.get("WADUP_BUILD_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "wadup", "build")
    src = os.path.join(cache, "src")
    os.makedirs(src, exist_ok=True)
    return cache, src


def ensure_deb_src():
    """A deb-src entry, as common.sh's ensure_deb_src adds it (apt-get source needs one)."""
    for path in glob.glob("/etc/apt/sources.list.d/*") + ["/etc/apt/sources.list"]:
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        if any(l.startswith("deb-src") or (l.startswith("Types:") and "deb-src" in l) for l in lines):
            return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["tee", "/etc/apt/sources.list.d/wadup-src.sources"], input=DEB_SRC.encode(), stdout=subprocess.DEVNULL, check=True)
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)


def dsc_tarballs(dsc):
    """{name: sha256} of the files a .dsc lists under Checksums-Sha256."""
    files, inside = {}, False
    for line in open(dsc).read().splitlines():
        if line.startswith("Checksums-Sha256:"):
            inside = True
        elif inside and line.startswith(" "):
            digest, _, name = line.split()
            files[name] = digest
        else:
            inside = False
    return files


def fetch(package, version, dsc_sha256):
    """The unpacked source of a pinned package, in the build cache's src/ (as common.sh's
    source_dir names it). The .dsc must match its pin and each tarball the .dsc; when the archive
    serves the upstream tarball but not Debian's packaging (which holds no test file), the checked
    upstream tarball is unpacked alone."""
    cache, src = cache_src()
    upstream = version.split(":", 1)[-1]
    directory = os.path.join(src, "%s-%s" % (package, upstream.rsplit("-", 1)[0]))
    dsc = os.path.join(src, "%s_%s.dsc" % (package, upstream))
    with open(os.path.join(cache, ".src.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isfile(dsc) or sha_file(dsc) != dsc_sha256:
            ensure_deb_src()
            subprocess.run(["apt-get", "source", "--download-only", "-qq", "%s=%s" % (package, version)], cwd=src,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not os.path.isfile(dsc) or sha_file(dsc) != dsc_sha256:
            raise SystemExit("msg_expected.py: %s does not match its pinned sha256 (or could not be fetched)" % dsc)
        if not os.path.isdir(directory):
            tarballs = dsc_tarballs(dsc)
            present = {n: d for n, d in tarballs.items() if os.path.isfile(os.path.join(src, n))}
            for name, digest in present.items():
                if sha_file(os.path.join(src, name)) != digest:
                    raise SystemExit("msg_expected.py: %s does not match %s" % (name, dsc))
            partial = directory + ".partial"
            shutil.rmtree(partial, ignore_errors=True)
            if len(present) == len(tarballs):
                subprocess.run(["dpkg-source", "-x", "-q", dsc, partial], cwd=src, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not os.path.isdir(partial):
                orig = [n for n in present if ".orig.tar." in n]
                if not orig:
                    raise SystemExit("msg_expected.py: %s's upstream tarball could not be fetched" % package)
                os.makedirs(partial)
                with tarfile.open(os.path.join(src, orig[0])) as tar:
                    for member in tar.getmembers():
                        member.name = member.name.split("/", 1)[1] if "/" in member.name else ""
                        if member.name and not member.issym() and not member.islnk():
                            tar.extract(member, partial, filter="data") if hasattr(tarfile, "data_filter") else tar.extract(member, partial)
            os.rename(partial, directory)
        fcntl.flock(lock, fcntl.LOCK_UN)
    return directory


# A .msg with an embedded message, written here: the real files have none.

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def compound_file(tree):
    """An OLE2 compound file (MS-CFB version 3: 512-byte sectors, streams under 4096 bytes in the
    mini stream) holding `tree`: {name: bytes (a stream) or dict (a storage)}. Each storage's
    children are a balanced binary tree in MS-CFB's order (length, then upper case)."""
    entries = []

    def add(name, node, kind):
        index = len(entries)
        entries.append({"name": name, "kind": kind, "data": node if isinstance(node, bytes) else b"", "left": NOSTREAM,
                        "right": NOSTREAM, "child": NOSTREAM, "start": ENDOFCHAIN, "size": 0, "kids": []})
        if isinstance(node, dict):
            entries[index]["kids"] = [add(n, v, 1 if isinstance(v, dict) else 2) for n, v in node.items()]
        return index

    add("Root Entry", tree, 5)

    def balanced(ids):
        if not ids:
            return NOSTREAM
        middle = len(ids) // 2
        entries[ids[middle]]["left"] = balanced(ids[:middle])
        entries[ids[middle]]["right"] = balanced(ids[middle + 1:])
        return ids[middle]

    for entry in entries:
        entry["child"] = balanced(sorted(entry["kids"], key=lambda i: (len(entries[i]["name"]), entries[i]["name"].upper())))
    sectors, fat, mini, minifat = [], [], bytearray(), []

    def chain(data):
        count = (len(data) + 511) // 512
        if not count:
            return ENDOFCHAIN
        start = len(sectors)
        for i in range(count):
            sectors.append(data[i * 512:(i + 1) * 512].ljust(512, b"\0"))
            fat.append(start + i + 1 if i < count - 1 else ENDOFCHAIN)
        return start

    for entry in entries:
        data = entry["data"]
        entry["size"] = len(data)
        if entry["kind"] != 2 or not data:
            continue
        if len(data) >= 4096:
            entry["start"] = chain(data)
        else:
            start, count = len(mini) // 64, (len(data) + 63) // 64
            mini += data.ljust(count * 64, b"\0")
            minifat += [start + i + 1 if i < count - 1 else ENDOFCHAIN for i in range(count)]
            entry["start"] = start
    entries[0]["start"], entries[0]["size"] = chain(bytes(mini)), len(mini)
    minifat_bytes = struct.pack("<%dI" % len(minifat), *minifat)
    minifat_start, minifat_count = chain(minifat_bytes.ljust(-(-len(minifat_bytes) // 512) * 512, b"\xff")), -(-len(minifat_bytes) // 512)
    directory = bytearray()
    for entry in entries:
        name = entry["name"].encode("utf-16-le") + b"\0\0"
        directory += struct.pack("<64sHBBIII16sIQQIQ", name, len(name), entry["kind"], 1, entry["left"], entry["right"],
                                 entry["child"], b"\0" * 16, 0, 0, 0, entry["start"], entry["size"])
    while len(directory) % 512:
        directory += struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"\0" * 16, 0, 0, 0, 0, 0)
    directory_start = chain(bytes(directory))
    fat_count = 1
    while (len(sectors) + fat_count) * 4 > fat_count * 512:
        fat_count += 1
    fat_ids = list(range(len(sectors), len(sectors) + fat_count))
    fat += [FATSECT] * fat_count
    fat += [FREESECT] * (fat_count * 128 - len(fat))
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", bytes.fromhex("d0cf11e0a1b11ae1"), b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6,
                         0, fat_count, directory_start, 0, 4096, minifat_start if minifat else ENDOFCHAIN, minifat_count if minifat else 0,
                         ENDOFCHAIN, 0)
    header += struct.pack("<109I", *(fat_ids + [FREESECT] * (109 - fat_count)))
    return header + b"".join(sectors) + struct.pack("<%dI" % len(fat), *fat)


def properties(header, values):
    """A storage's MAPI properties as MS-OXMSG stores them: {tag: value}, tag = id << 16 | type;
    int values fixed-size in `__properties_version1.0` (after `header`), bytes and str values in
    `__substg1.0_IIIITTTT` streams (str as UTF-16LE, type 001F)."""
    streams, table = {}, bytearray(header)
    for tag, value in values.items():
        if isinstance(value, int):
            table += struct.pack("<IIq", tag, 6, value)
            continue
        data = value.encode("utf-16-le") if isinstance(value, str) else value
        streams["__substg1.0_%08X" % tag] = data
        table += struct.pack("<IIII", tag, 6, len(data) + (2 if isinstance(value, str) else 0), 0)
    streams["__properties_version1.0"] = bytes(table)
    return streams


def message(subject, body, message_id, to, attachments, top):
    """A message's storages: its properties (subject, body, message id, class), one To recipient
    and `attachments` ({storage: properties})."""
    count = struct.pack("<IIII", 1, len(attachments), 1, len(attachments))
    storage = properties(b"\0" * 8 + count + b"\0" * 8 if top else b"\0" * 8 + count, {
        0x001A001F: "IPM.Note", 0x0037001F: subject, 0x1000001F: body, 0x1035001F: message_id,
        0x0E04001F: to[0], 0x3FFD0003: 1252})
    storage["__recip_version1.0_#00000000"] = properties(b"\0" * 8, {
        0x0C150003: 1, 0x3001001F: to[0], 0x3002001F: "SMTP", 0x3003001F: to[1], 0x39FE001F: to[1]})
    for index, attachment in enumerate(attachments):
        storage["__attach_version1.0_#%08X" % index] = attachment
    return storage


def embedded_msg():
    """An unsent .msg carrying a text attachment and an embedded message (attach method 5) that
    carries its own attachment of more than 4096 bytes (a stream outside the mini stream)."""
    inner_attachment = properties(b"\0" * 8, {0x37050003: 1, 0x3707001F: "inner-data.bin", 0x3704001F: "INNER~1.BIN",
                                              0x37010102: bytes(range(256)) * 20})
    inner = message("Quarterly report (forwarded inside)", "The report, as it was sent to me.\r\n", "<inner-1@example.org>",
                    ("Carol Inner", "carol@example.org"), [inner_attachment], False)
    embedded = properties(b"\0" * 8, {0x37050003: 5, 0x3001001F: "Quarterly report"})
    embedded["__substg1.0_3701000D"] = inner
    text_attachment = properties(b"\0" * 8, {0x37050003: 1, 0x3707001F: "notes.txt", 0x3704001F: "notes.txt",
                                             0x370E001F: "text/plain", 0x37010102: b"Notes on the report.\r\n" * 3})
    outer = message("Fwd: Quarterly report", "See the forwarded message and my notes.\r\n", "<outer-1@example.org>",
                    ("Bob Outer", "bob@example.org"), [text_attachment, embedded], True)
    return compound_file(outer)


def copy_files(folder):
    os.makedirs(folder, exist_ok=True)
    outlook = fetch(*PINS[0])
    ytnef = fetch(*PINS[1])
    files = sorted(glob.glob(os.path.join(outlook, "t", "files", "*.msg")))
    files += sorted(glob.glob(os.path.join(ytnef, "test-data", "*.tnef"))) + [os.path.join(ytnef, "test-data", "winmail.dat")]
    for path in files:
        shutil.copyfile(path, os.path.join(folder, os.path.basename(path)))
    open(os.path.join(folder, "embedded.msg"), "wb").write(embedded_msg())


#: Headers msgconvert writes itself for the MIME structure it makes.
MIME_HEADERS = ("content-", "mime-version")


def header_text(value):
    """A header as the module writes it: str() of email.policy.default's header object, and bytes
    kept as surrogates read as UTF-8."""
    raw = str(value).encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "backslashreplace")


def expected_msg(path):
    if not shutil.which("msgconvert"):
        return {"missing": "msgconvert"}
    work = tempfile.mkdtemp(prefix="msgconvert-")
    try:
        eml = os.path.join(work, "out.eml")
        subprocess.run(["msgconvert", "--outfile", eml, path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        m = email.message_from_bytes(open(eml, "rb").read(), policy=email.policy.default)
    finally:
        shutil.rmtree(work)
    date = m["date"]
    received = len(m.get_all("received") or [])
    out = {
        "sent": received > 0,
        "message": {
            "message_id": m["message-id"] and str(m["message-id"]).strip(),
            "date": date.datetime.isoformat() if date is not None and date.datetime is not None else None,
            "sender": m["from"] and str(m["from"]), "recipients": m["to"] and str(m["to"]),
            "cc": m["cc"] and str(m["cc"]), "subject": m["subject"] and str(m["subject"]),
            "received_hops": received,
        },
        # Names lowercased and white space runs made one space: msgconvert renames (Message-Id) and
        # refolds (tabs become spaces) the headers it copies.
        "headers": [[name.lower(), " ".join(header_text(value).split())] for name, value in m.items()
                    if not name.lower().startswith(MIME_HEADERS)],
        "bodies": {}, "attachments": {}, "embedded": [],
    }
    for part in m.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()[0]
            out["embedded"].append({key: inner[name] and str(inner[name]).strip() for key, name in
                                    (("message_id", "message-id"), ("subject", "subject"), ("recipients", "to"))})
            continue
        if part.is_multipart() and part.get_content_type() != "multipart/signed":
            continue
        data = part.get_payload(decode=True) or b""
        kind = part.get_content_type()
        if part.get_filename():
            out["attachments"][part.get_filename()] = sha(data)
        elif kind == "text/plain" and "text" not in out["bodies"]:
            out["bodies"]["text"] = sha(data)
        elif kind == "text/html" and "html" not in out["bodies"]:
            out["bodies"]["html"] = sha(data)
        elif kind == "application/rtf" and "rtf" not in out["bodies"]:
            # msgconvert primes the decompression dictionary with LF CR where MS-OXRTFCP (and tnef)
            # have CR LF: its output has LF CR wherever the RTF copies those two bytes from it.
            out["bodies"]["rtf"] = sha(data.replace(b"\n\r", b"\r\n"))
    return out


def expected_tnef(path):
    if not shutil.which("tnef"):
        return {"missing": "tnef"}
    work = tempfile.mkdtemp(prefix="tnef-")
    try:
        subprocess.run(["tnef", "-C", work, "--save-body", "-f", path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return {"tnef": {name: sha_file(os.path.join(work, name)) for name in sorted(os.listdir(work))}}
    finally:
        shutil.rmtree(work)


def main(argv):
    if argv[:1] == ["--fetch"] and len(argv) == 2:
        copy_files(argv[1])
        return
    out = {}
    for path in argv:
        out[os.path.basename(path)] = expected_msg(path) if path.lower().endswith(".msg") else expected_tnef(path)
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1:])
