#!/usr/bin/env bash
# Installs this unpacked WADUP package: install.sh [--prefix DIR] (default /usr/local).
# Copies bin/, lib/ and share/ under DIR; checks first that DIR can be written, so a refused
# install copies nothing.
set -euo pipefail
prefix=/usr/local
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a folder}; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    -h|--help) echo "usage: install.sh [--prefix DIR]   (default /usr/local)"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (usage: install.sh [--prefix DIR])" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
# The nearest existing folder of the prefix must be writable, and so must every part that exists.
probe=$prefix
while [ ! -e "$probe" ]; do probe=$(dirname "$probe"); done
if [ ! -d "$probe" ] || [ ! -w "$probe" ] || ! { mkdir -p "$prefix" 2>/dev/null && touch "$prefix/.wadup-install-probe" 2>/dev/null; }; then
  echo "install.sh: cannot write to $prefix (nothing was copied); choose another --prefix or run as a user who can write there" >&2
  exit 1
fi
rm -f "$prefix/.wadup-install-probe"
for part in bin lib share; do
  [ ! -e "$prefix/$part" ] || [ -w "$prefix/$part" ] || { echo "install.sh: cannot write to $prefix/$part (nothing was copied)" >&2; exit 1; }
done
mkdir -p "$prefix/bin" "$prefix/lib" "$prefix/share"
cp -R "$here/bin/." "$prefix/bin/"
cp -R "$here/lib/." "$prefix/lib/"
cp -R "$here/share/." "$prefix/share/"
echo "wadup installed in $prefix/bin/wadup (standard modules in $prefix/share/wadup/modules, SDK in $prefix/share/wadup/sdk)"
"$prefix/bin/wadup" --version
