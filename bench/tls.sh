#!/usr/bin/env bash
# bench/tls.sh — end-to-end benchmark of the TLS probe engine (issue 4, "Benchmark"): danescan's
# Prober/SmtpProbe (bench/tls_probe_load.cc) and `openssl s_time` against the SAME server process
# in ONE run, on loopback:
#
#   server   bench/tls_server.py on 127.56.0.1 (SERVERS=n: n processes on 127.56.0.1..n): the
#            lab's smtpd.py code (Python asyncio, one thread) with the lab's ee-mx1 certificate
#            (self-signed EC P-256), listening for STARTTLS, for STARTTLS after a greeting delay,
#            and for implicit TLS (s_time does not speak STARTTLS)
#   sequential  danescan, one probe at a time (--concurrency 1), vs one `s_time -new`
#   parallel    danescan at CONCURRENCY probes in flight vs STIME_CLIENTS s_time processes
#               (both phases ROUNDS times, the clients alternating)
#   memory      INFLIGHT probes at once against the delayed listener (the server waits
#               GREETING_DELAY s before each 220, so all are in flight together): the peak
#               in-flight count (ProberCounters::max_in_flight) and danescan's peak RSS
#
# A danescan probe is a whole SMTP dialogue (connect, 220, EHLO, STARTTLS, TLS handshake, DANE
# verification of a `3 1 1` record, QUIT in TLS); an s_time connection is a TCP connection and
# a full TLS handshake (-new: no resumption), nothing else. Both clients do TLS 1.3 with full
# handshakes. Every danescan probe must end with dane "pass" or the run fails. The server's own
# CPU per connection is measured too (/proc/PID/stat): a one-thread Python server can be the
# limit of both clients, which is why the two are measured against the same process. On a
# shared machine the wall-clock rates swing with other load; CPU per connection (client, server,
# and their sum, printed per round) is the steadier figure.
#
# Usage: bench/tls.sh     (from anywhere; root not needed; binds 127.56.0.x on ports the
#                          kernel chooses)
# Environment:
#   TLS_PROBE_LOAD   the driver (default: build/bench/tls_probe_load; configure the build with
#                    -DDANESCAN_BENCH=ON and build the target tls_probe_load)
#   PROBES           probes of the parallel phase (default 5000); SEQ_PROBES sequential (1000)
#   CONCURRENCY      danescan's tls_concurrency in the parallel phase (default 64)
#   STIME_SECONDS    each s_time run (default 10); STIME_CLIENTS parallel s_time processes (4)
#   ROUNDS           how many times the sequential and parallel pairs run (default 2)
#   INFLIGHT         probes of the memory phase, all at once (default 1000)
#   GREETING_DELAY   seconds before the delayed listener's greeting (default 2)
#   SERVERS          server processes, one address each (default 1)
#   DANESCAN_LAB_DIR the lab's run dir; its certs/ are copied when they are there (default
#                    /tmp/danescan-lab), else tests/lab/tls/certs.py makes them
#   LAB_PROBES       also run this many probes (CONCURRENCY in flight) against the running
#                    lab's own smtpd.py (port 25, every world.json "starttls" address with the
#                    ee-mx1 chain; read-only, but it adds load to a lab others may be testing
#                    with) and report them on a line of their own (default 0: not done)
#   OUT              results dir (default /tmp/danescan-bench/tls): results.txt, logs
# Installs nothing; stops the servers it started, and only those.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
TLS_PROBE_LOAD=${TLS_PROBE_LOAD:-$repo/build/bench/tls_probe_load}
PROBES=${PROBES:-5000}
SEQ_PROBES=${SEQ_PROBES:-1000}
CONCURRENCY=${CONCURRENCY:-64}
STIME_SECONDS=${STIME_SECONDS:-10}
STIME_CLIENTS=${STIME_CLIENTS:-4}
ROUNDS=${ROUNDS:-2}
INFLIGHT=${INFLIGHT:-1000}
GREETING_DELAY=${GREETING_DELAY:-2}
SERVERS=${SERVERS:-1}
LAB_PROBES=${LAB_PROBES:-0}
LAB_DIR=${DANESCAN_LAB_DIR:-/tmp/danescan-lab}
OUT=${OUT:-/tmp/danescan-bench/tls}
CERT=ee-mx1

