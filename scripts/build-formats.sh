#!/usr/bin/env bash
# Builds the standard modules made from C libraries of pinned Debian sources, compiled to
# wasm32-wasi: one script per module in scripts/formats/ (common.sh holds the toolchain, the source
# checks and the cache). The libraries are cached outside the clone (~/.cache/wadup/build, or
# $WADUP_BUILD_CACHE), keyed by the pins and the build scripts, so a second clone only links.
# Outputs: .build/guest-modules/standard/NAME.wasm; .build/formats/magic.mgc and
# .build/formats/bin/file (the native `file` of file_type's source, for the tests).
# WADUP_KEEP_SYMBOLS=1 links the modules without --strip-all (for a profiler).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
for script in scripts/formats/*.sh; do
  # common.sh, disk-containers.sh and disk-apfs.sh are sourced by the others, not run.
  case "$(basename "$script")" in common.sh|disk-containers.sh|disk-apfs.sh) continue ;; esac
  bash "$script"
done
echo "build-formats: done in $(( $(date +%s) - started )) s"
