#!/usr/bin/env python3
"""How fast would zip_parser be on the wasmtime engine? The same module, the same archive, timed
inside `process` under WADUP (WasmKit) and under wasmtime in the same run.

wasmtime runs through its official Python bindings (the `wasmtime` wheel from PyPI bundles the
C API library the roadmap's engine would load), installed by this script into
.build/wasmtime-py. The host functions there are a minimal Python version of WADUP's ABI
(contents read, entries copied out, rows read), so the wasmtime figure includes Python's
per-call overhead (10,000 emits and rows): it is an upper bound for the engine.

Usage: python3 Benchmarks/engine_comparison.py [--entries N] [--mb M]
Needs: swift build -c release && scripts/build-guests.sh
"""
import argparse, os, shutil, sqlite3, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from zip_benchmark import STANDARD, make_archive, module_ms, run_wadup  # noqa: E402

WASMTIME_VERSION = "50.0.1"
TARGET = os.path.join(ROOT, ".build", "wasmtime-py")


def wasmtime_module():
    if not os.path.exists(os.path.join(TARGET, "wasmtime")):
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--target", TARGET, f"wasmtime=={WASMTIME_VERSION}"])
    sys.path.insert(0, TARGET)
    import wasmtime
    return wasmtime


def run_wasmtime(wasmtime, module_path, content):
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    module = wasmtime.Module.from_file(engine, module_path)
    linker = wasmtime.Linker(engine)
    i32 = wasmtime.ValType.i32()
    state = {"emitted": 0, "bytes": 0, "rows": 0}
    memory = []

    def read_content(offset, length, dest):
        memory[0].write(store, content[offset:offset + length], dest)
        return 0

    def emit_bytes(ptr, length, name_ptr, name_len):
        state["bytes"] += len(memory[0].read(store, ptr, ptr + length))  # copied out, as WADUP does
        state["emitted"] += 1
        return 0

    def emit_slice(offset, length, name_ptr, name_len):
        state["emitted"] += 1
        return 0

    def insert_row(table, ptr, length):
        memory[0].read(store, ptr, ptr + length)
        state["rows"] += 1
        return 0

    functions = [("read_content", read_content, 3), ("get_content_size", lambda: len(content), 0),
                 ("emit_subcontent_bytes", emit_bytes, 4), ("emit_subcontent_slice", emit_slice, 4),
                 ("define_table", lambda a, b, c, d: 0, 4), ("insert_row", insert_row, 3)]
    for name, function, arity in functions:
        linker.define_func("env", name, wasmtime.FuncType([i32] * arity, [i32]), function)
    instance = linker.instantiate(store, module)
    memory.append(instance.exports(store)["memory"])
    process = instance.exports(store)["process"]
    start = time.perf_counter()
    status = process(store)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"process returned {status} under wasmtime")
    return elapsed, state


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--mb", type=int, default=210)
    args = ap.parse_args()
    module_path = os.path.join(STANDARD, "zip_parser.wasm")
    if not os.path.exists(module_path):
        sys.exit("build first: swift build -c release && bash scripts/build-guests.sh")
    wasmtime = wasmtime_module()
    work = tempfile.mkdtemp(prefix="wadup-engines-")
    try:
        indir = os.path.join(work, "in")
        modules = os.path.join(work, "modules")
        os.makedirs(indir)
        os.makedirs(modules)
        archive = os.path.join(indir, "bench.zip")
        total = make_archive(archive, args.entries, args.mb)
        shutil.copy(module_path, modules)
        out = os.path.join(work, "out.db")

        def wasmkit():
            run_wadup(modules, indir, out, "--max-recursion-depth", "0")
            db = sqlite3.connect(out)
            ms = module_ms(db, "zip_parser")
            emitted = db.execute("select sum(emitted) from zip_entries").fetchone()[0]
            db.close()
            if emitted != args.entries:
                sys.exit(f"WADUP emitted {emitted} entries, expected {args.entries}")
            return ms / 1000

        content = open(archive, "rb").read()
        tk = min(wasmkit() for _ in range(3))
        runs = [run_wasmtime(wasmtime, module_path, content) for _ in range(3)]
        tw, state = min(runs, key=lambda r: r[0])
        if (state["emitted"], state["bytes"]) != (args.entries, total):
            sys.exit(f"wasmtime run emitted {state['emitted']} entries, {state['bytes']} bytes; expected {args.entries}, {total}")
        print(f"archive: {args.entries} entries, {total / 1e6:.0f} MB uncompressed; zip_parser's process, best of 3")
        print("| engine | time | inflated MB/s | ratio |")
        print("|---|---|---|---|")
        print(f"| WasmKit (WADUP) | {tk:.2f} s | {total / 1e6 / tk:.0f} | 1.00x |")
        print(f"| wasmtime {WASMTIME_VERSION} (Python host functions) | {tw:.2f} s | {total / 1e6 / tw:.0f} | {tk / tw:.2f}x faster |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