say() { echo "tls.sh: $*" >&2; }
fatal() { echo "tls.sh: $*" >&2; exit 1; }
[[ $LAB_PROBES =~ ^[0-9]+$ ]] || fatal "LAB_PROBES takes a number"
for v in PROBES SEQ_PROBES CONCURRENCY STIME_SECONDS STIME_CLIENTS ROUNDS INFLIGHT SERVERS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || fatal "$v takes a positive number"
done
((SERVERS <= 250)) || fatal "SERVERS: at most 250"
[[ $GREETING_DELAY =~ ^[0-9]+(\.[0-9]+)?$ ]] || fatal "GREETING_DELAY takes seconds"
[[ -x $TLS_PROBE_LOAD ]] ||
  fatal "no driver at $TLS_PROBE_LOAD (cmake -DDANESCAN_BENCH=ON, build target tls_probe_load, or set TLS_PROBE_LOAD)"
/usr/bin/time --version 2>&1 | grep -q GNU || fatal "GNU time (/usr/bin/time, package time) is required"
command -v openssl >/dev/null || fatal "openssl is required"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/run.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK/certs"
}
trap cleanup EXIT

# ---- certificates: the lab's, copied (a lab restart may remake them), or made afresh -------
if [[ -s $LAB_DIR/certs/$CERT.crt && -s $LAB_DIR/certs/$CERT.key ]]; then
  mkdir -m 700 "$WORK/certs"
  cp "$LAB_DIR/certs/$CERT.crt" "$LAB_DIR/certs/$CERT.key" "$WORK/certs/"
  certs_from="the lab's ($LAB_DIR/certs)"
else
  "$PY" "$repo/tests/lab/tls/certs.py" generate "$repo/tests/lab/catalogue/world.json" "$WORK" >&2 ||
    fatal "tests/lab/tls/certs.py generate failed"
  certs_from="made by tests/lab/tls/certs.py in $WORK/certs"
fi
TLSA="3 1 1 $("$PY" "$repo/tests/lab/tls/certs.py" tlsa "$WORK" "$CERT" 1 1)"

# ---- servers -------------------------------------------------------------------------------
addrs=() starttls=() delayed=() implicit=()
for ((i = 1; i <= SERVERS; i++)); do
  addr=127.56.0.$i
  "$PY" "$here/tls_server.py" --run "$WORK" --address "$addr" --chain "$CERT" \
    --greeting-delay "$GREETING_DELAY" > "$WORK/server$i.out" 2> "$WORK/server$i.err" &
  pids+=($!)
  addrs+=("$addr")
done
for ((i = 1; i <= SERVERS; i++)); do
  for _ in $(seq 100); do
    grep -q '^ready' "$WORK/server$i.out" && break
    kill -0 "${pids[i - 1]}" 2>/dev/null || break
    sleep 0.1
  done
  line=$(grep '^ready' "$WORK/server$i.out") ||
    fatal "server ${addrs[i - 1]} did not start: $(tail -3 "$WORK/server$i.err" | tr '\n' ' ')"
  starttls+=("${addrs[i - 1]}:$(sed -n 's/.* starttls=\([0-9]*\).*/\1/p' <<< "$line")")
  delayed+=("${addrs[i - 1]}:$(sed -n 's/.* delayed=\([0-9]*\).*/\1/p' <<< "$line")")
  implicit+=("${addrs[i - 1]}:$(sed -n 's/.* implicit=\([0-9]*\).*/\1/p' <<< "$line")")
done
cpu_pids=("${pids[@]}")  # whose CPU time counts as the server's
server_cpu() { # CPU seconds (user + system) the servers (cpu_pids) have used so far
  local pid total=0
  for pid in "${cpu_pids[@]}"; do
    total=$(awk -v t="$(getconf CLK_TCK)" -v s="$total" '{ sub(/^.*\) /, ""); printf "%.2f", s + ($12 + $13) / t }' \
      "/proc/$pid/stat")
  done
  echo "$total"
}
fsum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + b }'; }
us_per() { awk -v c="$1" -v n="$2" 'BEGIN { printf "%.0f", (n > 0 ? c * 1e6 / n : 0) }'; }
fdiv() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN { printf f, (b > 0 ? a / b : 0) }'; }

