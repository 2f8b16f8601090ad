#!/usr/bin/env bash
# tests/lab/scan_test.sh DANESCAN MODE CHECK-EXPORT — scan the lab's scenario domains in one of the
# catalogue's modes, export, and hold the export to the contract (check-export) and to the
# catalogue's expectations (compare_export.py), every field of the contract. MODE: default,
# no-probe, strict.
set -euo pipefail
bin=${1:?DANESCAN}; mode=${2:?MODE}; checker=${3:?CHECK-EXPORT}
here=$(cd "$(dirname "$0")" && pwd)
lab=${DANESCAN_LAB_DIR:-/tmp/danescan-lab}
resolver=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["resolver"])' "$lab/lab.json")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

options=(--quiet)
compare=()
case $mode in
  # Probe timeouts shorter than the defaults (the stall server holds a probe until its stage
  # timeout; the rate-limited one is retried once after the retry delay): they change how long
  # the scan waits, not what it concludes.
  default) options+=(--allow-special-addresses --probe-timeout 3000 --smtp-retry-delay 500) ;;
  no-probe) options+=(--allow-special-addresses --no-probe) ;;
  strict) ;;
  *) echo "scan_test: unknown mode $mode" >&2; exit 2 ;;
esac

"$bin" scan "$lab/domains.txt" --resolver "$resolver" --db "$work/scan.sqlite" "${options[@]}"
"$bin" export --db "$work/scan.sqlite" --format jsonl --out "$work/export.jsonl"
[[ $(wc -l <"$work/export.jsonl") -eq $(wc -l <"$lab/domains.txt") ]] || {
  echo "scan_test: $(wc -l <"$work/export.jsonl") domains exported, $(wc -l <"$lab/domains.txt") scanned" >&2
  exit 1
}
"$checker" "$work/export.jsonl" --strict
/usr/bin/python3 "$here/compare_export.py" "$work/export.jsonl" "$mode" --rundir "$lab" "${compare[@]}"
