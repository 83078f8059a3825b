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
multi-valued properties and compressed RTF bodies).

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
  "attachments": name and sha256 of every named attachment.
- TNEF, by `tnef -C DIR --save-body -f FILE` (Debian's tnef): "tnef": name and sha256 of every
  file it saves (attachments under their names; the bodies as message.txt, message.html and
  message.rtf, the RTF decompressed).
"""
import email, email.policy, fcntl, glob, hashlib, json, os, shutil, subprocess, sys, tarfile, tempfile

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


def copy_files(folder):
    os.makedirs(folder, exist_ok=True)
    outlook = fetch(*PINS[0])
    ytnef = fetch(*PINS[1])
    files = sorted(glob.glob(os.path.join(outlook, "t", "files", "*.msg")))
    files += sorted(glob.glob(os.path.join(ytnef, "test-data", "*.tnef"))) + [os.path.join(ytnef, "test-data", "winmail.dat")]
    for path in files:
        shutil.copyfile(path, os.path.join(folder, os.path.basename(path)))


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
        "bodies": {}, "attachments": {},
    }
    for part in m.walk():
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
