#!/usr/bin/env python3
"""WADUP durable-runs benchmark: dedup, the cost of resume bookkeeping, and scale in the number of files.

Measures, in one run and each beside a baseline from the same run (release binary, standard modules):
  - dedup: a folder holding 6 copies (in different subfolders) of the same archives (a generated
    5,000-entry ZIP, pip and setuptools wheels and a JDK's src.zip where they are installed) against a
    folder holding one copy; and the 6 copies with --no-dedup (every occurrence processed);
  - resume bookkeeping: 20,000 small files on 2 threads (alternated, best of 9), against the same run with the per-input
    records switched off (`--tuning no-input-records`, a hidden switch that exists only
    for this measurement: such a run cannot be resumed);
  - scale: peak RSS, contents/s and database size for 100,000 and 300,000 tiny files (and
    1,000,000 with --million).
Every time is the best of --runs runs (default 3).

Usage: python3 Benchmarks/durable_benchmark.py [--runs N] [--million] [--skip-scale]
"""
import argparse, glob, os, random, shutil, subprocess, sys, tempfile, time, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.path.join(ROOT, ".build", "release", "wadup")
STANDARD = os.path.join(ROOT, ".build", "guest-modules", "standard")


def run(cmd, env=None):
    """Runs cmd, returns (seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - start
    err = p.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed ({status}): {err}")
    return elapsed, usage.ru_maxrss / 1024


def wadup(inputs, out, runs, *extra, env=None):
    def once():
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(out + suffix):
                os.remove(out + suffix)
        return run([WADUP, "--modules", STANDARD, "--input", inputs, "--output", out, *extra], env=env)
    return min((once() for _ in range(runs)), key=lambda r: r[0])


def archives(folder):
    """The archives every copy holds: a generated ZIP and those installed on this machine."""
    os.makedirs(folder)
    rng = random.Random(5)
    words = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))) for _ in range(2000)]
    with zipfile.ZipFile(os.path.join(folder, "generated.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(5000):
            z.writestr(f"src/p{i % 50}/F{i}.java", " ".join(rng.choice(words) for _ in range(rng.randint(50, 800))))
    found = ["generated.zip"]
    candidates = sorted(glob.glob("/root/.pyenv/versions/*/lib/python*/ensurepip/_bundled/*.whl"))[:2]
    candidates += [p for p in ("/usr/lib/jvm/temurin-25-jdk-amd64/lib/src.zip",) if os.path.exists(p)]
    for path in candidates:
        shutil.copy(path, folder)
        found.append(os.path.basename(path))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--million", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(WADUP):
        sys.exit("build first: bash scripts/setup.sh")
    work = tempfile.mkdtemp(prefix="wadup-durable-")
    rows = []
    try:
        one = os.path.join(work, "one")
        names = archives(os.path.join(one, "copy1"))
        six = os.path.join(work, "six")
        for i in range(1, 7):
            shutil.copytree(os.path.join(one, "copy1"), os.path.join(six, f"copy{i}"))
        size = sum(os.path.getsize(os.path.join(one, "copy1", n)) for n in names)
        out = os.path.join(work, "out.db")
        t1, _ = wadup(one, out, args.runs)
        t6, _ = wadup(six, out, args.runs)
        t6n, _ = wadup(six, out, args.runs, "--no-dedup")
        what = f"{', '.join(names)} ({size / 1e6:.0f} MB)"
        rows.append((f"6 copies of {what}", f"{t6:.2f} s", f"1 copy: {t1:.2f} s", f"{t6 / t1:.2f}x"))
        rows.append(("the same 6 copies with --no-dedup", f"{t6n:.2f} s", f"1 copy: {t1:.2f} s", f"{t6n / t1:.2f}x"))

        small = os.path.join(work, "small")
        os.makedirs(small)
        rng = random.Random(1)
        for i in range(20000):
            d = os.path.join(small, f"d{i % 100:02d}")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"f{i}.bin"), "wb") as f:
                f.write(rng.randbytes(rng.randint(1024, 8192)))
        # Alternated, best of 9 each: the difference is smaller than this machine's run-to-run noise.
        ts, tb = 1e9, 1e9
        for _ in range(9):
            ts = min(ts, wadup(small, out, 1, "--threads", "2")[0])
            tb = min(tb, wadup(small, out, 1, "--threads", "2", "--tuning", "no-input-records")[0])
        rows.append(("20,000 small files, 2 threads, with per-input records (resumable)", f"{20000 / ts:,.0f} contents/s",
                     f"without them: {20000 / tb:,.0f} contents/s", f"{ts / tb:.3f}x time"))

        if not args.skip_scale:
            counts = [100_000, 300_000] + ([1_000_000] if args.million else [])
            tiny = os.path.join(work, "tiny")
            made = 0
            peaks = {}
            for n in counts:
                while made < n:
                    d = os.path.join(tiny, f"d{made // 1000:04d}")
                    os.makedirs(d, exist_ok=True)
                    with open(os.path.join(d, f"f{made}"), "wb") as f:
                        f.write(made.to_bytes(8, "little") * rng.randint(1, 8))
                    made += 1
                t, rss = wadup(tiny, out, 1, "--threads", "2")
                peaks[n] = rss
                rows.append((f"{n:,} tiny files, 2 threads", f"{n / t:,.0f} contents/s, peak RSS {rss:.0f} MiB",
                             f"database {os.path.getsize(out) / 2**20:.0f} MiB",
                             f"{rss / peaks[counts[0]]:.2f}x the peak of {counts[0]:,}" if n != counts[0] else ""))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("| measurement | WADUP | baseline (same run) | ratio |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
