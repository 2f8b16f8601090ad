#!/bin/bash
# bench/relay.sh — the capacity of world_relay (bench/world/relay.cc), the delaying relay of the
# benchmark world's internet mode (bench/README.md "Internet mode"), as root, WITHOUT the world:
# one nsd serving a small zone on 127.56.0.2 and the relay on 127.56.0.1 in front of it, with
# the internet mode's delays (lognormal RTT per zone key, slow and rate-limited keys) but no
# loss (--loss 0: every question must come back for the rates to compare). dnsperf drives the
# relay at increasing -Q, then nsd directly at the same -Q (the baseline), in the same run.
#
# Packets: datagrams the relay receives plus those it sends (client_in + upstream_out +
# upstream_in + client_out of its counters: 4 per question answered). The relay's CPU comes from
# its own getrusage() (the counters line it logs on SIGUSR1), nsd's from /proc.
#
# The questions: A of dom0..dom9999.sa0.bench. (a wildcard), i.e. 10,000 zone keys, each with
# its own RTT. Results in $OUT/results.txt, beside the relay's log and dnsperf's outputs.
#
# Usage: flock -o /tmp/danescan-build.lock bench/relay.sh   (no build meanwhile)
# Variables: RELAY (default build/bench/world_relay), SECONDS_PER_STEP (8), RATES ("5000 10000
#   20000 40000 80000 max"), OUT (/tmp/danescan-relay-bench), RELAY_FLAGS (extra options).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RELAY=${RELAY:-$repo/build/bench/world_relay}
SECS=${SECONDS_PER_STEP:-8}
RATES=${RATES:-5000 10000 20000 40000 80000 max}
OUT=${OUT:-/tmp/danescan-relay-bench}  # not below the world's run dir: world/down would stop this nsd
RELAY_FLAGS=${RELAY_FLAGS:-}
RELAY_ADDR=127.56.0.1
NSD_ADDR=127.56.0.2
ZONE=sa0.bench.

