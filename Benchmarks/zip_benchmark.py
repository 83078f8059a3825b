#!/usr/bin/env python3
"""ZIP benchmark: zip_parser + byte_counter + sqlite_parser on one archive, beside native baselines.

Generates an archive of N entries (default 10,000) and >= 200 MB uncompressed (deflated, level 6),
or takes --archive (e.g. a JDK's lib/src.zip), then, in the same run:
  - WADUP: `wadup --modules {zip_parser, byte_counter, sqlite_parser}` on 1 and on 2 threads: wall
    time and peak RSS. zip_parser emits every entry undecoded; each is inflated and CRC-checked by
    its own decoding run on whichever worker takes it (docs/modules/ABI.md, "Encoded sub-contents"),
    so 2 threads decode two entries at once;
  - this machine's ceiling for 2 threads against 1: two independent 1-thread runs of the archive
    started together (nothing shared, no serial part), as throughput against one run alone;
  - the time spent inside zip_parser (from __wadup_modules, the archive's run and every entry's
    decoding run), giving the module's rate (inflate, CRC-32, emitting, rows);
  - the DEFLATE decoder alone: the archive's raw streams, framed in one file, through the
    `inflate_probe` test probe (Guests/Probes/: the same decoder library, no checksum, nothing emitted);
  - baseline 1: Python's zipfile + hashlib + sqlite3 doing the same work, single-threaded as users
    run it (inflate every entry, sha256 every content, one row per content and per entry, one
    transaction);
  - baseline 2: `unzip -qq -d /dev/shm/...` then `sha256sum` of every extracted file.
With --huge MB, the archive is one entry of MB megabytes instead (an entry no core can share).

Every time is the best of 3 runs (this machine's timings vary by up to 2x from run to run).

Usage: python3 Benchmarks/zip_benchmark.py [--entries N] [--mb M] [--words] [--archive PATH] [--huge MB]
Needs: swift build -c release && scripts/build-guests.sh; unzip
"""
import argparse, hashlib, os, random, shutil, sqlite3, subprocess, sys, tempfile, time, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.path.join(ROOT, ".build", "release", "wadup")
STANDARD = os.path.join(ROOT, ".build", "guest-modules", "standard")
PROBES = os.path.join(ROOT, ".build", "guest-modules", "probes")


