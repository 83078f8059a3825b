#!/usr/bin/env bash
# Builds dist/wadup-VERSION-linux-ARCH.tar.gz: a wadup that runs on a Linux machine without Swift.
#   bin/wadup                   the Swift standard library and Foundation linked in (--static-swift-stdlib)
#   lib/wadup/                  libwasmtime.so (the default engine) and libsqlite3.so.0 (found through
#                               the binary's runpath $ORIGIN/../lib/wadup, so a system without SQLite
#                               runs it; kept out of lib/ so that no other program picks them up)
#   share/wadup/modules/        the standard modules (found by default; .wasm and .py), with a module's NAME.d/ data folder when it has one
#   share/wadup/python/         the Python runtime .py modules run on (python.wasm, python311.zip)
#   share/wadup/sdk/            the guest SDKs: C header, Swift package, Rust crate (what `wadup new` uses)
#   share/wadup/docs/modules/   the guest ABI (ABI.md), beside the SDK as in a checkout
#   share/doc/wadup/            README, CHANGELOG, the docs/ tree (what the README links), license notices of every bundled component
#   share/man/man1/, completions for bash, zsh and fish
#   install.sh [--prefix DIR]
# The version comes from `wadup --version` (one place: Pipeline.version); the tarball's sha256 is
# printed and written beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# Its own build folder: the tests' release build links the Swift runtime dynamically, and swift test
# would relink a shared build folder.
swift build -c release --static-swift-stdlib --scratch-path .build/package
bash scripts/install-wasmtime.sh
bash scripts/build-guests.sh
swift build --product generate-manual >/dev/null

wadup=.build/package/release/wadup
version=$("$wadup" --version | head -1 | cut -d' ' -f2)
name="wadup-$version-linux-$(uname -m)"
stage="dist/$name"
rm -rf "$stage" "dist/$name.tar.gz" "dist/$name.tar.gz.sha256"
mkdir -p "$stage"/{bin,lib/wadup,share/wadup/modules,share/wadup/sdk,share/doc/wadup/licenses,share/man/man1} \
  "$stage"/share/bash-completion/completions "$stage"/share/zsh/site-functions "$stage"/share/fish/vendor_completions.d

cp "$wadup" "$stage/bin/wadup"
strip "$stage/bin/wadup"
if [ -f .build/wasmtime/libwasmtime.so ]; then
  cp .build/wasmtime/libwasmtime.so .build/wasmtime/libwasmtime.so.version "$stage/lib/wadup/"
fi
sqlite=$(ldd "$wadup" | awk '/libsqlite3/ { print $3 }')
cp -L "$sqlite" "$stage/lib/wadup/libsqlite3.so.0"
cp .build/guest-modules/standard/*.wasm "$stage/share/wadup/modules/"
# The standard Python modules (mail.py), run on the packaged Python runtime.
for f in .build/guest-modules/standard/*.py; do [ -f "$f" ] && cp "$f" "$stage/share/wadup/modules/"; done
# A standard module's read-only data folder travels beside it (found by default as NAME.d/).
for d in .build/guest-modules/standard/*.d; do
  if [ -d "$d" ]; then cp -R "$d" "$stage/share/wadup/modules/"; fi
done
# The Python runtime `.py` modules run on (found by default in share/wadup/python).
if [ -d .build/guest-modules/python ]; then cp -R .build/guest-modules/python "$stage/share/wadup/python"; fi

# The SDK: the guest package as in the checkout (its manifest names the standard modules and examples
# too), without build products or the format modules (those build from Debian sources).
tar -C Guests --exclude=.build --exclude=target --exclude=Formats --exclude=Cargo.lock -cf - . | tar -C "$stage/share/wadup/sdk" -xf -
# The ABI beside the SDK, at the same place relative to it as in a checkout (SDK/../docs/modules/ABI.md).
mkdir -p "$stage/share/wadup/docs/modules" && cp docs/modules/ABI.md "$stage/share/wadup/docs/modules/"
# The README, the changelog and the whole docs/ tree (pages and images), so that every link of the
# README and of the pages resolves in the installed copy too.
cp README.md CHANGELOG.md "$stage/share/doc/wadup/"
cp -R docs "$stage/share/doc/wadup/"

# License notices: WADUP's dependencies, the Swift runtime linked in, wasmtime, SQLite, and the
# Debian source packages compiled into the format modules.
lic="$stage/share/doc/wadup/licenses"
for dir in .build/checkouts/*; do
  for f in "$dir"/LICENSE*; do [ -f "$f" ] && cp "$f" "$lic/$(basename "$dir").$(basename "$f")"; done
done
cp /opt/swift/usr/share/swift/LICENSE.txt "$lic/swift-runtime.LICENSE.txt" 2>/dev/null || cp "$(dirname "$(readlink -f "$(command -v swift)")")/../share/swift/LICENSE.txt" "$lic/swift-runtime.LICENSE.txt"
python3 - "$lic/wasmtime.LICENSE" <<'PY'
import glob, sys, zipfile
with zipfile.ZipFile(glob.glob(".build/wasmtime/wheel/*.whl")[0]) as z:
    open(sys.argv[1], "wb").write(z.read("wasmtime-50.0.1.dist-info/licenses/LICENSE"))
PY
cp /usr/share/doc/libsqlite3-0/copyright "$lic/sqlite3.copyright" 2>/dev/null || echo "SQLite is in the public domain: https://sqlite.org/copyright.html" > "$lic/sqlite3.copyright"
for src in .build/formats/src/*/debian/copyright; do
  [ -f "$src" ] && cp "$src" "$lic/$(basename "$(dirname "$(dirname "$src")")").copyright"