die() { echo "relay.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "must run as root (binds port 53)"
[[ -x $RELAY ]] || die "missing $RELAY (cmake --build build --target world_relay)"
for t in nsd dnsperf drill; do command -v $t >/dev/null || die "missing tool: $t (tests/install-deps)"; done

rm -rf "$OUT"
mkdir -p "$OUT"
cat > "$OUT/zone" <<EOF
\$ORIGIN $ZONE
\$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A $NSD_ADDR
* A 127.56.200.1
EOF
cat > "$OUT/nsd.conf" <<EOF
server:
  ip-address: $NSD_ADDR
  port: 53
  do-ip6: no
  username: ""
  chroot: ""
  database: ""
  pidfile: "$OUT/nsd.pid"
  logfile: "$OUT/nsd.log"
  xfrdfile: "$OUT/xfrd.state"
  zonelistfile: "$OUT/zone.list"
  xfrdir: "$OUT"
  server-count: 1
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
  receive-buffer-size: 4194304
  send-buffer-size: 4194304
remote-control:
  control-enable: no
zone:
  name: "$ZONE"
  zonefile: "$OUT/zone"
EOF
for ((i = 0; i < 10000; i++)); do echo "dom$i.$ZONE A"; done > "$OUT/queries.txt"

relay_pid='' nsd_pid=''
cleanup() {
  if [[ -n $relay_pid ]]; then kill -TERM "$relay_pid" 2>/dev/null || true; fi
  if [[ -n $nsd_pid ]]; then kill -TERM "$nsd_pid" 2>/dev/null || true; fi
  sleep 0.5
}
trap cleanup EXIT

nsd -c "$OUT/nsd.conf" 8>&- 9>&- || die "nsd did not start: $(tail -n 5 "$OUT/nsd.log" 2>/dev/null)"
for _ in $(seq 50); do drill -Q @$NSD_ADDR $ZONE SOA >/dev/null 2>&1 && break; sleep 0.1; done
nsd_pid=$(cat "$OUT/nsd.pid")
# shellcheck disable=SC2086,SC2094  # (RELAY_FLAGS is a list of options; both append to the log)
"$RELAY" --map $RELAY_ADDR=$NSD_ADDR --loss 0 --pid-file "$OUT/relay.pid" --log "$OUT/relay.log" $RELAY_FLAGS \
  < /dev/null >> "$OUT/relay.log" 2>&1 8>&- 9>&- &
relay_pid=$!
for _ in $(seq 50); do [[ -f $OUT/relay.pid ]] && break; sleep 0.1; done
[[ -f $OUT/relay.pid ]] || die "world_relay did not start: $(tail -n 5 "$OUT/relay.log")"
drill -Q @$RELAY_ADDR dom1.$ZONE A >/dev/null || die "no answer through the relay"

# Counters of the relay now: "packets cpu_seconds" (it logs them on SIGUSR1).
relay_sample() {
  local n before
  before=$(grep -c 'counters (SIGUSR1)' "$OUT/relay.log" || true)
  kill -USR1 "$relay_pid"
  for _ in $(seq 50); do
    n=$(grep -c 'counters (SIGUSR1)' "$OUT/relay.log" || true)
    ((n > before)) && break
    sleep 0.02
  done
  grep 'counters (SIGUSR1)' "$OUT/relay.log" | tail -n 1 |
    sed -E 's/.* packets=([0-9]+) .* cpu_user_s=([0-9.]+) cpu_sys_s=([0-9.]+).*/\1 \2 \3/' |
    awk '{ printf "%s %.3f\n", $1, $2 + $3 }'
}
# CPU seconds of every nsd process of this config (the server child does the work).
nsd_cpu() {
  local p t=0
  for p in $(pgrep -f "nsd -c $OUT/nsd.conf"); do
    # utime + stime: fields 14 and 15, counted after the "(comm)", which has spaces ("nsd: server 0")
    t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
  done
  awk -v t=$t -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f\n", t / hz }'
}
now() { date +%s.%N; }
field() { grep -m1 "$1" "$2" | awk -F': *' '{ print $2 }' | awk '{ print $1 }'; }
answered_per_s() { awk -v n="$(field 'Queries completed' "$1")" -v s="$SECS" 'BEGIN { printf "%.0f", n / s }'; }

run_dnsperf() { # run_dnsperf SERVER RATE OUTFILE
  local q=()
  [[ $2 != max ]] && q=(-Q "$2")
  dnsperf -s "$1" -d "$OUT/queries.txt" -l "$SECS" -q 10000 -c 4 -t 5 "${q[@]}" > "$3" 2>&1
}

{
  echo "# bench/relay.sh $(date '+%Y-%m-%d %H:%M'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# relay: $(grep -o 'parameters: .*' "$OUT/relay.log" | head -n 1)"
  echo "# $SECS s per step; dnsperf -q 10000 -c 4 -t 5; 10,000 zone keys; answers/s = dnsperf's completed / $SECS s"
  echo "# relay pkt/s, CPU: datagrams received + sent by the relay per s, its CPU, over the steady middle of the run"
  echo "#        | ---------------------- through the relay ---------------------- | ------------- nsd directly -------------"
  printf '%-6s | %9s %8s %9s %10s %8s %9s | %9s %8s %9s %8s\n' \
    "-Q" "answers/s" "lost" "avg ms" "relay pkt/s" "CPU %" "µs/pkt" "answers/s" "lost" "avg ms" "nsd CPU %"
} | tee "$OUT/results.txt"

for rate in $RATES; do
  # The relay's rate and CPU in the steady middle of the run: from 1 s after the start to 0.5 s
  # before the end (not the ramp, nor the tail of slow answers dnsperf waits for).
  run_dnsperf $RELAY_ADDR "$rate" "$OUT/dnsperf-relay-$rate.txt" &
  perf_pid=$!
  sleep 1
  read -r p0 c0 < <(relay_sample)
  t0=$(now)
  sleep "$(awk -v s="$SECS" 'BEGIN { print s - 1.5 }')"
  read -r p1 c1 < <(relay_sample)
  t1=$(now)
  wait $perf_pid
  n0=$(nsd_cpu)
  u0=$(now)
  run_dnsperf $NSD_ADDR "$rate" "$OUT/dnsperf-nsd-$rate.txt"
  u1=$(now)
  n1=$(nsd_cpu)
  r=$OUT/dnsperf-relay-$rate.txt d=$OUT/dnsperf-nsd-$rate.txt
  awk -v rate="$rate" -v p0="$p0" -v p1="$p1" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" \
      -v n0="$n0" -v n1="$n1" -v u0="$u0" -v u1="$u1" \
      -v rq="$(answered_per_s "$r")" -v rl="$(field 'Queries lost' "$r")" -v ra="$(field 'Average Latency' "$r")" \
      -v dq="$(answered_per_s "$d")" -v dl="$(field 'Queries lost' "$d")" -v da="$(field 'Average Latency' "$d")" \
      'BEGIN {
         pk = p1 - p0; w = t1 - t0; cpu = c1 - c0
         printf "%-6s | %9.0f %8s %9.1f %10.0f %8.1f %9.2f | %9.0f %8s %9.2f %8.1f\n", rate, rq, rl, ra * 1000,
                pk / w, 100 * cpu / w, pk ? 1e6 * cpu / pk : 0, dq, dl, da * 1000, 100 * (n1 - n0) / (u1 - u0)
       }' | tee -a "$OUT/results.txt"
done
kill -TERM "$relay_pid"
wait "$relay_pid" 2>/dev/null || true
relay_pid=
echo "# relay at exit: $(grep 'counters (SIGTERM)' "$OUT/relay.log" | sed 's/.*): //')" | tee -a "$OUT/results.txt"
