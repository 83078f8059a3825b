"""What dissect.apfs 1.1 (Fox-IT's pure-Python APFS reader, independent of libfsapfs) says about APFS
containers, in disk_expected.py's terms: run by it with PYTHONPATH set to the pinned wheels
(Tests/Support/apfs-requirements.txt).

  apfs_reader.py IMAGE...    prints, as JSON by path: the container's block size and count, and per
                             volume its name, uuid, whether it is encrypted and, when it is not,
                             every entry under its root (path, inode, mode, owner, size, the four
                             times in seconds, link target) and each regular file's sha256.
"""
import hashlib
import json
import stat
import sys

from dissect.apfs.apfs import APFS

#: decmpfs compression types libfsapfs 20201107 does not decode (LZFSE 11/12, LZBITMAP 13/14).
UNDECODED = {11: "lzfse", 12: "lzfse", 13: "lzbitmap", 14: "lzbitmap"}
#: TSK's letters for a file's type (tsk_fs_name_type_str / tsk_fs_meta_type_str agree on these).
LETTERS = {stat.S_IFREG: "r", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFIFO: "p", stat.S_IFCHR: "c",
           stat.S_IFBLK: "b", stat.S_IFSOCK: "s", 0o160000: "w"}


def mode_text(mode):
    """The mode as fls -m prints it: "r/rrw-r--r--" (name type / tsk_fs_meta_make_ls)."""
    letter = LETTERS.get(stat.S_IFMT(mode), "-")
    perms = "".join(c if mode & (0o400 >> i) else "-" for i, c in enumerate("rwxrwxrwx"))
    perms = list(perms)
    if mode & 0o4000:
        perms[2] = "s" if mode & 0o100 else "S"
    if mode & 0o2000:
        perms[5] = "s" if mode & 0o010 else "S"
    if mode & 0o1000:
        perms[8] = "t" if mode & 0o001 else "T"
    return f"{letter}/{letter}" + "".join(perms)


def printed(name):
    """A name as fls prints it, and the module writes it: control characters become '^'."""
    return "".join("^" if ord(c) < 0x20 else c for c in name)


def seconds(ns):
    return ns // 1_000_000_000


def undecoded(inode):
    """The compression libfsapfs 20201107 cannot decode, from the decmpfs header (None: it can)."""
    if not inode.is_compressed() or "com.apple.decmpfs" not in inode.xattr:
        return None
    header = inode.xattr["com.apple.decmpfs"].open().read(16)
    return UNDECODED.get(int.from_bytes(header[4:8], "little"))


def volume_entries(volume):
    entries, files = [], {}

    def walk(node, path, ancestors):
        for name, entry in sorted(node.listdir().items()):
            inode = entry.inode
            full = path + "/" + printed(name)
            raw = inode.inode
            line = full + (" -> " + printed(inode.readlink()) if inode.is_symlink() else "")
            entries.append({
                "path": line, "inode": str(entry.file_id), "mode": mode_text(inode.mode), "uid": inode.uid, "gid": inode.gid,
                "size": inode.size, "atime": seconds(raw.access_time), "mtime": seconds(raw.mod_time),
                "ctime": seconds(raw.change_time), "crtime": seconds(raw.create_time), "deleted": False, "realloc": False})
            if inode.is_file() and inode.size > 0:
                data = inode.open().read()
                files[full + " " + str(entry.file_id)] = {
                    "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "icat_ok": True,
                    "undecoded": undecoded(inode)}
            if inode.is_dir() and entry.file_id not in ancestors:
                walk(inode, full, ancestors | {entry.file_id})

    walk(volume.get("/"), "", {volume.get("/").oid})
    return entries, files


def read(path):
    with open(path, "rb") as fh:
        container = APFS(fh)
        result = {"block_size": container.block_size, "blocks": container.block_count, "volumes": []}
        for volume in container.volumes:
            # dissect reads the uuid as little-endian fields; the bytes as stored, in order, are
            # what libfsapfs and diskutil print.
            item = {"name": volume.name, "uuid": str(__import__("uuid").UUID(bytes=volume.uuid.bytes_le)),
                    "encrypted": volume.is_encrypted}
            if not volume.is_encrypted:
                item["entries"], item["files"] = volume_entries(volume)
                item["created"] = seconds(volume.get("/").inode.create_time)
            result["volumes"].append(item)
        return result


if __name__ == "__main__":
    json.dump({p: read(p) for p in sys.argv[1:]}, sys.stdout)
