"""What the benchmarks share: timing a command, and picking the same real files of this machine on
every run (sorted walks, regular readable files, links not followed)."""
import glob, os, resource, shutil, subprocess, time


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
