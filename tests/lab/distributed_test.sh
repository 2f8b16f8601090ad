#!/usr/bin/env bash
# tests/lab/distributed_test.sh DANESCAN — the GNU parallel block of docs/distributed.md, taken
# from the doc as written (so it cannot rot), run against the lab with 4 shards (--shard auto),
# merged, and the merged export compared domain by domain with one unsharded scan of the list.
# A `danescan` wrapper first on PATH adds the lab's scan options (loopback MX addresses, DNS only)
# to both scans alike.
set -euo pipefail
bin=$(realpath "${1:?DANESCAN}")
here=$(cd "$(dirname "$0")" && pwd)
doc=$here/../../docs/distributed.md
lab=${DANESCAN_LAB_DIR:-/tmp/danescan-lab}
resolver=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["resolver"])' "$lab/lab.json")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/run"
cat >"$work/bin/danescan" <<WRAP
#!/bin/sh
if [ "\$1" = scan ]; then shift; exec "$bin" scan --allow-special-addresses --no-probe "\$@"; fi
exec "$bin" "\$@"
WRAP
chmod +x "$work/bin/danescan"

block=$(/usr/bin/python3 - "$doc" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"<!-- lab\.distributed\.parallel[^>]*-->\s*```sh\n(.*?)```", text, re.S)
if not m:
    sys.exit("distributed_test: no GNU parallel block after the lab.distributed.parallel marker")
print(m.group(1))
PY
)
grep -q -- '--shard auto' <<<"$block" || { echo "distributed_test: the block does not use --shard auto" >&2; exit 1; }
# Both surveys are held to what a cold scan sees: earlier lab tests (and the first survey, for the
# second) leave the outlook aliases' CNAME records in unbound's cache, and unbound then answers the
# explicit CNAME query from there instead of failing it (tests/lab/README.md), which changes
# cname_rcode, cname-query-failure and Postfix's delivery. Flush the cache before each survey,
# and unbound's infrastructure cache too: the dead server's "down" mark (infra-host-ttl 60 s)
# would otherwise turn one survey's TIMEOUT into the other's immediate SERVFAIL.
flush() {
  unbound-control -c "$lab/dns/unbound.conf" flush_zone . >/dev/null
  unbound-control -c "$lab/dns/unbound.conf" flush_infra all >/dev/null
}
flush
(cd "$work/run" && env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID -u DANESCAN_SHARDS \
  PATH="$work/bin:$PATH" LIST="$lab/domains.txt" RESOLVER="$resolver" bash -euo pipefail -c "$block")
for k in 1 2 3 4; do [[ -f $work/run/shard-$k.sqlite ]] || { echo "distributed_test: no shard-$k.sqlite" >&2; exit 1; }; done
[[ -s $work/run/survey.txt ]] || { echo "distributed_test: no report" >&2; exit 1; }

flush
"$work/bin/danescan" scan "$lab/domains.txt" --resolver "$resolver" --db "$work/single.sqlite" --quiet
"$bin" export --db "$work/single.sqlite" --format jsonl --out "$work/single.jsonl"
"$bin" export --db "$work/run/survey.sqlite" --format jsonl --out "$work/merged.jsonl"
for k in 1 2 3 4; do
  "$bin" export --db "$work/run/shard-$k.sqlite" --format jsonl --out "$work/shard-$k.jsonl"
  "$bin" list -q --shard "$k/4" "$lab/domains.txt" >"$work/expected-$k.txt"
done
/usr/bin/python3 - "$work" "$(wc -l <"$lab/domains.txt")" <<'PY'
import json, sys
work, total = sys.argv[1], int(sys.argv[2])
# The records of one RRset (tlsa, addresses) come in the resolver's order, which unbound rotates
# from answer to answer (the contract gives them no order): they are compared as sets.
def unordered(o):
    for host in o.get("mx", []):
        for key in ("tlsa", "addresses"):
            host[key] = sorted(host.get(key, []))
    return o
def load(path):
    return {o["domain"]: unordered(o) for o in map(json.loads, open(path))}
single, merged = load(f"{work}/single.jsonl"), load(f"{work}/merged.jsonl")
bad = []
if len(single) != total:
    bad.append(f"the unsharded scan exported {len(single)} domains of {total}")
if set(single) != set(merged):
    bad.append(f"domains only unsharded: {sorted(set(single) - set(merged))}; only merged: {sorted(set(merged) - set(single))}")
for name in sorted(set(single) & set(merged)):
    if single[name] != merged[name]:
        bad.append(f"{name}: unsharded {json.dumps(single[name])} != merged {json.dumps(merged[name])}")
for k in range(1, 5):
    got = set(load(f"{work}/shard-{k}.jsonl"))
    want = set(open(f"{work}/expected-{k}.txt").read().split())
    if got != want:
        bad.append(f"shard-{k}.sqlite holds {sorted(got ^ want)} wrongly (PARALLEL_SEQ={k} is shard {k}/4)")
for line in bad:
    print("distributed_test:", line, file=sys.stderr)
print(f"distributed_test: {len(merged)} domains merged from 4 shards, {len(bad)} differences")
sys.exit(1 if bad else 0)
PY
