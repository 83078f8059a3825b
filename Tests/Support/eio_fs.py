#!/usr/bin/python3
"""A FUSE file system of one file, failing.bin, whose reads past EIO_AT bytes fail with EIO.

Used by InputFaultTests: real EIO from the kernel, as a failing disk or a network file system
gives. Debian's python3-fuse (fuse-python, libfuse2); run as root (mounts without fusermount).
Usage: EIO_SIZE=3000000 EIO_AT=2000000 /usr/bin/python3 eio_fs.py MOUNTPOINT  (foreground; umount ends it)
"""
import errno, os, stat, sys

import fuse

fuse.fuse_python_api = (0, 2)
SIZE = int(os.environ["EIO_SIZE"])
BAD = int(os.environ["EIO_AT"])


class Stat(fuse.Stat):
    def __init__(self, **fields):
        for name in ("st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size", "st_atime", "st_mtime", "st_ctime"):
            setattr(self, name, fields.get(name, 0))


class FailingFS(fuse.Fuse):
    def getattr(self, path):
        if path == "/":
            return Stat(st_mode=stat.S_IFDIR | 0o755, st_nlink=2)
        if path == "/failing.bin":
            return Stat(st_mode=stat.S_IFREG | 0o444, st_nlink=1, st_size=SIZE)
        return -errno.ENOENT

    def readdir(self, path, offset):
        for name in (".", "..", "failing.bin"):
            yield fuse.Direntry(name)

    def open(self, path, flags):
        return 0

    def read(self, path, size, offset):
        if offset + size > BAD:
            return -errno.EIO
        return b"A" * size


if __name__ == "__main__":
    server = FailingFS()
    server.parse([sys.argv[1], "-f"])
    server.main()
