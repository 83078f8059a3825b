"""Writes python311.zip: the standard library for WADUP's Python runtime (scripts/formats/python.sh).

    BUILD_PYTHON stdlib_zip.py OUT.zip --stdlib LIB_DIR [DIR_OR_ZIP...]

Run by the native build interpreter of the same CPython version (its bytecode is the wasm one's).
Entries are stored, not deflated: an instance start reads them without inflating (and the build
interpreter needs no zlib). Each module is an unchecked hash-based .pyc only (zipimport takes a .pyc without its .py;
no timestamps, so the zip is the same bytes on every build), compiled at optimisation level 2
(no docstrings, no asserts: less to load at every instance start). Left out: test suites and what
cannot work in the sandbox or is dead weight there (GUI, package installers, processes, threads'
executors, sockets' event loop, sqlite without its C module, the 2to3 tool, distutils).
Further sources are added on top: a folder's .py files (a package folder, one with __init__.py,
under its own name) (the build's _sysconfigdata, the wadup
package), compiled the same way, or a zip's entries as they are (the cached standard library).
"""
import importlib._bootstrap_external as bx
import importlib.util
import os
import sys
import zipfile

# Top-level names (packages or modules) left out.
EXCLUDE_TOP = {
    "test", "idlelib", "tkinter", "turtledemo", "turtle", "ensurepip", "venv", "lib2to3", "distutils",
    "pydoc_data", "pydoc", "asyncio", "multiprocessing", "concurrent", "curses", "dbm", "sqlite3",
    "msilib", "ctypes", "_pydecimal", "__phello__", "site-packages", "lib-dynload", "_bootsubprocess",
    "antigravity", "this", "tabnanny", "_osx_support", "_aix_support", "subprocess_disabled",
    "smtpd", "asyncore", "asynchat", "imaplib", "nntplib", "poplib", "smtplib", "ftplib", "telnetlib",
    "socketserver", "xmlrpc", "wsgiref", "cgi", "cgitb", "webbrowser", "crypt", "nis", "pty", "tty",
    "sndhdr", "ossaudiodev", "sunau", "aifc", "chunk", "wave", "audioop", "mailcap", "pipes",
    "zipapp", "pdb", "bdb", "profile", "cProfile", "pstats", "timeit", "trace", "doctest",
}
# Folders left out wherever they are.
EXCLUDE_DIRS = {"test", "tests", "idle_test", "__pycache__"}


def wanted(rel):
    parts = rel.split("/")
    top = parts[0][:-3] if parts[0].endswith(".py") else parts[0]
    if top in EXCLUDE_TOP or top.startswith("config-") or top.startswith("plat-"):
        return False
    return not any(p in EXCLUDE_DIRS for p in parts[:-1])


def pyc(source_bytes, path):
    code = compile(source_bytes, path, "exec", dont_inherit=True, optimize=2)
    source_hash = importlib.util.source_hash(source_bytes)
    return bytes(bx._code_to_hash_pyc(code, source_hash, checked=False))


def main():
    args = sys.argv[1:]
    out = args.pop(0)
    entries = {}
    while args:
        a = args.pop(0)
        check = a == "--stdlib"
        if check:
            a = args.pop(0)
        if a.endswith(".zip"):
            with zipfile.ZipFile(a) as z:
                for name in z.namelist():
                    entries[name] = z.read(name)
            continue
        # A package folder (it has __init__.py) is added under its own name.
        base = os.path.dirname(os.path.abspath(a)) if os.path.exists(os.path.join(a, "__init__.py")) else a
        for dirpath, dirnames, filenames in os.walk(a):
            dirnames.sort()
            for f in sorted(filenames):
                if not f.endswith(".py"):
                    continue
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, base).replace(os.sep, "/")
                if check and not wanted(rel):
                    continue
                with open(full, "rb") as fh:
                    src = fh.read()
                # The name in tracebacks: where the module is at run time.
                entries[rel[:-3] + ".pyc"] = pyc(src, "/python/python311.zip/" + rel)
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, entries[name])
    os.replace(tmp, out)
    print("stdlib_zip: %s: %d modules, %d bytes" % (os.path.basename(out), len(entries), os.path.getsize(out)))


if __name__ == "__main__":
    main()
