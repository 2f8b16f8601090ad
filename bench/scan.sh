#!/usr/bin/env bash
# bench/scan.sh — end-to-end benchmark of `danescan scan` (issue 3, "Performance"): brings up
# the benchmark world (bench/world/up: 100,000 mail domains, nsd and a validating unbound on
# 127.54.0.0/16), then in ONE run, on the same resolver and the same questions:
#
#   cold  fresh unbound -> danescan scan of the list;  fresh unbound -> dnsperf, one pass over
#         the same questions (the resolver's recursion and validation are the limit)
#   hot   without restarting: danescan scan again; dnsperf again (the cache answers: the client
#         is the limit)
#
# and prints mode, danescan q/s, dnsperf q/s, their ratio, danescan domains/s and peak RSS.
# dnsperf's questions (RUNDIR/queries.txt, written by bench/world/genworld.py) are the ones a
# scan of the list asks, each once: MX per domain; per MX host CNAME, A, AAAA and TLSA at
# _25._tcp. dnsperf sets DO (-D), like danescan.
#
# Usage: bench/scan.sh [--million] [--domains N]     (as root, from anywhere)
#   --million    also scan a 1,000,000-domain list (the world's list plus 900,000 names that do
#                not exist) and report danescan's peak RSS (target: under 200 MiB)
#   --domains N  size of the world (default 100000)
# Environment:
#   DANESCAN            danescan binary (default: build/danescan under the repository root)
#   DANESCAN_BENCH_DIR  the world's run dir (default /tmp/danescan-bench); databases and
#                       results go to its scan/ subdirectory
#   CONCURRENCY         danescan --concurrency and dnsperf -q (default 1000, danescan's default)
#   HOT_PASSES          dnsperf passes over the question file in hot mode (default 3)
#   DNSPERF_BUF_KB      dnsperf -b, its socket buffers in KiB (default 4096: the default buffer
#                       drops replies at 1,000 outstanding queries with a hot cache)
#   KEEP_WORLD          1 to leave the world running at the end (default: bench/world/down)
#   SCAN_TIMEOUT        seconds after which a danescan run is stopped and counted as failed
#                       (default 3600; 0: no limit)
# When `danescan scan` is not implemented yet (exit 1, "not implemented yet"), its columns say
# so and the dnsperf figures are still measured. Installs nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
DANESCAN=${DANESCAN:-$repo/build/danescan}
CONCURRENCY=${CONCURRENCY:-1000}
HOT_PASSES=${HOT_PASSES:-3}
DNSPERF_BUF_KB=${DNSPERF_BUF_KB:-4096}
KEEP_WORLD=${KEEP_WORLD:-0}
SCAN_TIMEOUT=${SCAN_TIMEOUT:-3600}
MILLION=false
DOMAINS=100000
while (($#)); do
  case $1 in
    --million) MILLION=true; shift ;;
    --domains) DOMAINS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bench/scan.sh [--million] [--domains N]" >&2; exit 2 ;;
  esac
done

source "$here/world/common.sh"   # RUN, RESOLVER, restart_unbound, world_lock, ...
say() { echo "scan.sh: $*" >&2; }
fatal() { echo "scan.sh: $*" >&2; exit 1; }

for tool in dnsperf unbound-control flock; do
  command -v "$tool" >/dev/null 2>&1 || fatal "$tool is required (tests/install-deps installs it)"
done
/usr/bin/time --version 2>&1 | grep -q GNU || fatal "GNU time (/usr/bin/time, package time) is required"
[[ $(id -u) == 0 ]] || fatal "must run as root (the world binds port 53)"
[[ -x $DANESCAN ]] || fatal "no danescan binary at $DANESCAN (build the danescan target or set DANESCAN)"
[[ $CONCURRENCY =~ ^[0-9]+$ && $HOT_PASSES =~ ^[0-9]+$ && $DNSPERF_BUF_KB =~ ^[0-9]+$ && $SCAN_TIMEOUT =~ ^[0-9]+$ ]] ||
  fatal "CONCURRENCY, HOT_PASSES, DNSPERF_BUF_KB and SCAN_TIMEOUT take numbers"

"$here/world/up" --domains "$DOMAINS" >&2 || fatal "the benchmark world did not come up"
# Hold the world's lock from here on, so that no up/down elsewhere restarts it under us.
world_lock
if [[ $KEEP_WORLD != 1 ]]; then trap 'DANESCAN_BENCH_LOCKED=1 "$here/world/down" -q || true' EXIT; fi

