"""The disk module's test corpus and what The Sleuth Kit's and libyal's native tools say about it.

  disk_expected.py --make DIR     makes the corpus in DIR (see `make`: which tool made which image)
  disk_expected.py FILE...        prints, as JSON by file name, what these readers say:
    - a container (E01, VMDK, VHD, VHDX, QCOW2) is first converted to a raw image in a temporary
      folder with its native tool (`ewfexport -f raw`, `qemu-img convert -O raw`); "container" says
      its format, media size and, for E01, the digests `ewfinfo` reads from it and `ewfverify`'s
    - "volumes": `mmls`'s rows (scheme dos/gpt/mac/bsd/sun, slot index, start and length in bytes,
      type alloc/unalloc/meta, description, volume "p1".."pN" for the allocated ones in order)
    - "filesystems": `fsstat` on the bare image (volume "") or on every allocated partition (volume
      pN, `-o` its start): type (`fsstat -t`), label, uuid, block size, block count; "entries": every
      line of `fls -r -p -m /` as a dict; "files": the sha256 of `icat` of every regular file with
      bytes (NTFS streams included), keyed by "path inode"; "timeline": the lines of
      `mactime -b BODY -d -y` (TZ=UTC) on that volume's bodyfile
    - an APFS container (which The Sleuth Kit is not built with in the module: libfsapfs reads it):
      Debian's `fsapfsinfo` (libfsapfs 20201107, the module's library, natively) says whether the
      container opens; dissect.apfs 1.1 (pure Python, independent of libfsapfs; apfs_reader.py, its
      pinned wheels in apfs-requirements.txt) says the rest in the same shape: a file system per
      volume ("v1".., its name as label, its uuid, the container's block size and count, "APFS" as
      encryption when it is encrypted), its entries as fls -m would print them, each regular file's
      sha256 ("undecoded": a compression libfsapfs 20201107 does not decode), and the timeline
      mactime makes of those entries

Run with Debian's /usr/bin/python3 (standard library only: ctypes reaches Debian's libntfs-3g for
what no ntfs-3g command does; dissect.apfs runs in a child with its pinned wheels); needs
sleuthkit, ewf-tools, qemu-utils, ntfs-3g, mtools, gdisk, fdisk, dosfstools, exfatprogs, xorriso,
e2fsprogs and libfsapfs-utils (scripts/install-deps.sh). Makes no mount.
"""
import ctypes
import ctypes.util
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

import pinned_wheels

#: A fixed time (2024-01-02 03:04:05 UTC) for every file the tools let us date.
EPOCH = 1704164645
MIB = 1 << 20


def run(*args, check=True, env=None, input=None):
    done = subprocess.run(args, capture_output=True, env=env, input=input)
    if check and done.returncode != 0:
        raise SystemExit(f"disk_expected: {' '.join(args)}: exit {done.returncode}: {done.stderr.decode(errors='replace')}")
    return done


def tool_env(**extra):
    env = dict(os.environ, TZ="UTC", LC_ALL="C.UTF-8", SOURCE_DATE_EPOCH=str(EPOCH),
               E2FSPROGS_FAKE_TIME=str(EPOCH), MTOOLS_SKIP_CHECK="1")
    env.update(extra)
    return env


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# The corpus

#: The files every file system gets (path -> bytes), from a seeded generator.
def tree_files():
    rng = random.Random(26)
    return {
        "readme.txt": b"WADUP disk test corpus.\nThe quick brown fox jumps over the lazy dog.\n" * 3,
        "data.bin": rng.randbytes(100 * 1024),
        "folder/nested/inner.txt": b"a file two folders down\n",
        "empty.txt": b"",
        "gr\u00fc\u00dfe-\u65e5\u672c.txt".encode(): "non-ASCII name: \u00fc \u65e5\u672c\n".encode(),
        "tiny.txt": b"hi\n",
    }


#: The file each writable file system gets and then loses.
DELETED = ("deleted.txt", b"this file was deleted after it was written\n" * 20)


