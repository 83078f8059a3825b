#!/usr/bin/env python3
"""Makes archives and compressed streams with the real tools, and says what is in them.

    format_corpus.py OUT

writes OUT/inputs/ (one archive per format) and OUT/expected.json: for each input file name,
{"entries": [[path, type, size], ...], "files": {path: sha256}} where the entries are the
archive's listing by an independent reader (Python's tarfile, `cpio -t`, `ar t`, xorriso, 7z,
gcab) and the files are what that tool extracts, hashed. The archive module must find the same
(its own reader is libarchive: never used here to make the expected values).
"""
import hashlib, json, os, shutil, subprocess, sys, tarfile, tempfile, zipfile

out = sys.argv[1]
inputs = os.path.join(out, "inputs")
os.makedirs(inputs, exist_ok=True)
work = tempfile.mkdtemp(prefix="corpus-")
expected = {}


def sh(*args, cwd=None, stdin=None):
    return subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.PIPE, stdin=stdin).stdout


def digest(data):
    return hashlib.sha256(data).hexdigest()


def tree_files(root):
    """{relative path: sha256} of every regular file under root, as extracted by a tool."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            full = os.path.join(folder, name)
            if os.path.isfile(full) and not os.path.islink(full):
                with open(full, "rb") as f:
                    files[os.path.relpath(full, root)] = digest(f.read())
    return files


def escaped(raw: bytes) -> str:
    """The host's (and the module's) text for a name: valid UTF-8 kept, other bytes as \\xhh."""
    text, i = "", 0
    while i < len(raw):
        for n in (4, 3, 2, 1):
            try:
                piece = raw[i:i + n].decode("utf-8")
                if len(piece) == 1 and raw[i] != 0:
                    text += piece
                    i += n
                    break
            except UnicodeDecodeError:
                pass
        else:
            text += "\\x%02x" % raw[i]
            i += 1
    return text


# The source tree: text, random binary, an empty file, a long name, UTF-8 names, a symlink.
src = os.path.join(work, "src")
os.makedirs(os.path.join(src, "docs", "deep" * 1 + "/nested"), exist_ok=True)
rng = open("/dev/urandom", "rb")
payload = {
    "readme.txt": b"WADUP format corpus\n" * 40,
    "data/random.bin": rng.read(200_000),
    "data/empty": b"",
    "docs/deep/nested/notes.md": b"# notes\n" + rng.read(3000).hex().encode(),
    "docs/caf\u00e9 na\u00efve.txt": "UTF-8 name \u2713\n".encode(),
    ("long/" + "x" * 120 + "/" + "y" * 90 + ".txt"): b"a path longer than ustar's 100 bytes\n",
}
for name, data in payload.items():
    path = os.path.join(src, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
os.symlink("readme.txt", os.path.join(src, "link-to-readme"))
top = sorted(os.listdir(src))


def tar_expected(path, mode="r:*"):
    entries, files = [], {}
    with tarfile.open(path, mode) as t:
        for m in t.getmembers():
            kind = "file" if m.isreg() else "directory" if m.isdir() else "symlink" if m.issym() else "hardlink" if m.islnk() else "other"
            name = escaped(m.name.encode("utf-8", "surrogateescape"))
            entries.append([name, kind, m.size if m.isreg() else None])
            if m.isreg():
                files[name] = digest(t.extractfile(m).read())
    return {"entries": entries, "files": files}


def add(name, value):
    expected[name] = value


# tar: ustar, GNU and pax written by Python's tarfile; GNU tar's own; a sparse file by GNU tar.
for fmt, label in ((tarfile.USTAR_FORMAT, "ustar"), (tarfile.GNU_FORMAT, "gnu"), (tarfile.PAX_FORMAT, "pax")):
    name = f"python-{label}.tar"
    with tarfile.open(os.path.join(inputs, name), "w", format=fmt) as t:
        for entry in top:
            if fmt == tarfile.USTAR_FORMAT and entry == "long":
                continue  # ustar cannot hold the long name
            t.add(os.path.join(src, entry), arcname=entry)
    add(name, tar_expected(os.path.join(inputs, name)))

# A name that is not UTF-8 (Latin-1 bytes in a GNU header).
latin = os.path.join(inputs, "latin1-name.tar")
with tarfile.open(latin, "w", format=tarfile.GNU_FORMAT, encoding="latin-1") as t:
    info = tarfile.TarInfo("caf\u00e9-latin1.txt")
    body = b"named in Latin-1\n"
    info.size = len(body)
    import io
    t.addfile(info, io.BytesIO(body))
with tarfile.open(latin, "r", encoding="latin-1") as t:
    m = t.getmembers()[0]
    raw = m.name.encode("latin-1")
    add("latin1-name.tar", {"entries": [[escaped(raw), "file", m.size]], "files": {escaped(raw): digest(t.extractfile(m).read())}})

sparse_dir = os.path.join(work, "sparse")
os.makedirs(sparse_dir)
with open(os.path.join(sparse_dir, "holes.img"), "wb") as f:
    f.truncate(8 << 20)
    f.seek(1 << 20); f.write(b"middle" * 1000)
    f.seek((8 << 20) - 5); f.write(b"tail!")
sh("tar", "--format=gnu", "--sparse", "-cf", os.path.join(inputs, "gnu-sparse.tar"), "-C", sparse_dir, "holes.img")
add("gnu-sparse.tar", tar_expected(os.path.join(inputs, "gnu-sparse.tar")))
sh("tar", "--format=posix", "-cf", os.path.join(work, "posix.tar"), "-C", src, *top)

# The compression command lines over GNU tar's pax archive.
base = tar_expected(os.path.join(work, "posix.tar"))
for tool, suffix in (("gzip", "gz"), ("bzip2", "bz2"), ("xz", "xz"), ("zstd", "zst"), ("lz4", "lz4")):
    name = f"gnutar.tar.{suffix}"
    with open(os.path.join(work, "posix.tar"), "rb") as raw, open(os.path.join(inputs, name), "wb") as f:
        f.write(sh(tool, "-c", stdin=raw) if tool != "zstd" else sh(tool, "-q", "-c", stdin=raw))
    add(name, base)

# Single compressed streams: the entry is the decompressor's output.
plain = os.path.join(work, "stream.log")
with open(plain, "wb") as f:
    f.write(b"".join(b"%08d a log line of a compressed stream\n" % i for i in range(20000)))
streams = {
    "stream.log.gz": ["gzip", "-n", "-c"], "stream.log.bz2": ["bzip2", "-c"], "stream.log.xz": ["xz", "-c"],
    "stream.log.lzma": ["xz", "--format=lzma", "-c"], "stream.log.zst": ["zstd", "-q", "-c"],
    "stream.log.lz4": ["lz4", "-c"], "stream.log.Z": ["compress", "-c"],
}
decompress = {"gz": ["gzip", "-dc"], "bz2": ["bzip2", "-dc"], "xz": ["xz", "-dc"], "lzma": ["xz", "-dc"],
              "zst": ["zstd", "-q", "-dc"], "lz4": ["lz4", "-dc"], "Z": ["uncompress", "-c"]}
for name, command in streams.items():
    with open(plain, "rb") as raw, open(os.path.join(inputs, name), "wb") as f:
        f.write(sh(*command, stdin=raw))
    with open(os.path.join(inputs, name), "rb") as packed:
        data = sh(*decompress[name.rsplit(".", 1)[1]], stdin=packed)
    add(name, {"entries": [["stream.log", "file", len(data)]], "files": {"stream.log": digest(data)}})

# gzip with its stored name (gzip -N keeps it), two members concatenated.
named = os.path.join(work, "original-name.txt")
with open(named, "wb") as f:
    f.write(b"first member\n")
member1 = sh("gzip", "-c", named)
with open(named, "wb") as f:
    f.write(b"second member\n")
member2 = sh("gzip", "-c", named)
with open(os.path.join(inputs, "renamed.gz"), "wb") as f:
    f.write(member1 + member2)
with open(os.path.join(inputs, "renamed.gz"), "rb") as packed:
    data = sh("gzip", "-dc", stdin=packed)
add("renamed.gz", {"entries": [["original-name.txt", "file", len(data)]], "files": {"original-name.txt": digest(data)}})


def listed_by_tool(name, extract, listing, metadata=()):
    """Expected values from a tool: `extract(dir)` unpacks, `listing` is [[path, type, size]];
    `metadata` names files the tool writes that are not entries (7z's "[TOC].xml" of a XAR)."""
    folder = tempfile.mkdtemp(dir=work)
    extract(folder)
    files = {k: v for k, v in tree_files(folder).items() if k not in metadata}
    add(name, {"entries": listing, "files": files})


def walk_listing(root):
    """[[path, type, size]] of a source tree: what an archive made from it lists."""
    listing = []
    for folder, dirs, names in os.walk(root):
        for d in dirs:
            full = os.path.join(folder, d)
            listing.append([os.path.relpath(full, root), "symlink" if os.path.islink(full) else "directory", None])
        for n in names:
            full = os.path.join(folder, n)
            kind = "symlink" if os.path.islink(full) else "file"
            listing.append([os.path.relpath(full, root), kind, os.path.getsize(full) if kind == "file" else None])
    return listing


# cpio newc and odc (GNU cpio), listed and extracted by GNU cpio.
for fmt in ("newc", "odc"):
    name = f"gnu-{fmt}.cpio"
    names = sh("find", ".", "-mindepth", "1", cwd=src).decode().split("\n")
    names = [n[2:] for n in names if n]
    with open(os.path.join(inputs, name), "wb") as f:
        f.write(subprocess.run(["cpio", "-o", "--quiet", "-H", fmt], cwd=src, input="\n".join(names).encode(), check=True, stdout=subprocess.PIPE).stdout)
    def extract(folder, name=name):
        with open(os.path.join(inputs, name), "rb") as f:
            subprocess.run(["cpio", "-idm", "--quiet", "--no-absolute-filenames"], cwd=folder, stdin=f, check=True)
    listed_by_tool(name, extract, walk_listing(src))

# ar, and a .deb made by dpkg-deb (an ar of debian-binary, control.tar.xz, data.tar.xz).
ar_dir = os.path.join(work, "ar")
os.makedirs(ar_dir)
for n, data in (("one.o", rng.read(5000)), ("two.txt", b"member two\n"), ("three.bin", rng.read(77))):
    with open(os.path.join(ar_dir, n), "wb") as f:
        f.write(data)
sh("ar", "rcS", os.path.join(inputs, "members.a"), "one.o", "two.txt", "three.bin", cwd=ar_dir)
def ar_expected(path):
    names = sh("ar", "t", path).decode().split()
    return {"entries": [[n, "file", len(sh("ar", "p", path, n))] for n in names], "files": {n: digest(sh("ar", "p", path, n)) for n in names}}
add("members.a", ar_expected(os.path.join(inputs, "members.a")))

pkg = os.path.join(work, "pkg")
os.makedirs(os.path.join(pkg, "DEBIAN"))
os.makedirs(os.path.join(pkg, "usr", "share", "doc", "wadup-corpus"))
with open(os.path.join(pkg, "DEBIAN", "control"), "w") as f:
    f.write("Package: wadup-corpus\nVersion: 1.0\nArchitecture: all\nMaintainer: WADUP <wadup@example.org>\nDescription: test package\n")
with open(os.path.join(pkg, "usr", "share", "doc", "wadup-corpus", "README"), "wb") as f:
    f.write(b"inside a deb\n" * 100)
subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", pkg, os.path.join(inputs, "corpus.deb")], check=True, stdout=subprocess.DEVNULL)
add("corpus.deb", ar_expected(os.path.join(inputs, "corpus.deb")))
data_tar = sh("ar", "p", os.path.join(inputs, "corpus.deb"), "data.tar.xz")
with open(os.path.join(work, "data.tar.xz"), "wb") as f:
    f.write(data_tar)
expected["corpus.deb"]["nested"] = {"data.tar.xz": tar_expected(os.path.join(work, "data.tar.xz"))}

# ISO 9660 with Rock Ridge and Joliet (xorriso), extracted by xorriso.
iso_src = os.path.join(work, "iso")
shutil.copytree(src, iso_src, symlinks=True)
os.remove(os.path.join(iso_src, "link-to-readme"))
shutil.rmtree(os.path.join(iso_src, "long"))
subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-o", os.path.join(inputs, "disc.iso"), iso_src],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def extract_iso(folder):
    subprocess.run(["xorriso", "-osirrox", "on", "-indev", os.path.join(inputs, "disc.iso"), "-extract", "/", folder],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
# An ISO image lists its root directory as an entry of its own ("."), as xorriso's -find / does.
listed_by_tool("disc.iso", extract_iso, [[".", "directory", None]] + walk_listing(iso_src))

# 7-Zip (7z), CAB (gcab), XAR (bsdtar writes it; 7z extracts it).
seven_src = os.path.join(work, "seven")
shutil.copytree(src, seven_src, symlinks=False)
shutil.rmtree(os.path.join(seven_src, "long"))
os.remove(os.path.join(seven_src, "link-to-readme"))
sh("7z", "a", "-bd", "-y", os.path.join(inputs, "packed.7z"), ".", cwd=seven_src)
def extract_7z(path):
    return lambda folder: subprocess.run(["7z", "x", "-bd", "-y", "-o" + folder, path], check=True, stdout=subprocess.DEVNULL)
listed_by_tool("packed.7z", extract_7z(os.path.join(inputs, "packed.7z")), walk_listing(seven_src))

cab_files = ["readme.txt", "data/random.bin"]
sh("gcab", "-c", "-z", os.path.join(inputs, "cabinet.cab"), *cab_files, cwd=src)
def extract_cab(folder):
    subprocess.run(["gcab", "-x", "-C", folder, os.path.join(inputs, "cabinet.cab")], check=True, stdout=subprocess.DEVNULL)
listed_by_tool("cabinet.cab", extract_cab, [[n, "file", os.path.getsize(os.path.join(src, n))] for n in cab_files])
# gcab stores the names it was given; extraction flattens nothing.
sh("bsdtar", "--format", "xar", "-cf", os.path.join(inputs, "packed.xar"), ".", cwd=seven_src)
listed_by_tool("packed.xar", extract_7z(os.path.join(inputs, "packed.xar")), walk_listing(seven_src), metadata=("[TOC].xml",))

# Nested: a .tar.gz inside a ZIP inside a tar.
inner = os.path.join(work, "inner.tar.gz")
with tarfile.open(inner, "w:gz") as t:
    t.add(os.path.join(src, "readme.txt"), arcname="deepest/readme.txt")
zpath = os.path.join(work, "middle.zip")
with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
    z.write(inner, "payload/inner.tar.gz")
with tarfile.open(os.path.join(inputs, "nested.tar"), "w", format=tarfile.PAX_FORMAT) as t:
    t.add(zpath, arcname="outer/middle.zip")
with open(os.path.join(src, "readme.txt"), "rb") as f:
    readme = f.read()
expected["nested.tar"] = tar_expected(os.path.join(inputs, "nested.tar"))
expected["nested.tar"]["chain"] = ["outer/middle.zip", "payload/inner.tar.gz", "deepest/readme.txt", digest(readme)]

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
shutil.rmtree(work)