LIST=$RUN/domains.txt
QUERIES=$RUN/queries.txt
OUT=$RUN/scan
mkdir -p "$OUT"
ndomains=$(wc -l < "$LIST")
nquestions=$(wc -l < "$QUERIES")
ucontrol() { unbound-control -c "$RUN/dns/unbound.conf" "$@"; }
unbound_queries() { ucontrol stats_noreset 2>/dev/null | sed -n 's/^total.num.queries=//p'; }
# CPU seconds (user + system) unbound has used so far; the differences show who was the limit.
unbound_cpu() {
  local pid
  pid=$(component_pid unbound) || { echo 0; return; }
  awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$pid/stat"
}
udp_rcvbuf_errors() { awk '/^Udp:/ { if (h) print $6; h = 1 }' /proc/net/snmp; }

# ---- danescan ------------------------------------------------------------------------------
# scan_run LABEL LIST: sets ds_state (ok|unavailable|failed), ds_wall, ds_rss_mib, ds_queries
# (from the database's queries table; empty when it has none), ds_uqueries (what unbound
# received meanwhile), ds_note.
scan_run() {
  local label=$1 list=$2 db=$OUT/$1.sqlite tf=$OUT/$1.time err=$OUT/$1.err t0 t1 rc u0 u1 c0
  rm -f "$db" "$db-wal" "$db-shm"
  u0=$(unbound_queries)
  c0=$(unbound_cpu)
  t0=$(date +%s%N)
  set +e
  /usr/bin/time -v -o "$tf" timeout "$SCAN_TIMEOUT" "$DANESCAN" scan "$list" --resolver "$RESOLVER" --db "$db" \
    --no-probe --quiet --concurrency "$CONCURRENCY" > "$OUT/$label.out" 2> "$err"
  rc=$?
  set -e
  t1=$(date +%s%N)
  u1=$(unbound_queries)
  ds_ucpu=$(awk -v a="$c0" -v b="$(unbound_cpu)" 'BEGIN { printf "%.1f", b - a }')
  ds_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
  ds_rss_mib=$(awk '/Maximum resident set size/ { printf "%.0f", $NF / 1024 }' "$tf" 2>/dev/null)
  ds_uqueries=$(( ${u1:-0} - ${u0:-0} ))
  ds_queries='' ds_qdetail='' ds_note=''
  if ((rc != 0)); then
    if ((rc == 124)); then
      ds_state=failed ds_note="danescan scan did not finish in $SCAN_TIMEOUT s (stopped) [$err]"
    elif grep -q 'not implemented yet' "$err"; then
      ds_state=unavailable ds_note="danescan scan: not available ($(head -1 "$err"))"
    else
      ds_state=failed ds_note="danescan scan failed (exit $rc): $(head -3 "$err" | tr '\n' ' ') [$err]"
    fi
    return 0
  fi
  ds_state=ok
  # "COUNT [retried R, timed out T]": the second part only when the schema has those columns.
  local counts
  counts=$("$PY" - "$db" <<'PY'
import sqlite3, sys
try:
    c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    if c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='queries'").fetchone():
        out = [str(c.execute("SELECT count(*) FROM queries").fetchone()[0])]
        cols = {r[1] for r in c.execute("PRAGMA table_info(queries)")}
        if "attempts" in cols:
            out.append("retried %d" % c.execute("SELECT count(*) FROM queries WHERE attempts > 1").fetchone()[0])
        if "rcode" in cols:
            out.append("timed out %d" % c.execute("SELECT count(*) FROM queries WHERE rcode = 'TIMEOUT'").fetchone()[0])
        print(out[0], ", ".join(out[1:]))
except sqlite3.Error:
    pass
PY
)
  ds_queries=${counts%% *}
  ds_qdetail=${counts#"$ds_queries"}
  ds_qdetail=${ds_qdetail# }
}

# ---- dnsperf -------------------------------------------------------------------------------
# perf_run LABEL PASSES: sets dp_qps, dp_lost, dp_sent, dp_ucpu (unbound's CPU seconds).
perf_run() {
  local label=$1 passes=$2 f=$OUT/$1.dnsperf c0
  c0=$(unbound_cpu)
  dnsperf -s "$RESOLVER" -d "$QUERIES" -D -n "$passes" -q "$CONCURRENCY" -t 5 -b "$DNSPERF_BUF_KB" > "$f" 2>&1 ||
    fatal "dnsperf failed ($f): $(tail -3 "$f" | tr '\n' ' ')"
  dp_qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$f")
  dp_sent=$(awk '/Queries sent:/ { print $3 }' "$f")
  dp_lost=$(awk '/Queries lost:/ { print $3 }' "$f")
  dp_ucpu=$(awk -v a="$c0" -v b="$(unbound_cpu)" 'BEGIN { printf "%.1f", b - a }')
}

rows=()
notes=()
fmt_row() { # mode: one table row from the ds_* and dp_* values
  local mode=$1 dq="" ratio="" dd="" rss="" wall=""
  case $ds_state in
    ok)
      wall=$ds_wall
      dd=$(awk -v n="$ndomains" -v w="$ds_wall" 'BEGIN { printf "%.0f", n / w }')
      rss=$ds_rss_mib
      if [[ -n $ds_queries ]]; then
        dq=$(awk -v n="$ds_queries" -v w="$ds_wall" 'BEGIN { printf "%.0f", n / w }')
        ratio=$(awk -v a="$dq" -v b="$dp_qps" 'BEGIN { printf "%.2f", a / b }')
      fi ;;
    unavailable) dq="not available" ;;
    *) dq="failed" ;;
  esac
  rows+=("$(printf '| %-5s | %13s | %11s | %5s | %17s | %18s | %10s | %12s |' \
    "$mode" "$dq" "$dp_qps" "$ratio" "$dd" "$rss" "$wall" "$dp_lost/$dp_sent")")
  [[ -n $ds_note ]] && notes+=("$mode: $ds_note")
  if [[ $ds_state == ok ]]; then
    notes+=("$mode: danescan stored ${ds_queries:-?} queries (queries table$([[ -n $ds_queries ]] || echo ' missing')${ds_qdetail:+; $ds_qdetail}); unbound received $ds_uqueries during its run ($(awk -v n="$ds_uqueries" -v w="$ds_wall" 'BEGIN { printf "%.0f", n / w }')/s) and used $ds_ucpu CPU s")
  fi
  notes+=("$mode: dnsperf sent $dp_sent queries; unbound used $dp_ucpu CPU s meanwhile ($(awk -v c="$dp_ucpu" -v n="$dp_sent" 'BEGIN { printf "%.0f", c * 1e6 / n }') µs per query)")
  return 0
}

