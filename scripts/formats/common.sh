# Sourced by every scripts/formats/NAME.sh: the wasm32-wasi toolchain, pinned Debian sources and the
# build cache shared by every clone on the machine.
#
#   source "$(dirname "$0")/common.sh"
#   fetch_sources "$pins"                 # "package version sha256-of-the-.dsc" lines
#   build_libs() { lib NAME "flags" files...; cp headers "$prefix/include/"; }
#   prefix=$(cached_prefix NAME "$pins" build_libs [files the build also depends on...])
#   $CC $MODULE_LINK -I "$prefix/include" -L "$prefix/lib" -o "$out/NAME.wasm" sources... -lNAME
#
# Sources are fetched with `apt-get source --download-only` (a deb-src entry is added when missing);
# each .dsc is checked against its pinned sha256 (the .dsc pins the tarballs, and dpkg-source checks
# them when it unpacks). Nothing of them is committed.
#
# The cache ($WADUP_BUILD_CACHE, default $XDG_CACHE_HOME/wadup/build or ~/.cache/wadup/build) is
# outside the clone, so a second clone reuses what the first built:
#   src/                 the downloaded and unpacked sources, by package and version
#   NAME-KEY/            a library set: include/, lib/ and whatever its build leaves there; KEY is the
#                        sha256 of the pins, the module's build script, this file and the files named;
#                        it is built in a temporary folder and renamed into place only when complete,
#                        so an interrupted build never leaves a half cache entry.
# In the clone, .build/formats/ keeps the small things made from them (links, the modules) and
# links to the sources used (the release package copies their debian/copyright).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
cache=${WADUP_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wadup/build}
src=$cache/src
fmt=$root/.build/formats
out=$root/.build/guest-modules/standard
# The layout before the cache moved out of the clone (libraries in .build/formats) is removed once.
[ -f "$fmt/libs.stamp" ] && rm -rf "$fmt"
mkdir -p "$src" "$fmt/src" "$fmt/bin" "$out"
jobs=$(nproc)
keep_symbols=${WADUP_KEEP_SYMBOLS:-0}

# --- the cross compiler: the toolchain's clang, Debian's wasi-libc, compiler-rt's builtins ---
sysroot=$fmt/sysroot
mkdir -p "$sysroot/include" "$sysroot/lib"
ln -sfn /usr/include/wasm32-wasi "$sysroot/include/wasm32-wasi"
ln -sfn /usr/lib/wasm32-wasi "$sysroot/lib/wasm32-wasi"
builtins=$(ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a 2>/dev/null | tail -1)
[ -n "$builtins" ] || { echo "formats: libclang_rt.builtins-wasm32.a missing (apt-get install libclang-rt-19-dev-wasm32)" >&2; exit 1; }
prefix_map="-ffile-prefix-map=$cache=/wadup-build -ffile-prefix-map=$root=/wadup"
cat > "$fmt/bin/wasm-cc.new" <<WRAPPER
#!/bin/sh
# clang for wasm32-wasi: links wasi-libc and compiler-rt's builtins when it links.
# Paths in the objects (assertions' __FILE__) name the cache and the clone by fixed names, so
# the modules are the same bytes wherever they are built.
for a in "\$@"; do case "\$a" in -c|-E|-S|-M|-MM) exec clang --target=wasm32-wasi --sysroot=$sysroot $prefix_map "\$@";; esac; done
exec clang --target=wasm32-wasi --sysroot=$sysroot $prefix_map "\$@" -nodefaultlibs -lc $builtins
WRAPPER
# C++ on Debian's libc++/libc++abi for wasm32-wasi (no exceptions: wasm32-wasi has none).
cat > "$fmt/bin/wasm-c++.new" <<WRAPPER
#!/bin/sh
# clang++ for wasm32-wasi with Debian's libc++ and libc++abi: links them, wasi-libc and the builtins.
for a in "\$@"; do case "\$a" in -c|-E|-S|-M|-MM) exec clang++ --target=wasm32-wasi --sysroot=$sysroot $prefix_map -fno-exceptions -isystem $sysroot/include/wasm32-wasi/c++/v1 "\$@";; esac; done
exec clang++ --target=wasm32-wasi --sysroot=$sysroot $prefix_map -fno-exceptions -isystem $sysroot/include/wasm32-wasi/c++/v1 "\$@" -nodefaultlibs -lc++ -lc++abi -lc $builtins
WRAPPER
for w in wasm-cc wasm-c++; do
  chmod +x "$fmt/bin/$w.new"
  if cmp -s "$fmt/bin/$w.new" "$fmt/bin/$w"; then rm "$fmt/bin/$w.new"; else mv "$fmt/bin/$w.new" "$fmt/bin/$w"; fi
