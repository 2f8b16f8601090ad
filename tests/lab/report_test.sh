#!/usr/bin/env bash
# tests/lab/report_test.sh DANESCAN MODE OUTDIR — scan the lab's scenario domains in MODE (no-probe
# or default; the options are scan_test.sh's), write `danescan report` in every format into OUTDIR
# (kept as test artefacts: the browser test renders OUTDIR/report.html), and hold the figures to
# the catalogue's expectations (report_check.py). Also a --compare of the scan with itself, which
# must find no change.
set -euo pipefail
bin=${1:?DANESCAN}; mode=${2:?MODE}; out=${3:?OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
lab=${DANESCAN_LAB_DIR:-/tmp/danescan-lab}
resolver=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["resolver"])' "$lab/lab.json")
rm -rf "$out"
mkdir -p "$out"

options=(--quiet --allow-special-addresses)
case $mode in
  default) options+=(--probe-timeout 3000 --smtp-retry-delay 500) ;;  # as scan_test.sh
  no-probe) options+=(--no-probe) ;;
  *) echo "report_test: unknown mode $mode" >&2; exit 2 ;;
esac

# The list as a rank,domain CSV (ranks 1, 998, 1995, ...: the rank buckets of the providers
# section differ), which report_check.py reads back for the expected rank buckets.
awk 'BEGIN { print "rank,domain" } { print 1 + (NR - 1) * 997 "," $0 }' "$lab/domains.txt" >"$out/ranked.csv"
# The figures are held to the catalogue as a cold scan sees them: earlier lab tests leave the
# outlook aliases' CNAME records in unbound's cache (from their A answers), and unbound answers the
# explicit CNAME query from there instead of failing it (tests/lab/README.md), which changes
# cname-query-failure and Postfix's delivery. Flush the cache first (unbound-control, the lab's own
# control socket).
unbound-control -c "$lab/dns/unbound.conf" flush_zone . > /dev/null
"$bin" scan "$out/ranked.csv" --resolver "$resolver" --db "$out/scan.sqlite" "${options[@]}"
for format in text md json csv html; do
  start=$(date +%s%N)
  "$bin" report --db "$out/scan.sqlite" --format "$format" --out "$out/report.$format"
  echo "report_test: $format in $(( ($(date +%s%N) - start) / 1000000 )) ms, $(wc -c <"$out/report.$format") bytes"
done
/usr/bin/python3 "$here/report_check.py" "$out" "$mode"

# The scan compared with itself: every domain in both, nothing changed.
"$bin" report --db "$out/scan.sqlite" --compare "$out/scan.sqlite" --format json --out "$out/compare.json"
/usr/bin/python3 - "$out/compare.json" "$(wc -l <"$lab/domains.txt")" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["tables"]
summary = {r["metric"]: r["count"] for r in t["compare_summary"]["rows"]}
assert summary["domains in both scans"] == int(sys.argv[2]), summary
assert summary["verdict changed"] == 0 and summary["gained DANE"] == 0 and summary["lost DANE"] == 0, summary
assert not t["compare_verdicts"]["rows"] and not t["compare_providers"]["rows"], t["compare_providers"]["rows"]
assert all(r["new"] == 0 and r["fixed"] == 0 for r in t["compare_findings"]["rows"])
print("report_test: --compare with itself finds no change")
PY

# A real change, in every format: an older copy of the scan where dane-ok.test was insecure.
/usr/bin/python3 - "$out/scan.sqlite" "$out/old.sqlite" <<'PY'
import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.execute("UPDATE domains SET verdict = 'insecure' WHERE name = 'dane-ok.test'")
dst.commit()
PY
for format in text md json csv html; do
  "$bin" report --db "$out/scan.sqlite" --compare "$out/old.sqlite" --format "$format" --out "$out/changed.$format"
done
/usr/bin/python3 - "$out" <<'PY'
import csv, json, pathlib, sys
d = pathlib.Path(sys.argv[1])
t = json.load(open(d / "changed.json"))["tables"]
summary = {r["metric"]: r["count"] for r in t["compare_summary"]["rows"]}
assert summary["verdict changed"] == 1 and summary["gained DANE"] == 1 and summary["lost DANE"] == 0, summary
assert t["compare_verdicts"]["rows"] == [{"old_verdict": "insecure", "new_verdict": "dane-ok", "domains": 1}], \
    t["compare_verdicts"]["rows"]
rows = [r for r in csv.DictReader(open(d / "changed.csv")) if r["table"] == "compare_verdicts"]
assert [(r["old_verdict"], r["new_verdict"], r["domains"]) for r in rows] == [("insecure", "dane-ok", "1")], rows
for fmt in ("text", "md", "html"):
    text = (d / f"changed.{fmt}").read_text(encoding="utf-8")
    assert "Changes since the compared scan" in text and "gained DANE" in text, fmt
    assert text.index("insecure", text.index("Changes since the compared scan")) > 0, fmt
print("report_test: --compare shows the changed verdict in every format")
PY
