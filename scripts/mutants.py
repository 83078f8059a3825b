#!/usr/bin/env python3
"""The standard modules under mutation: seeded mutants of real ZIPs, jars, wheels, SQLite files and archives
run through `wadup`, checked for zero host crashes, zero hangs and every mutant recorded.

Seeds (made here, or found on this machine): the sample inputs' test.zip and sample.db, archives
written by Python's zipfile (stored, deflated, a jar, a wheel, ZIP64 entries, nested archives) and
Info-ZIP's zip when installed, SQLite databases of several page sizes with overflow pages, indexes
and WITHOUT ROWID tables, the pip/setuptools wheels bundled with Python where present, and for the
archive module a pax tar raw, gzip-, bzip2- and xz-compressed, a zstd ustar tar, a newc cpio, a
7-Zip and an ISO 9660 image (the last four by their command-line tools, when installed); for the
executable module, Windows PE files found on this machine (pip's and setuptools' launchers: x86, x64
and ARM64, one with an overlay) and ELF programs, libraries and objects (ls, a small library, clang's
objects for two other architectures when clang is there); for the mail module, a multipart EML
(with a ZIP and a nested message) and an mbox written by Python's email and mailbox packages, and a
real Outlook .msg and TNEF winmail.dat when the build cache holds the Debian sources
Tests/Support/msg_expected.py fetches; for the pdf module, a real PDF of the machine's and the same
with a file attached by poppler's pdfattach; for the office module, a .doc LibreOffice wrote, an MSI
msibuild wrote, an RTF holding that .doc as an OLE object and, when the office tests have fetched it
into the build cache, an .xlsm XlsxWriter writes around XlsxWriter's example VBA project; for the
disk module, small FAT12, ext2 and NTFS file systems with files (and deleted ones), an MBR disk, and
that disk as QCOW2, VMDK and E01, and a real APFS container macOS made (from dissect.apfs's test data,
when the disk tests have fetched it into the build cache).

Mutations, chosen by a seeded random generator (the same --seed gives the same mutants):
bit flips, byte runs set to 0x00/0xFF/random, truncations, splices of two seeds, and smashed
length/offset fields (ZIP local and central headers, end records, ZIP64 records; SQLite's header
and b-tree page headers and cell pointers; PE's e_lfanew, section count, data directories and section
headers; ELF's header and section headers) set to 0, 1, the size, the size + 1, 0x7FFFFFFF,
0xFFFFFFFF or random values.

Usage: python3 scripts/mutants.py [--count N] [--seed S] [--threads T] [--keep DIR]
(WADUP_BINARY=PATH runs another built wadup; the modules are .build/guest-modules/standard either way.)
Exit status 0 when wadup exited 0 within the time limit and recorded every mutant; prints the
failures by kind.
"""
import argparse, bz2, collections, glob, gzip, io, lzma, os, random, shutil, sqlite3, struct, subprocess, sys, tarfile, tempfile, time, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.environ.get("WADUP_BINARY", os.path.join(ROOT, ".build", "release", "wadup"))
STANDARD = os.path.join(ROOT, ".build", "guest-modules", "standard")


def zip_bytes(entries, compression=zipfile.ZIP_DEFLATED, force_zip64=False):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, data in entries:
            if force_zip64:
                with z.open(zipfile.ZipInfo(name), "w", force_zip64=True) as f:
                    f.write(data)
            else:
                z.writestr(name, data)
    return buffer.getvalue()


def sqlite_bytes(work, name, page_size, rng):
    path = os.path.join(work, name)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA page_size = {page_size}")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b BLOB)")
    db.execute("CREATE INDEX t_a ON t(a)")
    db.execute("CREATE TABLE w (k TEXT PRIMARY KEY, v) WITHOUT ROWID")
    db.executemany("INSERT INTO t (a, b) VALUES (?, ?)", [(f"row {i}", rng.randbytes(rng.choice([10, 100, 3000]))) for i in range(200)])
    db.executemany("INSERT INTO w VALUES (?, ?)", [(f"k{i}", i) for i in range(300)])
    db.commit()
    db.close()
    data = open(path, "rb").read()
    os.remove(path)
    return data