rcv0=$(udp_rcvbuf_errors)
say "world: $ndomains domains, $nquestions questions for dnsperf; concurrency $CONCURRENCY"

say "cold: fresh unbound, danescan scan ..."
restart_unbound || fatal "unbound did not restart"
scan_run cold "$LIST"
say "cold: fresh unbound, dnsperf (1 pass over $nquestions questions) ..."
restart_unbound || fatal "unbound did not restart"
perf_run cold 1
fmt_row cold

say "hot: danescan scan (cache from the cold dnsperf pass) ..."
scan_run hot "$LIST"
say "hot: dnsperf ($HOT_PASSES passes) ..."
perf_run hot "$HOT_PASSES"
fmt_row hot

million_line=
if $MILLION; then
  big=$OUT/million.txt
  if [[ ! -s $big || $(wc -l < "$big") != 1000000 ]]; then
    say "million: writing a 1,000,000-domain list ($ndomains world domains + names that do not exist) ..."
    "$PY" - "$LIST" 1000000 > "$big.tmp" <<'PY'
import sys
world = open(sys.argv[1]).read().split()
n = int(sys.argv[2])
out = sys.stdout
# The world's domains, each followed by names that do not exist: under bench. itself (NSEC,
# so unbound's aggressive NSEC answers most from its cache), in a big signed zone and in an
# unsigned one.
per = max(1, n // len(world))
i = 0
for d in world:
    if i >= n:
        break
    out.write(d + "\n"); i += 1
    for k in range(per - 1):
        if i >= n:
            break
        where = ("bench", "sa0.bench", "ua0.bench")[i % 3]
        out.write(f"nxm{i}.{where}\n"); i += 1
while i < n:
    out.write(f"nxm{i}.bench\n"); i += 1
PY
    mv "$big.tmp" "$big"
  fi
  say "million: danescan scan of 1,000,000 domains (peak RSS) ..."
  scan_run million "$big"
  case $ds_state in
    ok) million_line="million: 1,000,000 domains in ${ds_wall} s ($(awk -v w="$ds_wall" 'BEGIN { printf "%.0f", 1e6 / w }') domains/s), peak RSS ${ds_rss_mib} MiB (target: under 200 MiB); ${ds_queries:-?} queries${ds_qdetail:+ ($ds_qdetail)}" ;;
    *) million_line="million: $ds_note" ;;
  esac
fi
rcv1=$(udp_rcvbuf_errors)

{
  echo
  echo "danescan scan vs dnsperf, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "world: $ndomains domains, $nquestions questions; resolver $RESOLVER (unbound, 1 thread, qname-minimisation yes); concurrency / dnsperf -q $CONCURRENCY"
  echo
  printf '| %-5s | %13s | %11s | %5s | %17s | %18s | %10s | %12s |\n' mode "danescan q/s" "dnsperf q/s" ratio "danescan domains/s" "danescan RSS MiB" "danescan s" "dnsperf lost"
  echo "|-------|--------------:|------------:|------:|------------------:|-------------------:|-----------:|-------------:|"
  printf '%s\n' "${rows[@]}"
  echo
  for n in "${notes[@]}"; do echo "$n"; done
  [[ -n $million_line ]] && echo "$million_line"
  echo "UDP receive-buffer drops on the machine during the run: $((rcv1 - rcv0))"
  echo "logs and databases: $OUT"
} | tee "$OUT/results.txt"
