#!/usr/bin/env bash
# Installs the Debian packages the project uses when they are missing: wabt (wat2wasm, for the
# benchmark), sqlite3 and Info-ZIP zip (test archives), Debian's Rust with its wasm32 standard
# library (the Rust guest crate and example), what the format modules' build and tests use, and
# Chromium for the report's browser test.
set -euo pipefail
need=()
command -v wat2wasm >/dev/null || need+=(wabt)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v zip >/dev/null || need+=(zip)
[ -x /usr/bin/cargo ] || need+=(cargo)
[ -x /usr/bin/rustc ] || need+=(rustc)
[ -d /usr/lib/rustlib/wasm32-unknown-unknown ] || need+=(libstd-rust-dev-wasm32)
# The format modules' build (scripts/build-formats.sh): wasi-libc, compiler-rt's wasm32 builtins,
# dpkg-source and the autotools Debian's patches need.
[ -d /usr/include/wasm32-wasi ] || need+=(wasi-libc)
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || need+=(libclang-rt-19-dev-wasm32)
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
command -v autoreconf >/dev/null || need+=(autoconf automake libtool pkg-config)
command -v llvm-ar >/dev/null || need+=(llvm)
# The tools that make the format tests' archives and read them back independently.
for tool in xz:xz-utils bzip2:bzip2 zstd:zstd lz4:lz4 compress:ncompress cpio:cpio 7z:p7zip-full xorriso:xorriso \
            gcab:gcab bsdtar:libarchive-tools file:file dpkg-deb:dpkg ar:binutils; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
# The analysis modules' builds and their independent readers: libc++ for wasm32 (TLSH is C++),
# and the native tools the tests compare with (yara, ssdeep, tlsh, pefile, readelf from binutils,
# ripmime for the mail module's attachments; poppler's pdfinfo, pdfdetach and pdfattach and qpdf for
# the pdf module's: they make the test PDFs and read them back; msgconvert and tnef for the mail
# module's Outlook .msg and TNEF files).
[ -f /usr/lib/wasm32-wasi/libc++.a ] && [ -f /usr/lib/wasm32-wasi/libc++abi.a ] || need+=(libc++-19-dev-wasm32 libc++abi-19-dev-wasm32)
for tool in yara:yara ssdeep:ssdeep tlsh:tlsh-tools readelf:binutils strings:binutils ripmime:ripmime \
            pdfinfo:poppler-utils pdfdetach:poppler-utils pdfattach:poppler-utils qpdf:qpdf \
            msgconvert:libemail-outlook-message-perl tnef:tnef; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
/usr/bin/python3 -c "import pefile" 2>/dev/null || need+=(python3-pefile)  # Debian's python3 (the tests run it by path)
# The office module's: LibreOffice (headless) and XlsxWriter and msitools make the test documents;
# Debian's olefile reads them back (oletools and msoffcrypto-tool come pinned from PyPI).
for tool in soffice:libreoffice-writer-nogui msibuild:msitools; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
ls /usr/lib/libreoffice/program/libsclo.so >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
ls /usr/lib/libreoffice/program/libsdlo.so >/dev/null 2>&1 || need+=(libreoffice-impress-nogui)
/usr/bin/python3 -c "import olefile" 2>/dev/null || need+=(python3-olefile)
/usr/bin/python3 -c "import xlsxwriter" 2>/dev/null || need+=(python3-xlsxwriter)
# pip fetches the TLSH library's pinned source from PyPI (scripts/formats/hashes.sh: Debian serves no tlsh tarball).
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
command -v flock >/dev/null || need+=(util-linux)
# PostgreSQL's server: the tests of the PostgreSQL output start a private one (scripts/pg-test-server.sh).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
# A FUSE file system that answers EIO (InputFaultTests: reading inputs on a failing file system).
[ -f /usr/lib/python3/dist-packages/fuse.py ] || need+=(python3-fuse)
# The disk module's (Tests/Support/disk_expected.py): the tools that make the test disk images without
# a mount (ntfs-3g's libntfs-3g too) and The Sleuth Kit's and libyal's tools that read them back. Several
# live in /usr/sbin, which a user's PATH may lack. libfsapfs-utils: fsapfsinfo, the module's APFS
# library natively (dissect.apfs, the APFS reader the tests compare against, comes as pinned wheels:
# Tests/Support/apfs-requirements.txt).
for tool in mmls:sleuthkit ewfacquire:ewf-tools qemu-img:qemu-utils mkntfs:ntfs-3g mcopy:mtools \
            sgdisk:gdisk sfdisk:fdisk mkfs.vfat:dosfstools mkfs.exfat:exfatprogs mke2fs:e2fsprogs cryptsetup:cryptsetup-bin \
            fsapfsinfo:libfsapfs-utils; do
  command -v "${tool%%:*}" >/dev/null || [ -x "/usr/sbin/${tool%%:*}" ] || [ -x "/sbin/${tool%%:*}" ] || need+=("${tool#*:}")
done
# Headless Chromium: the HTML report's test loads a report in a real browser.
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
