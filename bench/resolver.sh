#!/usr/bin/env bash
# bench/resolver.sh — `danescan bench` against its peers (issue 6, "Checked against a peer"):
# brings up the benchmark world if needed (bench/world/up: 100,000 mail domains, nsd and a
# validating unbound on 127.54.0.0/16), warms unbound's cache with one dnsperf pass over the
# question file, then in ONE run, on the same resolver and the same questions
# (RUNDIR/queries.txt, the questions a scan of the world's list asks, each once):
#
#   fixed  for each rate R: `danescan bench --queries FILE --rate R` and `dnsperf -Q R`, for the
#          same duration, alternated PAIRS times; achieved queries/s side by side and their ratio
#   ramp   `danescan bench --queries FILE --ramp` (linear steps up to RAMP_MAX over about
#          RAMP_TIME s, like resperf's ramp) and `resperf -m RAMP_MAX -r RAMP_TIME`; danescan's
#          max_sustained_qps (and max_received_qps, resperf's kind of figure) beside resperf's
#          "Maximum throughput"
#   --list  the ramp's danescan side reads the world's domain list (RUNDIR/domains.txt, `bench
#          --list`: the DANE mix learned from the answers, the list cycled for the whole ramp)
#          instead of the question file; resperf still reads queries.txt, the same questions as a
#          file (issue 12, section 3: within 15 % of resperf's maximum, as --queries)
#
# Targets: achieved rates within 10 % at the same offered load; max sustained within 15 % of
# resperf's. Both tools send EDNS0 with DO (-D), time out after TIMEOUT s, use 4 MiB socket
# buffers (-b 4096; danescan asks for 8 MiB) and one client. The world is left running (it is
# shared; bench/world/down stops it). The cache is hot: these figures are about the client and
# the resolver's answering path, not recursion (bench/scan.sh measures a cold cache).
#
# Usage: bench/resolver.sh [--rates "R1 R2 ..."] [--duration S] [--pairs N] [--ramp-max Q]
#                          [--ramp-time S] [--no-ramp] [--no-fixed] [--list]     (as root)
# Environment:
#   DANESCAN            danescan binary (default: build/danescan under the repository root)
#   DANESCAN_BENCH_DIR  the world's run dir (default /tmp/danescan-bench); outputs go to its
#                       resolver/ subdirectory, the table to resolver/results.txt
#   TIMEOUT             seconds before a query counts as lost, both tools (default 5, dnsperf's)
# Installs nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
DANESCAN=${DANESCAN:-$repo/build/danescan}
TIMEOUT=${TIMEOUT:-5}
RATES="10000 30000 50000"
DURATION=10
PAIRS=2
RAMP_MAX=150000
RAMP_TIME=60
DO_RAMP=true
DO_FIXED=true
RAMP_SOURCE=queries
while (($#)); do
  case $1 in
    --rates) RATES=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --ramp-max) RAMP_MAX=$2; shift 2 ;;
    --ramp-time) RAMP_TIME=$2; shift 2 ;;
    --no-ramp) DO_RAMP=false; shift ;;
    --no-fixed) DO_FIXED=false; shift ;;
    --list) RAMP_SOURCE=list; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bench/resolver.sh [--rates \"R...\"] [--duration S] [--pairs N] [--ramp-max Q] [--ramp-time S] [--no-ramp] [--no-fixed] [--list]" >&2; exit 2 ;;
  esac
done

source "$here/world/common.sh"   # RUN, RESOLVER, component_pid, world_lock, ...
say() { echo "resolver.sh: $*" >&2; }
fatal() { echo "resolver.sh: $*" >&2; exit 1; }

for tool in dnsperf resperf flock; do
  command -v "$tool" >/dev/null 2>&1 || fatal "$tool is required (Debian package dnsperf)"
done
/usr/bin/time --version 2>&1 | grep -q GNU || fatal "GNU time (/usr/bin/time, package time) is required"
[[ $(id -u) == 0 ]] || fatal "must run as root (the world binds port 53)"
[[ -x $DANESCAN ]] || fatal "no danescan binary at $DANESCAN (build the danescan target or set DANESCAN)"
for n in $RATES $DURATION $PAIRS $RAMP_MAX $RAMP_TIME $TIMEOUT; do
  [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || fatal "rates, durations, pairs, RAMP_MAX, RAMP_TIME and TIMEOUT take positive integers"
done

"$here/world/up" >&2 || fatal "the benchmark world did not come up"
# Hold the world's lock from here on, so that no up/down elsewhere restarts unbound under us.
world_lock

QUERIES=$RUN/queries.txt
LIST=$RUN/domains.txt
OUT=$RUN/resolver
mkdir -p "$OUT"
nquestions=$(wc -l < "$QUERIES")

unbound_cpu() {
  local pid
  pid=$(component_pid unbound) || { echo 0; return; }
  awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$pid/stat"
}
udp_rcvbuf_errors() { awk '/^Udp:/ { if (h) print $6; h = 1 }' /proc/net/snmp; }
# client CPU seconds (user + system) from a GNU time -f '%U %S' file
client_cpu() { awk '{ printf "%.2f", $1 + $2 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }

# ---- one run of each tool ----------------------------------------------------------------------
# ds_rate LABEL RATE: sets ds_offered, ds_achieved, ds_received, ds_lost, ds_p50, ds_p99, ds_full (% of
# full read batches: above 50 the client was behind reading), ds_cpu, ds_ucpu
ds_rate() {
  local label=$1 rate=$2 f=$OUT/$1.json c0
  c0=$(unbound_cpu)
  /usr/bin/time -f '%U %S' -o "$OUT/$label.time" "$DANESCAN" bench -q --resolver "$RESOLVER" --queries "$QUERIES" \
    --rate "$rate" --duration "$DURATION" --timeout $((TIMEOUT * 1000)) --format json --out "$f" 2> "$OUT/$label.err" ||
    fatal "danescan bench failed ($OUT/$label.err): $(tail -3 "$OUT/$label.err" | tr '\n' ' ')"
  ds_ucpu=$(awk -v a="$c0" -v b="$(unbound_cpu)" 'BEGIN { printf "%.1f", b - a }')
  ds_cpu=$(client_cpu "$OUT/$label.time")
  read -r ds_offered ds_achieved ds_received ds_lost ds_p50 ds_p99 ds_full < <("$PY" - "$f" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
l = o["latency_ms"]
print("%.0f %.0f %.0f %d %.3f %.3f %.0f" % (o["offered_qps"], o["achieved_qps"], o["received_qps"], o["lost"], l["p50"], l["p99"],
                                         100 * o["full_read_share"]))
PY
)
}

# dp_rate LABEL RATE: sets dp_offered (sent / run time), dp_qps, dp_lost, dp_lat (average, ms), dp_cpu, dp_ucpu
dp_rate() {
  local label=$1 rate=$2 f=$OUT/$1.dnsperf c0
  c0=$(unbound_cpu)
  /usr/bin/time -f '%U %S' -o "$OUT/$label.time" dnsperf -s "$RESOLVER" -d "$QUERIES" -D -Q "$rate" -l "$DURATION" \
    -q 60000 -t "$TIMEOUT" -b 4096 > "$f" 2>&1 || fatal "dnsperf failed ($f): $(tail -3 "$f" | tr '\n' ' ')"
  dp_ucpu=$(awk -v a="$c0" -v b="$(unbound_cpu)" 'BEGIN { printf "%.1f", b - a }')
  dp_cpu=$(client_cpu "$OUT/$label.time")
  dp_qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$f")
  dp_lost=$(awk '/Queries lost:/ { print $3 }' "$f")
  dp_offered=$(awk '/Queries sent:/ { s = $3 } /Run time \(s\):/ { t = $4 } END { printf "%.0f", s / t }' "$f")
  dp_lat=$(awk '/Average Latency \(s\):/ { printf "%.3f", $4 * 1000 }' "$f")
}

rcv0=$(udp_rcvbuf_errors)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
say "world: $nquestions questions; warming unbound's cache with one dnsperf pass ..."
dnsperf -s "$RESOLVER" -d "$QUERIES" -D -n 1 -q 1000 -t "$TIMEOUT" -b 4096 > "$OUT/warm.dnsperf" 2>&1 ||
  fatal "dnsperf (warm-up) failed: $(tail -3 "$OUT/warm.dnsperf" | tr '\n' ' ')"

fixed_rows=()
if $DO_FIXED; then
  for rate in $RATES; do
    for pair in $(seq 1 "$PAIRS"); do
      say "fixed $rate q/s, pair $pair/$PAIRS: danescan bench, then dnsperf -Q ($DURATION s each) ..."
      ds_rate "fixed-$rate-$pair" "$rate"
      dp_rate "fixed-$rate-$pair" "$rate"
      fixed_rows+=("$(printf '| %7s | %d | %9s | %9s | %9s | %9s | %9s | **%5s** | %5s | %5s | %7s | %7s | %8s | %8s | %3s | %6s | %6s | %5s | %5s |' \
        "$rate" "$pair" "$ds_offered" "$dp_offered" "$ds_achieved" "$ds_received" "$dp_qps" "$(ratio "$ds_achieved" "$dp_qps")" \
        "$(ratio "$ds_achieved" "$ds_offered")" "$(ratio "$dp_qps" "$dp_offered")" \
        "$ds_lost" "$dp_lost" "$ds_p50" "$dp_lat" "$ds_full" "$ds_cpu" "$dp_cpu" "$ds_ucpu" "$dp_ucpu")")
    done
  done
fi

ramp_rows=()
if $DO_RAMP; then
  # danescan: linear steps of 1 s from RAMP_MAX/RAMP_TIME up to RAMP_MAX, the slope of resperf's
  # ramp; it stops earlier when answers fall behind (3 steps in a row: one stall of this shared
  # machine must not end it) or a step loses > 1 %.
  step=$((RAMP_MAX / RAMP_TIME))
  for pair in $(seq 1 "$PAIRS"); do
    say "ramp, pair $pair/$PAIRS: danescan bench --$RAMP_SOURCE --ramp (+$step q/s per 1 s step, up to $RAMP_MAX) ..."
    f=$OUT/ramp-$pair.json
    c0=$(unbound_cpu)
    if [[ $RAMP_SOURCE == list ]]; then source_args=(--list "$LIST"); else source_args=(--queries "$QUERIES"); fi
    /usr/bin/time -f '%U %S' -o "$OUT/ramp-$pair.time" "$DANESCAN" bench -q --resolver "$RESOLVER" "${source_args[@]}" --ramp \
      --ramp-start "$step" --ramp-step "$step" --ramp-max "$RAMP_MAX" --step-duration 1 --patience 3 --timeout $((TIMEOUT * 1000)) \
      --format json --out "$f" 2> "$OUT/ramp-$pair.err" || fatal "danescan bench --ramp failed ($OUT/ramp-$pair.err)"
    ds_ucpu=$(awk -v a="$c0" -v b="$(unbound_cpu)" 'BEGIN { printf "%.1f", b - a }')
    read -r ds_sust ds_recv ds_steps ds_stop < <("$PY" - "$f" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
print("%.0f %.0f %d %s" % (o["max_sustained_qps"], o["max_received_qps"], len(o["steps"]), o["stop_reason"].replace(" ", "_")))
PY
)
    say "ramp, pair $pair/$PAIRS: resperf -m $RAMP_MAX -r $RAMP_TIME ..."
    c0=$(unbound_cpu)
    /usr/bin/time -f '%U %S' -o "$OUT/resperf-$pair.time" resperf -s "$RESOLVER" -d "$QUERIES" -D -R -m "$RAMP_MAX" -r "$RAMP_TIME" \
      -t "$TIMEOUT" -b 4096 -P "$OUT/resperf-$pair.gnuplot" > "$OUT/resperf-$pair.out" 2>&1 ||
      fatal "resperf failed ($OUT/resperf-$pair.out)"
    rp_ucpu=$(awk -v a="$c0" -v b="$(unbound_cpu)" 'BEGIN { printf "%.1f", b - a }')
    rp_max=$(awk '/Maximum throughput:/ { printf "%.0f", $3 }' "$OUT/resperf-$pair.out")
    rp_note=$(grep -o 'Fell behind.*' "$OUT/resperf-$pair.out" | head -1 || true)
    ramp_rows+=("$(printf '| %d | **%8s** | %8s | %8s | **%5s** | %5s | %3s | %s | %s | %6s | %6s | %5s | %5s |' "$pair" "$ds_sust" "$ds_recv" \
      "$rp_max" "$(ratio "$ds_sust" "$rp_max")" "$(ratio "$ds_recv" "$rp_max")" "$ds_steps" "${ds_stop//_/ }" "${rp_note:-ramp completed}" \
      "$(client_cpu "$OUT/ramp-$pair.time")" "$(client_cpu "$OUT/resperf-$pair.time")" "$ds_ucpu" "$rp_ucpu")")
  done
fi
rcv1=$(udp_rcvbuf_errors)

{
  echo
  echo "danescan bench vs dnsperf / resperf, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "resolver $RESOLVER (unbound, 1 thread, hot cache), $nquestions questions ($QUERIES), timeout $TIMEOUT s, danescan $DANESCAN"
  if $DO_FIXED; then
    echo
    echo "Fixed rate, $DURATION s per run (danescan first, then dnsperf, per pair):"
    echo
    echo "| rate | pair | offered ds | offered dp | achieved ds | received ds | dnsperf q/s | ratio | answered/offered ds | dp | lost ds | lost dp | p50 ms ds | avg ms dp | full reads % ds | CPU s ds | CPU s dp | unbound CPU s ds | unbound CPU s dp |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${fixed_rows[@]}"
  fi
  if $DO_RAMP; then
    echo
    echo "Ramp (danescan --$RAMP_SOURCE: +$((RAMP_MAX / RAMP_TIME)) q/s per 1 s step; resperf ($QUERIES): 0 to $RAMP_MAX q/s in $RAMP_TIME s):"
    echo
    echo "| pair | ds max sustained | ds max received | resperf max | ratio sustained | ratio received | ds steps | ds stopped | resperf | CPU s ds | CPU s rp | unbound CPU s ds | unbound CPU s rp |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|"
    printf '%s\n' "${ramp_rows[@]}"
  fi
  echo
  echo "ds = danescan bench, dp = dnsperf, rp = resperf. ratio = danescan / peer. dnsperf's q/s and its lost count"
  echo "include the queries still in flight when its time limit ends (lost to it); danescan's achieved counts"
  echo "answers to the run's queries whenever they came (within the timeout), received only those before the end."
  echo "UDP receive-buffer drops on the machine during the run: $((rcv1 - rcv0)). Outputs: $OUT"
} | tee "$OUT/results.txt"
