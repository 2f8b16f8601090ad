#!/usr/bin/env bash
# tests/cli/cli_test.sh DANESCAN — the command-line contract: exit codes 0/1/2, --help on every
# command, usage errors that name the bad value, and `danescan list` on real files and stdin.
set -u
bin=${1:?usage: cli_test.sh PATH-TO-danescan}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# expect NAME CODE PATTERN -- COMMAND...: the exit code is CODE and stdout+stderr match PATTERN.
expect() {
  local name=$1 code=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -ne $code ]]; then
    echo "FAIL $name: exit $rc, expected $code; output: $out"
    failed=$((failed + 1))
  elif ! grep -Eq -- "$pattern" <<<"$out"; then
    echo "FAIL $name: output does not match /$pattern/: $out"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

expect version 0 '^danescan [0-9]+\.[0-9]+\.[0-9]+$' -- "$bin" --version
expect help 0 'scan.*export.*report.*merge.*bench.*check' -- bash -c "'$bin' --help | tr '\n' ' '"
for cmd in scan list export report merge bench check; do
  expect "help-$cmd" 0 "Usage: .*danescan $cmd" -- "$bin" "$cmd" --help
done
expect no-command 2 'subcommand' -- "$bin"
expect unknown-command 2 'frobnicate' -- "$bin" frobnicate
expect scan-missing-resolver 2 'resolver' -- "$bin" scan list.txt --db x.sqlite
expect scan-resolver-name 2 "'resolver.example' is not an IP address" -- "$bin" scan l --resolver resolver.example --db x
expect scan-bad-port 2 'port must be a number' -- "$bin" scan l --resolver 127.0.0.1:99999 --db x
expect scan-bad-shard 2 'shard' -- "$bin" scan l --resolver 127.0.0.1 --db x --shard 0/3
expect scan-bad-concurrency 2 'concurrency' -- "$bin" scan l --resolver 127.0.0.1 --db x --concurrency 0
expect scan-bad-tls-concurrency 2 'tls-concurrency' -- "$bin" scan l --resolver 127.0.0.1 --db x --tls-concurrency 0
expect scan-bad-per-address 2 'per-address' -- "$bin" scan l --resolver 127.0.0.1 --db x --per-address 0
expect scan-bad-probe-timeout 2 'probe-timeout' -- "$bin" scan l --resolver 127.0.0.1 --db x --probe-timeout 5
expect scan-bad-smtp-port 2 'smtp-port' -- "$bin" scan l --resolver 127.0.0.1 --db x --smtp-port 70000
expect report-bad-format 2 'format' -- "$bin" report --db x --format pdf
expect report-missing-db 1 'danescan report: .*none\.sqlite: no such file' -- "$bin" report --db "$tmp/none.sqlite"
expect report-help-teaches 0 'Sections: .*--compare' -- bash -c "'$bin' report --help | tr '\n' ' '"
# A list that cannot be read fails the scan before anything is sent (no resolver runs here).
expect scan-missing-list 1 "cannot read list '$tmp/nope.txt'" -- "$bin" scan "$tmp/nope.txt" --resolver 127.0.0.1:53 --db "$tmp/x.sqlite"
# A file that is not a danescan database is refused with a clear error.
echo "not sqlite" >"$tmp/text.db"
printf 'a.example\n' >"$tmp/one.txt"
expect scan-bad-db 1 'danescan scan: .*text\.db' -- "$bin" scan "$tmp/one.txt" --resolver 127.0.0.1:53 --db "$tmp/text.db"
expect export-bad-db 1 'danescan export: ' -- "$bin" export --db "$tmp/text.db"
expect export-missing-db 1 'danescan export: ' -- "$bin" export --db "$tmp/none.sqlite"
# A failed export leaves an existing --out file as it was.
echo keep >"$tmp/keep.jsonl"
expect export-failure-keeps-out 1 'danescan export: ' -- "$bin" export --db "$tmp/none.sqlite" --out "$tmp/keep.jsonl"
expect export-out-untouched 0 '^keep$' -- cat "$tmp/keep.jsonl"
expect export-no-partial-left 0 '^0$' -- bash -c "ls '$tmp' | grep -c partial || true"
expect report-bad-db 1 'danescan report: .*text\.db' -- "$bin" report --db "$tmp/text.db"
expect report-failure-keeps-out 1 'danescan report: ' -- "$bin" report --db "$tmp/none.sqlite" --out "$tmp/keep.jsonl"
expect report-out-untouched 0 '^keep$' -- cat "$tmp/keep.jsonl"
expect merge-missing-shard 1 'danescan merge: ' -- "$bin" merge "$tmp/merged.sqlite" "$tmp/none.sqlite"

