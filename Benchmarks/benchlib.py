"""What the benchmarks share: timing a command, and picking the same real files of this machine on
every run (sorted walks, regular readable files, links not followed)."""
import glob, os, resource, shutil, subprocess, sys, tempfile, time


def timed(cmd, **kw):
    """(wall-clock seconds, CPU seconds: user + system of the command and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best(command, repeat):
    """The shortest wall-clock time of `repeat` runs of `command`."""
    return min(timed(command)[0] for _ in range(repeat))


def standard_module_folder(root, name, work):
    """A modules folder holding only the built standard Python module `name` (NAME.py and its
    vendored packages' NAME.d, when it has one), for `wadup --modules`."""
    built = os.path.join(root, ".build", "guest-modules", "standard")
    folder = os.path.join(work, "modules")
    os.makedirs(folder)
    shutil.copy(os.path.join(built, name + ".py"), folder)
    if os.path.isdir(os.path.join(built, name + ".d")):
        shutil.copytree(os.path.join(built, name + ".d"), os.path.join(folder, name + ".d"))
    return folder


def standard_module_against_native(root, name, make, distinct, copies, repeat, threads, summary):
    """A standard Python module in WADUP against Debian's native CPython 3.11 running the same
    NAME.py (and its vendored NAME.d) through Benchmarks/native_wadup.py, over the same inputs:
    `make(folder)` is the command that writes the corpus, made `copies` times with
    `distinct(bytes, copy)` so that dedup skips no copy; whole runs, best of `repeat`, WADUP on each
    of `threads`; `summary(query)` says what the run found (`query(sql)` asks its database)."""
    wadup_binary = os.environ.get("WADUP_BINARY", os.path.join(root, ".build", "release", "wadup"))
    if not os.path.exists(wadup_binary) or not os.path.exists(os.path.join(root, ".build", "guest-modules", "standard", name + ".py")):
        sys.exit("build first: swift build -c release && bash scripts/build-guests.sh")
    native_python = "/usr/bin/python3"
    work = tempfile.mkdtemp(prefix="wadup-%s-bench-" % name)
    try:
        made, inputs = os.path.join(work, "made"), os.path.join(work, "in")
        subprocess.run(make(made), check=True)
        os.makedirs(inputs)
        for copy in range(copies):
            for file in sorted(os.listdir(made)):
                data = distinct(open(os.path.join(made, file), "rb").read(), copy)
                open(os.path.join(inputs, "%d-%s" % (copy, file)), "wb").write(data)
        total = sum(os.path.getsize(os.path.join(inputs, f)) for f in os.listdir(inputs))
        modules = standard_module_folder(root, name, work)
        out = os.path.join(work, "out.db")
        wadup = {t: best([wadup_binary, "--modules", modules, "--input", inputs, "--output", out, "--overwrite", "--threads", str(t)], repeat)
                 for t in threads}
        native = best([native_python, os.path.join(root, "Benchmarks", "native_wadup.py"), os.path.join(modules, name + ".py"), inputs], repeat)
        query = lambda sql: subprocess.run(["sqlite3", out, sql], capture_output=True, text=True).stdout.strip()
        print(f"{name} benchmark: {len(os.listdir(inputs))} inputs, {total / 1e6:.1f} MB, {query('SELECT count(*) FROM __wadup_content')} contents, "
              f"{summary(query)} ({copies} copies), best of {repeat}")
        print(f"  native CPython 3.11, the same {name}.py (one process): {native:.2f} s")
        for t, seconds in wadup.items():
            print(f"  wadup ({name}.py alone, wasmtime), {t} thread(s): {seconds:.2f} s = {seconds / native:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def regular_files(root, min_size=0, max_size=None):
    """(path, size) of the regular readable files under `root`, in sorted walk order."""
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(folder, n)
            if os.path.islink(p) or not os.path.isfile(p) or not os.access(p, os.R_OK):
                continue
            size = os.path.getsize(p)
            if size >= min_size and (max_size is None or size <= max_size):
                yield p, size


def real_files(limit_bytes, max_file, roots, max_count=10**6):
    """Regular readable files under `roots`, sorted, until `limit_bytes` (or `max_count` files):
    the same set on every run."""
    picked, total = [], 0
    for root in roots:
        for p, size in regular_files(root, max_size=max_file):
            picked.append(p)
            total += size
            if total >= limit_bytes or len(picked) >= max_count:
                return picked, total
    return picked, total


def windows_pe_files():
    """The Windows PE files Python installations keep (pip/distlib's and setuptools' launchers, the
    wininst installers), Debian's and pyenv's, sorted."""
    home = os.path.expanduser("~/.pyenv/versions/*/lib/python*")
    return sorted(set(glob.glob("/usr/lib/python3*/**/*.exe", recursive=True)
                      + glob.glob(home + "/site-packages/**/*.exe", recursive=True)
                      + glob.glob(home + "/distutils/command/*.exe")))
