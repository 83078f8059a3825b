#!/usr/bin/env python3
"""The default module set on real files of this machine, against native `file` + `sha256sum`, same run.

  - 20,000 real files (programs, libraries, documentation, scripts, configuration: regular files
    under /usr/bin, /usr/lib, /usr/share, /etc, at most 16 MiB each, an evenly spaced pick from
    the sorted walk, so the same files on every run), given to WADUP as a folder of symbolic links
    (--follow-symlinks), roots only (--max-recursion-depth 0: what `archive` unpacks is recorded,
    not processed again), every file processed (--no-dedup), 2 threads, the default module set
    (.build/release/modules).
  - Baseline: `file --mime-type -b`, `file -b` and `sha256sum` over the same files, spread over the
    same 2 cores (`xargs -P 2`, 200 files per process: each `file` loads its database once per
    batch, as each WADUP worker loads it once).
  - Then `file_type` alone against the native two answers (`file --mime-type -b` + `file -b`,
    `xargs -P 2`).
Each figure is the median of 3 runs, WADUP and native interleaved; CPU is user + system of the
process and its children. Usage: python3 Benchmarks/default_set_benchmark.py [--files N] [--file PATH]
[--modules DIR] (another set in place of the default one, e.g. to measure a module before a change).
"""
import argparse, os, shutil, statistics, subprocess, tempfile

from benchlib import regular_files, timed as measured

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.path.join(ROOT, ".build", "release", "wadup")
DEFAULT_SET = os.path.join(ROOT, ".build", "release", "modules")
ROOTS = ["/usr/bin", "/usr/lib", "/usr/share", "/etc"]
ENV = dict(os.environ, LC_ALL="C", TZ="UTC")


def real_files(count, max_size):
    """`count` regular readable files under ROOTS, evenly spaced over the sorted walk."""
    found = [p for root in ROOTS for p, _ in regular_files(root, max_size=max_size)]
    step = max(1, len(found) // count)
    return found[::step][:count], len(found)


def wadup(modules, links, out):
    def once():
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(out + suffix):
                os.remove(out + suffix)
        return measured([WADUP, "--modules", modules, "--input", links, "--output", out, "--threads", "2",
                         "--no-dedup", "--follow-symlinks", "--max-recursion-depth", "0"])
    return once


def native(listing, commands):
    """`commands` (each run on a batch of files as "$@") over the NUL-separated `listing`, xargs -P 2."""
    script = "; ".join(f"{c} -- \"$@\" >/dev/null" for c in commands)
    def once():
        with open(listing, "rb") as files:
            return measured(["xargs", "-0", "-P", "2", "-n", "200", "sh", "-c", script, "sh"], stdin=files, env=ENV)
    return once


def medians(runs):
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--file", default="/usr/bin/file", help="the native `file` (default Debian's)")
    parser.add_argument("--modules", default=DEFAULT_SET, help="the module set (default .build/release/modules)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="wadup-default-set-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        files, total = real_files(args.files, 16 << 20)
        links = os.path.join(work, "links")
        os.makedirs(links)
        for i, p in enumerate(files):
            os.symlink(p, os.path.join(links, "%06d" % i))
        listing = os.path.join(work, "files.txt")
        with open(listing, "wb") as f:
            f.write(b"\0".join(os.fsencode(p) for p in files))
        size = sum(os.path.getsize(p) for p in files)
        print(f"{len(files)} real files of {total} under {' '.join(ROOTS)}, {size / 1e6:.0f} MB")
        subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)  # page cache warm for both

        f = args.file
        file_type = os.path.join(work, "file_type")
        os.makedirs(file_type)
        shutil.copy(os.path.join(args.modules, "file_type.wasm"), file_type)
        rows = []
        for label, ours, theirs in (
                ("default set", wadup(args.modules, links, os.path.join(work, "d.db")),
                 native(listing, [f"{f} --mime-type -b", f"{f} -b", "sha256sum"])),
                ("file_type alone", wadup(file_type, links, os.path.join(work, "f.db")),
                 native(listing, [f"{f} --mime-type -b", f"{f} -b"]))):
            runs = [(ours(), theirs()) for _ in range(3)]
            (w, wc), (n, nc) = medians([r[0] for r in runs]), medians([r[1] for r in runs])
            rows.append((label, w, wc, n, nc))
        print(f"{'':<17}{'wadup s':>9}{'CPU s':>8}{'native s':>10}{'CPU s':>8}{'ratio':>8}{'CPU ratio':>11}")
        for label, w, wc, n, nc in rows:
            print(f"{label:<17}{w:>9.2f}{wc:>8.2f}{n:>10.2f}{nc:>8.2f}{w / n:>7.2f}x{wc / nc:>10.2f}x")
        print("native: xargs -0 -P 2 -n 200 over the files: default set = file --mime-type -b; file -b; sha256sum, "
              "file_type alone = file --mime-type -b; file -b")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