# ---- danescan --------------------------------------------------------------------------------
# load LABEL CONCURRENCY PROBES LISTENER...: runs the driver; sets d_* from its key=value output.
load() {
  local label=$1 conc=$2 n=$3 c0 servers=() s
  shift 3
  for s in "$@"; do servers+=(--server "$s"); done
  c0=$(server_cpu)
  "$TLS_PROBE_LOAD" "${servers[@]}" --tlsa "$TLSA" --probes "$n" --concurrency "$conc" \
    > "$WORK/$label.out" 2> "$WORK/$label.err" ||
    fatal "danescan $label: $(tail -3 "$WORK/$label.err" | tr '\n' ' ') [$WORK/$label.err]"
  d_scpu=$(awk -v a="$c0" -v b="$(server_cpu)" 'BEGIN { printf "%.2f", b - a }')
  get() { sed -n "s/^$1=//p" "$WORK/$label.out"; }
  d_pass=$(get pass) d_secs=$(get seconds) d_rate=$(get probes_per_s) d_maxin=$(get max_in_flight)
  local u s
  u=$(get cpu_user_s) s=$(get cpu_sys_s)
  d_cpu="$(us_per "$(fsum "$u" "$s")" "$n") ($(us_per "$u" "$n")+$(us_per "$s" "$n"))"
  d_both=$(us_per "$(fsum "$(fsum "$u" "$s")" "$d_scpu")" "$n")  # client + server µs per probe
  d_rss0=$(get rss_start_kib) d_rss=$(get peak_rss_kib)
  d_tls="$(get tls_version) $(get cipher)"
}

