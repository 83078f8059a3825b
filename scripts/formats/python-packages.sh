#!/usr/bin/env bash
# The standard Python modules' vendored packages: for each Guests/Modules/NAME/requirements.txt
# (exact versions with --hash=sha256:..., pure-Python wheels only), pip downloads the wheels with
# --require-hashes (so a wheel whose bytes differ from the pin is refused), unzips them into
# .build/guest-modules/standard/NAME.d/site-packages (on the module's sys.path at /data) and
# byte-compiles them with Debian's python3, a 3.11 like WADUP's runtime (the same bytecode magic,
# so each interpreter start loads bytecode instead of compiling).
#
# The wheels are cached outside the clone, as the format libraries are (scripts/formats/common.sh):
# $WADUP_BUILD_CACHE (default ~/.cache/wadup/build)/wheels-NAME-KEY/, KEY the sha256 of the
# requirements file; a second clone, or a second build, downloads nothing. The wheels' license files
# are shipped by scripts/package.sh (from site-packages/*.dist-info/licenses/).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
cache=${WADUP_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wadup/build}
out=$root/.build/guest-modules/standard
py=/usr/bin/python3
mkdir -p "$cache" "$out"
"$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
  { echo "python-packages: $py is not a Python 3.11 (its bytecode would not load in WADUP's runtime)" >&2; exit 1; }
for req in Guests/Modules/*/requirements.txt; do
  [ -f "$req" ] || continue
  name=$(basename "$(dirname "$req")")
  key=$(sha256sum "$req" | cut -c1-16)
  wheels=$cache/wheels-$name-$key
  if [ ! -d "$wheels" ]; then
    echo "python-packages: $name: downloading $(grep -cvE '^[[:space:]]*(#|$)' "$req") pinned wheel(s)"
    tmp=$(mktemp -d "$cache/.wheels-$name.XXXXXX")
    "$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --platform any \
      --python-version 3.11 --implementation py --abi none --require-hashes -d "$tmp" -r "$req" ||
      { rm -rf "$tmp"; echo "python-packages: $name: pip download failed (a pin, a hash or no pure-Python wheel)" >&2; exit 1; }
    mv "$tmp" "$wheels"   # complete entries only: an interrupted download leaves none
  fi
  site=$out/$name.d/site-packages
  stamp=$out/$name.d/.requirements-$key
  [ -f "$stamp" ] && [ -d "$site" ] && continue
  rm -rf "$out/$name.d"
  mkdir -p "$site"
  for wheel in "$wheels"/*.whl; do "$py" -m zipfile -e "$wheel" "$site"; done
  # unchecked-hash: the .pyc is used as it is, whatever the sources' times after build-guests.sh
  # and package.sh copy them (a timestamp .pyc would go stale, and /data is read-only).
  # A file Python 3.11 cannot compile cannot be imported by the runtime either (olefile's wheel
  # carries olefile2.py, its Python 2 version): it is removed, and named, and the rest compiled.
  if ! log=$("$py" -m compileall -q --invalidation-mode unchecked-hash "$site" 2>&1); then
    printf '%s\n' "$log" | sed -n "s/^\*\*\* Error compiling '\(.*\)'.*/\1/p" | while read -r bad; do
      echo "python-packages: $name: ${bad#"$site"/} is not Python 3.11: left out"
      rm -f "$bad"
    done
    "$py" -m compileall -q --invalidation-mode unchecked-hash "$site" >/dev/null ||
      { echo "python-packages: $name: byte-compiling site-packages failed" >&2; exit 1; }
  fi
  touch "$stamp"
  echo "python-packages: $name.d/site-packages: $(ls "$site" | grep '\.dist-info$' | tr '\n' ' ')"
done
