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
# Issue 13: no failing host or domain of the whole catalogue leaves the scan without a finding
# that names the cause (per host, from its own findings); and the check itself fails when one
# does (a copy of the database with the stall host's findings removed).
/usr/bin/python3 "$here/causes_check.py" "$work/export.jsonl" "$work/scan.sqlite"
if [[ $mode == default ]]; then
  cp "$work/scan.sqlite" "$work/uncaused.sqlite"
  /usr/bin/python3 - "$work/uncaused.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("DELETE FROM host_findings WHERE host_id IN (SELECT id FROM hosts WHERE name = 'mx.stall.test')").rowcount
db.commit()
sys.exit(0 if n > 0 else 1)
PY
  if /usr/bin/python3 "$here/causes_check.py" "$work/export.jsonl" "$work/uncaused.sqlite" >"$work/uncaused.out"; then
    echo "scan_test: causes_check.py accepted a failing host without findings" >&2
    exit 1
  fi
  grep -q "mx.stall.test is fail without a finding" "$work/uncaused.out"
fi
# The probes' evidence reached the database (issue 4): every completed handshake has its TLS
# version, cipher and chain (each certificate with its digests, subject and dates), every
# authenticated probe the depth of its match, and every probe its stages' outcomes.
if [[ $mode == default ]]; then
  /usr/bin/python3 - "$work/scan.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def one(sql):
    return db.execute(sql).fetchone()[0]
checks = {
    "probes stored": one("SELECT count(*) FROM probes") > 0,
    "handshakes without version, cipher or chain": one(
        "SELECT count(*) FROM probes p WHERE tls_ok AND (tls_version = '' OR cipher = '' OR "
        "NOT EXISTS (SELECT 1 FROM probe_certs c WHERE c.probe_id = p.id))") == 0,
    "certificates without digests, subject or dates": one(
        "SELECT count(*) FROM probe_certs WHERE length(sha256) != 64 OR length(spki_sha256) != 64 "
        "OR subject = '' OR not_before = '' OR not_after = '' OR key_type = '' OR key_bits <= 0") == 0,
    "passes without a matched depth or a clean verify result": one(
        "SELECT count(*) FROM probes WHERE dane = 'pass' AND (matched_depth IS NULL OR verify_result != 0)") == 0,
    "probes without a connect outcome": one("SELECT count(*) FROM probes WHERE connect_outcome = ''") == 0,
    "rate-limited probes retried once": one(
        "SELECT count(*) FROM probes WHERE rate_limited AND attempts != 2") == 0,
}
bad = [name for name, ok in checks.items() if not ok]
for name in bad:
    print(f"scan_test: evidence check failed: {name}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
fi
