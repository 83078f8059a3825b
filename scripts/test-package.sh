#!/usr/bin/env bash
# Tests the release package (scripts/package.sh) on this machine made to look like one without
# Swift: in a private mount namespace (unshare -m), the toolchain (/opt/swift), this checkout's
# build folder and the system's libsqlite3 are hidden, then the unpacked package runs its main job.
# Its database must hold what the checkout's own build writes for the same inputs (compared with
# sqlite3, uuids and times aside). Also: ldd shows only system libraries, install.sh into a prefix
# and into one it cannot write, `wadup new` finds the packaged SDK, Python modules answer the same
# on both engines.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=$(.build/release/wadup --version | head -1 | cut -d' ' -f2)
name="wadup-$version-linux-$(uname -m)"
tarball="dist/$name.tar.gz"
[ -f "$tarball" ] || { echo "test-package: $tarball missing: run scripts/package.sh" >&2; exit 1; }
(cd dist && sha256sum -c --quiet "$name.tar.gz.sha256")
work=$(mktemp -d /tmp/wadup-package-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$tarball"
pkg="$work/$name"
fail() { echo "test-package: FAIL: $*" >&2; exit 1; }

# Only system libraries: no Swift runtime, nothing from the toolchain or the checkout.
libs=$(ldd "$pkg/bin/wadup")
echo "$libs" | grep -qiE "swift|/opt/|$root" && fail "bin/wadup links non-system libraries: $libs"
echo "$libs" | grep -q "$pkg/bin/../lib/wadup/libsqlite3.so.0" || fail "bin/wadup does not take libsqlite3 from lib/wadup: $libs"

inputs="$root/Tests/Fixtures/peer-wadup2"
swift_dir=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")
system_sqlite=$(readlink -f /lib/x86_64-linux-gnu/libsqlite3.so.0 2>/dev/null || true)
unshare -m bash -euo pipefail -c "
  mount -t tmpfs none '$swift_dir'
  mount -t tmpfs none '$root/.build'
  if [ -n '$system_sqlite' ]; then mount --bind /dev/null '$system_sqlite'; fi
  ! command -v swift >/dev/null || { echo 'swift still visible' >&2; exit 1; }
  '$pkg/bin/wadup' --version > '$work/version.txt'
  '$pkg/bin/wadup' --input '$inputs' --output '$work/package.db' 2> '$work/run.txt'
  '$pkg/bin/wadup' stats '$work/package.db' > '$work/stats.txt'
  cd '$work' && '$pkg/bin/wadup' new first_module --language c > '$work/new.txt'
  '$pkg/bin/wadup' new first_python --language python > '$work/new-python.txt'
  '$pkg/bin/wadup' try '$work/first_python/first_python.py' '$inputs/test1.txt' > '$work/try-python.txt'
"
grep -q "^engines: wasmtime .*($pkg/lib/wadup/libwasmtime.so)" "$work/version.txt" || fail "the package's wasmtime was not used: $(cat "$work/version.txt")"
grep -q "complete" "$work/run.txt" || fail "the main job did not complete: $(cat "$work/run.txt")"
grep -q "$pkg/bin/../share/wadup/sdk\|$pkg/share/wadup/sdk" "$work/first_module/build.sh" || fail "wadup new did not find the packaged SDK"
# A Python module on the packaged runtime (CPython for wasm32 and its standard library), toolchain hidden.
grep -q "^python modules: CPython 3.11" "$work/version.txt" || fail "the package's Python runtime was not found: $(cat "$work/version.txt")"
grep -q "first_python: 1 row" "$work/try-python.txt" || fail "a Python module did not run from the package: $(cat "$work/try-python.txt")"
[ -s "$work/first_python/wadup.pyi" ] || fail "wadup new --language python did not copy the packaged wadup.pyi"

# The same results as the checkout's build (which reads the same standard modules from the checkout).
.build/release/wadup --input "$inputs" --output "$work/checkout.db" 2>/dev/null
modules=$(ls "$pkg/share/wadup/modules" | grep -cE '\.(wasm|py)$')
# yara has no rules by default: its init declines and the run says so in one line.
grep -q "yara: no rules.*not loaded" "$work/run.txt" || fail "the run did not say that yara, without rules, was not loaded: $(cat "$work/run.txt")"
declined=$(grep -c "; not loaded" "$work/run.txt" || true)
[ "$(sqlite3 "$work/package.db" 'SELECT count(*) FROM __wadup_modules')" = "$((modules - declined))" ] || fail "the package did not run its $modules standard modules ($declined declined)"
dump() {
  sqlite3 "$1" "SELECT filename || ' ' || status || ' ' || coalesce(sha256, '') || ' ' || depth FROM __wadup_content ORDER BY 1"
  for t in $(sqlite3 "$1" "SELECT name FROM __wadup_tables ORDER BY name"); do
    sqlite3 "$1" "SELECT '$t', c.filename, t.* FROM \"$t\" t JOIN __wadup_content c ON c.uuid = t.content_uuid" | sed 's/|[0-9a-f-]\{36\}|/|/' | sort
  done
}
diff <(dump "$work/package.db") <(dump "$work/checkout.db") || fail "the package's results differ from the checkout's"
# Every standard module's data folder was shipped: the same digests as the checkout's run.
for d in .build/guest-modules/standard/*.d; do
  [ -d "$d" ] || continue
  [ -d "$pkg/share/wadup/modules/$(basename "$d")" ] || fail "the package lacks the data folder $(basename "$d")"
done
data() { sqlite3 "$1" "SELECT name || ' ' || coalesce(data_sha256, '-') FROM __wadup_modules ORDER BY name"; }
diff <(data "$work/package.db") <(data "$work/checkout.db") || fail "the package's module data differs from the checkout's"
[ "$(dump "$work/package.db" | wc -l)" -gt 10 ] || fail "too few results to compare"

# Python modules on both engines (the packaged runtime): rows, sub-contents, an exception, the
# sandbox's walls and a memory limit answer the same on WasmKit as on wasmtime; a loop is stopped by
# fuel on WasmKit (which has no --timeout; wasmtime's timeout and fuel are in PythonModuleTests).
mkdir -p "$work/py/modules/walls.d" "$work/py/in"
cat > "$work/py/modules/trivial.py" <<'PY'
import wadup
sizes = wadup.table("sizes", {"name": str, "size": int, "head": str, "ratio": float})
def process(content):
    head = content[0:4]
    sizes.insert((content.filename, content.size, head.hex(), content.size / 2))
    if head == b"EMIT":
        wadup.emit("copy.bin", content.read(4, 3))
        wadup.emit_slice("slice.bin", 1, 2)
        with wadup.emit_stream("stream.bin") as s:
            s.write(b"ab")
            s.write(b"cd")
    if head == b"GREE":
        global kept
        kept = bytearray(512 << 20)
    if head[:1] == b"X":
        raise ValueError("bad header in %s" % content.filename)
PY
cat > "$work/py/modules/walls.py" <<'PY'
import wadup
out = wadup.table("walls", {"attempt": str, "result": str})
def attempt(name, action):
    try:
        action()
        out.insert((name, "allowed"))
    except OSError:
        out.insert((name, "refused"))  # the engines' WASI layers pick different errnos
    except BaseException as e:
        out.insert((name, type(e).__name__))
def process(content):
    if content.filename != "a.txt":
        return
    attempt("passwd", lambda: open("/etc/passwd").read())
    attempt("data-write", lambda: open("/data/new.txt", "w").write("x"))
    attempt("socket", lambda: __import__("socket").socket().connect(("127.0.0.1", 22)))
    attempt("subprocess", lambda: __import__("subprocess").run(["/bin/true"]))
    out.insert(("data-read", open("/data/note.txt").read()))
PY
echo -n mine > "$work/py/modules/walls.d/note.txt"
echo -n hello > "$work/py/in/a.txt"; echo -n EMITxyz > "$work/py/in/e.bin"; echo -n X1 > "$work/py/in/x.bin"
echo -n GREEDY > "$work/py/in/greedy.bin"
pydump() {
  # A failure as "module:kind" (the details name engine-specific traps).
  sqlite3 "$1" "SELECT filename || ' ' || status || ' ' || coalesce(error_message, '') FROM __wadup_content ORDER BY 1" | sed -E 's/^([^ ]+ [^ ]+ [^: ]+): ([a-z_]+).*/\1:\2/'
  sqlite3 "$1" "SELECT c.filename, s.size, s.head, s.ratio FROM sizes s JOIN __wadup_content c ON c.uuid = s.content_uuid ORDER BY 1"
  sqlite3 "$1" "SELECT attempt, result FROM walls ORDER BY 1"
}
for engine in wasmtime wasmkit; do
  "$pkg/bin/wadup" --engine "$engine" --modules "$work/py/modules" --input "$work/py/in" --output "$work/py/$engine.db" \
    --max-memory 128MiB --no-dedup 2> "$work/py/$engine.txt" || fail "the Python run on $engine failed: $(cat "$work/py/$engine.txt")"
