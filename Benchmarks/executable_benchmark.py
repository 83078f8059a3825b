#!/usr/bin/env python3
"""The executable module against the native readers on the same files, in the same run.

Files: the samples of the module's test (Tests/Support/executable_expected.py --make: the machine's
PE launchers and installers, ELF programs, libraries and objects, Mach-O objects) plus every ELF
library in /usr/lib/x86_64-linux-gnu up to --libraries files. Timed, best of --repeat:
- wadup with only executable.wasm (--modules, 1 or --threads threads), the whole run (start-up included);
- native: pefile (parse, imphash, overlay, section entropy) in one Python process for the PE files,
  and `readelf -W -h -S --dyn-syms -n` once per ELF file; `llvm-readobj --sections` + `llvm-nm` per
  Mach-O file. The ratio is wadup's time over the native time (lower is better).

Usage: /usr/bin/python3 Benchmarks/executable_benchmark.py [--libraries N] [--repeat R] [--threads T]
"""
import argparse, os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.environ.get("WADUP_BINARY", os.path.join(ROOT, ".build", "release", "wadup"))
MODULE = os.path.join(ROOT, ".build", "guest-modules", "standard", "executable.wasm")

PEFILE = """
import pefile, sys
for path in sys.argv[1:]:
    pe = pefile.PE(path)
    pe.get_imphash(); pe.get_overlay_data_start_offset()
    for s in pe.sections: s.get_entropy()
"""


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--libraries", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="wadup-exe-bench-")
    try:
        inputs = os.path.join(work, "in")
        subprocess.run([sys.executable, os.path.join(ROOT, "Tests", "Support", "executable_expected.py"), "--make", inputs], check=True)
        lib = "/usr/lib/x86_64-linux-gnu"
        names = sorted(f for f in os.listdir(lib) if ".so" in f and os.path.isfile(os.path.join(lib, f)) and not os.path.islink(os.path.join(lib, f)))
        for f in names[:args.libraries]:
            with open(os.path.join(lib, f), "rb") as src:
                if src.read(4) == b"\x7fELF":
                    shutil.copyfile(os.path.join(lib, f), os.path.join(inputs, "lib-" + f))
        files = sorted(os.path.join(inputs, f) for f in os.listdir(inputs))
        kinds = {"pe": [], "elf": [], "macho": []}
        for f in files:
            magic = open(f, "rb").read(4)
            kinds["pe" if magic[:2] == b"MZ" else "elf" if magic == b"\x7fELF" else "macho"].append(f)
        total = sum(os.path.getsize(f) for f in files)
        modules = os.path.join(work, "modules")
        os.makedirs(modules)
        shutil.copy(MODULE, modules)

        def wadup():
            out = os.path.join(work, "out.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(out + suffix):
                    os.remove(out + suffix)
            subprocess.run([WADUP, "--modules", modules, "--input", inputs, "--output", out, "--threads", str(args.threads), "--no-dedup"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def native():
            subprocess.run([sys.executable, "-c", PEFILE] + kinds["pe"], check=True, stdout=subprocess.DEVNULL)
            for f in kinds["elf"]:
                subprocess.run(["readelf", "-W", "-h", "-S", "--dyn-syms", "-n", f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for f in kinds["macho"]:
                subprocess.run(["llvm-readobj", "--sections", f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                subprocess.run(["llvm-nm", "-P", "--extern-only", f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        w = best(wadup, args.repeat)
        n = best(native, args.repeat)
        print(f"executable benchmark: {len(files)} files ({len(kinds['pe'])} PE, {len(kinds['elf'])} ELF, {len(kinds['macho'])} Mach-O), "
              f"{total / 1e6:.1f} MB; best of {args.repeat}")
        print(f"  wadup (executable only, {args.threads} thread(s)): {w:.2f} s")
        print(f"  native (pefile + readelf + llvm-readobj/llvm-nm):  {n:.2f} s")
        print(f"  ratio wadup / native: {w / n:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
