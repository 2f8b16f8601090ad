# shellcheck shell=bash disable=SC2034  # (variables are used by the scripts that source this)
# Shared by bench/world/up, bench/world/down and bench/scan.sh (sourced, not run): where the
# benchmark world lives and how to recognise its processes without touching anything else on
# the machine (the test lab in particular: it has its own run dir, addresses and lock).

WORLD_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
RUN=$(realpath -m "${DANESCAN_BENCH_DIR:-/tmp/danescan-bench}")
PY=/usr/bin/python3
RESOLVER=127.54.1.1
RESOLVER_OUT=127.54.1.2
declare -A NSD_ADDR=([root]=127.54.0.1 [tld]=127.54.0.2 [dom]=127.54.0.3 [prov]=127.54.0.4)
declare -A NSD_ZONE=([root]=. [tld]=bench. [dom]=sa0.bench. [prov]=prov0.bench.)  # one zone each serves
# Internet mode (up --internet): nsd moves to these addresses and world_relay (bench/world/relay.cc)
# listens on NSD_ADDR in its place, so zones, glue and unbound's configuration stay the same.
declare -A NSD_BEHIND_RELAY=([root]=127.55.0.1 [tld]=127.55.0.2 [dom]=127.55.0.3 [prov]=127.55.0.4)
RELAY=${DANESCAN_RELAY:-$(cd "$WORLD_SRC/../.." && pwd -P)/build/bench/world_relay}

# Every component: name = pid file in $RUN. Start order; down goes backwards. The relay runs in
# internet mode only; down stops whatever of them runs.
COMPONENTS=(nsd-root nsd-tld nsd-dom nsd-prov relay unbound)

die() { echo "world: $*" >&2; exit 1; }

case "$RUN" in
  /|/tmp|/root|/home|/usr|/etc|/var) die "DANESCAN_BENCH_DIR=$RUN is not a world run directory" ;;
esac

# One up or down at a time on the machine (the addresses are machine-wide).
world_lock() {
  [[ -n ${DANESCAN_BENCH_LOCKED:-} ]] && return
  exec 8>/run/lock/danescan-bench.lock
  flock -w 300 8 || die "another bench/world/up or down has held /run/lock/danescan-bench.lock for 5 min"
  export DANESCAN_BENCH_LOCKED=1
}

proc_args() { tr '\0' '\n' < "/proc/$1/cmdline" 2>/dev/null || true; }

# True if pid $1 is one of this run dir's world processes: nsd, unbound or world_relay with an
# argument that is a path below $RUN (their config file; the relay's pid file and log).
is_world_pid() {
  local exe
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  exe=${exe% (deleted)}  # a relay rebuilt while it runs
  case "${exe##*/}" in nsd|unbound|world_relay) ;; *) return 1 ;; esac
  proc_args "$1" | grep -qF "$RUN/"
}

component_pid() {
  local pid
  pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && is_world_pid "$pid" && echo "$pid"
}

world_pids() {
  local p out=()
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    is_world_pid "$p" && out+=("$p")
  done
  echo "${out[@]}"
}

wait_until() { # wait_until SECONDS COMMAND...: poll every 0.1 s
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    "${@:2}" && return 0
    sleep 0.1
  done
  return 1
}

dns_ok() { # dns_ok ADDR NAME TYPE EXPECTED-RCODE [drill flags]: over TCP, which fails fast
  local out
  out=$(drill -t "${@:5}" @"$1" "$2" "$3" 2>&1) || return 1
  grep -q "rcode: $4," <<<"$out"
}
resolver_ok() { # the root SOA validates: the whole chain of trust works
  drill -t -D @$RESOLVER . SOA 2>/dev/null | grep -q '^;; flags:.* ad[ ;]'
}
log_tail() { echo; tail -n 20 "$1" 2>/dev/null | sed 's/^/    /' || echo "    (no log at $1)"; }

# Stop this run dir's unbound (if any) and wait until it is gone.
stop_unbound() {
  local pid
  pid=$(component_pid unbound) || { rm -f "$RUN/unbound.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do [[ -e /proc/$pid ]] || break; sleep 0.1; done
  [[ -e /proc/$pid ]] && { kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; }
  rm -f "$RUN/unbound.pid"
}

# Start unbound with an empty cache and wait until it validates; returns 1 with a message.
start_unbound() {
  unbound-checkconf "$RUN/dns/unbound.conf" > "$RUN/unbound.log" 2>&1 || {
    echo "world: unbound ($RESOLVER) did not start: bad config:$(log_tail "$RUN/unbound.log")" >&2; return 1; }
  unbound -c "$RUN/dns/unbound.conf" >> "$RUN/unbound.log" 2>&1 8>&- 9>&- || {
    echo "world: unbound ($RESOLVER) did not start:$(log_tail "$RUN/unbound.log")" >&2; return 1; }
  wait_until 15 resolver_ok || {
    echo "world: unbound ($RESOLVER) did not start: the root SOA does not validate (no AD):$(log_tail "$RUN/unbound.log")" >&2
    return 1; }
}

# A fresh resolver: cold cache (used by bench/scan.sh between runs).
restart_unbound() { stop_unbound && start_unbound; }