def write_tree(folder, files, mtime=EPOCH):
    """Writes files under folder with fixed mtimes on files and folders."""
    for path, data in files.items():
        path = path.decode() if isinstance(path, bytes) else path
        full = os.path.join(folder, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    for root, dirs, names in os.walk(folder, topdown=False):
        for name in names + dirs:
            os.utime(os.path.join(root, name), (mtime, mtime), follow_symlinks=False)
    os.utime(folder, (mtime, mtime))


def blank(path, size):
    if os.path.exists(path):
        os.remove(path)
    with open(path, "wb") as f:
        f.truncate(size)


def make_fat(path, size, bits, volid, label, work):
    """mkfs.vfat and mtools (mmd, mcopy -m keeps the mtimes; mdel leaves a deleted entry)."""
    blank(path, size)
    args = ["mkfs.vfat", "--invariant", "-F", str(bits), "-i", volid, "-n", label]
    if bits == 32:
        args += ["-s", "1"]
    run(*args, path, env=tool_env())
    src = os.path.join(work, "fat-" + label)
    shutil.rmtree(src, ignore_errors=True)
    write_tree(src, dict(tree_files(), **{DELETED[0]: DELETED[1]}))
    env = tool_env()
    names = sorted(os.listdir(src))
    run("mcopy", "-i", path, "-s", "-m", "-Q", *[os.path.join(src, n) for n in names], "::/", env=env)
    run("mdel", "-i", path, "::/" + DELETED[0], env=env)


def make_exfat(path, size):
    """mkfs.exfat, then the files written into it here: no exfatprogs, mtools or other Debian
    command writes a file into exFAT without a mount. mkfs.exfat takes its volume serial from the
    clock: a fixed one goes in the main and backup boot regions, with their checksums recomputed."""
    blank(path, size)
    run("mkfs.exfat", "-L", "WADUPEXFAT", path, env=tool_env())
    with open(path, "r+b") as f:
        for region in (0, 12 * 512):
            f.seek(region)
            boot = bytearray(f.read(11 * 512))
            boot[100:104] = (0x26262626).to_bytes(4, "little")
            f.seek(region)
            f.write(boot)
            f.write(exfat_boot_checksum(boot).to_bytes(4, "little") * 128)
    ExFAT(path).populate()


def exfat_boot_checksum(boot):
    total = 0
    for i, b in enumerate(boot):
        if i not in (106, 107, 112):
            total = (((total << 31) | (total >> 1)) + b) & 0xFFFFFFFF
    return total


class ExFAT:
    """Writes directory entry sets (file, stream extension, file name entries), the allocation
    bitmap and the FAT chains of a fresh exFAT volume, as the exFAT specification describes them.
    Every file is contiguous (the stream's NoFatChain flag, and its FAT chain written too)."""

    def __init__(self, path):
        self.f = open(path, "r+b")
        boot = self.read(0, 512)
        u32 = lambda o: int.from_bytes(boot[o:o + 4], "little")
        self.sector = 1 << boot[108]
        self.cluster = self.sector << boot[109]
        self.fat, self.heap, self.count, self.root = u32(80) * self.sector, u32(88) * self.sector, u32(92), u32(96)
        root = self.read(self.at(self.root), self.cluster)
        bitmap = next(root[i:i + 32] for i in range(0, self.cluster, 32) if root[i] == 0x81)
        self.bitmap_at = self.at(int.from_bytes(bitmap[20:24], "little"))
        self.bitmap = bytearray(self.read(self.bitmap_at, (self.count + 7) // 8))
        self.dirs = {"": self.root}

    def read(self, offset, n):
        self.f.seek(offset)
        return self.f.read(n)

    def write(self, offset, data):
        self.f.seek(offset)
        self.f.write(data)

    def at(self, cluster):
        return self.heap + (cluster - 2) * self.cluster

    def allocate(self, nbytes):
        """The first run of free clusters for nbytes (0: none), marked in the bitmap and chained in the FAT."""
        n = -(-nbytes // self.cluster)
        if n == 0:
            return 0
        free = lambda c: not self.bitmap[(c - 2) // 8] >> ((c - 2) % 8) & 1
        first = next(c for c in range(2, self.count + 2 - n + 1) if all(free(c + i) for i in range(n)))
        for i in range(n):
            c = first + i
            self.bitmap[(c - 2) // 8] |= 1 << ((c - 2) % 8)
            self.write(self.fat + 4 * c, (c + 1 if i < n - 1 else 0xFFFFFFFF).to_bytes(4, "little"))
        return first

    def release(self, first, nbytes):
        for c in range(first, first + -(-nbytes // self.cluster)):
            self.bitmap[(c - 2) // 8] &= ~(1 << ((c - 2) % 8))
            self.write(self.fat + 4 * c, bytes(4))

    @staticmethod
    def timestamp(t):
        y, mo, d, h, mi, sec = __import__("time").gmtime(t)[:6]
        return ((y - 1980) << 25 | mo << 21 | d << 16 | h << 11 | mi << 5 | sec // 2).to_bytes(4, "little")

    def entry_set(self, name, first, length, directory, in_use=True):
        units = name.encode("utf-16-le")
        up = "".join(c.upper() if len(c.upper()) == 1 else c for c in name).encode("utf-16-le")
        name_hash = 0
        for b in up:
            name_hash = (((name_hash << 15) | (name_hash >> 1)) + b) & 0xFFFF
        names = [units[i:i + 30] for i in range(0, len(units), 30)]
        stamp = self.timestamp(EPOCH)
        primary = bytearray(32)
        primary[0], primary[1] = 0x85, 1 + len(names)
        primary[4:6] = (0x10 if directory else 0x20).to_bytes(2, "little")
        primary[8:12] = primary[12:16] = primary[16:20] = stamp
        primary[20] = primary[21] = EPOCH % 2 * 100  # the odd second, in 10 ms units
        primary[22] = primary[23] = primary[24] = 0x80  # UTC offsets: valid, +0
        stream = bytearray(32)
        stream[0], stream[1], stream[3] = 0xC0, 0x03 if first else 0x01, len(name)
        stream[4:6] = name_hash.to_bytes(2, "little")
        stream[8:16] = stream[24:32] = length.to_bytes(8, "little")
        stream[20:24] = first.to_bytes(4, "little")
        entries = primary + stream + b"".join(bytes([0xC1, 0]) + n.ljust(30, b"\0") for n in names)
        check = 0
        for i, b in enumerate(entries):
            if i not in (2, 3):
                check = (((check << 15) | (check >> 1)) + b) & 0xFFFF
        entries[2:4] = check.to_bytes(2, "little")
        if not in_use:
            for i in range(0, len(entries), 32):
                entries[i] &= 0x7F
        return bytes(entries)

    def add(self, path, data=None, in_use=True):
        """Writes a file (data bytes) or, with data None, a folder of one cluster, into its parent folder."""
        parent, _, name = path.rpartition("/")
        directory = data is None
        length = self.cluster if directory else len(data)
        first = self.allocate(length)
        if directory:
            self.write(self.at(first), bytes(self.cluster))
            self.dirs[path] = first
        elif data:
            self.write(self.at(first), data)
        entries = self.entry_set(name, first, length, directory, in_use)
        folder = self.at(self.dirs[parent])
        listing = self.read(folder, self.cluster)
        slot = next(i for i in range(0, self.cluster, 32) if listing[i] == 0)
        self.write(folder + slot, entries)
        if not in_use:
            self.release(first, length)

    def populate(self):
        files = tree_files()
        self.add("folder")
        self.add("folder/nested")
        for name, data in files.items():
            self.add(name.decode() if isinstance(name, bytes) else name, data)
        self.add(DELETED[0], DELETED[1], in_use=False)
        self.write(self.bitmap_at, self.bitmap)
        self.f.close()


def make_ext(path, size, kind, uuid, work):
    """mke2fs -d (a folder with fixed mtimes, a symlink, a hard link), then debugfs rm (a deleted file)."""
    blank(path, size)
    src = os.path.join(work, "ext-" + kind)
    shutil.rmtree(src, ignore_errors=True)
    write_tree(src, dict(tree_files(), **{DELETED[0]: DELETED[1]}))
    os.symlink("folder/nested/inner.txt", os.path.join(src, "link-to-inner"))
    os.link(os.path.join(src, "readme.txt"), os.path.join(src, "folder", "hardlink-to-readme.txt"))
    for p in (os.path.join(src, "link-to-inner"), os.path.join(src, "folder"), src):
        os.utime(p, (EPOCH, EPOCH), follow_symlinks=False)
    run("mke2fs", "-q", "-F", "-t", kind, "-b", "1024", "-L", "wadup-" + kind, "-U", uuid,
        "-E", "root_owner=0:0,hash_seed=" + uuid, "-d", src, path, env=tool_env())
    # mke2fs -d copies the source's change times (now): debugfs sets them to EPOCH, then deletes.
    paths = ["/", "/lost+found"] + sorted(
        "/" + os.path.relpath(os.path.join(root, n), src) for root, dirs, names in os.walk(src) for n in dirs + names)
    commands = os.path.join(work, "debugfs-" + kind)
    with open(commands, "w") as f:
        f.writelines(f"sif {p} ctime @{EPOCH}\n" for p in paths)
    run("debugfs", "-w", "-f", commands, path, env=tool_env())
    run("debugfs", "-w", "-R", "rm /" + DELETED[0], path, env=tool_env())


class NTFS:
    """What no ntfs-3g command does without a mount (make a folder, delete, write a named stream,
    hard link, date a file), through Debian's libntfs-3g's own functions."""

    def __init__(self, path):
        lib = ctypes.CDLL(ctypes.util.find_library("ntfs-3g") or "libntfs-3g.so.89")
        for name, res, args in [
            ("ntfs_mount", ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]),
            ("ntfs_umount", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
            ("ntfs_pathname_to_inode", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p]),
            ("ntfs_create", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_uint8, ctypes.c_uint32]),
            ("ntfs_delete", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint8]),
            ("ntfs_link", ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint8]),
            ("ntfs_inode_close", ctypes.c_int, [ctypes.c_void_p]),
            ("ntfs_attr_open", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32]),
            ("ntfs_attr_pwrite", ctypes.c_int64, [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_char_p]),
            ("ntfs_attr_close", None, [ctypes.c_void_p]),
            ("ntfs_attr_add", ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_uint8, ctypes.c_char_p, ctypes.c_int64]),
            ("ntfs_inode_set_times", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]),
        ]:
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
        self.lib, self.path = lib, path

    def __enter__(self):
        # One volume session per change: within one, a folder just made is not found by path.
        self.vol = self.lib.ntfs_mount(self.path.encode(), 0)
        if not self.vol:
            raise SystemExit(f"disk_expected: libntfs-3g cannot open {self.path}")
        return self

    def __exit__(self, *exc):
        assert self.lib.ntfs_umount(self.vol, 0) == 0

    def inode(self, path):
        ni = self.lib.ntfs_pathname_to_inode(self.vol, None, path.encode())
        if not ni:
            raise SystemExit(f"disk_expected: NTFS: no {path}")
        return ni

    @staticmethod
    def split(path):
        parent, _, name = path.rstrip("/").rpartition("/")
        return parent or "/", name.encode("utf-16-le"), len(name.encode("utf-16-le")) // 2

    def stamp(self, ni):
        # crtime, mtime, atime, ctime as NTFS times (100 ns since 1601).
        t = (EPOCH + 11644473600) * 10_000_000
        self.lib.ntfs_inode_set_times(ni, t.to_bytes(8, "little") * 4, 32, 0)

    def create(self, path, data=None, directory=False, stream=None):
        parent, name, n = self.split(path)
        dir_ni = self.inode(parent)
        ni = self.lib.ntfs_create(dir_ni, 0, name, n, 0o040000 if directory else 0o100000)
        if not ni:
            raise SystemExit(f"disk_expected: NTFS: cannot create {path}")
        if data:
            unnamed = ctypes.addressof(ctypes.c_uint16.in_dll(self.lib, "AT_UNNAMED"))
            na = self.lib.ntfs_attr_open(ni, 0x80, unnamed, 0)
            assert self.lib.ntfs_attr_pwrite(na, 0, len(data), data) == len(data)
            self.lib.ntfs_attr_close(na)
        if stream:
            sname, sdata = stream
            s = sname.encode("utf-16-le")
            assert self.lib.ntfs_attr_add(ni, 0x80, s, len(s) // 2, sdata, len(sdata)) == 0
        self.stamp(ni)
        self.lib.ntfs_inode_close(ni)
        self.lib.ntfs_inode_close(dir_ni)

    def link(self, target, path):
        parent, name, n = self.split(path)
        ni, dir_ni = self.inode(target), self.inode(parent)
        assert self.lib.ntfs_link(ni, dir_ni, name, n) == 0
        self.lib.ntfs_inode_close(ni)
        self.lib.ntfs_inode_close(dir_ni)

    def delete(self, path):
        parent, name, n = self.split(path)
        ni, dir_ni = self.inode(path), self.inode(parent)
        assert self.lib.ntfs_delete(self.vol, path.encode(), ni, dir_ni, name, n) == 0  # closes both

    def restamp(self, path):
        ni = self.inode(path)
        self.stamp(ni)
        self.lib.ntfs_inode_close(ni)


def make_ntfs(path, size):
    """mkntfs -Q, ntfscp (a file with its mtime), then libntfs-3g: folders, files, a named data
    stream, a hard link, a big non-resident file and a tiny resident one, a deleted file."""
    blank(path, size)
    run("mkntfs", "-F", "-Q", "-q", "-L", "WADUPNTFS", "-s", "512", "-c", "4096", path, env=tool_env())
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "readme.txt")
        write_tree(tmp, {"readme.txt": tree_files()["readme.txt"]})
        run("ntfscp", "-q", "-t", path, src, "readme.txt", env=tool_env())
    fs = NTFS(path)
    steps = [lambda: fs.create("/folder", directory=True), lambda: fs.create("/folder/nested", directory=True)]
    for name, data in tree_files().items():
        name = name.decode() if isinstance(name, bytes) else name
        if name != "readme.txt":
            stream = ("secret", b"an alternate data stream\n") if name == "tiny.txt" else None
            steps.append(lambda name=name, data=data, stream=stream: fs.create("/" + name, data, stream=stream))
    steps += [
        lambda: fs.link("/readme.txt", "/folder/hardlink-to-readme.txt"),
        # Two files deleted: one resident, one non-resident (its clusters stay unallocated).
        lambda: fs.create("/" + DELETED[0], DELETED[1]), lambda: fs.create("/gone.bin", random.Random(27).randbytes(20_000)),
        lambda: fs.delete("/" + DELETED[0]), lambda: fs.delete("/gone.bin"),
    ] + [lambda p=p: fs.restamp(p) for p in ("/folder/nested", "/folder", "/readme.txt", "/")]
    for step in steps:
        with fs:
            step()


def make_iso(path, work):
    """xorriso -as mkisofs with Rock Ridge and Joliet (SOURCE_DATE_EPOCH fixes its dates)."""
    src = os.path.join(work, "iso")
    shutil.rmtree(src, ignore_errors=True)
    write_tree(src, tree_files())
    if os.path.exists(path):
        os.remove(path)
    run("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-V", "WADUP_ISO", "-o", path, src, env=tool_env())


def place(disk, image, offset):
    """Copies image into disk at offset (bytes), writing only non-zero chunks (dd conv=notrunc seek=,
    but keeps the disk sparse)."""
    with open(image, "rb") as src, open(disk, "r+b") as dst:
        pos = 0
        while True:
            chunk = src.read(MIB)
            if not chunk:
                break
            if chunk.count(0) != len(chunk):
                dst.seek(offset + pos)
                dst.write(chunk)
            pos += len(chunk)


def make_mbr(path, work):
    """sfdisk: an MBR with a FAT16 (type 6), an ext4 (83) and an NTFS (7) partition."""
    parts = [(2048, 16 * MIB, "6"), (2048 + 32768, 16 * MIB, "83"), (2048 + 65536, 16 * MIB, "7")]
    blank(path, (2048 + 3 * 32768 + 2048) * 512)
    script = "label: dos\nlabel-id: 0x26262626\nunit: sectors\n" + "".join(
        f"start={s}, size={n // 512}, type={t}\n" for s, n, t in parts)
    run("sfdisk", "-q", path, input=script.encode(), env=tool_env())
    fat, ext, ntfs = (os.path.join(work, n) for n in ("p1.img", "p2.img", "p3.img"))
    make_fat(fat, 16 * MIB, 16, "26160001", "MBRFAT16", work)
    make_ext(ext, 16 * MIB, "ext4", "26262626-0000-4000-8000-000000000002", work)
    make_ntfs(ntfs, 16 * MIB)
    for (start, _, _), image in zip(parts, (fat, ext, ntfs)):
        place(path, image, start * 512)


def make_gpt(path, work):
    """sgdisk: a sparse GPT disk, an ext4 at 1 MiB and a FAT32 past 4 GiB (offset > 2^32)."""
    p2 = (4 << 30) // 512 + 2048
    size = (p2 + 40 * 2048 + 2048) * 512
    blank(path, size)
    run("sgdisk", "-o", "-U", "26262626-0000-4000-8000-0000000000a0",
        "-n", "1:2048:+16M", "-t", "1:8300", "-c", "1:wadup-linux", "-u", "1:26262626-0000-4000-8000-0000000000a1",
        "-n", f"2:{p2}:+40M", "-t", "2:0700", "-c", "2:wadup-data", "-u", "2:26262626-0000-4000-8000-0000000000a2",
        path, env=tool_env())
    ext, fat = os.path.join(work, "g1.img"), os.path.join(work, "g2.img")
    make_ext(ext, 16 * MIB, "ext4", "26262626-0000-4000-8000-000000000003", work)
    make_fat(fat, 40 * MIB, 32, "26320002", "GPTFAT32", work)
    place(path, ext, 2048 * 512)
    place(path, fat, p2 * 512)


def make_containers(folder, raw):
    """The MBR disk as E01 (ewfacquire), VMDK, VHD (fixed and dynamic), VHDX and QCOW2 (qemu-img)."""
    base = os.path.join(folder, "mbr")
    for f in os.listdir(folder):
        if f.startswith("mbr.") and f != "mbr.img":
            os.remove(os.path.join(folder, f))
    run("ewfacquire", "-u", "-q", "-t", base, "-f", "encase6", "-c", "deflate:fast", "-d", "sha1",
        "-C", "WADUP-26", "-D", "WADUP disk test corpus", "-e", "WADUP", "-E", "E26", "-N", "mbr.img",
        "-m", "fixed", "-M", "physical", "-S", "1073741824", raw, env=tool_env())
    for fmt, name, opts in [("vmdk", "mbr.vmdk", []), ("vpc", "mbr.vhd", ["-o", "subformat=fixed"]),
                            ("vpc", "mbr-dynamic.vhd", ["-o", "subformat=dynamic"]),
                            ("vhdx", "mbr.vhdx", []), ("qcow2", "mbr.qcow2", [])]:
        run("qemu-img", "convert", "-q", "-f", "raw", "-O", fmt, *opts, raw, os.path.join(folder, name))


def truncate_ext4(source, target):
    """A truncated copy of the ext4 image, cut in the middle of data.bin's blocks (istat says where):
    the file system's metadata is whole, data.bin's second half and everything after it are gone."""
    line = next(l for l in text(run("fls", "-p", source)).splitlines() if l.endswith("\tdata.bin"))
    inode = line.split()[1].rstrip(":")
    stat = text(run("istat", source, inode))
    blocks = [int(b) for b in stat.split("Direct Blocks:")[1].split()]
    block_size = int(re.search(r"Block Size: (\d+)", text(run("fsstat", source))).group(1))
    cut = blocks[len(blocks) // 2] * block_size
    with open(source, "rb") as f:
        head = f.read(cut)
    with open(target, "wb") as f:
        f.write(head)


def make_luks(path, work):
    """A LUKS1 volume (cryptsetup formats a plain file: no device, no mount)."""
    with open(path, "wb") as f:
        f.truncate(16 * MIB)
    key = os.path.join(work, "luks.key")
    with open(key, "wb") as f:
        f.write(b"wadup-test-passphrase")
    run("cryptsetup", "luksFormat", "--batch-mode", "--type", "luks1", "--pbkdf-force-iterations", "1000", "--key-file", key, path)


#: Real APFS containers made by macOS: the test data of dissect.apfs 1.1's source distribution on
#: PyPI, pinned by sha256. dissect.apfs is AGPL-3.0: its images are test data here, never shipped.
#: jhfs_encrypted (16 MiB) is left out: encrypted.bin already covers an encrypted volume.
APFS_SDIST = ("dissect.apfs", "1.1", "dissect_apfs-1.1.tar.gz", "eeb42b1d862119cfa3a9006e44af39ed1f9fbad0ef03540249481b9879ac7332")
APFS_IMAGES = ("case_insensitive", "case_sensitive", "case_insensitive_beta", "case_sensitive_beta", "corrupt",
               "encrypted", "jhfs_converted", "snapshot")


def make_apfs(folder):
    """The APFS images, gunzipped from the pinned sdist (downloaded once into the build cache) as
    apfs-NAME.bin: named so that only their signature (NXSB) brings them to the disk module."""
    name, version, tarball, digest = APFS_SDIST
    cache = os.path.join(pinned_wheels.CACHE, "src")
    path = os.path.join(cache, tarball)
    os.makedirs(cache, exist_ok=True)
    if not os.path.exists(path) or sha256(open(path, "rb").read()) != digest:
        run(sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
            "--no-binary", ":all:", "-d", cache, f"{name}=={version}")
    with open(path, "rb") as f:
        if sha256(f.read()) != digest:
            raise SystemExit(f"disk_expected: {tarball} does not match its pinned sha256")
    with tarfile.open(path) as tar:
        for image in APFS_IMAGES:
            member = tar.extractfile(f"dissect_apfs-{version}/tests/_data/{image}.bin.gz")
            with open(os.path.join(folder, f"apfs-{image}.bin"), "wb") as out:
                out.write(__import__("gzip").decompress(member.read()))
    # The case-insensitive container in a GPT disk's second partition (type AF0A, Apple APFS), after
    # an empty first one: its volume is p2/v1.
    disk = os.path.join(folder, "gpt-apfs.img")
    blank(disk, 8 * MIB)
    run("sgdisk", "-o", "-U", "26262626-0000-4000-8000-0000000000b0",
        "-n", "1:2048:+1M", "-t", "1:8300", "-u", "1:26262626-0000-4000-8000-0000000000b1",
        "-n", "2:4096:+4M", "-t", "2:af0a", "-c", "2:wadup-apfs", "-u", "2:26262626-0000-4000-8000-0000000000b2",
        disk, env=tool_env())
    place(disk, os.path.join(folder, "apfs-case_insensitive.bin"), 4096 * 512)


def make(folder):
    """The corpus (about 43 MB on disk, sparse; a few seconds; remade from scratch each time):
      fat12.img 4 MiB, fat16.img 16 MiB, fat32.img 40 MiB   mkfs.vfat -i, mtools (deleted.txt: mdel,
                                                            its name starts with 0xE5: fls "_eleted.txt")
      exfat.img 8 MiB                                       mkfs.exfat, entries written here (ExFAT)
      ext2.img, ext3.img, ext4.img 8 MiB (1 KiB blocks)     mke2fs -d, debugfs (ctimes, rm); also a
                                                            symlink and a hard link
      ntfs.img 8 MiB                                        mkntfs, ntfscp, libntfs-3g (NTFS): a hard
                                                            link, tiny.txt:secret (a named stream), two
                                                            deleted files (resident deleted.txt,
                                                            non-resident gone.bin); no fixed serial or times
      iso9660.iso                                           xorriso -R -J (nothing deleted): archive's, not
                                                            offered to disk (one owner for a format)
      cdrom.img                                             the same bytes named as `dd` of a CD names them
      mbr.img 50 MiB                                        sfdisk: FAT16, ext4, NTFS partitions
      gpt.img 4.04 GiB sparse                               sgdisk: ext4 at 1 MiB, FAT32 at 4 GiB + 1 MiB
      mbr.E01 (ewfacquire, md5 and sha1), mbr.vmdk, mbr.vhd (fixed), mbr-dynamic.vhd, mbr.vhdx,
      mbr.qcow2 (qemu-img): mbr.img in containers (qemu's VHDs round the size up to a CHS geometry:
                                                            52432896 bytes, the last unallocated row grows)
      ext4-truncated.img                                    ext4.img cut in the middle of data.bin
      luks.img 16 MiB                                       cryptsetup luksFormat (LUKS1): an encrypted volume
      apfs-*.bin (4-32 MiB)                                 APFS containers made by macOS (make_apfs):
                                                            case-(in)sensitive, beta, converted from
                                                            HFS+, with snapshots, encrypted, corrupt
      gpt-apfs.img 8 MiB                                    sgdisk: an empty partition, then
                                                            apfs-case_insensitive.bin in the second
    Every writable file system holds tree_files() (a text file, a 100 KiB binary, a file two folders
    down, an empty file, a non-ASCII name, a 3-byte file) and DELETED, deleted."""
    os.makedirs(folder, exist_ok=True)
    work = tempfile.mkdtemp()
    try:
        img = lambda n: os.path.join(folder, n)
        make_fat(img("fat12.img"), 4 * MIB, 12, "26120000", "WADUPFAT12", work)
        make_fat(img("fat16.img"), 16 * MIB, 16, "26160000", "WADUPFAT16", work)
        make_fat(img("fat32.img"), 40 * MIB, 32, "26320000", "WADUPFAT32", work)
        make_exfat(img("exfat.img"), 8 * MIB)
        for i, kind in enumerate(("ext2", "ext3", "ext4")):
            make_ext(img(kind + ".img"), 8 * MIB, kind, f"26262626-0000-4000-8000-00000000001{i}", work)
        make_ntfs(img("ntfs.img"), 8 * MIB)
        make_iso(img("iso9660.iso"), work)
        shutil.copyfile(img("iso9660.iso"), img("cdrom.img"))
        make_mbr(img("mbr.img"), work)
        make_gpt(img("gpt.img"), work)
        make_containers(folder, img("mbr.img"))
        truncate_ext4(img("ext4.img"), img("ext4-truncated.img"))
        make_luks(img("luks.img"), work)
        make_apfs(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# What the native tools say

#: Container formats by file name extension: (disk_images format, qemu-img's driver or None for EWF).
CONTAINERS = {".e01": ("ewf", None), ".vmdk": ("vmdk", "vmdk"), ".vhd": ("vhd", "vpc"),
              ".vhdx": ("vhdx", "vhdx"), ".qcow2": ("qcow2", "qcow2")}
#: mmls's header line -> the scheme's TSK short name.
SCHEMES = {"DOS Partition Table": "dos", "GUID Partition Table (EFI)": "gpt", "MAC Partition Map": "mac",
           "BSD Disk Label": "bsd", "Sun Volume Table of Contents (Solaris)": "sun"}


def text(done):
    return done.stdout.decode("utf-8", errors="surrogateescape")


def field(lines, key):
    """The value of fsstat's/ewfinfo's first "key: value" line, stripped (None when absent)."""
    for line in lines:
        k, sep, v = line.strip().partition(":")
        if sep and k.strip() == key:
            return v.strip()
    return None


def unpack_container(path, ext, tmp):
    """The container converted to a raw image in tmp with its native tool, and what the tool says."""
    fmt, driver = CONTAINERS[ext]
    raw = os.path.join(tmp, "raw")
    if driver is None:
        info = text(run("ewfinfo", path)).splitlines()
        verify = text(run("ewfverify", "-q", path, check=False)).splitlines()
        run("ewfexport", "-u", "-q", "-t", raw, "-f", "raw", path)
        raw += ".raw"
        size = re.search(r"\((\d+) bytes\)", field(info, "Media size") or "")
        container = {
            "format": fmt, "media_size": int(size.group(1)) if size else None,
            "sector_size": int(field(info, "Bytes per sector") or 0) or None,
            "description": field(info, "Description"), "case_number": field(info, "Case number"),
            "examiner": field(info, "Examiner name"), "evidence_number": field(info, "Evidence number"),
            "notes": field(info, "Notes"), "media_type": field(info, "Media type"),
            "stored_md5": field(info, "MD5"), "stored_sha1": field(info, "SHA1"),
            "verify_md5_stored": field(verify, "MD5 hash stored in file"),
            "verify_md5_calculated": field(verify, "MD5 hash calculated over data"),
            "verify_sha1": field(verify, "SHA1"), "verify_ok": any(l.strip() == "ewfverify: SUCCESS" for l in verify),
        }
    else:
        info = json.loads(text(run("qemu-img", "info", "-f", driver, "--output=json", path)))
        run("qemu-img", "convert", "-q", "-f", driver, "-O", "raw", path, raw)
        container = {"format": fmt, "media_size": info["virtual-size"], "qemu_format": info["format"]}
    with open(raw, "rb") as f:
        container["raw_sha256"] = hashlib.file_digest(f, "sha256").hexdigest()
    return raw, container


def volumes(image):
    """mmls's rows: [] when it finds no volume system."""
    done = run("mmls", image, check=False)
    lines = text(done).splitlines()
    if done.returncode != 0 or not lines:
        return None, []
    scheme = SCHEMES.get(lines[0].strip(), lines[0].strip())
    units = re.search(r"Units are in (\d+)-byte sectors", text(done))
    sector = int(units.group(1)) if units else 512
    rows, n = [], 0
    for line in lines:
        m = re.match(r"^(\d+):\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$", line)
        if not m:
            continue
        slot = m.group(2)
        kind = "meta" if slot == "Meta" else "unalloc" if set(slot) == {"-"} else "alloc"
        if kind == "alloc":
            n += 1
        rows.append({"scheme": scheme, "index": int(m.group(1)), "slot": slot,
                     "start": int(m.group(3)) * sector, "length": int(m.group(5)) * sector,
                     "type": kind, "description": m.group(6).strip(),
                     "volume": f"p{n}" if kind == "alloc" else ""})
    return sector, rows


def parse_body(line):
    """One `fls -m` line (md5|name|inode|mode|uid|gid|size|atime|mtime|ctime|crtime) as a dict."""
    _, rest = line.split("|", 1)
    name, inode, mode, uid, gid, size, atime, mtime, ctime, crtime = rest.rsplit("|", 9)
    deleted = realloc = False
    for suffix in (" (deleted-realloc)", " (deleted)"):
        if name.endswith(suffix):
            name, deleted, realloc = name[: -len(suffix)], True, suffix == " (deleted-realloc)"
            break
    return {"path": name, "inode": inode, "mode": mode, "uid": int(uid), "gid": int(gid), "size": int(size),
            "atime": int(atime), "mtime": int(mtime), "ctime": int(ctime), "crtime": int(crtime),
            "deleted": deleted, "realloc": realloc}


def fs_summary(fstype, lines):
    """Label, uuid, block size and count from fsstat's lines, as fsstat prints them."""
    label = None
    for key in ("Volume Label (Boot Sector)", "Volume Name", "Volume Label (from root directory)",
                "Volume Label (Root Directory)"):
        label = field(lines, key)
        if label is not None:
            break
    uuid = field(lines, "Volume ID") or field(lines, "Volume Serial Number")
    if fstype.startswith("fat") or fstype == "exfat":
        size_key, range_key = "Sector Size", "Total Range" if fstype != "exfat" else "Range"
    elif fstype == "ntfs":
        size_key, range_key = "Cluster Size", "Total Cluster Range"
    elif fstype == "iso9660":
        size_key, range_key = "Block Size", "Total Block Range"
    else:
        size_key, range_key = "Block Size", "Block Range"
    size = field(lines, size_key)
    span = re.match(r"(\d+)\s*-\s*(\d+)", field(lines, range_key) or "")
    return {"label": label, "uuid": uuid, "block_size": int(size) if size else None,
            "blocks": int(span.group(2)) - int(span.group(1)) + 1 if span else None}


def filesystem(image, volume, sector, start, tmp):
    """fsstat, fls -r -p -m /, icat and mactime on the file system at start bytes."""
    off = ["-o", str(start // sector)] if start else []
    result = {"volume": volume, "offset": start}
    kind = run("fsstat", "-t", *off, image, check=False)
    if kind.returncode != 0:
        result["error"] = done_error(kind)
        # TSK's own check for encrypted volumes (BitLocker, LUKS, FileVault): "Encryption detected (LUKS)".
        encrypted = re.search(r"Encryption detected \((.*)\)", text(kind) + kind.stderr.decode(errors="replace"))
        if encrypted:
            result["encryption"] = encrypted.group(1)
        return result
    result["type"] = text(kind).strip()
    stat = run("fsstat", *off, image, check=False)
    result.update(fs_summary(result["type"], text(stat).splitlines()))
    fls = run("fls", "-r", "-p", "-m", "/", *off, image, check=False)
    if fls.returncode != 0:
        result["fls_error"] = done_error(fls)
    body = text(fls).splitlines()
    result["entries"] = [parse_body(line) for line in body if line]
    files = {}
    for entry in result["entries"]:
        # A regular file's bytes (mode "r/r...", or "-/r..." where the name's type is lost: NTFS's
        # deleted names): NTFS streams are entries of their own ("71-128-4").
        if entry["mode"][:3] in ("r/r", "-/r") and entry["size"] > 0:
            cat = run("icat", *off, image, entry["inode"], check=False)
            files[entry["path"] + " " + entry["inode"]] = {
                "sha256": sha256(cat.stdout), "bytes": len(cat.stdout), "icat_ok": cat.returncode == 0}
    result["files"] = files
    bodyfile = os.path.join(tmp, "body")
    with open(bodyfile, "wb") as f:
        f.write(fls.stdout)
    timeline = run("mactime", "-b", bodyfile, "-d", "-y", env=dict(os.environ, TZ="UTC"), check=False)
    result["timeline"] = text(timeline).splitlines()
    return result


def done_error(done):
    return (done.stderr.decode(errors="replace").strip().splitlines() or [f"exit {done.returncode}"])[0]


def is_apfs(path):
    return is_apfs_at(path, 0)


def is_apfs_at(path, offset):
    """Whether an APFS container superblock ("NXSB" at byte 32) starts at offset."""
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(36)[32:36] == b"NXSB"


def apfs_filesystems(path, tmp, volume="", offset=0):
    """The file systems of the APFS container in the file `path` (at `offset` of the disk, in the
    partition named `volume`): whether Debian's fsapfsinfo opens it, then what dissect.apfs reads."""
    info = run("fsapfsinfo", path, check=False)
    # Debian's libfsapfs is built with OpenSSL 3, where its libcaes cannot set up AES-XTS: natively
    # every container with a key bag (an encrypted volume) fails there, which the module's build
    # (libcaes's own AES) does not; fsapfsinfo is the reference for every other refusal.
    err = info.stderr.decode(errors="replace")
    refused = "unable to open input container" in err and "key bag" not in err
    if refused:
        return [{"volume": volume, "offset": offset, "type": "apfs", "error": done_error(info)}]
    reader = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apfs_reader.py")
    site = pinned_wheels.site("apfs-requirements.txt", "dissect-apfs")
    read = json.loads(text(run(sys.executable, reader, path, env=dict(os.environ, PYTHONPATH=site))))[path]
    filesystems = []
    for n, item in enumerate(read["volumes"], 1):
        fs = {"volume": (volume + "/" if volume else "") + f"v{n}", "offset": offset, "type": "apfs", "label": item["name"],
              "uuid": item["uuid"], "block_size": read["block_size"], "blocks": read["blocks"]}
        if item["encrypted"]:
            fs["encryption"] = "APFS"
        else:
            fs["entries"], fs["files"] = item["entries"], item["files"]
            body = os.path.join(tmp, "body")
            with open(body, "w", encoding="utf-8", errors="surrogateescape") as f:
                for e in fs["entries"]:
                    f.write("|".join(["0", e["path"], e["inode"], e["mode"]] + [str(e[k]) for k in (
                        "uid", "gid", "size", "atime", "mtime", "ctime", "crtime")]) + "\n")
            timeline = run("mactime", "-b", body, "-d", "-y", env=dict(os.environ, TZ="UTC"), check=False)
            fs["timeline"] = text(timeline).splitlines()
        filesystems.append(fs)
    return filesystems


def answer(path):
    if is_apfs(path):
        with tempfile.TemporaryDirectory() as tmp:
            return {"media_size": os.path.getsize(path), "volumes": [], "filesystems": apfs_filesystems(path, tmp)}
    ext = os.path.splitext(path)[1].lower()
    with tempfile.TemporaryDirectory() as tmp:
        result = {}
        image = path
        if ext in CONTAINERS:
            image, result["container"] = unpack_container(path, ext, tmp)
        result["media_size"] = os.path.getsize(image)
        sector, rows = volumes(image)
        result["volumes"] = rows
        places = [(r["volume"], r["start"], r["length"]) for r in rows if r["type"] == "alloc"] if rows else [("", 0, None)]
        result["filesystems"] = []
        for v, start, length in places:
            fs = filesystem(image, v, sector or 512, start, tmp)
            # A partition holding an APFS container, which The Sleuth Kit does not read without its
            # pool options: the container's bytes copied out and read as a bare one.
            if "error" in fs and length and is_apfs_at(image, start):
                part = os.path.join(tmp, "apfs-partition")
                with open(image, "rb") as src, open(part, "wb") as dst:
                    src.seek(start)
                    dst.write(src.read(length))
                result["filesystems"] += apfs_filesystems(part, tmp, v, start)
            else:
                result["filesystems"].append(fs)
    return result


def main(argv):
    # mkfs.*, mke2fs, debugfs, sgdisk, sfdisk, mkntfs, ntfscp live in /usr/sbin, which a user's PATH may lack.
    path = os.environ.get("PATH", "").split(os.pathsep)
    os.environ["PATH"] = os.pathsep.join(path + [d for d in ("/usr/sbin", "/sbin") if d not in path])
    if argv[:1] == ["--make"]:
        make(argv[1])
        return
    result = {}
    for path in argv:
        result[os.path.basename(path)] = answer(path)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