# The run records its options as JSON, escaped whatever the list's path holds. Nothing listens on
# 127.0.0.1:9, so the one domain times out fast: the resolver never answered, exit 1 (the
# contract's own example; issue 11), nothing stored, the run and its options recorded.
printf 'a.example\n' >"$tmp/q\"uote.txt"
expect scan-no-answer-fails 1 'the resolver never answered' -- "$bin" scan "$tmp/q\"uote.txt" --resolver 127.0.0.1:9 --db "$tmp/opts.sqlite" --timeout 10 --attempts 1 --quiet --tls-concurrency 7 --ehlo-name probe.example
# One address per --resolver: a list named after it is the LIST, not a second resolver (exit 1: the
# resolver never answered, so the list was read and scanned; before, exit 2: no LIST).
expect scan-resolver-then-list 1 'the resolver never answered' -- "$bin" scan --resolver 127.0.0.1:9 "$tmp/q\"uote.txt" --db "$tmp/order.sqlite" --timeout 10 --attempts 1 --quiet
expect run-options-json 0 'q"uote\.txt.*127\.0\.0\.1:9.* 7 probe\.example$' -- /usr/bin/python3 -c "
import json, sqlite3, sys
o = json.loads(sqlite3.connect(sys.argv[1]).execute('SELECT options FROM runs').fetchone()[0])
print(o['lists'][0], o['resolvers'][0], o['timeout_ms'], o['attempts'], o['tls_concurrency'], o['ehlo_name'])" "$tmp/opts.sqlite"
# The report of that scan, in every format, to a file (no partial file left behind).
for format in text md json csv html; do
  expect "report-$format" 0 '' -- "$bin" report --db "$tmp/opts.sqlite" --format "$format" --out "$tmp/report.$format"
done
expect report-text-verdict 0 'domains scanned +0 ' -- cat "$tmp/report.text"
expect report-compare 0 'Changes since the compared scan' -- "$bin" report --db "$tmp/opts.sqlite" --compare "$tmp/opts.sqlite"
expect report-compare-missing 1 'danescan report: .*old\.sqlite' -- "$bin" report --db "$tmp/opts.sqlite" --compare "$tmp/old.sqlite"
expect report-no-partial-left 0 '^0$' -- bash -c "ls '$tmp' | grep -c partial || true"

# --out - is standard output (issue 11), never a file named '-'.
expect bench-out-dash 1 '"offered_qps"' -- bash -c "cd '$tmp' && '$bin' bench -q --resolver 127.0.0.1:9 --list one.txt --rate 100 --duration 0.05 --timeout 20 --format json --out - 2>/dev/null"
expect out-dash-no-file 0 '^absent$' -- bash -c "[ -e '$tmp/-' ] && echo present || echo absent"

# danescan check: usage errors are exit 2 and name the problem; a resolver that never answers
# gives dns-error, a failing verdict (exit 1), in the account, in --json and in the --db run.
expect check-bad-domain 2 "'bad\.\.name' is not a domain name: empty label" -- "$bin" check bad..name --resolver 127.0.0.1
expect check-missing-resolver 2 'resolver is required' -- "$bin" check a.example
expect check-missing-domain 2 'DOMAIN' -- "$bin" check --resolver 127.0.0.1
expect check-bad-color 2 'color' -- "$bin" check a.example --resolver 127.0.0.1 --color sometimes
expect check-no-answer 1 'Verdict: dns-error' -- "$bin" check A.Example. --resolver 127.0.0.1:9 --timeout 10 --attempts 1
expect check-no-answer-json 1 '^\{"domain":"a\.example","verdict":"dns-error","mx_rcode":"TIMEOUT"' -- "$bin" check a.example --resolver 127.0.0.1:9 --timeout 10 --attempts 1 --json --db "$tmp/check.sqlite"
# --out - on a database that holds a domain (check --db above stored a.example; a scan against a
# resolver that never answers stores nothing).
expect export-out-dash 0 '^\{"domain":"a\.example","verdict":"dns-error"' -- bash -c "cd '$tmp' && '$bin' export --db check.sqlite --out -"
expect report-out-dash 0 'domains scanned +1 ' -- bash -c "cd '$tmp' && '$bin' report --db check.sqlite --out -"
expect check-db-run 0 '"domain":"a\.example","verdict":"dns-error"' -- "$bin" export --db "$tmp/check.sqlite"

