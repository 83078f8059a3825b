#!/usr/bin/env bash
# Fuzzes the host's decoding of module input (Fuzz/WADUPFuzz.swift: the strict JSON reader, the
# ABI's column and row codecs, identifier validation) with libFuzzer and AddressSanitizer, built
# from WADUPCore's sources by the toolchain's swiftc (-sanitize=fuzzer,address).
#
#   bash scripts/fuzz.sh                 # 20 s, the short run of scripts/test.sh (corpus read, not changed)
#   bash scripts/fuzz.sh --seconds 3600 --grow   # a long run; new inputs are merged into Fuzz/corpus
#
# Exit status: 0 when no invariant broke; otherwise libFuzzer's, with the crashing input in
# .build/fuzz/ (replay it with: .build/fuzz/wadup-fuzz FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=20
grow=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --grow) grow=1; shift ;;
    *) echo "usage: scripts/fuzz.sh [--seconds N] [--grow]" >&2; exit 2 ;;
  esac
done
out=.build/fuzz
mkdir -p "$out"
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name WADUPFuzz \
  Sources/WADUPCore/*.swift Fuzz/WADUPFuzz.swift -o "$out/wadup-fuzz" 2> "$out/build.log" || { cat "$out/build.log" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# New inputs go to the first folder: a scratch one, so a short run never changes the repository.
"$out/wadup-fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=10 -artifact_prefix="$out/" \
  -print_final_stats=1 "$work" Fuzz/corpus 2>&1 | grep -E "^#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|ERROR|invariant|SUMMARY" | tail -5
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then echo "fuzz: failure; the input is in $out/" >&2; exit "$status"; fi
if [ "$grow" = 1 ]; then
  "$out/wadup-fuzz" -merge=1 Fuzz/corpus "$work" 2>&1 | tail -1
fi
