#!/usr/bin/env bash
# tests/lab/rollover_test.sh DANESCAN OUTDIR — the rollover diagnosis of `danescan report
# --compare` (issue 13, report/README.md section `rollover`) on two lab scans: one of the lab as
# the catalogue has it, one after the lab changed one host's certificate and another host's TLSA
# records (rollover_variant.py: mx.ee-shared.test presents a new certificate under its old TLSA,
# serving two domains; mx.dane-ok.test keeps its certificate under a new TLSA record). The report
# in every format must name both hosts with their kinds and domain counts; tlsa-mismatch.test's
# host, which mismatched in both scans, is no rollover. The lab is restored from the catalogue
# afterwards, whatever happens. Scans and reports stay in OUTDIR as artefacts.
set -euo pipefail
bin=${1:?DANESCAN}; out=${2:?OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
lab=${DANESCAN_LAB_DIR:-/tmp/danescan-lab}
rm -rf "$out"
mkdir -p "$out"

# The domains of the two changed hosts, the host that mismatches in both scans, and one that
# passes in both (not listed at all).
printf '%s\n' dane-ok.test ee-nexthop-a.test ee-nexthop-b.test tlsa-mismatch.test single-tlsa.test >"$out/domains.txt"
scan() {
  local resolver
  resolver=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["resolver"])' "$lab/lab.json")
  "$bin" scan "$out/domains.txt" --resolver "$resolver" --db "$1" --quiet --allow-special-addresses \
    --probe-timeout 3000 --smtp-retry-delay 500
}

"$here/up" >/dev/null  # the lab as the catalogue has it (the fixture started it; a no-op then)
scan "$out/old.sqlite"

trap '"$here/up" >/dev/null || echo "rollover_test: the lab could not be restored" >&2' EXIT
/usr/bin/python3 "$here/rollover_variant.py" "$here/catalogue" "$out"
DANESCAN_LAB_CATALOGUE=$out/catalogue "$here/up" >/dev/null
scan "$out/new.sqlite"
"$here/up" >/dev/null  # restored now, so that a failed check below leaves the lab as it was
trap - EXIT

for format in text md json csv html; do
  "$bin" report --db "$out/new.sqlite" --compare "$out/old.sqlite" --format "$format" --out "$out/report.$format"
done

/usr/bin/python3 - "$out" <<'PY'
import csv, html, json, pathlib, sys
d = pathlib.Path(sys.argv[1])
failures = 0

def check(what, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {what}{'' if ok else ': ' + str(detail)}")
    failures += not ok

ROLLED, RETLSA = "failed rollover: new certificate, stale TLSA", "TLSA changed, certificate unchanged"
# From the variant (rollover_variant.py) and the catalogue: mx.ee-shared.test serves
# ee-nexthop-a.test and ee-nexthop-b.test, mx.dane-ok.test serves dane-ok.test, and
# mx.tlsa-mismatch.test (tlsa-mismatch.test) matched in neither scan.
expected = {ROLLED: (1, 2), RETLSA: (1, 1), "no match in the compared scan": (1, 1),
            "certificate and TLSA changed": (0, 0), "certificate and TLSA unchanged": (0, 0),
            "not in the compared scan": (0, 0)}
hosts = [(ROLLED, "mx.ee-shared.test", "ee-shared.test", 2), (RETLSA, "mx.dane-ok.test", "dane-ok.test", 1)]

t = json.load(open(d / "report.json"))["tables"]
summary = {r["rollover"]: (r["hosts"], r["domains"]) for r in t["rollover_summary"]["rows"]}
check("json rollover_summary", summary == expected, summary)
got = [(r["rollover"], r["host"], r["provider"], r["domains"]) for r in t["rollover_hosts"]["rows"]]
check("json rollover_hosts", got == hosts, got)
rolled = t["rollover_hosts"]["rows"][0] if got else {}
check("json: the failed rollover's leaf changed", rolled.get("old_leaf") and rolled.get("old_leaf") != rolled.get("new_leaf"), rolled)
retlsa = t["rollover_hosts"]["rows"][1] if len(got) > 1 else {}
check("json: the TLSA change kept its leaf", retlsa.get("old_leaf") and retlsa.get("old_leaf") == retlsa.get("new_leaf"), retlsa)

rows = list(csv.DictReader(open(d / "report.csv", newline="", encoding="utf-8")))
got = {r["rollover"]: (int(r["hosts"]), int(r["domains"])) for r in rows if r["table"] == "rollover_summary"}
check("csv rollover_summary", got == expected, got)
got = [(r["rollover"], r["host"], r["provider"], int(r["domains"])) for r in rows if r["table"] == "rollover_hosts"]
check("csv rollover_hosts", got == hosts, got)

for fmt in ("text", "md", "html"):
    text = (d / f"report.{fmt}").read_text(encoding="utf-8")
    if fmt == "html":
        text = html.unescape(text)
    start = text.find("Rollovers since the compared scan")
    check(f"{fmt}: has the rollover section", start >= 0)
    body = text[start:]
    for kind, host, _, _ in hosts:
        check(f"{fmt}: names {host} as '{kind}'", kind in body and host in body)
    # The hosts table lists the failed rollover first, the TLSA change second.
    check(f"{fmt}: hosts in kind order", 0 <= body.rfind("mx.ee-shared.test") < body.rfind("mx.dane-ok.test"))
print(f"rollover_test: {'all checks passed' if not failures else f'{failures} checks failed'}")
sys.exit(1 if failures else 0)
PY
