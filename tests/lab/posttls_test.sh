#!/usr/bin/env bash
# tests/lab/posttls_test.sh DANESCAN — the posttls-finger cross-check (issue 4): scan the lab's
# scenario domains in the default mode (with TLS probes), export, and hold every host DANE state
# that a sender decides (pass, fail, unreachable, lookup-error) to Postfix's posttls-finger
# (posttls_check.py). Needs root and the postfix package (tests/install-deps).
set -euo pipefail
bin=${1:?DANESCAN}
here=$(cd "$(dirname "$0")" && pwd)
lab=${DANESCAN_LAB_DIR:-/tmp/danescan-lab}
resolver=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["resolver"])' "$lab/lab.json")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" scan "$lab/domains.txt" --resolver "$resolver" --db "$work/scan.sqlite" \
  --allow-special-addresses --quiet --probe-timeout 3000 --smtp-retry-delay 500
"$bin" export --db "$work/scan.sqlite" --format jsonl --out "$work/export.jsonl"
/usr/bin/python3 "$here/posttls_check.py" "$work/export.jsonl" --rundir "$lab"
