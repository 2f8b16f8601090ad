#!/usr/bin/env bash
# tests/lab/bench_test.sh DANESCAN — `danescan bench` against the lab's resolver (issue 6, "Done
# when: both modes work against the lab resolver"): a fixed rate and a short ramp over the lab's
# domain list, each one JSON object with the contract's fields (../shared/contract/cli.md).
set -euo pipefail
bin=${1:?DANESCAN}
lab=${DANESCAN_LAB_DIR:-/tmp/danescan-lab}
resolver=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["resolver"])' "$lab/lab.json")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" bench --resolver "$resolver" --list "$lab/domains.txt" --rate 200 --duration 2 --format json -q >"$work/rate.json"
"$bin" bench --resolver "$resolver" --list "$lab/domains.txt" --ramp --ramp-start 100 --ramp-step 100 --ramp-max 400 \
  --step-duration 0.5 --format json -q >"$work/ramp.json"
/usr/bin/python3 - "$work/rate.json" "$work/ramp.json" <<'PY'
import json, sys
rate, ramp = (json.load(open(p)) for p in sys.argv[1:3])
for key in ("offered_qps", "achieved_qps", "lost", "latency_ms"):
    assert key in rate, key
assert set(rate["latency_ms"]) >= {"p50", "p90", "p99", "p999"}, rate["latency_ms"]
assert rate["achieved_qps"] > 0 and rate["offered_qps"] > 0, rate
assert rate["latency_ms"]["p50"] <= rate["latency_ms"]["p99"] <= rate["latency_ms"]["p999"], rate["latency_ms"]
# The lab's validating resolver answers the mix: MX, CNAME, A, AAAA and TLSA all appear.
assert {"MX", "A", "AAAA", "CNAME", "TLSA"} <= set(rate["by_type"]), sorted(rate["by_type"])
assert "max_sustained_qps" in ramp and isinstance(ramp["steps"], list) and ramp["steps"], ramp.keys()
for step in ramp["steps"]:
    for key in ("offered_qps", "achieved_qps", "lost", "latency_ms"):
        assert key in step, (key, step.keys())
assert 0 < ramp["max_sustained_qps"] <= 400, ramp["max_sustained_qps"]
print(f"bench_test: rate {rate['achieved_qps']:.0f} q/s answered, ramp max sustained {ramp['max_sustained_qps']:.0f} q/s "
      f"over {len(ramp['steps'])} steps")
PY