# danescan bench: usage errors (exit 2) name what is wrong; a resolver that never answers is exit 1,
# with the report still written (nothing listens on 127.0.0.1:9).
expect bench-missing-resolver 2 'resolver' -- "$bin" bench --list "$tmp/one.txt" --rate 10
expect bench-no-source 2 'list or --queries' -- "$bin" bench --resolver 127.0.0.1 --rate 10
expect bench-list-and-queries 2 'excludes' -- "$bin" bench --resolver 127.0.0.1 --list "$tmp/one.txt" --queries q --rate 10
expect bench-no-mode 2 'rate' -- "$bin" bench --resolver 127.0.0.1 --list "$tmp/one.txt"
expect bench-ramp-and-rate 2 'excludes' -- "$bin" bench --resolver 127.0.0.1 --list "$tmp/one.txt" --ramp --rate 10
expect bench-ramp-option-alone 2 'ramp' -- "$bin" bench --resolver 127.0.0.1 --list "$tmp/one.txt" --rate 10 --ramp-start 5
expect bench-bad-rate 2 'rate' -- "$bin" bench --resolver 127.0.0.1 --list "$tmp/one.txt" --rate -5
expect bench-bad-format 2 'format' -- "$bin" bench --resolver 127.0.0.1 --list "$tmp/one.txt" --rate 10 --format pdf
expect bench-bad-resolver 2 "'resolver.example' is not an IP address" -- "$bin" bench --resolver resolver.example --list l --rate 10
expect bench-passes-and-duration 2 'excludes' -- "$bin" bench --resolver 127.0.0.1 --list "$tmp/one.txt" --rate 10 --passes 2 --duration 3
expect bench-missing-list 1 "cannot read list '$tmp/nope.txt'" -- "$bin" bench --resolver 127.0.0.1:9 --list "$tmp/nope.txt" --rate 10
printf 'a.example MX\na.example NOPE\n' >"$tmp/bad-queries.txt"
expect bench-bad-queries 1 'bad-queries\.txt:2: unknown type' -- "$bin" bench --resolver 127.0.0.1:9 --queries "$tmp/bad-queries.txt" --rate 10
expect bench-never-answered 1 'never answered \(20 queries sent\)' -- "$bin" bench -q --resolver 127.0.0.1:9 --list "$tmp/one.txt" --rate 100 --duration 0.2 --timeout 50 --out "$tmp/bench.json" --format json
expect bench-json-written 0 '^20 20 0\.0$' -- /usr/bin/python3 -c "
import json, sys
o = json.load(open(sys.argv[1]))
print(o['sent'], o['lost'], o['achieved_qps'])" "$tmp/bench.json"

# danescan list: normalisation, comments, CSV, invalid lines with file:line, duplicates, stdin.
printf '# a comment\nExample.COM.\n\n1,tranco.example\nbad..name\nexample.com\nbücher.example\n' >"$tmp/a.txt"
expect list-names 0 '^example\.com tranco\.example xn--bcher-kva\.example $' -- bash -c "'$bin' list -q '$tmp/a.txt' | tr '\n' ' '"
expect list-bad-line 0 "a\.txt:5: " -- "$bin" list "$tmp/a.txt"
expect list-summary 0 '3 names from 7 lines \(1 invalid, 1 duplicates' -- "$bin" list "$tmp/a.txt"
expect list-stdin 0 '^stdin\.example$' -- bash -c "echo STDIN.example | '$bin' list -q -"
expect list-gzip-stdin 0 '^example\.com tranco\.example xn--bcher-kva\.example $' -- bash -c "gzip -c '$tmp/a.txt' | '$bin' list -q - | tr '\n' ' '"
expect list-missing-file 1 'nope\.txt' -- "$bin" list "$tmp/nope.txt"
# A zip archive: one clear error and exit 1, not a line of noise per binary line.
printf 'PK\003\004\024\000binary\nnoise\001\n' >"$tmp/a.zip"
expect list-zip 1 '^[^ ]*a\.zip: zip archives are not supported; unzip it or use gzip$' -- bash -c "'$bin' list -q '$tmp/a.zip' 2>&1"
expect list-old-mac 0 '^a\.example b\.example $' -- bash -c "printf 'a.example\\rb.example\\r' | '$bin' list -q - | tr '\\n' ' '"
expect list-bad-shard 2 'shard' -- "$bin" list "$tmp/a.txt" --shard 4/3

# Shards of one list: disjoint, and together exactly the list.
for i in $(seq 1 500); do echo "d$i.example"; done >"$tmp/many.txt"
for k in 1 2 3; do "$bin" list -q --shard "$k/3" "$tmp/many.txt" >"$tmp/shard$k"; done
expect shards-union 0 '^500$' -- bash -c "cat '$tmp'/shard? | sort -u | wc -l"
expect shards-disjoint 0 '^500$' -- bash -c "cat '$tmp'/shard? | wc -l"
expect shards-nonempty 0 '^0$' -- bash -c "for f in '$tmp'/shard?; do [ -s \"\$f\" ] || echo empty; done | wc -l"