done
# The libraries taken from PyPI source distributions (Debian serves no tarball of them): their own
# license files (libyara's is in yara-python's LICENSE; TLSH's in python-tlsh's; libfsapfs's LGPL-3.0
# in libfsapfs-python's COPYING and COPYING.LESSER).
for dir in .build/formats/src/*; do
  [ -d "$dir/debian" ] && continue
  found=0
  for f in "$dir"/LICENSE* "$dir"/COPYING*; do [ -f "$f" ] && cp "$f" "$lic/$(basename "$dir").$(basename "$f")" && found=1; done
  # The Sleuth Kit's notices (IBM, CPL, GPL, ...) are in pytsk3's copy of it, sleuthkit/licenses/.
  if [ -d "$dir/sleuthkit/licenses" ]; then for f in "$dir"/sleuthkit/licenses/*; do cp "$f" "$lic/sleuthkit-4.11.1.$(basename "$f")"; done; fi
  # python-tlsh ships no license file: TLSH's notice is the head comment of its source.
  if [ "$found" = 0 ] && [ -f "$dir/src/tlsh.cpp" ]; then sed -n '1,/^#include/p' "$dir/src/tlsh.cpp" | grep -v '^#include' > "$lic/$(basename "$dir").LICENSE"; fi
done

# The standard Python modules' vendored wheels (scripts/formats/python-packages.sh): each one's own
# license files, from its .dist-info (pypdf's BSD license for the pdf module).
for f in .build/guest-modules/standard/*.d/site-packages/*.dist-info/licenses/* .build/guest-modules/standard/*.d/site-packages/*.dist-info/LICENSE*; do
  [ -f "$f" ] || continue
  dist=$(basename "${f%%.dist-info/*}")   # pypdf-7.1.1
  cp "$f" "$lic/$dist.$(basename "$f")"
done

"$stage/bin/wadup" --generate-completion-script bash > "$stage/share/bash-completion/completions/wadup"
"$stage/bin/wadup" --generate-completion-script zsh > "$stage/share/zsh/site-functions/_wadup"
"$stage/bin/wadup" --generate-completion-script fish > "$stage/share/fish/vendor_completions.d/wadup.fish"
.build/debug/generate-manual "$stage/bin/wadup" --multi-page --authors "WADUP developers" -o "$stage/share/man/man1" >/dev/null

cp scripts/install-package.sh "$stage/install.sh"
chmod 755 "$stage/install.sh"
tar -C dist -czf "dist/$name.tar.gz" "$name"
(cd dist && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "package: dist/$name.tar.gz ($(stat -c %s "dist/$name.tar.gz") bytes)"
echo "sha256: $(cut -d' ' -f1 "dist/$name.tar.gz.sha256")"
