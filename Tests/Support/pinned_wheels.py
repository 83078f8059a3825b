"""Pinned PyPI wheels the tests' native readers run (pdfid, oletools): downloaded once with
`--require-hashes` from a requirements file beside this one, unpacked into the build cache
(`$WADUP_BUILD_CACHE`, default ~/.cache/wadup/build) as `PREFIX-KEY/`, KEY the file's sha256, so a
second clone downloads nothing and a changed pin downloads again."""
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("WADUP_BUILD_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "wadup", "build")


def site(requirements_name, prefix):
    """The folder holding the unpacked wheels of HERE/`requirements_name` (for sys.path or PYTHONPATH)."""
    requirements = os.path.join(HERE, requirements_name)
    with open(requirements, "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()[:16]
    folder = os.path.join(CACHE, prefix + "-" + key)
    if not os.path.isdir(folder):
        os.makedirs(CACHE, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=CACHE)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                        "--only-binary=:all:", "--require-hashes", "-d", tmp + "/wheels", "-r", requirements],
                       check=True, capture_output=True)
        for wheel in glob.glob(tmp + "/wheels/*.whl"):
            zipfile.ZipFile(wheel).extractall(tmp + "/site")
        os.rename(tmp + "/site", folder)  # complete folders only: an interrupted download leaves none
        shutil.rmtree(tmp)
    return folder