# --shard auto (docs/distributed.md): each engine's variables select the same names as the
# explicit K/N. The engines' variables of the environment this test runs in are cleared first.
clean=(env -u PARALLEL_SEQ -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_MIN
  -u SLURM_ARRAY_TASK_MAX -u SLURM_ARRAY_TASK_STEP -u SLURM_ARRAY_TASK_COUNT -u DANESCAN_SHARDS)
for k in 1 2 3; do
  expect "auto-parallel-$k" 0 '^same$' -- bash -c "${clean[*]} PARALLEL_SEQ=$k '$bin' list -q --shard auto --shards 3 '$tmp/many.txt' | cmp -s - '$tmp/shard$k' && echo same"
  expect "auto-kubernetes-$k" 0 '^same$' -- bash -c "${clean[*]} JOB_COMPLETION_INDEX=$((k - 1)) DANESCAN_SHARDS=3 '$bin' list -q --shard auto '$tmp/many.txt' | cmp -s - '$tmp/shard$k' && echo same"
  expect "auto-slurm-0-$k" 0 '^same$' -- bash -c "${clean[*]} SLURM_ARRAY_TASK_ID=$((k - 1)) SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=2 SLURM_ARRAY_TASK_COUNT=3 '$bin' list -q --shard auto '$tmp/many.txt' | cmp -s - '$tmp/shard$k' && echo same"
  expect "auto-slurm-1-$k" 0 '^same$' -- bash -c "${clean[*]} SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_TASK_COUNT=3 '$bin' list -q --shard auto '$tmp/many.txt' | cmp -s - '$tmp/shard$k' && echo same"
done
expect auto-says-shard 0 '^danescan list: --shard auto: shard 2/3 \(PARALLEL_SEQ=2, --shards 3\)$' -- bash -c "${clean[*]} PARALLEL_SEQ=2 '$bin' list --shard auto --shards 3 '$tmp/many.txt' 2>&1 >/dev/null | head -1"
expect auto-none 2 'no shard index in the environment.*PARALLEL_SEQ.*JOB_COMPLETION_INDEX.*SLURM_ARRAY_TASK_ID' -- "${clean[@]}" "$bin" list --shard auto --shards 3 "$tmp/many.txt"
expect auto-no-count 2 'PARALLEL_SEQ=1 gives the shard index but not the count' -- "${clean[@]}" PARALLEL_SEQ=1 "$bin" list --shard auto "$tmp/many.txt"
expect auto-out-of-range 2 'JOB_COMPLETION_INDEX=3 is outside 0\.\.2' -- "${clean[@]}" JOB_COMPLETION_INDEX=3 DANESCAN_SHARDS=3 "$bin" list --shard auto "$tmp/many.txt"
expect auto-not-a-number 2 'SLURM_ARRAY_TASK_ID="one"' -- "${clean[@]}" SLURM_ARRAY_TASK_ID=one SLURM_ARRAY_TASK_COUNT=3 "$bin" list --shard auto "$tmp/many.txt"
expect auto-zero-count 2 'DANESCAN_SHARDS=0' -- "${clean[@]}" PARALLEL_SEQ=1 DANESCAN_SHARDS=0 "$bin" list --shard auto "$tmp/many.txt"
expect auto-bad-shards 2 '\-\-shards: the shard count must be a whole number' -- "${clean[@]}" PARALLEL_SEQ=1 "$bin" list --shard auto --shards 0 "$tmp/many.txt"
expect shards-without-auto 2 '\-\-shards: goes with --shard auto' -- "$bin" list --shard 1/3 --shards 3 "$tmp/many.txt"
expect scan-auto-none 2 'no shard index in the environment' -- "${clean[@]}" "$bin" scan "$tmp/one.txt" --resolver 127.0.0.1:9 --db "$tmp/auto.sqlite" --shard auto
# The scan's recorded options hold the effective K/N and where it came from, not "auto".
expect scan-auto-completes 0 '' -- "${clean[@]}" PARALLEL_SEQ=2 "$bin" scan "$tmp/one.txt" --resolver 127.0.0.1:9 --db "$tmp/auto.sqlite" --timeout 10 --attempts 1 --quiet --shard auto --shards 3
expect scan-auto-options 0 '^2/3 PARALLEL_SEQ=2, --shards 3$' -- /usr/bin/python3 -c "
import json, sqlite3, sys
o = json.loads(sqlite3.connect(sys.argv[1]).execute('SELECT options FROM runs').fetchone()[0])
print(o['shard'], o['shard_origin'])" "$tmp/auto.sqlite"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
