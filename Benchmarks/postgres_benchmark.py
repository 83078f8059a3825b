#!/usr/bin/env python3
"""WADUP PostgreSQL benchmark: the shared store against SQLite, and what one server can coordinate.

Starts its own private PostgreSQL server (scripts/pg-test-server.sh; stopped at the end) and measures,
in one run:
  - contents/s for the small-files corpus (20,000 files of 1-8 KiB, the host benchmark's) with the
    trivial module: SQLite, 2 threads (the baseline), beside PostgreSQL with 1 process of 2 threads,
    2 processes of 1 thread, 3 processes of 1 thread and 2 processes of 2 threads (all on this
    machine's 2 cores); the same with the standard modules (byte_counter, sqlite_parser, zip_parser).
    Time runs from the start of the first process to the end of the last; best of --runs.
  - the server's CPU seconds per 1,000 contents (its processes' utime + stime, from /proc) in the
    1-process PostgreSQL run;
  - the coordination ceiling with pgbench on WADUP's own tables: claims/s (the claim statement WADUP
    runs, one one-input chunk per claim, 8 clients) and single-tree commits/s (a chunk row locked,
    one content and its input row written, one transaction each, 8 clients); each 10 s on a queue of
    2,000,000 inputs;
  - per-core input rates of the standard modules for 1 KB, 100 KB and 10 MB inputs (SQLite, 1 thread),
    from which the worker count that would saturate this server is extrapolated.

Usage: python3 Benchmarks/postgres_benchmark.py [--small N] [--runs N] [--skip-pgbench]
"""
import argparse, glob, os, random, shutil, subprocess, sys, tempfile, time

from benchcorpus import small_files, wat_modules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WADUP = os.path.join(ROOT, ".build", "release", "wadup")
STANDARD = os.path.join(ROOT, ".build", "guest-modules", "standard")
PGBIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]


def server_env():
    values = dict(line.strip().split("=", 1) for line in open(os.path.join(ROOT, ".build", "pgtest.env")) if "=" in line)
    env = dict(os.environ, PGPASSWORD=values["WADUP_TEST_PG_PASSWORD"], PGPASSFILE="/nonexistent")
    return values, env


def psql(port, env, db, sql):
    return subprocess.check_output([os.path.join(PGBIN, "psql"), "-h", "127.0.0.1", "-p", port, "-U", "wadup", "-d", db, "-Atq",
                                    "-v", "ON_ERROR_STOP=1", "-c", sql], env=env, text=True).strip()