def measure(cmd):
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd} failed: {p.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def run_wadup(modules, indir, out, *options):
    """Runs wadup into a fresh `out`: (wall seconds, peak RSS MiB)."""
    if os.path.exists(out):
        os.remove(out)
    return measure([WADUP, "--modules", modules, "--input", indir, "--output", out, *options])


def module_ms(db, name):
    """Time WADUP spent inside `name`'s `process`, in milliseconds."""
    return db.execute("select total_time_ms from __wadup_modules where name = ?", (name,)).fetchone()[0]


BASELINE = r'''
import hashlib, sqlite3, sys, zipfile
archive, out = sys.argv[1], sys.argv[2]
db = sqlite3.connect(out)
db.execute("create table content(filename text, size integer, sha256 text)")
db.execute("create table zip_entries(path text, method integer, compressed_size integer, size integer, crc32_ok integer)")
data = open(archive, "rb").read()
db.execute("insert into content values (?,?,?)", (archive, len(data), hashlib.sha256(data).hexdigest()))
with zipfile.ZipFile(archive) as z:
    for info in z.infolist():
        body = z.read(info)  # inflates and checks the CRC
        db.execute("insert into zip_entries values (?,?,?,?,1)", (info.filename, info.compress_type, info.compress_size, info.file_size))
        db.execute("insert into content values (?,?,?)", (info.filename, len(body), hashlib.sha256(body).hexdigest()))
db.commit()
'''


UNZIP = r'''
set -e
rm -rf "$2" && mkdir -p "$2"
unzip -qq -d "$2" "$1"
find "$2" -type f -print0 | xargs -0 sha256sum > /dev/null
rm -rf "$2"
'''


def make_archive(archive, entries=10000, mb=210, words=False):
    """Writes the benchmark archive (deterministic: seeded); returns its uncompressed size."""
    rnd = random.Random(11)
    # Log-like text (templates, hosts, counters, ids): what archives of evidence mostly hold,
    # and deflate's typical case (about 5:1). `--words` makes near-incompressible word salad.
    if words:
        vocabulary = [bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9))) for _ in range(5000)]
        pieces = [b" ".join(rnd.choice(vocabulary) for _ in range(20000)) for _ in range(32)]
    else:
        templates = [b"GET /api/v1/items/%d HTTP/1.1 200 %d", b"user %d logged in from 10.0.%d.%d",
                     b"job %d finished in %d ms", b"WARN cache miss for key k%d (shard %d)", b"ERROR timeout after %d ms on conn %d"]
        hosts = [b"web%02d" % i for i in range(20)]
        def line(t):
            tpl = rnd.choice(templates)
            args_ = tuple(rnd.randint(0, 99999) for _ in range(tpl.count(b"%d")))
            return b"2026-11-26T%02d:%02d:%02d.%03dZ %s " % (t // 3600 % 24, t // 60 % 60, t % 60, rnd.randint(0, 999), rnd.choice(hosts)) + tpl % args_
        pieces = [b"\n".join(line(t) for t in range(k * 20000, k * 20000 + 20000)) for k in range(32)]
    per_entry = mb * 1_000_000 // entries
    total = 0
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for i in range(entries):
            size = rnd.randint(per_entry // 2, per_entry * 3 // 2)
            piece = rnd.choice(pieces)
            start = rnd.randint(0, len(piece) - 1)
            body = (b"entry %d\n" % i) + (piece[start:] + piece)[: size]
            z.writestr(f"dir{i % 50:02d}/file{i:05d}.txt", body)
            total += len(body)
    return total


def make_huge(archive, mb):
    """One deflated entry of `mb` MB of log-like text."""
    rnd = random.Random(5)
    hosts = [b"web%02d" % i for i in range(20)]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        with z.open("huge.log", "w", force_zip64=True) as f:
            written = 0
            while written < mb * 1_000_000:
                block = b"\n".join(b"2026-11-26T00:00:%02d.%03dZ %s GET /api/v1/items/%d HTTP/1.1 200 %d" % (
                    rnd.randint(0, 59), rnd.randint(0, 999), rnd.choice(hosts), rnd.randint(0, 99999), rnd.randint(0, 99999)) for _ in range(20000)) + b"\n"
                f.write(block)
                written += len(block)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--mb", type=int, default=210)
    ap.add_argument("--words", action="store_true", help="word salad instead of log lines (literal-heavy, worst case)")
    ap.add_argument("--archive", help="an existing ZIP (e.g. a JDK's lib/src.zip) instead of the generated one")
    ap.add_argument("--huge", type=int, help="one entry of this many MB instead")
    args = ap.parse_args()
    for m in ("standard/zip_parser", "standard/byte_counter", "standard/sqlite_parser", "probes/inflate_probe"):
        if not os.path.exists(os.path.join(ROOT, ".build", "guest-modules", m + ".wasm")):
            sys.exit("build first: swift build -c release && bash scripts/build-guests.sh")
    work = tempfile.mkdtemp(prefix="wadup-zipbench-")
    try:
        indir = os.path.join(work, "in")
        os.makedirs(indir)
        archive = os.path.join(indir, "bench.zip")
        if args.archive:
            shutil.copy(args.archive, archive)
        elif args.huge:
            make_huge(archive, args.huge)
        else:
            make_archive(archive, args.entries, args.mb, args.words)
        with zipfile.ZipFile(archive) as z:
            files = [i for i in z.infolist() if not i.is_dir()]
        args.entries = len(files)
        total = sum(i.file_size for i in files)
        deflated = [i for i in files if i.compress_type == zipfile.ZIP_DEFLATED]
        archive_mb = os.path.getsize(archive) / 1e6
        modules = os.path.join(work, "modules")
        os.makedirs(modules)
        for m in ("zip_parser", "byte_counter", "sqlite_parser"):
            shutil.copy(os.path.join(STANDARD, m + ".wasm"), modules)
        out = os.path.join(work, "out.db")
        subprocess.check_call(["cat", archive], stdout=subprocess.DEVNULL)  # warm the page cache

        tw1, rssw1 = min((run_wadup(modules, indir, out, "--threads", "1") for _ in range(3)), key=lambda r: r[0])
        tw, rssw = min((run_wadup(modules, indir, out, "--threads", "2") for _ in range(3)), key=lambda r: r[0])

        # This machine's ceiling for the same work: two independent 1-thread runs of the archive at
        # once (no shared serial part at all), as throughput against one run alone.
        def two_at_once():
            second = os.path.join(work, "in2")
            os.makedirs(second, exist_ok=True)
            if not os.path.exists(os.path.join(second, "bench.zip")):
                os.link(archive, os.path.join(second, "bench.zip"))
            for db in (out, out + ".2"):
                if os.path.exists(db):
                    os.remove(db)
            start = time.perf_counter()
            procs = [subprocess.Popen([WADUP, "--modules", modules, "--input", d, "--output", o, "--threads", "1"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL) for d, o in ((indir, out), (second, out + ".2"))]
            for p in procs:
                p.wait()
            return time.perf_counter() - start

        tpair = min(two_at_once() for _ in range(3))
        run_wadup(modules, indir, out, "--threads", "2")  # the database the checks below read
        db = sqlite3.connect(out)
        contents = db.execute("select count(*) from __wadup_content").fetchone()[0]
        emitted = db.execute("select sum(emitted), sum(crc32_ok) from zip_entries").fetchone()
        db.close()
        # The module's own inflate rate: the archive alone (entries recorded, not processed further),
        # timed by WADUP around zip_parser's `process` (inflate, CRC-32, emit, rows).
        def module_only():
            run_wadup(modules, indir, out, "--max-recursion-depth", "0")
            db = sqlite3.connect(out)
            ms = module_ms(db, "zip_parser")
            db.close()
            return ms

        zip_ms = min(module_only() for _ in range(3))

        # The decoder alone: every entry's raw stream, framed as (compressed size, size) u32 LE.
        probe_in = os.path.join(work, "probe-in")
        probe_modules = os.path.join(work, "probe-modules")
        os.makedirs(probe_in)
        os.makedirs(probe_modules)
        shutil.copy(os.path.join(PROBES, "inflate_probe.wasm"), probe_modules)
        with zipfile.ZipFile(archive) as z, open(archive, "rb") as f, open(os.path.join(probe_in, "streams"), "wb") as framed:
            for info in deflated:
                f.seek(info.header_offset)
                header = f.read(30)
                f.seek(info.header_offset + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little"))
                framed.write(info.compress_size.to_bytes(4, "little") + info.file_size.to_bytes(4, "little") + f.read(info.compress_size))

        def decoder_only():
            path = os.path.join(work, "probe.db")
            run_wadup(probe_modules, probe_in, path)
            db = sqlite3.connect(path)
            ms = module_ms(db, "inflate_probe")
            streams, inflated = db.execute("select streams, bytes from inflate_probe").fetchone()
            db.close()
            expected = (len(deflated), sum(i.file_size for i in deflated))
            if (streams, inflated) != expected:
                sys.exit(f"inflate_probe read {streams} streams, {inflated} bytes; expected {expected}")
            return ms

        decoder_ms = min(decoder_only() for _ in range(3))

        def baseline():
            path = os.path.join(work, "baseline.db")
            if os.path.exists(path):
                os.remove(path)
            return measure([sys.executable, "-c", BASELINE, archive, path])

        tb, rssb = min((baseline() for _ in range(3)), key=lambda r: r[0])
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else work
        tu, _ = min((measure(["bash", "-c", UNZIP, "unzip", archive, os.path.join(shm, "wadup-zipbench-unzip")]) for _ in range(3)), key=lambda r: r[0])

        print(f"archive: {args.entries} entries, {total / 1e6:.0f} MB uncompressed, {archive_mb:.0f} MB deflated; "
              f"WADUP recorded {contents} contents, {emitted[0]} entries emitted, {emitted[1]} CRCs ok")
        print("| measurement | WADUP | baseline: Python zipfile + hashlib + sqlite3 (same run) | ratio |")
        print("|---|---|---|---|")
        print(f"| wall time, 2 threads | {tw:.2f} s | {tb:.2f} s | {tw / tb:.2f}x |")
        print(f"| wall time, 1 thread | {tw1:.2f} s | {tb:.2f} s | {tw1 / tb:.2f}x |")
        print(f"| 2 threads against 1 | {tw1 / tw:.2f}x faster | | |")
        print(f"| this machine's ceiling: two independent 1-thread runs at once | {tpair:.2f} s for both: {2 * tw1 / tpair:.2f}x the throughput of one | | |")
        print(f"| second baseline: unzip -qq -d /dev/shm + sha256sum | {tw:.2f} s (2 threads) | {tu:.2f} s | {tw / tu:.2f}x |")
        print(f"| inflated MB/s | {total / 1e6 / (zip_ms / 1000):.0f} MB/s inside zip_parser: inflate, CRC-32, emit, rows ({zip_ms / 1000:.2f} s of module time) | "
              f"{total / 1e6 / tb:.0f} MB/s end to end | |")
        print(f"| DEFLATE decoder alone (inflate_probe, the {len(deflated)} deflated entries) | {sum(i.file_size for i in deflated) / 1e6 / (decoder_ms / 1000):.0f} MB/s ({decoder_ms / 1000:.2f} s) | | |")
        print(f"| peak RSS | {rssw:.0f} MiB on 2 threads, {rssw1:.0f} MiB on 1 | {rssb:.0f} MiB | |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