done
CC=$fmt/bin/wasm-cc
CXX=$fmt/bin/wasm-c++
AR=$(command -v llvm-ar)
CFLAGS="-O2 -g0 -w"
# Link-time optimisation needs bitcode archives made by the toolchain's own llvm-ar.
LTO_AR=$(dirname "$(readlink -f "$(command -v clang)")")/llvm-ar
[ -x "$LTO_AR" ] || LTO_AR=$AR
# How a module is linked: a WASI reactor exporting `process` (and `init` when it has one).
strip="-Wl,--strip-all"; [ "$keep_symbols" = 1 ] && strip=""
MODULE_LINK="-O2 -Wno-c23-extensions -mexec-model=reactor -Wl,--export=process $strip -I $root/Guests/C -I $root/Guests/Formats/common"

# Adds a deb-src entry when the machine has none (apt-get source needs one).
ensure_deb_src() {
  grep -rqs "^Types:.*deb-src" /etc/apt/sources.list.d/ && return 0
  grep -qs "^deb-src" /etc/apt/sources.list && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo tee /etc/apt/sources.list.d/wadup-src.sources >/dev/null <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  $sudo apt-get update -qq
}

# The folder a pinned package unpacks to: $src/<package>-<upstream version>.
source_dir() {  # package version
  local upstream=${2#*:}
  echo "$src/$1-${upstream%-*}"
}

# Downloads (once) every pinned source package, checks each .dsc's sha256, unpacks it (once) and
# links it from .build/formats/src. Concurrent builds are serialised by a lock on the cache.
fetch_sources() {  # pins
  local pins=$1 pkg version sum upstream dsc dir
  exec 9>"$cache/.src.lock"; flock 9
  while read -r pkg version sum; do
    [ -n "$pkg" ] || continue
    upstream=${version#*:}; dsc="${pkg}_${upstream}.dsc"; dir=$(source_dir "$pkg" "$version")
    if [ ! -f "$src/$dsc" ] || ! (cd "$src" && echo "$sum  $dsc" | sha256sum -c --quiet - 2>/dev/null); then
      ensure_deb_src
      (cd "$src" && apt-get source --download-only -qq "$pkg=$version" 2>&1 | grep -v "unsandboxed" >&2 || true)
    fi
    (cd "$src" && echo "$sum  $dsc" | sha256sum -c --quiet -) || { echo "formats: $dsc does not match its pinned sha256" >&2; exit 1; }
    if [ ! -d "$dir" ]; then
      rm -rf "$dir.partial"
      (cd "$src" && dpkg-source -x -q "$dsc" "$dir.partial" 2>&1 | grep -v "gpgv\|signature" >&2 || true)
      [ -d "$dir.partial" ] || { echo "formats: dpkg-source could not unpack $dsc" >&2; exit 1; }
      # Debian's patches change Makefile.am in some packages (file's adds magic files): the caller
      # names them in $regenerate, and their build system is regenerated as Debian does.
      case " ${regenerate:-} " in *" $pkg "*) (cd "$dir.partial" && autoreconf -fi >/dev/null 2>&1) ;; esac
      mv "$dir.partial" "$dir"
    fi
    ln -sfn "$dir" "$fmt/src/$(basename "$dir")"
  done <<< "$pins"
  flock -u 9
}

# Downloads (once) a pinned PyPI source distribution with pip (for a library whose Debian source
# tarballs the archive does not serve), checks its sha256 and unpacks it into $src/<name>-<version>,
# under the same lock as fetch_sources.
fetch_pypi_source() {  # name version sha256
  local name=$1 version=$2 sum=$3 tarball="$1-$2.tar.gz"
  exec 9>"$cache/.src.lock"; flock 9
  if [ ! -f "$src/$tarball" ] || ! (cd "$src" && echo "$sum  $tarball" | sha256sum -c --quiet - 2>/dev/null); then
    python3 -m pip download -q --no-deps --no-binary :all: --disable-pip-version-check -d "$src" "$name==$version" >&2
  fi
  (cd "$src" && echo "$sum  $tarball" | sha256sum -c --quiet -) || { echo "formats: $tarball does not match its pinned sha256" >&2; exit 1; }
  if [ ! -d "$src/$name-$version" ]; then
    rm -rf "$src/$name-$version.partial"; mkdir -p "$src/$name-$version.partial"
    tar -xzf "$src/$tarball" -C "$src/$name-$version.partial" --strip-components=1
    mv "$src/$name-$version.partial" "$src/$name-$version"
  fi
  ln -sfn "$src/$name-$version" "$fmt/src/$name-$version"
  flock -u 9
}

# The key of a library set: its pins, the calling build script, this file and the files named.
cache_key() {  # pins files...
  local pins=$1; shift
  (echo "$pins"; cat "$0" "${BASH_SOURCE[0]}" "$@") | sha256sum | cut -c1-16
}

# Prints the folder of a library set, building it first when the cache has none for this key:
# the build function runs with $prefix (include/, lib/) and $obj (scratch) set, in a temporary
# folder renamed into place when it returns, under a lock (two clones never build it twice at once).
cached_prefix() {  # name pins build-function files...
  local name=$1 pins=$2 fn=$3; shift 3
  local key; key=$(cache_key "$pins" "$@")
  local dest=$cache/$name-$key
  exec 8>"$cache/.$name.lock"; flock 8
  if [ ! -d "$dest" ]; then
    local started; started=$(date +%s)
    echo "formats: building $name's libraries (cache $dest)" >&2
    rm -rf "$dest.partial"; mkdir -p "$dest.partial/include" "$dest.partial/lib" "$dest.partial/obj"
    prefix=$dest.partial obj=$dest.partial/obj
    # In a subshell with errexit on: this runs inside $(…), where bash turns errexit off, and a
    # failed build must never be renamed into the cache.
    local status=0
    set +e
    ( set -e; "$fn" ) >&2
    status=$?
    set -e
    if [ "$status" -ne 0 ]; then
      rm -rf "$dest.partial"
      echo "formats: building $name's libraries failed (exit $status); nothing was cached" >&2
      exit 1
    fi
    rm -rf "$dest.partial/obj"
    mv "$dest.partial" "$dest"
    echo "formats: $name's libraries built in $(( $(date +%s) - started )) s" >&2
  fi
  flock -u 8
  echo "$dest"
}

# Compiles C files into one static library $prefix/lib/libNAME.a, in parallel.
lib() {  # name flags files...
  local name=$1 flags=$2; shift 2
  local objs=$obj/$name; rm -rf "$objs"; mkdir -p "$objs"
  printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh -c "$CC $CFLAGS $flags -c {} -o $objs/\$(basename {} .c).o"
  rm -f "$prefix/lib/lib$name.a"; "$AR" rcs "$prefix/lib/lib$name.a" "$objs"/*.o
}

# Whether a module is up to date: its stamp (the library set, the module's sources, the link flags)
# matches the one recorded beside it. `module_done` records it after the link.
module_current() {  # name prefix files...
  local name=$1 prefix=$2; shift 2
  module_stamp=$( (echo "$MODULE_LINK $prefix"; cat "$0" "${BASH_SOURCE[0]}" "$@") | sha256sum | cut -c1-64)
  [ -f "$fmt/$name.stamp" ] && [ "$(cat "$fmt/$name.stamp")" = "$module_stamp" ] && [ -f "$fmt/$name.wasm" ]
}
module_done() {  # name
  cp "$fmt/$1.wasm" "$out/"
  echo "$module_stamp" > "$fmt/$1.stamp"
  echo "formats: $1.wasm $(stat -c %s "$fmt/$1.wasm") B"
}