def seeds(work, rng):
    out = {}
    fixtures = os.path.join(ROOT, "Tests", "Fixtures", "peer-wadup2")
    for name in ("test.zip", "sample.db"):
        out[name] = open(os.path.join(fixtures, name), "rb").read()
    texts = [(f"src/p{i % 7}/F{i}.java", (f"class F{i} {{ }} // " + "x" * rng.randint(0, 3000)).encode()) for i in range(60)]
    out["deflated.zip"] = zip_bytes(texts)
    out["stored.zip"] = zip_bytes(texts[:20], zipfile.ZIP_STORED)
    out["zip64.zip"] = zip_bytes(texts[:10], force_zip64=True)
    out["app.jar"] = zip_bytes([("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n")] + texts[:30])
    out["pkg-1.0-py3-none-any.whl"] = zip_bytes(
        [("pkg/__init__.py", b"print('hi')\n"), ("pkg-1.0.dist-info/METADATA", b"Name: pkg\nVersion: 1.0\n"),
         ("pkg-1.0.dist-info/RECORD", b"pkg/__init__.py,,\n")])
    out["nested.zip"] = zip_bytes([("inner.zip", out["stored.zip"]), ("db.sqlite", sqlite_bytes(work, "n.db", 1024, rng))])
    for page in (512, 4096, 65536):
        out[f"db{page}.sqlite"] = sqlite_bytes(work, f"s{page}.db", page, rng)
    for wheel in sorted(p for p in (os.path.join(d, f) for d in ("/root/.pyenv/versions/3.12.1/lib/python3.12/ensurepip/_bundled",)
                                     if os.path.isdir(d) for f in os.listdir(d)) if p.endswith(".whl"))[:1]:
        out[os.path.basename(wheel)] = open(wheel, "rb").read()
    if shutil.which("zip"):
        src = os.path.join(work, "infozip-src")
        os.makedirs(src)
        for name, data in texts[:15]:
            open(os.path.join(src, os.path.basename(name)), "wb").write(data)
        subprocess.run(["zip", "-q", "-r", os.path.join(work, "infozip.zip"), "."], cwd=src, check=True)
        out["infozip.zip"] = open(os.path.join(work, "infozip.zip"), "rb").read()
    # The archive module's formats: tar (ustar, pax) raw and under each filter, cpio, 7-Zip, ISO
    # 9660, a .deb, made by Python's tarfile and the command-line tools when installed.
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in texts[:25]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    out["pax.tar"] = tar_buffer.getvalue()
    out["pax.tar.gz"] = gzip.compress(out["pax.tar"], mtime=0)
    out["pax.tar.bz2"] = bz2.compress(out["pax.tar"])
    out["pax.tar.xz"] = lzma.compress(out["pax.tar"])
    src = os.path.join(work, "archive-src")
    os.makedirs(src)
    for name, data in texts[:12]:
        open(os.path.join(src, os.path.basename(name)), "wb").write(data)
    listing = sorted(os.listdir(src))
    tools = {
        "ustar.tar.zst": (["sh", "-c", "tar --format=ustar -cf - . | zstd -q -c"], "zstd"),
        "newc.cpio": (["sh", "-c", "ls | cpio -o --quiet -H newc"], "cpio"),
        "packed.7z": (["sh", "-c", "7z a -bd -y ../m.7z . >/dev/null && cat ../m.7z"], "7z"),
        "disc.iso": (["xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-o", "-", "."], "xorriso"),
    }
    for name, (command, tool) in tools.items():
        if shutil.which(tool):
            made = subprocess.run(command, cwd=src, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if made.returncode == 0 and made.stdout:
                out[name] = made.stdout
    # The executable module's formats: PE launchers (one per machine) and ELF files of the machine.
    launchers = {}
    for root in ("/root/.pyenv", "/usr/lib/python3", "/usr/local/lib"):
        for d, _, files in os.walk(root):
            for f in files:
                if f in ("cli-32.exe", "cli-64.exe", "cli-arm64.exe", "t64.exe", "w64-arm.exe") and f not in launchers:
                    launchers[f] = open(os.path.join(d, f), "rb").read()
    for name, data in sorted(launchers.items()):
        out[name] = data
    if launchers:
        first = sorted(launchers)[0]
        out["overlay-" + first] = launchers[first] + b"#!python\n" + zip_bytes(texts[:3])
    for path in ("/bin/ls", "/usr/lib/x86_64-linux-gnu/libanl.so.1"):
        if os.path.exists(path):
            out["elf-" + os.path.basename(path)] = open(os.path.realpath(path), "rb").read()
    if shutil.which("clang"):
        c_source = os.path.join(work, "t.c")
        open(c_source, "w").write("int g = 3; extern int puts(const char *); int f(void) { return puts(\"x\") + g; }\n")
        for target in ("aarch64-linux-gnu", "powerpc64-linux-gnu"):
            obj = os.path.join(work, f"{target}.o")
            if subprocess.run(["clang", "-target", target, "-c", c_source, "-o", obj], stderr=subprocess.DEVNULL).returncode == 0:
                out[f"obj-{target}.o"] = open(obj, "rb").read()
    out.update(mail_seeds(texts, out["deflated.zip"], rng))
    out.update(pdf_seeds(texts, work))
    out.update(office_seeds(texts, work))
    out.update(disk_seeds(texts, work))
    out.update(apfs_seeds())
    return out


def disk_seeds(texts, work):
    """For the disk module: small FAT12, ext2 and NTFS file systems written by mkfs.vfat + mcopy,
    mke2fs -d and mkntfs + ntfscp (each with a deleted file where the tools can delete), an MBR
    disk holding the FAT one (sfdisk), and that disk as QCOW2 and VMDK (qemu-img) and as an E01
    (ewfacquire); each tool only when installed."""
    seeds = {}
    folder = os.path.join(work, "disk-files")
    os.makedirs(os.path.join(folder, "sub"), exist_ok=True)
    for i, (_, text) in enumerate(texts[:4]):
        with open(os.path.join(folder, "sub" if i % 2 else "", f"file{i}.txt"), "wb") as f:
            f.write(text[:20000])
    def run(*args):
        return subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    fat = os.path.join(work, "fat12.img")
    if shutil.which("mkfs.vfat") and shutil.which("mcopy"):
        with open(fat, "wb") as f:
            f.truncate(360 * 1024)
        if run("mkfs.vfat", "-F", "12", "-i", "1234abcd", fat) and run("mcopy", "-s", "-i", fat, os.path.join(folder, "file0.txt"), os.path.join(folder, "sub"), "::") \
                and run("mcopy", "-i", fat, os.path.join(folder, "file2.txt"), "::gone.txt") and run("mdel", "-i", fat, "::gone.txt"):
            seeds["fat12.img"] = open(fat, "rb").read()
    ext = os.path.join(work, "ext2.img")
    if shutil.which("mke2fs") and run("mke2fs", "-q", "-F", "-t", "ext2", "-d", folder, "-U", "00000000-0000-4000-8000-000000000001", ext, "512"):
        run("debugfs", "-w", "-R", "rm file2.txt", ext)
        seeds["ext2.img"] = open(ext, "rb").read()
    ntfs = os.path.join(work, "ntfs.img")
    if shutil.which("mkntfs") and shutil.which("ntfscp"):
        with open(ntfs, "wb") as f:
            f.truncate(2 << 20)
        if run("mkntfs", "-q", "-F", "-Q", ntfs) and run("ntfscp", ntfs, os.path.join(folder, "file0.txt"), "file0.txt"):
            seeds["ntfs.img"] = open(ntfs, "rb").read()
    if "fat12.img" in seeds and shutil.which("sfdisk"):
        disk = os.path.join(work, "mbr.img")
        with open(disk, "wb") as f:
            f.truncate(64 * 512 + 360 * 1024)
        if subprocess.run(["sfdisk", "-q", disk], input=b"start=64, type=1\n", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            with open(disk, "r+b") as f:
                f.seek(64 * 512)
                f.write(seeds["fat12.img"])
            seeds["mbr.img"] = open(disk, "rb").read()
            if shutil.which("qemu-img"):
                for fmt, suffix in (("qcow2", "qcow2"), ("vmdk", "vmdk")):
                    made = os.path.join(work, "mbr." + suffix)
                    if run("qemu-img", "convert", "-O", fmt, disk, made):
                        seeds["mbr." + suffix] = open(made, "rb").read()
            if shutil.which("ewfacquire"):
                target = os.path.join(work, "mbr-ewf")
                if run("ewfacquire", "-u", "-q", "-t", target, "-f", "encase6", "-c", "deflate:fast", "-C", "case", "-D", "seed",
                       "-e", "wadup", "-E", "1", "-N", "mutants", disk) and os.path.exists(target + ".E01"):
                    seeds["mbr.E01"] = open(target + ".E01", "rb").read()
    return seeds


def apfs_seeds():
    """A real APFS container made by macOS: case_insensitive_beta from dissect.apfs 1.1's sdist, which
    Tests/Support/disk_expected.py fetched into the build cache (none when it is not there: nothing
    is fetched here), cut after its last non-zero block (504 KiB of its 4 MiB; the rest is free space)."""
    cache = os.environ.get("WADUP_BUILD_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "wadup", "build")
    sdist = os.path.join(cache, "src", "dissect_apfs-1.1.tar.gz")
    if not os.path.isfile(sdist):
        return {}
    with tarfile.open(sdist) as tar:
        data = gzip.decompress(tar.extractfile("dissect_apfs-1.1/tests/_data/case_insensitive_beta.bin.gz").read())
    used = -(-len(data.rstrip(b"\0")) // 4096) * 4096
    return {"apfs.bin": data[:used]}


def office_seeds(texts, work):
    """The office module's formats, each by its tool when installed (see the docstring)."""
    seeds = {}
    folder = os.path.join(work, "office")
    os.makedirs(folder)
    source = os.path.join(folder, "notes.txt")
    open(source, "wb").write(b"".join(data for _, data in texts[:3])[:20000].decode("latin-1").encode("utf-8"))
    if shutil.which("soffice"):
        for target in ("doc",):
            subprocess.run(["soffice", "-env:UserInstallation=file://" + folder + "/profile", "--headless", "--norestore",
                            "--convert-to", target, "--outdir", folder, source], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            made = os.path.join(folder, "notes." + target)
            if os.path.exists(made):
                seeds["libreoffice." + target] = open(made, "rb").read()
    if "libreoffice.doc" in seeds:
        # An OLE 1.0 embedded object (MS-OLEDS 2.2.5) of class Word.Document.8 around the .doc, in RTF.
        native = seeds["libreoffice.doc"]
        header = struct.pack("<III", 0x0501, 2, 16) + b"Word.Document.8\0" + struct.pack("<III", 0, 0, len(native))
        hexed = (header + native).hex()
        seeds["object.rtf"] = (b"{\\rtf1\\ansi Text\\par{\\object\\objemb{\\*\\objclass Word.Document.8}{\\*\\objdata\n"
                               + "\n".join(hexed[i:i + 128] for i in range(0, len(hexed), 128)).encode() + b"\n}}\\par}\n")
    if shutil.which("msibuild"):
        msi = os.path.join(folder, "setup.msi")
        subprocess.run(["msibuild", msi, "-s", "Mutant", "WADUP", "Intel;1033", "{12345678-1234-1234-1234-123456789012}"], stderr=subprocess.DEVNULL)
        subprocess.run(["msibuild", msi, "-a", "Payload", source], stderr=subprocess.DEVNULL)
        if os.path.exists(msi):
            seeds["setup.msi"] = open(msi, "rb").read()
    cache = os.environ.get("WADUP_BUILD_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "wadup", "build")
    sdists = glob.glob(os.path.join(cache, "sdist-*", "xlsxwriter-3.3.1.tar.gz"))
    if sdists:
        with tarfile.open(sdists[0]) as archive:
            project = archive.extractfile("xlsxwriter-3.3.1/examples/vbaProject.bin").read()
        open(os.path.join(folder, "vbaProject.bin"), "wb").write(project)
        book = os.path.join(folder, "macros.xlsm")
        subprocess.run(["/usr/bin/python3", "-c", "import sys, xlsxwriter; b = xlsxwriter.Workbook(sys.argv[1]); b.add_worksheet().write('A1', 'x'); "
                        "b.add_vba_project(sys.argv[2]); b.close()", book, os.path.join(folder, "vbaProject.bin")], stderr=subprocess.DEVNULL)
        if os.path.exists(book):
            seeds["macros.xlsm"] = open(book, "rb").read()
            seeds["vbaProject.bin"] = project
    return seeds


def pdf_seeds(texts, work):
    """The pdf module's format: the machine's smallest real PDF (a manual in /usr/share/doc) and, when
    poppler's pdfattach is installed, that PDF with a text file attached (an EmbeddedFiles tree)."""
    import glob, gzip
    docs = sorted(glob.glob("/usr/share/doc/**/*.pdf", recursive=True) + glob.glob("/usr/share/doc/**/*.pdf.gz", recursive=True),
                  key=os.path.getsize)
    if not docs:
        return {}
    data = open(docs[0], "rb").read()
    if docs[0].endswith(".gz"):
        data = gzip.decompress(data)
    seeds = {"manual.pdf": data}
    if shutil.which("pdfattach"):
        source, attachment, attached = (os.path.join(work, n) for n in ("seed.pdf", "notes.txt", "attached.pdf"))
        open(source, "wb").write(data)
        open(attachment, "wb").write(texts[0][1])
        if subprocess.run(["pdfattach", source, attachment, attached], stderr=subprocess.DEVNULL).returncode == 0:
            seeds["attached.pdf"] = open(attached, "rb").read()
    return seeds


def mail_seeds(texts, zipped, rng):
    """The mail module's formats, written by Python's email and mailbox packages: a multipart EML
    (quoted-printable and base64, ISO-8859-1 and UTF-8, an RFC 2047 subject, a ZIP and a nested
    message with its own attachment) and an mbox of a few such messages; and a real .msg and TNEF
    stream when the build cache has them (outlook_seeds)."""
    import email.policy, mailbox
    from email.message import EmailMessage

    def message(i):
        m = EmailMessage()
        m["From"] = "Zoë <zoe%d@example.org>" % i
        m["To"] = "bob@example.com, carol@example.com"
        m["Subject"] = "Réunion n° %d – 会議" % i
        m["Message-ID"] = "<m%d@example.org>" % i
        m["Date"] = "Mon, 01 Jan 2024 12:34:%02d -0500" % i
        m["Received"] = "from relay.example.org by mx.example.com; Mon, 01 Jan 2024 17:35:00 +0000"
        m.set_content(texts[i][1].decode() + "\nGrüße\n", cte="quoted-printable")
        m.add_alternative("<p>Caf\xe9 %d</p>\n" % i, subtype="html", charset="iso-8859-1", cte="base64")
        m.add_attachment(rng.randbytes(300), maintype="application", subtype="octet-stream", filename="p%d.bin" % i)
        return m

    outer = message(0)
    outer.add_attachment(zipped, maintype="application", subtype="zip", filename="texts.zip")
    outer.add_attachment(message(1), filename="forwarded.eml")
    seeds = {"multipart.eml": outer.as_bytes(policy=email.policy.default)}
    with tempfile.TemporaryDirectory() as folder:
        box = mailbox.mbox(os.path.join(folder, "box.mbox"))
        for i in range(2, 7):
            box.add(message(i))
        box.close()
        seeds["box.mbox"] = open(os.path.join(folder, "box.mbox"), "rb").read()
    seeds.update(outlook_seeds())
    return seeds


def outlook_seeds():
    """A real Outlook .msg (a JPEG attached, a compressed RTF body) and a real TNEF winmail.dat,
    from the Debian sources Tests/Support/msg_expected.py fetched into the build cache; none when
    they are not there (nothing is fetched here)."""
    cache = os.environ.get("WADUP_BUILD_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "wadup", "build")
    seeds = {}
    for name, path in (("outlook.msg", "libemail-outlook-message-perl-0.921/t/files/plain_jpeg_attached.msg"),
                       ("winmail.dat", "libytnef-2.0/test-data/winmail.dat")):
        full = os.path.join(cache, "src", path)
        if os.path.isfile(full):
            seeds[name] = open(full, "rb").read()
    return seeds


EXTREMES = [0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFF, 0x8000]


def field_offsets(data):
    """(offset, width) of length and offset fields: ZIP records by signature, SQLite header and pages."""
    fields = []
    layouts = {b"PK\x03\x04": [(18, 4), (22, 4), (26, 2), (28, 2)],
               b"PK\x01\x02": [(20, 4), (24, 4), (28, 2), (30, 2), (32, 2), (42, 4)],
               b"PK\x05\x06": [(8, 2), (10, 2), (12, 4), (16, 4), (20, 2)],
               b"PK\x06\x06": [(24, 8), (32, 8), (40, 8), (48, 8)],
               b"PK\x06\x07": [(8, 8)]}
    for signature, layout in layouts.items():
        start = data.find(signature)
        while start >= 0 and len(fields) < 4000:
            fields += [(start + o, w) for o, w in layout if start + o + w <= len(data)]
            start = data.find(signature, start + 1)
    if len(data) >= 512 and data[257:262] == b"ustar":
        # tar headers: every 512-byte block that holds "ustar"; size, mode, mtime, checksum fields.
        for h in range(0, min(len(data), 512 * 400), 512):
            if data[h + 257:h + 262] == b"ustar":
                fields += [(h + 124, 4), (h + 128, 4), (h + 136, 4), (h + 148, 4)]
    if data[:2] == b"MZ" and len(data) >= 0x40:
        # PE: e_lfanew; the file header's section count and optional header size; the data
        # directories; every section header's sizes and pointers.
        fields.append((0x3C, 4))
        pe = struct.unpack_from("<I", data, 0x3C)[0]
        if pe + 24 <= len(data) and data[pe:pe + 4] == b"PE\0\0":
            fields += [(pe + 6, 2), (pe + 20, 2)]
            opt = pe + 24
            plus = data[opt:opt + 2] == b"\x0b\x02"
            dirs = opt + (112 if plus else 96)
            fields.append((dirs - 4, 4))
            fields += [(dirs + 8 * i + k, 4) for i in range(16) for k in (0, 4)]
            table = opt + struct.unpack_from("<H", data, pe + 20)[0]
            for i in range(min(struct.unpack_from("<H", data, pe + 6)[0], 96)):
                fields += [(table + 40 * i + k, 4) for k in (8, 12, 16, 20)]
    if data[:4] == b"\x7fELF" and len(data) >= 64:
        # ELF: the header's table offsets and counts, then every section header's fields.
        is64, big = data[4] == 2, data[5] == 2
        order = ">" if big else "<"
        if is64:
            fields += [(32, 8), (40, 8), (58, 2), (60, 2), (62, 2)]
            shoff, shnum = struct.unpack_from(order + "Q", data, 40)[0], struct.unpack_from(order + "H", data, 60)[0]
            for i in range(min(shnum, 128)):
                fields += [(shoff + 64 * i + k, w) for k, w in ((0, 4), (4, 4), (24, 8), (32, 8), (40, 4), (56, 8))]
        else:
            fields += [(28, 4), (32, 4), (46, 2), (48, 2), (50, 2)]
            shoff, shnum = struct.unpack_from(order + "I", data, 32)[0], struct.unpack_from(order + "H", data, 48)[0]
            for i in range(min(shnum, 128)):
                fields += [(shoff + 40 * i + k, 4) for k in (0, 4, 16, 20, 24, 36)]
    if data.startswith(b"SQLite format 3\0") and len(data) >= 100:
        fields += [(16, 2), (28, 4), (32, 4), (36, 4), (40, 4), (44, 4), (52, 4), (56, 4)]
        page = struct.unpack(">H", data[16:18])[0]
        page = 65536 if page == 1 else page
        if page >= 512:
            for p in range(0, min(len(data), page * 64), page):
                h = 100 if p == 0 else p
                fields += [(h + 1, 2), (h + 3, 2), (h + 5, 2), (h + 8, 4)]
                fields += [(h + 12 + 2 * i, 2) for i in range(4)]
    return [(o, w) for o, w in fields if o + w <= len(data)]


def mutate(data, other, rng):
    data = bytearray(data)
    kind = rng.choice(["flip", "bytes", "truncate", "splice", "field", "field", "field"])
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == "bytes":
        i = rng.randrange(len(data))
        n = min(rng.choice([1, 2, 4, 16, 256]), len(data) - i)
        fill = rng.choice([b"\0", b"\xff", None])
        data[i:i + n] = fill * n if fill else rng.randbytes(n)
    elif kind == "truncate":
        data = data[:rng.randrange(len(data))]
    elif kind == "splice":
        data = data[:rng.randrange(len(data))] + other[rng.randrange(len(other)):]
    else:
        fields = field_offsets(bytes(data))
        if not fields:
            return mutate(bytes(data), other, rng)
        for _ in range(rng.randint(1, 3)):
            o, w = rng.choice(fields)
            value = rng.choice(EXTREMES + [len(data), len(data) + 1, rng.getrandbits(8 * w)]) & ((1 << (8 * w)) - 1)
            big_endian = data[:16] == b"SQLite format 3\0" or (data[:4] == b"\x7fELF" and data[5] == 2)
            data[o:o + w] = value.to_bytes(w, "big" if big_endian else "little")
    return kind, bytes(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--time-limit", type=int, default=1800, help="seconds before the run counts as hung")
    ap.add_argument("--keep", help="keep the mutants and the database in this folder")
    args = ap.parse_args()
    if not os.path.exists(WADUP):
        sys.exit("build first: bash scripts/setup.sh")
    rng = random.Random(args.seed)
    work = args.keep or tempfile.mkdtemp(prefix="wadup-mutants-")
    os.makedirs(work, exist_ok=True)
    inputs = os.path.join(work, "mutants")
    os.makedirs(inputs, exist_ok=True)
    try:
        base = seeds(work, rng)
        names = sorted(base)
        kinds = collections.Counter()
        for i in range(args.count):
            name = names[i % len(names)]
            kind, data = mutate(base[name], base[rng.choice(names)], rng)
            kinds[kind] += 1
            with open(os.path.join(inputs, f"{i:05d}-{kind}-{name}"), "wb") as f:
                f.write(data)
        out = os.path.join(work, "mutants.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(out + suffix):
                os.remove(out + suffix)
        start = time.perf_counter()
        try:
            run = subprocess.run([WADUP, "--modules", STANDARD, "--input", inputs, "--output", out, "--threads", str(args.threads)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=args.time_limit)
        except subprocess.TimeoutExpired:
            sys.exit(f"mutants: HANG: wadup did not finish within {args.time_limit} s")
        seconds = time.perf_counter() - start
        if run.returncode != 0:
            sys.exit(f"mutants: wadup exited {run.returncode} (a host crash or a run failure):\n{run.stderr.decode()[-4000:]}")
        db = sqlite3.connect(out)
        recorded = db.execute("SELECT count(*) FROM __wadup_content WHERE depth = 0").fetchone()[0]
        statuses = dict(db.execute("SELECT status, count(*) FROM __wadup_content WHERE depth = 0 GROUP BY status").fetchall())
        total = db.execute("SELECT count(*) FROM __wadup_content").fetchone()[0]
        failures = collections.Counter()
        for (message,) in db.execute("SELECT error_message FROM __wadup_content WHERE status = 'failed'"):
            for part in message.split("; "):
                module, _, rest = part.partition(": ")
                failures[f"{module} {rest.partition(':')[0]}"] += 1
        print(f"mutants: {args.count} mutants of {len(names)} seeds ({', '.join(names)}), seed {args.seed}")
        print(f"mutants: mutations: {', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}")
        print(f"mutants: wadup exited 0 in {seconds:.1f} s; {recorded} of {args.count} mutants recorded "
              f"({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}); {total} contents in all")
        print("mutants: failed module-runs by module and kind: " + (", ".join(f"{k} {v}" for k, v in sorted(failures.items())) or "none"))
        if recorded != args.count:
            sys.exit(f"mutants: {args.count - recorded} mutants missing from the database")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