# ---- openssl s_time ----------------------------------------------------------------------------
# stime LABEL CLIENTS: CLIENTS s_time -new processes at once, spread over the implicit listeners;
# sets s_conn (connections of all), s_wall (the longest), s_rate, s_cpu (client µs per connection).
stime() {
  local label=$1 clients=$2 k c0 spids=() cuser=0 csys=0 f
  c0=$(server_cpu)
  for ((k = 0; k < clients; k++)); do
    /usr/bin/time -f '%e %U %S' -o "$WORK/$label.$k.time" \
      openssl s_time -connect "${implicit[k % SERVERS]}" -new -time "$STIME_SECONDS" \
      > "$WORK/$label.$k.out" 2>&1 &
    spids+=($!)
  done
  for k in "${!spids[@]}"; do
    wait "${spids[k]}" || fatal "openssl s_time failed: $(tail -3 "$WORK/$label.$k.out" | tr '\n' ' ')"
  done
  s_scpu=$(awk -v a="$c0" -v b="$(server_cpu)" 'BEGIN { printf "%.2f", b - a }')
  s_conn=0 s_wall=0
  for ((k = 0; k < clients; k++)); do
    f=$WORK/$label.$k
    s_conn=$((s_conn + $(awk '/connections in .*real seconds/ { print $1 }' "$f.out")))
    s_wall=$(awk -v w="$s_wall" '{ print ($1 > w ? $1 : w) }' "$f.time")
    cuser=$(awk -v c="$cuser" '{ printf "%.2f", c + $2 }' "$f.time")
    csys=$(awk -v c="$csys" '{ printf "%.2f", c + $3 }' "$f.time")
  done
  ((s_conn > 0)) || fatal "openssl s_time made no connection ($WORK/$label.0.out)"
  s_rate=$(fdiv "$s_conn" "$s_wall")
  s_cpu="$(us_per "$(fsum "$cuser" "$csys")" "$s_conn") ($(us_per "$cuser" "$s_conn")+$(us_per "$csys" "$s_conn"))"
  s_both=$(us_per "$(fsum "$(fsum "$cuser" "$csys")" "$s_scpu")" "$s_conn")
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
say "servers: ${starttls[*]} (STARTTLS), ${implicit[*]} (implicit TLS); certificate $CERT, TLSA $TLSA"
rows=() ratios=()
row() { rows+=("$(printf '| %s | %-36s | %5s | %5s | %6s | %7s | %15s | %6s |' "$@")"); }

# Rounds alternate the two clients, so that both see the same share of the shared machine.
for ((round = 1; round <= ROUNDS; round++)); do
  say "round $round, sequential: danescan, $SEQ_PROBES probes one at a time ..."
  load "seq$round" 1 "$SEQ_PROBES" "${starttls[@]}"
  row "$round" "danescan probes (STARTTLS + DANE-EE)" 1 "$d_pass" "$d_secs" "$d_rate" "$d_cpu" "$(us_per "$d_scpu" "$d_pass")"
  seq_rate=$d_rate
  say "round $round, sequential: openssl s_time -new, 1 client, $STIME_SECONDS s ..."
  stime "stime1.$round" 1
  row "$round" "openssl s_time -new (implicit TLS)" 1 "$s_conn" "$s_wall" "$s_rate" "$s_cpu" "$(us_per "$s_scpu" "$s_conn")"
  seq_ratio=$(fdiv "$seq_rate" "$s_rate" "%.2f")

  say "round $round, parallel: danescan, $PROBES probes, $CONCURRENCY in flight ..."
  load "par$round" "$CONCURRENCY" "$PROBES" "${starttls[@]}"
  row "$round" "danescan probes (STARTTLS + DANE-EE)" "$CONCURRENCY" "$d_pass" "$d_secs" "$d_rate" "$d_cpu" "$(us_per "$d_scpu" "$d_pass")"
  par_rate=$d_rate par_rss=$d_rss tls=$d_tls par_dboth=$d_both
  say "round $round, parallel: openssl s_time -new, $STIME_CLIENTS clients, $STIME_SECONDS s ..."
  stime "stimeN.$round" "$STIME_CLIENTS"
  row "$round" "openssl s_time -new (implicit TLS)" "$STIME_CLIENTS" "$s_conn" "$s_wall" "$s_rate" "$s_cpu" "$(us_per "$s_scpu" "$s_conn")"
  ratios+=("round $round: danescan / s_time, wall clock: sequential $seq_ratio, parallel $(fdiv "$par_rate" "$s_rate" "%.2f"); CPU per connection, client + server (parallel): danescan $par_dboth µs, s_time $s_both µs (s_time / danescan $(fdiv "$s_both" "$par_dboth" %.2f))")
done

say "memory: danescan, $INFLIGHT probes at once, greeting delayed $GREETING_DELAY s ..."
load mem "$INFLIGHT" "$INFLIGHT" "${delayed[@]}"
mem_line=$(printf '%s probes requested, %s in flight at most, all passed; RSS %s MiB before the first, peak %s MiB (%s KiB per probe in flight); %s s' \
  "$INFLIGHT" "$d_maxin" "$(fdiv "$d_rss0" 1024)" "$(fdiv "$d_rss" 1024)" \
  "$(fdiv "$((d_rss - d_rss0))" "$d_maxin")" "$d_secs")
lab_line=
if ((LAB_PROBES > 0)); then
  [[ $certs_from == "the lab's"* && -s $LAB_DIR/smtpd.pid ]] && kill -0 "$(cat "$LAB_DIR/smtpd.pid")" 2>/dev/null ||
    fatal "LAB_PROBES: the lab is not up ($LAB_DIR)"
  mapfile -t lab_servers < <("$PY" - "$repo/tests/lab/catalogue/world.json" <<'PY'
import json, sys
smtp = json.load(open(sys.argv[1])).get("smtp") or {}
for address, spec in sorted(smtp.items()):
    if spec.get("behaviour") == "starttls" and spec.get("chain") == ["ee-mx1"]:
        print(f"{address}:25")
PY
)
  say "lab: danescan, $LAB_PROBES probes over the lab's ${#lab_servers[@]} ee-mx1 servers, $CONCURRENCY in flight ..."
  cpu_pids=("$(cat "$LAB_DIR/smtpd.pid")")
  load lab "$CONCURRENCY" "$LAB_PROBES" "${lab_servers[@]}"
  cpu_pids=("${pids[@]}")
  lab_line="lab: $LAB_PROBES probes over ${#lab_servers[@]} addresses of the lab's smtpd.py (port 25, a log line per connection), $CONCURRENCY in flight: $d_rate probes/s, all passed; client $d_cpu µs/probe, lab smtpd $(us_per "$d_scpu" "$d_pass") µs/probe (its CPU includes any other tests' connections meanwhile)"
fi
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# The servers' own tallies (how each connection ended) go to their stderr when they stop.
cleanup
pids=()
{
  echo "bench/tls.sh $(date -u '+%Y-%m-%d %H:%M UTC'), load average $load0 -> $load1, $(nproc) CPUs"
  echo "servers: $SERVERS x bench/tls_server.py (smtpd.py code); certificate $CERT ($certs_from); TLSA $TLSA"
  echo "danescan: $tls; s_time: $(openssl version | cut -d' ' -f1-2), -new, ${STIME_SECONDS} s per client"
  echo
  echo "| round | client | conc. | conns | wall s | conns/s | client µs/conn (user+sys) | server µs/conn |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  printf '%s\n' "${ratios[@]}"
  echo "danescan peak RSS after $PROBES probes at $CONCURRENCY in flight: $(fdiv "$par_rss" 1024) MiB"
  echo "memory: $mem_line"
  [[ -z $lab_line ]] || echo "$lab_line"
  echo
  cat "$WORK"/server*.err
} | tee "$OUT/results.txt"
say "results in $OUT/results.txt, logs in $WORK"
