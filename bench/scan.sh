#!/usr/bin/env bash
# bench/scan.sh — survey time of `danescan scan` (DNS only) beside dnsperf, in one run, on the
# benchmark world (bench/world/up: 100,000 mail domains, nsd and a validating unbound on
# 127.54.0.0/16), as issue 12 asks:
#
#   loopback  cold: fresh unbound -> danescan scan;  fresh unbound -> dnsperf, one pass over the
#             minimal query set.  hot: danescan scan twice more (the second is the figure: the
#             first only warms what danescan asks beyond the minimal set), dnsperf passes.
#   internet  (--internet) the world's answers through bench/world/relay (per-zone RTT 10-300 ms,
#             1 % loss, slow and rate-limiting servers): a cold danescan scan with each fixed
#             --concurrency of the sweep and with the default (auto), and dnsperf with each -q,
#             every run from a fresh unbound; each scan's verdicts are compared with a loopback
#             scan's, domain by domain.
#
# The minimal query set: one question per distinct question a careful survey must ask, written
# as a dnsperf file from the cold scan's own database: each domain's MX; for each distinct MX
# host, CNAME, A, AAAA and the TLSA questions it needed (those the scan asked without CD), in the
# order the scan first reached them.
#
# The figure is the time to finish 99.9 % of the domains (from domains.finished_at, relative to
# the start of the danescan process), beside the total: dnsperf drops what is unanswered when its
# file ends, danescan retries it, so the last 0.1 % is retry policy, not throughput. Also
# danescan's CPU seconds (user + system, both threads) per 100,000 domains and peak RSS (GNU time).
# "speed" is dnsperf's time over danescan's time to 99.9 % (1.00: as fast as dnsperf).
#
# Usage: bench/scan.sh [--domains N] [--internet] [--sweep "W ..."] [--perf-q "Q ..."]
#                      [--no-loopback] [--million]          (as root, from anywhere)
#   --domains N    size of the world (default 100000)
#   --internet     also the internet-mode runs (about 15 min for 100,000 domains)
#   --sweep LIST   fixed windows for the internet sweep (default "256 512 1024 2048 4096 8192 20000")
#   --perf-q LIST  dnsperf -q values for the internet mode (default "500 1000 2000 5000 10000")
#   --no-loopback  skip the loopback cold/hot table (the internet mode still makes its loopback
#                  reference scan)
#   --million      also a 1,000,000-domain list (world + names that do not exist): peak RSS
# Environment:
#   DANESCAN            danescan binary (default: build/danescan under the repository root)
#   DANESCAN_BENCH_DIR  the world's run dir (default /tmp/danescan-bench); results in its scan/
#   SCAN_ARGS           extra danescan scan options for every run (default none: its defaults)
#   DNSPERF_Q           dnsperf -q in loopback mode (default 1000)
#   HOT_PASSES          dnsperf passes over the minimal set in hot mode (default 3)
#   DNSPERF_BUF_KB      dnsperf -b in KiB (default 4096: the default buffer drops hot replies)
#   KEEP_WORLD          1 to leave the world running at the end (default: bench/world/down)
#   SCAN_TIMEOUT        seconds after which a danescan run is stopped as failed (default 1800)
# Installs nothing; needs dnsperf, GNU time, unbound-control (tests/install-deps).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
DANESCAN=${DANESCAN:-$repo/build/danescan}
SCAN_ARGS=${SCAN_ARGS:-}
DNSPERF_Q=${DNSPERF_Q:-1000}
HOT_PASSES=${HOT_PASSES:-3}
DNSPERF_BUF_KB=${DNSPERF_BUF_KB:-4096}
KEEP_WORLD=${KEEP_WORLD:-0}
SCAN_TIMEOUT=${SCAN_TIMEOUT:-1800}
DOMAINS=100000
INTERNET=false
LOOPBACK=true
MILLION=false
SWEEP="256 512 1024 2048 4096 8192 20000"
PERF_Q="500 1000 2000 5000 10000"
usage() { echo "usage: bench/scan.sh [--domains N] [--internet] [--sweep \"W ...\"] [--perf-q \"Q ...\"] [--no-loopback] [--million]" >&2; exit 2; }
while (($#)); do
  case $1 in
    --domains) (($# > 1)) || usage; DOMAINS=$2; shift 2 ;;
    --internet) INTERNET=true; shift ;;
    --sweep) (($# > 1)) || usage; SWEEP=$2; shift 2 ;;
    --perf-q) (($# > 1)) || usage; PERF_Q=$2; shift 2 ;;
    --no-loopback) LOOPBACK=false; shift ;;
    --million) MILLION=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
  esac
done

source "$here/world/common.sh"   # RUN, RESOLVER, restart_unbound, world_lock, component_pid, ...
say() { echo "scan.sh: $*" >&2; }
fatal() { echo "scan.sh: $*" >&2; exit 1; }

for tool in dnsperf unbound-control flock; do
  command -v "$tool" >/dev/null 2>&1 || fatal "$tool is required (tests/install-deps installs it)"
done
/usr/bin/time --version 2>&1 | grep -q GNU || fatal "GNU time (/usr/bin/time, package time) is required"
[[ $(id -u) == 0 ]] || fatal "must run as root (the world binds port 53)"
[[ -x $DANESCAN ]] || fatal "no danescan binary at $DANESCAN (build the danescan target or set DANESCAN)"
for v in "$DOMAINS" "$DNSPERF_Q" "$HOT_PASSES" "$DNSPERF_BUF_KB" "$SCAN_TIMEOUT" $SWEEP $PERF_Q; do
  [[ $v =~ ^[0-9]+$ ]] || fatal "not a number: '$v' (--domains, --sweep, --perf-q and the variables take numbers)"
done

OUT=$RUN/scan
LIST=$RUN/domains.txt
ucontrol() { unbound-control -c "$RUN/dns/unbound.conf" "$@"; }
unbound_cpu() { # CPU seconds unbound has used so far
  local pid
  pid=$(component_pid unbound) || { echo 0; return; }
  awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$pid/stat"
}
udp_rcvbuf_errors() { awk '/^Udp:/ { if (h) print $6; h = 1 }' /proc/net/snmp; }
world() { # world up|internet: the world in that mode, then hold its lock
  local args=(--domains "$DOMAINS")
  [[ $1 == internet ]] && args+=(--internet)
  DANESCAN_BENCH_LOCKED= "$here/world/up" "${args[@]}" >&2 || fatal "the benchmark world did not come up ($1)"
  world_lock
}
world_lock_release() { exec 8>&-; unset DANESCAN_BENCH_LOCKED; }

# ---- danescan ------------------------------------------------------------------------------
# scan_run LABEL LIST [OPTIONS...]: runs one scan into OUT/LABEL.sqlite and sets
#   ds_ok (1|0), ds_note, ds_total (s), ds_t999 (s to 99.9 % of the list's domains finished),
#   ds_cpu (user+system s), ds_rss (MiB), ds_domains (stored), ds_queries, ds_retried,
#   ds_timeouts, ds_window (the final window, "/peak" when it changed), ds_ucpu (unbound's CPU s).
scan_run() {
  local label=$1 list=$2 db=$OUT/$1.sqlite tf=$OUT/$1.time err=$OUT/$1.err rc c0 t0
  shift 2
  rm -f "$db" "$db-wal" "$db-shm"
  c0=$(unbound_cpu)
  t0=$(date +%s%N)
  set +e
  # shellcheck disable=SC2086  # SCAN_ARGS is a word list
  /usr/bin/time -f '%e %U %S %M' -o "$tf" timeout "$SCAN_TIMEOUT" "$DANESCAN" scan "$list" \
    --resolver "$RESOLVER" --db "$db" --no-probe "$@" $SCAN_ARGS > "$OUT/$label.out" 2> "$err"
  rc=$?
  set -e
  ds_ucpu=$(awk -v a="$c0" -v b="$(unbound_cpu)" 'BEGIN { printf "%.1f", b - a }')
  ds_ok=0 ds_note='' ds_total='' ds_t999='' ds_cpu='' ds_rss='' ds_domains='' ds_queries='' ds_retried='' ds_timeouts='' ds_window=''
  if ((rc != 0)); then
    ((rc == 124)) && ds_note="$label: did not finish in $SCAN_TIMEOUT s (stopped) [$err]" ||
      ds_note="$label: danescan scan failed (exit $rc): $(head -3 "$err" | tr '\n' ' ') [$err]"
    return 0
  fi
  read -r ds_total ds_cpu ds_rss < <(tail -1 "$tf" | awk '{ printf "%s %.2f %.0f\n", $1, $2 + $3, $4 / 1024 }')
  # The final progress line: "(window N)" or, when it changed, "(window N, peak P)": "N/P".
  ds_window=$(grep -o 'window [0-9]*\(, peak [0-9]*\)\?' "$err" | tail -1 | sed 's/window //; s/, peak /\//' || true)
  read -r ds_domains ds_t999 ds_queries ds_retried ds_timeouts < <("$PY" - "$db" "$t0" "$(wc -l < "$list")" <<'PY'
import datetime, math, sqlite3, sys
db, t0_ns, listed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
def epoch(s):  # "2026-12-06T21:40:32.123Z" (or without milliseconds)
    s = s.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S"
    return datetime.datetime.strptime(s, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()
done = sorted(epoch(r[0]) for r in c.execute("SELECT finished_at FROM domains"))
# 99.9 % of the list's domains (a lost domain counts as never finished).
k = math.ceil(0.999 * listed)
t999 = "%.2f" % (done[k - 1] - t0_ns / 1e9) if len(done) >= k else "never"
cols = {r[1] for r in c.execute("PRAGMA table_info(queries)")}
q = c.execute("SELECT count(*) FROM queries").fetchone()[0]
retried = c.execute("SELECT count(*) FROM queries WHERE attempts > 1").fetchone()[0] if "attempts" in cols else "?"
timeouts = c.execute("SELECT count(*) FROM queries WHERE rcode = 'TIMEOUT'").fetchone()[0] if "rcode" in cols else "?"
print(len(done), t999, q, retried, timeouts)
PY
)
  ds_ok=1
}

# minimal_set DB FILE: the dnsperf file of the minimal query set, from a scan's database.
minimal_set() {
  "$PY" - "$1" > "$2.tmp" <<'PY'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
out = sys.stdout
tlsa = {}
for host_id, name in c.execute("SELECT host_id, name FROM queries WHERE type = 52 AND cd = 0 AND host_id IS NOT NULL ORDER BY id"):
    tlsa.setdefault(host_id, [])
    if name not in tlsa[host_id]:
        tlsa[host_id].append(name)
seen_hosts, seen_tlsa = set(), set()
rows = c.execute("""SELECT d.name, h.id, h.name FROM domains d LEFT JOIN mx m ON m.domain_id = d.id
                    LEFT JOIN hosts h ON h.id = m.host_id ORDER BY d.id, m.position""")
last = None
for domain, host_id, host in rows:
    if domain != last:
        out.write(f"{domain} MX\n")
        last = domain
    if host is None or host in seen_hosts:
        continue
    seen_hosts.add(host)
    for t in ("CNAME", "A", "AAAA"):
        out.write(f"{host} {t}\n")
    for name in tlsa.get(host_id, []):
        if name not in seen_tlsa:
            seen_tlsa.add(name)
            out.write(f"{name} TLSA\n")
PY
  mv "$2.tmp" "$2"
}

# ---- dnsperf -------------------------------------------------------------------------------
# perf_run LABEL FILE PASSES Q: sets dp_time (s), dp_qps, dp_sent, dp_lost, dp_ucpu, and dp_cpu
# (dnsperf's own CPU seconds, user + system, per pass: the peer's cost of the same packets).
perf_run() {
  local label=$1 file=$2 passes=$3 q=$4 f=$OUT/$1.dnsperf c0
  c0=$(unbound_cpu)
  /usr/bin/time -f '%U %S' -o "$f.time" \
    dnsperf -s "$RESOLVER" -d "$file" -D -n "$passes" -q "$q" -t 5 -b "$DNSPERF_BUF_KB" > "$f" 2>&1 ||
    fatal "dnsperf failed ($f): $(tail -3 "$f" | tr '\n' ' ')"
  dp_cpu=$(tail -1 "$f.time" | awk -v p="$passes" '{ printf "%.2f", ($1 + $2) / p }')
  dp_time=$(awk '/Run time \(s\):/ { printf "%.2f", $4 }' "$f")
  dp_qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$f")
  dp_sent=$(awk '/Queries sent:/ { print $3 }' "$f")
  dp_lost=$(awk '/Queries lost:/ { print $3 }' "$f")
  dp_ucpu=$(awk -v a="$c0" -v b="$(unbound_cpu)" 'BEGIN { printf "%.1f", b - a }')
}

per100k() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", c * 100000 / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b }'; }

mkdir -p "$OUT"
lines=()
note() { lines+=("$*"); }
rcv0=$(udp_rcvbuf_errors)
world up
ndomains=$(wc -l < "$LIST")
MIN=$OUT/minimal.txt

# ---- loopback: cold and hot ----------------------------------------------------------------
# Also the reference for the internet mode: the cold scan's verdicts and its minimal set.
say "loopback cold: fresh unbound, danescan scan ..."
restart_unbound || fatal "unbound did not restart"
scan_run loopback-cold "$LIST"
((ds_ok)) || fatal "the loopback cold scan failed: $ds_note"
minimal_set "$OUT/loopback-cold.sqlite" "$MIN"
nmin=$(wc -l < "$MIN")
say "minimal query set: $nmin questions ($MIN)"
if $LOOPBACK; then
  loop_rows=()
  loop_row() { # mode: a row from ds_* and dp_*
    loop_rows+=("$(printf '| %-5s | %9s | %7s | %9s | %6s | %11s | %11s | %8s | %9s | %7s | %8s | %9s |' "$1" \
      "$ds_t999" "$ds_total" "$dp_time" "$(ratio "$dp_time" "$ds_t999")" "$(per100k "$ds_cpu" "$ndomains")" \
      "$(per100k "$dp_cpu" "$ndomains")" \
      "$ds_rss" "$ds_queries" "$ds_retried" "${dp_lost}/${dp_sent}" "$ds_ucpu/$dp_ucpu")")
  }
  cold_scan=("$ds_t999" "$ds_total" "$ds_cpu" "$ds_rss" "$ds_queries" "$ds_retried" "$ds_ucpu")
  say "loopback cold: fresh unbound, dnsperf (1 pass, -q $DNSPERF_Q) ..."
  restart_unbound || fatal "unbound did not restart"
  perf_run loopback-cold "$MIN" 1 "$DNSPERF_Q"
  read -r ds_t999 ds_total ds_cpu ds_rss ds_queries ds_retried ds_ucpu <<<"${cold_scan[*]}"
  loop_row cold
  say "loopback hot: danescan scan (warm-up), danescan scan, dnsperf ($HOT_PASSES passes) ..."
  scan_run loopback-warm "$LIST"
  scan_run loopback-hot "$LIST"
  ((ds_ok)) || fatal "the loopback hot scan failed: $ds_note"
  perf_run loopback-hot "$MIN" "$HOT_PASSES" "$DNSPERF_Q"
  # dnsperf's time for one pass of the minimal set (it made HOT_PASSES).
  dp_time=$(awk -v t="$dp_time" -v p="$HOT_PASSES" 'BEGIN { printf "%.2f", t / p }')
  loop_row hot
fi

# ---- internet ------------------------------------------------------------------------------
if $INTERNET; then
  world_lock_release
  world internet
  inet_rows=()
  best_t='' best_w=''
  # Which domains sit behind a server the relay makes slow or rate-limited (the domain's own
  # zone key or one of its MX hosts'): world_relay --classify, the relay's own model.
  relay=${DANESCAN_RELAY:-$repo/build/bench/world_relay}
  # shellcheck disable=SC2046  # the relay's flags as bench/world/up started it
  "$PY" - "$OUT/loopback-cold.sqlite" <<'PY' | "$relay" --classify $(cat "$RUN/relay.flags") > "$OUT/relay-classes.txt" || fatal "world_relay --classify failed"
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for (name,) in c.execute("SELECT name FROM domains UNION SELECT name FROM hosts"):
    print(name)
PY
  verdicts() { # verdicts DB: "DIFFERENT DIFFERENT-APART-FROM-SLOW-SERVERS LOST" against the loopback cold scan
    "$PY" - "$OUT/loopback-cold.sqlite" "$1" "$LIST" "$OUT/relay-classes.txt" <<'PY'
import sqlite3, sys
def db(path):
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
ref = dict(db(sys.argv[1]).execute("SELECT name, verdict FROM domains"))
got = dict(db(sys.argv[2]).execute("SELECT name, verdict FROM domains"))
listed = set(open(sys.argv[3]).read().split())
special = {line.split()[0].rstrip(".") for line in open(sys.argv[4]) if line.split()[3] != "-"}
behind = {d for d, h in db(sys.argv[1]).execute(
    "SELECT d.name, h.name FROM domains d JOIN mx m ON m.domain_id = d.id JOIN hosts h ON h.id = m.host_id") if h in special}
behind |= special & set(ref)
differ = [d for d, v in got.items() if ref.get(d) != v]
print(len(differ), sum(1 for d in differ if d not in behind), len(listed - set(got)))
PY
  }
  inet_scan() { # LABEL WINDOW-ARG
    local label=$1 w=$2 diff lost
    say "internet: fresh unbound, danescan scan --concurrency $w ..."
    restart_unbound || fatal "unbound did not restart"
    scan_run "$label" "$LIST" --concurrency "$w"
    if ((!ds_ok)); then note "$ds_note"; inet_rows+=("$(printf '| %-16s | %9s |' "--concurrency $w" failed)"); return 0; fi
    read -r diff diff_healthy lost < <(verdicts "$OUT/$label.sqlite")
    inet_rows+=("$(printf '| %-16s | %9s | %7s | %9.0f | %8s | %4s | %11s | %8s | %9s | %8s | %6s |' "--concurrency $w" \
      "$ds_t999" "$ds_total" "$(awk -v n="$ndomains" -v t="$ds_t999" 'BEGIN { print (t + 0 > 0) ? 0.999 * n / t : 0 }')" \
      "@RATIO_$label@" "$lost" "$diff ($diff_healthy)" "$(per100k "$ds_cpu" "$ndomains")" "$ds_queries" "$ds_retried" "${ds_window:-?}")")
    eval "t999_$label=\$ds_t999"
  }
  for w in $SWEEP; do
    inet_scan "fixed$w" "$w"
    if [[ $ds_ok == 1 && $ds_t999 != never ]] && { [[ -z $best_t ]] || awk -v a="$ds_t999" -v b="$best_t" 'BEGIN { exit !(a < b) }'; }; then
      best_t=$ds_t999 best_w=$w
    fi
  done
  inet_scan auto auto
  perf_rows=()
  for q in $PERF_Q; do
    say "internet: fresh unbound, dnsperf -q $q ..."
    restart_unbound || fatal "unbound did not restart"
    perf_run "internet-q$q" "$MIN" 1 "$q"
    perf_rows+=("$(printf '| dnsperf -q %-5s | %9s | %9s | %12s |' "$q" "$dp_time" "$dp_qps" "${dp_lost}/${dp_sent}")")
  done
fi
rcv1=$(udp_rcvbuf_errors)

million_line=
if $MILLION; then
  $INTERNET && { world_lock_release; world up; }
  big=$OUT/million.txt
  if [[ ! -s $big || $(wc -l < "$big") != 1000000 ]]; then
    say "million: writing a 1,000,000-domain list ($ndomains world domains + names that do not exist) ..."
    "$PY" - "$LIST" 1000000 > "$big.tmp" <<'PY'
import sys
world = open(sys.argv[1]).read().split()
n = int(sys.argv[2])
per = max(1, n // len(world))
i = 0
for d in world:
    if i >= n:
        break
    sys.stdout.write(d + "\n"); i += 1
    for k in range(per - 1):
        if i >= n:
            break
        sys.stdout.write(f"nxm{i}.{('bench', 'sa0.bench', 'ua0.bench')[i % 3]}\n"); i += 1
while i < n:
    sys.stdout.write(f"nxm{i}.bench\n"); i += 1
PY
    mv "$big.tmp" "$big"
  fi
  say "million: danescan scan of 1,000,000 domains (peak RSS) ..."
  scan_run million "$big"
  million_line="million: 1,000,000 domains in ${ds_total:-?} s, CPU $(per100k "${ds_cpu:-0}" 1000000) s per 100,000, peak RSS ${ds_rss:-?} MiB; ${ds_note}"
fi

{
  echo
  echo "danescan scan vs dnsperf, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "world: $ndomains domains; minimal query set $nmin questions; resolver $RESOLVER (unbound, 1 thread)"
  echo "danescan: $("$DANESCAN" --version 2>/dev/null | head -1) scan --no-probe${SCAN_ARGS:+ $SCAN_ARGS}"
  if $LOOPBACK; then
    echo
    echo "Loopback (dnsperf -q $DNSPERF_Q; hot: dnsperf's time per pass of $HOT_PASSES):"
    echo "(CPU s/100k: user + system per 100,000 domains, danescan's scan and dnsperf's pass of their minimal set)"
    printf '| %-5s | %9s | %7s | %9s | %6s | %11s | %11s | %8s | %9s | %7s | %8s | %9s |\n' mode "99.9 % s" "total s" "dnsperf s" speed "CPU s/100k" "dp CPU/100k" "RSS MiB" queries retried "dp lost" "unbound s"
    echo "|-------|----------:|--------:|----------:|-------:|------------:|------------:|---------:|----------:|--------:|---------:|----------:|"
    printf '%s\n' "${loop_rows[@]}"
  fi
  if $INTERNET; then
    echo
    echo "Internet mode (bench/world/relay), every run from a fresh unbound; \"of best\" = best fixed"
    echo "window's time to 99.9 % over this run's (best fixed: --concurrency ${best_w:-none}); \"differ\" ="
    echo "verdicts unlike the loopback cold scan's (in brackets: of domains not behind a slow or rate-limited"
    echo "server of the relay; $(awk '$4 != "-"' "$OUT/relay-classes.txt" | wc -l) names are); \"lost\" = listed domains not stored:"
    printf '| %-16s | %9s | %7s | %9s | %8s | %4s | %11s | %8s | %9s | %8s | %6s |\n' run "99.9 % s" "total s" "domains/s" "of best" lost differ "CPU s/100k" queries retried window
    echo "|------------------|----------:|--------:|----------:|---------:|-----:|------------:|---------:|----------:|---------:|-------:|"
    for r in "${inet_rows[@]}"; do
      label=$(grep -o '@RATIO_[a-z0-9]*@' <<<"$r" | sed 's/@RATIO_\(.*\)@/\1/' || true)
      if [[ -n $label ]]; then
        t=$(eval "echo \${t999_$label:-}")
        r=${r/@RATIO_$label@/$(ratio "$best_t" "$t")}
      fi
      echo "$r"
    done
    echo
    echo "dnsperf on the minimal set, internet mode, one pass each from a fresh unbound:"
    printf '| %-16s | %9s | %9s | %12s |\n' run "time s" "q/s" lost
    echo "|------------------|----------:|----------:|-------------:|"
    printf '%s\n' "${perf_rows[@]}"
  fi
  for n in "${lines[@]}"; do echo "$n"; done
  [[ -n $million_line ]] && echo "$million_line"
  echo "UDP receive-buffer drops on the machine during the run: $((rcv1 - rcv0))"
  echo "logs and databases: $OUT"
} | tee "$OUT/results.txt"

world_lock_release
if [[ $KEEP_WORLD != 1 ]]; then "$here/world/down" -q || true; fi