def server_cpu(datadir):
    """CPU seconds of the server: the postmaster's own and its ended backends' (cutime, cstime), and its live children's."""
    pid = int(open(os.path.join(datadir, "postmaster.pid")).readline())
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            if int(p) == pid:
                total += sum(int(f) for f in fields[11:15])
            elif int(fields[1]) == pid:
                total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def run_parallel(cmds, env):
    start = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env) for c in cmds]
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit(f"wadup failed: {err.decode()}")
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-pgbench", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(WADUP) or not os.path.exists(os.path.join(STANDARD, "zip_parser.wasm")):
        sys.exit("build first: bash scripts/setup.sh")
    subprocess.check_call(["bash", os.path.join(ROOT, "scripts", "pg-test-server.sh"), "start"])
    work = tempfile.mkdtemp(prefix="wadup-pgbench-")
    try:
        values, env = server_env()
        port, datadir = values["WADUP_TEST_PG_PORT"], os.path.join(values["WADUP_TEST_PG_DIR"], "data")
        trivial = wat_modules(work, ["trivial"])["trivial"]
        standard = os.path.join(work, "mod-standard")
        os.makedirs(standard)
        for name in ("byte_counter", "sqlite_parser", "zip_parser"):
            shutil.copy(os.path.join(STANDARD, name + ".wasm"), standard)
        rnd = random.Random(42)
        small = small_files(os.path.join(work, "small"), args.small, rnd)

        counter = [0]

        def pg_run(modules, processes, threads):
            def once():
                counter[0] += 1
                db = f"bench_{counter[0]}"
                psql(port, env, "postgres", f"CREATE DATABASE {db}")
                url = f"postgres://wadup@127.0.0.1:{port}/{db}?sslmode=disable"
                cpu0 = server_cpu(datadir)
                t = run_parallel([[WADUP, "--modules", modules, "--input", small, "--output", url, "--threads", str(threads)]] * processes, env)
                cpu = server_cpu(datadir) - cpu0
                n = int(psql(port, env, db, "SELECT count(*) FROM __wadup_content"))
                assert n == args.small, (n, args.small)
                psql(port, env, "postgres", f"DROP DATABASE {db}")
                return t, cpu
            return min((once() for _ in range(args.runs)), key=lambda r: r[0])

        def sqlite_run(modules, inputs, threads, count):
            out = os.path.join(work, "out.db")
            def once():
                for s in ("", "-wal", "-shm"):
                    if os.path.exists(out + s):
                        os.remove(out + s)
                return run_parallel([[WADUP, "--modules", modules, "--input", inputs, "--output", out, "--threads", str(threads)]], env)
            return count / min(once() for _ in range(args.runs))

        rows = []
        server_cpu_per_k = None
        for label, modules in (("trivial module", trivial), ("standard modules", standard)):
            base = sqlite_run(modules, small, 2, args.small)
            rows.append((f"{args.small} small files, {label}: SQLite, 1 process x 2 threads", f"{base:,.0f} contents/s", "baseline", "1.00x"))
            for processes, threads in ((1, 2), (2, 1), (3, 1), (2, 2)):
                t, cpu = pg_run(modules, processes, threads)
                rate = args.small / t
                rows.append((f"{args.small} small files, {label}: PostgreSQL, {processes} process(es) x {threads} thread(s)",
                             f"{rate:,.0f} contents/s", f"server CPU {cpu:.2f} s", f"{rate / base:.2f}x SQLite"))
                print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
                if processes == 1 and label == "trivial module":
                    server_cpu_per_k = cpu / args.small * 1000

        # Per-core input rates by input size (standard modules, SQLite, 1 thread).
        sizes = {"1 KB": (1024, 5000), "100 KB": (100 * 1024, 1000), "10 MB": (10 << 20, 12)}
        rates = {}
        for name, (size, count) in sizes.items():
            d = os.path.join(work, "size-" + name.replace(" ", ""))
            os.makedirs(d)
            for i in range(count):
                with open(os.path.join(d, f"{i:05d}.bin"), "wb") as f:
                    f.write(rnd.randbytes(size))
            rates[name] = sqlite_run(standard, d, 1, count)

        claims = commits = None
        if not args.skip_pgbench:
            psql(port, env, "postgres", "CREATE DATABASE coord")
            empty = os.path.join(work, "empty")
            os.makedirs(empty)
            with open(os.path.join(empty, "one.bin"), "wb") as f:
                f.write(b"x")
            subprocess.check_call([WADUP, "--modules", trivial, "--input", empty, "--output", f"postgres://wadup@127.0.0.1:{port}/coord?sslmode=disable"],
                                  env=env, stderr=subprocess.DEVNULL)
            # 2,000,000 one-input chunks: each claim below takes one, so the queue never runs dry in 10 s.
            psql(port, env, "coord", "INSERT INTO __wadup_queue (seq, path) SELECT g, convert_to('dir/' || g, 'UTF8') FROM generate_series(1, 2000000) g")
            psql(port, env, "coord", "INSERT INTO __wadup_chunks (id, first_seq, last_seq) SELECT g, g, g FROM generate_series(1, 2000000) g")
            psql(port, env, "coord", "VACUUM ANALYZE __wadup_queue")
            psql(port, env, "coord", "VACUUM ANALYZE __wadup_chunks")
            claim = os.path.join(work, "claim.sql")
            with open(claim, "w") as f:
                f.write("""WITH expired AS (SELECT id FROM __wadup_chunks WHERE state = 'claimed' AND lease_until < now() ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED),
fresh AS (SELECT id FROM __wadup_chunks WHERE state = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED),
chosen AS (SELECT id FROM (SELECT id, 0 AS pass FROM expired UNION ALL SELECT id, 1 FROM fresh) c ORDER BY pass, id LIMIT 1),
claimed AS (UPDATE __wadup_chunks SET state = 'claimed', lease_owner = 1, lease_until = now() + make_interval(secs => 60), attempts = attempts + 1
    WHERE id = ANY (ARRAY (SELECT id FROM chosen)) RETURNING id, first_seq, last_seq, attempts)
SELECT coalesce(json_agg(json_build_array(c.id, q.seq, encode(q.path, 'hex'), q.reason, q.size, p.root_uuid) ORDER BY q.seq), '[]')::text
FROM claimed c JOIN __wadup_queue q ON q.seq BETWEEN c.first_seq AND c.last_seq LEFT JOIN __wadup_partial p ON p.seq = q.seq
WHERE c.attempts = 1 OR NOT EXISTS (SELECT 1 FROM __wadup_input i WHERE i.seq = q.seq);
""")
            commit = os.path.join(work, "commit.sql")
            with open(commit, "w") as f:
                f.write("""\\set s random(1, 2000000)
BEGIN;
SELECT id FROM __wadup_chunks WHERE id = :s FOR UPDATE;
INSERT INTO __wadup_content (uuid, filename, parent_uuid, processed_at, status, depth, size, sha256) VALUES (gen_random_uuid()::text, 'dir/file', NULL, 0, 'success', 0, 4096, md5(random()::text) || md5(random()::text));
INSERT INTO __wadup_input (path, root_uuid, run_id, seq) VALUES ('\\x00', 'r', 1, :s);
COMMIT;
""")

            def pgbench(script):
                # Without JIT, as WADUP's own sessions run (see PostgresSession.connect).
                out = subprocess.check_output([os.path.join(PGBIN, "pgbench"), "-h", "127.0.0.1", "-p", port, "-U", "wadup", "-n", "-c", "8", "-j", "2",
                                               "-T", "10", "-f", script, "coord"], env=dict(env, PGOPTIONS="-c jit=off"), text=True)
                return float([l for l in out.splitlines() if l.startswith("tps")][0].split("=")[1].split()[0])
            claims = pgbench(claim)
            commits = pgbench(commit)

        print("\n| measurement | result | beside | ratio |\n|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        if server_cpu_per_k is not None:
            print(f"\nserver CPU per 1,000 contents (1 process, trivial module): {server_cpu_per_k:.3f} s")
        print("\n| average input | inputs/s per worker core (standard modules) |\n|---|---|")
        for name, rate in rates.items():
            print(f"| {name} | {rate:,.1f} |")
        if claims:
            print(f"\npgbench, 8 clients, 10 s: {claims:,.0f} claims/s (one input each), {commits:,.0f} single-tree commits/s")
            # A worker claims about a second of work at once (the batch adapts) and its writer commits
            # its finished trees every 50 ms, so per worker core: ~1 claim/s and <= 20 commits/s, plus
            # the server's CPU per content. The first limit reached is the server's CPU.
            print("\n| average input | workers (cores) that saturate this 2-core server | limit |\n|---|---|---|")
            for name, rate in rates.items():
                cpu_bound = 2 / (server_cpu_per_k / 1000 * rate) if server_cpu_per_k else float("inf")
                claim_bound = claims / 1.0
                commit_bound = commits / 20.0
                n = min(cpu_bound, claim_bound, commit_bound)
                limit = "server CPU per content" if n == cpu_bound else ("claims" if n == claim_bound else "commits")
                print(f"| {name} | {n:,.0f} | {limit} |")
    finally:
        subprocess.call(["bash", os.path.join(ROOT, "scripts", "pg-test-server.sh"), "stop"])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