done
diff <(pydump "$work/py/wasmtime.db") <(pydump "$work/py/wasmkit.db") || fail "Python modules answer differently on WasmKit and wasmtime"
pyrun=$(pydump "$work/py/wasmkit.db")
for want in "e.bin success" "stream.bin success" "x.bin failed trivial:nonzero_return" "greedy.bin failed trivial:memory_limit" \
            "data-read|mine" "passwd|refused" "data-write|refused" "socket|refused" "subprocess|refused"; do
  grep -q "^$want" <<< "$pyrun" || fail "the Python run lacks '$want': $pyrun"
done
! grep -q "|allowed" <<< "$pyrun" || fail "a Python module got through a wall: $pyrun"
mkdir -p "$work/py/loop"; printf 'def process(content):\n    while True:\n        pass\n' > "$work/py/loop/loop.py"
"$pkg/bin/wadup" --engine wasmkit --fuel 2000000000 --modules "$work/py/loop" --input "$work/py/in/a.txt" --output "$work/py/loop.db" 2> /dev/null
sqlite3 "$work/py/loop.db" "SELECT error_message FROM __wadup_content" | grep -q "^loop: fuel_exhausted" || fail "a looping Python module on WasmKit was not stopped by fuel"

# install.sh: into a prefix, then into one it cannot write (nothing copied, exit 1).
"$pkg/install.sh" --prefix "$work/prefix" > /dev/null
"$work/prefix/bin/wadup" --input "$inputs" --output "$work/installed.db" 2>/dev/null
diff <(dump "$work/installed.db") <(dump "$work/checkout.db") || fail "the installed package's results differ"
if "$pkg/install.sh" --prefix /proc/wadup-cannot 2> "$work/refused.txt"; then fail "install.sh into /proc succeeded"; fi
grep -q "nothing was copied" "$work/refused.txt" || fail "install.sh did not say why: $(cat "$work/refused.txt")"
for f in share/doc/wadup/licenses/yara-python-4.2.3.LICENSE share/doc/wadup/licenses/python-tlsh-3.17.0.LICENSE share/doc/wadup/licenses/ssdeep-2.14.1+git20180629.57fcfff.copyright \
         share/man/man1/wadup.1 share/bash-completion/completions/wadup share/doc/wadup/licenses/wasmtime.LICENSE share/doc/wadup/licenses/swift-runtime.LICENSE.txt share/doc/wadup/docs/guide/inputs.md share/doc/wadup/docs/guide/running.md share/doc/wadup/CHANGELOG.md share/wadup/docs/modules/ABI.md; do
  [ -s "$pkg/$f" ] || fail "$f missing"
done
echo "test-package: ok: $tarball ($(stat -c %s "$tarball") bytes) runs without the toolchain, same results as the checkout"
