#!/usr/bin/env python3
"""The analyst's view at scale: a run of N contents (default 100,000: ZIPs of small files, so
every content has rows), then `wadup report` (time, size per 100k contents), the report in headless
Chromium (time until the page is usable: data parsed, tree drawn), `wadup export --format jsonl`
(time, peak memory) and `wadup tree` (time). Needs a release build and the standard modules.

usage: python3 Benchmarks/report_benchmark.py [--contents N]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.path.join(ROOT, ".build", "release", "wadup")
STANDARD = os.path.join(ROOT, ".build", "guest-modules", "standard")


def timed(cmd, **kw):
    """Seconds and peak resident MB of one command (GNU time's %M)."""
    rss = tempfile.mktemp()
    start = time.perf_counter()
    subprocess.run(["/usr/bin/time", "-o", rss, "-f", "%M"] + cmd, check=True, **kw)
    seconds = time.perf_counter() - start
    with open(rss) as f:
        peak = int(f.read().split()[-1]) / 1024
    os.unlink(rss)
    return seconds, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--contents", type=int, default=100_000)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="wadup-report-bench-")
    try:
        per_zip = 1000
        zips = max(1, args.contents // (per_zip + 1))
        inputs = os.path.join(work, "inputs")
        os.makedirs(inputs)
        for z in range(zips):
            with zipfile.ZipFile(os.path.join(inputs, "batch-%04d.zip" % z), "w") as f:
                for k in range(per_zip):
                    f.writestr("dir-%02d/file-%04d-%04d.txt" % (k % 20, z, k), "content %d of batch %d\n" % (k, z) * (1 + k % 7))
        modules = os.path.join(work, "modules")
        os.makedirs(modules)
        for name in ("zip_parser", "byte_counter"):
            shutil.copy(os.path.join(STANDARD, name + ".wasm"), modules)
        db = os.path.join(work, "run.db")
        run_s, _ = timed([WADUP, "--modules", modules, "--input", inputs, "--output", db], stderr=subprocess.DEVNULL)
        contents = int(subprocess.run(["sqlite3", db, "SELECT count(*) FROM __wadup_content"], capture_output=True, text=True, check=True).stdout)
        html = os.path.join(work, "run.html")
        report_s, report_rss = timed([WADUP, "report", db, "--output", html], stderr=subprocess.DEVNULL)
        size = os.path.getsize(html)
        jsonl = os.path.join(work, "run.jsonl")
        export_s, export_rss = timed([WADUP, "export", db, "--format", "jsonl", "--output", jsonl])
        tree_s, _ = timed([WADUP, "tree", db], stdout=subprocess.DEVNULL)
        browser = subprocess.run([sys.executable, os.path.join(ROOT, "Tests", "Support", "report_browser.py"), html, os.path.join(work, "shot.png"),
                                  json.dumps({"expand": ["batch-0000.zip", "dir-00/file-0000-0000.txt"], "search": "file-0007-0999"})],
                                 capture_output=True, text=True, check=True)
        seen = json.loads(browser.stdout)
        print("contents                %d (%d ZIPs of %d files; run %.1f s)" % (contents, zips, per_zip, run_s))
        print("wadup report            %.2f s, %.1f MB (%.1f MB per 100k contents), peak memory %.0f MB" % (report_s, size / 1e6, size / 1e6 * 100_000 / contents, report_rss))
        print("chromium usable after   %d ms in the page (script start to tree drawn), %d ms from navigation to ready" % (seen["ready_ms"], seen["ready_wall_ms"]))
        print("search hits             %d (%s)" % (seen["search"]["count"], ", ".join(seen["search"]["hits"][:2])))
        print("wadup export jsonl      %.2f s, %.1f MB of JSON Lines, peak memory %.0f MB" % (export_s, os.path.getsize(jsonl) / 1e6, export_rss))
        print("wadup tree              %.2f s" % tree_s)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
