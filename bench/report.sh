#!/usr/bin/env bash
# bench/report.sh — end-to-end benchmark of `danescan report` (issue 5, "Benchmark"): generates a
# scan database of N domains (default 1,000,000; bench/gen_report_db.py: realistic mix, fixed
# seed; reused while the generator and N are unchanged), then times `danescan report` in every
# format with its peak RSS (GNU time), and, for reference, what a plain full read of the file
# costs on the same machine in the same run: `sqlite3 FILE 'SELECT count(*) ...'` over every
# table (the floor any SQL report pays) and `danescan export --format csv` (one pass over the
# domains). With DANESCAN_REPORT_TIMING=1, danescan prints each table's query time; the text run
# keeps those in timing.txt.
#
# Usage: bench/report.sh [--domains N] [--runs R]
# Environment:
#   DANESCAN   danescan binary (default: build/danescan under the repository root)
#   BENCH_DIR  where the database and results go (default /tmp/danescan-bench/report)
# Results: BENCH_DIR/results.txt (the table), BENCH_DIR/report.FORMAT, BENCH_DIR/time.FORMAT.N.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
DANESCAN=${DANESCAN:-$repo/build/danescan}
BENCH_DIR=${BENCH_DIR:-/tmp/danescan-bench/report}
DOMAINS=1000000
RUNS=1
while (($#)); do
  case $1 in
    --domains) DOMAINS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bench/report.sh [--domains N] [--runs R]" >&2; exit 2 ;;
  esac
done
[[ -x $DANESCAN ]] || { echo "report.sh: no danescan at $DANESCAN (set DANESCAN)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "report.sh: GNU time is required (Debian package time)" >&2; exit 1; }
mkdir -p "$BENCH_DIR"
db=$BENCH_DIR/scan-$DOMAINS.sqlite
stamp=$BENCH_DIR/scan-$DOMAINS.stamp
want=$(sha256sum "$here/gen_report_db.py" | cut -d' ' -f1)
if [[ ! -f $db || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  rm -f "$db" "$stamp"
  start=$(date +%s.%N)
  /usr/bin/python3 "$here/gen_report_db.py" "$DANESCAN" "$db" --domains "$DOMAINS"
  awk -v s="$start" -v e="$(date +%s.%N)" -v db="$db" 'BEGIN { printf "report.sh: generated %s in %.1f s\n", db, e - s }' >&2
  echo "$want" >"$stamp"
fi

# measure NAME COMMAND...: wall seconds, user+system CPU seconds and peak RSS (MiB) of one run.
measure() {
  local name=$1 log
  shift
  log=$BENCH_DIR/time.$name
  /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$log.stderr"
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = (n == 3) ? p[1] * 3600 + p[2] * 60 + p[3] : p[1] * 60 + p[2] }
    /User time/ { user = $2 } /System time/ { sys = $2 } /Maximum resident/ { rss = $2 / 1024 }
    END { printf "%.2f %.2f %.0f\n", wall, user + sys, rss }' "$log"
}

{
  echo "# danescan report on $(basename "$db"): $(du -m "$db" | cut -f1) MiB, $DOMAINS domains; $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-34s %8s %8s %8s %10s\n' command run wall_s cpu_s peak_MiB
  for run in $(seq 1 "$RUNS"); do
    for format in text md json csv html; do
      read -r wall cpu rss < <(DANESCAN_REPORT_TIMING=1 measure "$format.$run" "$DANESCAN" report --db "$db" \
        --format "$format" --out "$BENCH_DIR/report.$format")
      printf '%-34s %8s %8s %8s %10s\n' "danescan report --format $format" "$run" "$wall" "$cpu" "$rss"
    done
  done
  read -r wall cpu rss < <(measure export "$DANESCAN" export --db "$db" --format csv)
  printf '%-34s %8s %8s %8s %10s\n' "danescan export --format csv" 1 "$wall" "$cpu" "$rss"
  if command -v sqlite3 >/dev/null; then
    read -r wall cpu rss < <(measure sqlite-scan sqlite3 "$db" "SELECT (SELECT count(*) FROM domains), \
      (SELECT count(*) FROM mx), (SELECT count(*) FROM hosts), (SELECT count(*) FROM findings), \
      (SELECT count(*) FROM tlsa_records), (SELECT count(*) FROM probes), (SELECT count(*) FROM queries), \
      (SELECT sum(length(ede)) FROM queries)")
    printf '%-34s %8s %8s %8s %10s\n' "sqlite3 (count every table)" 1 "$wall" "$cpu" "$rss"
  fi
} | tee "$BENCH_DIR/results.txt"
grep 'report timing' "$BENCH_DIR/time.text.1.stderr" >"$BENCH_DIR/timing.txt" || true
echo "report.sh: per-table query times of the text run: $BENCH_DIR/timing.txt" >&2
