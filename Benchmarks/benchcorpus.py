"""What the benchmarks share: their WAT modules compiled, and the corpus of small files.

Imported by the benchmark scripts beside it (run as `python3 Benchmarks/NAME.py`).
"""
import os, subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wat_modules(work, names):
    """Compiles Benchmarks/modules/NAME.wat for each name into its own folder under `work`
    (a folder is what --modules takes); returns {name: folder}."""
    folders = {}
    for name in names:
        folder = os.path.join(work, "mod-" + name)
        os.makedirs(folder)
        subprocess.check_call(["wat2wasm", os.path.join(ROOT, "Benchmarks", "modules", name + ".wat"), "-o", os.path.join(folder, name + ".wasm")])
        folders[name] = folder
    return folders


def small_files(folder, n, rnd):
    """Writes `n` files of 1-8 KiB of `rnd`'s random bytes under `folder`, 1,000 to a subfolder; returns `folder`."""
    for i in range(n):
        sub = os.path.join(folder, f"{i // 1000:03d}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"{i:06d}.bin"), "wb") as f:
            f.write(rnd.randbytes(rnd.randint(1024, 8192)))
    return folder
