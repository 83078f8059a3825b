#!/usr/bin/env python3
"""yara module benchmark: WADUP with only the `yara` module against native `yara` (4.2.3), same run.

The corpus: real files of this machine copied into a tmpfs (programs and libraries from /usr/bin
and /usr/lib/x86_64-linux-gnu, documentation from /usr/share/doc, and the Windows PE launchers
Python installs keep), up to --mib MiB, files of at most 16 MiB. The rules: the ones the
exactness test uses (strings, hex strings with jumps, regular expressions, filesize, pe.imports,
pe.imphash, elf.type, math.entropy, hash.md5) plus a few common ones, in two files.

Timed, best of --runs runs, interleaved:
  - native: `yara -r -p THREADS -s rules... corpus` (output to /dev/null);
  - wadup:  `wadup --modules DIR(yara.wasm) --input corpus --output out.db --module-data yara=RULES
             --threads THREADS --no-dedup` (every file scanned, matches and strings written to SQLite;
             the compile cache warm).
for THREADS 1 and 2. Prints each time (wall-clock and CPU, user + system) and the ratios wadup / native (target: at
most 1.5). On a busy machine the CPU ratio is the steadier one.
Usage: python3 Benchmarks/yara_benchmark.py [--mib N] [--runs N] [--wadup PATH] [--module PATH]
"""
import argparse, hashlib, os, shutil, subprocess, sys, tempfile, time

from benchlib import regular_files, timed, windows_pe_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RULES = {
    "exec.yar": r'''
import "pe"
import "elf"
import "math"
import "hash"

rule ElfSharedObject : elf linux
{
    meta:
        author = "wadup benchmark"
        score = 5
    strings:
        $magic = { 7F 45 4C 46 ( 01 | 02 ) 01 }
        $glibc = /GLIBC_2\.[0-9]{1,2}/
        $interp = "/lib64/ld-linux-x86-64.so.2"
    condition:
        $magic at 0 and elf.type == elf.ET_DYN and filesize > 1KB and ($glibc or $interp)
}

rule ElfMagicHash
{
    condition:
        uint32(0) == 0x464C457F and hash.md5(0, 4) == "MD5_ELF_MAGIC"
}

rule PeImportsKernel32 : windows pe
{
    strings:
        $mz = "MZ"
        $stub = { 0E 1F BA 0E 00 B4 09 CD 21 [2-8] 4C CD 21 }
        $dos = "This program cannot be run in DOS mode" ascii
    condition:
        $mz at 0 and pe.imports("kernel32.dll") and ($stub or $dos)
}

rule PeImphash
{
    condition:
        uint16(0) == 0x5A4D and pe.imphash() == "c51d659b4b1142d4af3795d09f1d63f7"
}

rule Compressed
{
    condition:
        filesize > 256 and filesize < 1MB and math.entropy(0, filesize) > 7.5
}
''',
    "text.yara": r'''
rule Urls
{
    strings:
        $http = /https?:\/\/[a-z0-9.-]{4,64}\//
        $mail = /[a-z0-9._-]{2,32}@[a-z0-9-]{2,32}\.(org|com|net)/
    condition:
        any of them
}

rule Licenses
{
    strings:
        $gpl = "GNU General Public License" nocase
        $bsd = "Redistribution and use in source and binary forms" ascii wide
        $mit = /Permission is hereby granted, free of charge/
    condition:
        any of them
}

rule Crypto
{
    strings:
        $sha256_k = { 98 2F 8A 42 91 44 37 71 }
        $aes_sbox = { 63 7C 77 7B F2 6B 6F C5 30 01 67 2B FE D7 AB 76 }
        $md5_init = { 01 23 45 67 89 AB CD EF FE DC BA 98 76 54 32 10 }
    condition:
        any of them
}
''',
}


def corpus(folder, limit_bytes):
    """Copies real files into `folder` until `limit_bytes`: the same set on every run."""
    roots = ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/share/doc"]
    picked, total = [], 0
    for p in windows_pe_files():
        picked.append(p)
        total += os.path.getsize(p)
    for root in roots:
        for p, size in regular_files(root, max_size=16 << 20):
            picked.append(p)
            total += size
            if total >= limit_bytes:
                break
        if total >= limit_bytes:
            break
    for i, p in enumerate(picked):
        shutil.copyfile(p, os.path.join(folder, f"{i:05d}_{os.path.basename(p)}"))
    return len(picked), total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wadup", default=os.path.join(ROOT, ".build", "release", "wadup"))
    parser.add_argument("--module", default=os.path.join(ROOT, ".build", "guest-modules", "standard", "yara.wasm"))
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="wadup-yara-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        files = os.path.join(work, "files"); os.makedirs(files)
        count, total = corpus(files, args.mib << 20)
        rules = os.path.join(work, "rules"); os.makedirs(rules)
        magic_md5 = hashlib.md5(b"\x7fELF").hexdigest()
        for name, text in RULES.items():
            with open(os.path.join(rules, name), "w") as f:
                f.write(text.replace("MD5_ELF_MAGIC", magic_md5))
        modules = os.path.join(work, "modules"); os.makedirs(modules)
        shutil.copy(args.module, os.path.join(modules, "yara.wasm"))
        out = os.path.join(work, "out.db")
        print(f"corpus: {count} files, {total / 2**20:.1f} MiB in {work}; rules: {', '.join(RULES)}")
        print(f"yara.wasm: {os.path.getsize(args.module)} bytes; native: {subprocess.run(['yara', '--version'], capture_output=True, text=True).stdout.strip()}")

        def native(threads):
            return timed(["yara", "-r", "-p", str(threads), "-s"] + sorted(RULES) + [files], cwd=rules)

        def wadup(threads):
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(out + suffix):
                    os.remove(out + suffix)
            return timed([args.wadup, "--modules", modules, "--input", files, "--output", out, "--module-data", f"yara={rules}",
                          "--threads", str(threads), "--no-dedup"])

        wadup(1)  # warms the compile cache and the page cache
        for threads in (1, 2):
            n, w = [], []
            for _ in range(args.runs):
                n.append(native(threads))
                w.append(wadup(threads))
            (nw, nc), (ww, wc) = min(n), min(w)
            print(f"threads {threads}: native yara {nw:.3f} s ({nc:.3f} s CPU), wadup {ww:.3f} s ({wc:.3f} s CPU);"
                  f" ratio {ww / nw:.2f} wall-clock, {wc / nc:.2f} CPU ({total / 2**20 / ww:.1f} MiB/s)")
        rows = subprocess.run(["sqlite3", out, "select count(*) from yara_matches; select count(*) from yara_strings"],
                              capture_output=True, text=True).stdout.split()
        print(f"last wadup run: {rows[0] if rows else '?'} yara_matches rows, {rows[1] if len(rows) > 1 else '?'} yara_strings rows")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
