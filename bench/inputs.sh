#!/usr/bin/env bash
# bench/inputs.sh — end-to-end benchmark of the inputs module: `danescan list` over a generated
# 10-million-line domain list (plain and gzip), and in the same run the usual shell idioms for
# "unique names of a list" on the same file, with lines/s and peak RSS side by side.
#
# The peers do less work than danescan: awk only folds case (no trailing dot, no IDN, no
# validation) and keeps every distinct line as a string; sort -u only sorts bytes. They are the
# baseline a survey operator would otherwise reach for.
#
# Usage: bench/inputs.sh            (from the repository root, after building build/danescan)
# Environment:
#   DANESCAN    danescan binary (default: build/danescan under the repository root)
#   LINES       lines in the generated list (default 10000000)
#   WORKDIR     where the lists go (default: a new temporary directory, removed at the end);
#               lists already there with the right line count are reused
#   KEEP_LISTS  1 to keep the generated lists
#   METER       gnu-time or python-rusage (default: gnu-time when /usr/bin/time is GNU time)
# Installs nothing; stops with a message if a tool it needs is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
DANESCAN=${DANESCAN:-$repo/build/danescan}
LINES=${LINES:-10000000}
KEEP_LISTS=${KEEP_LISTS:-0}

die() { echo "inputs.sh: $*" >&2; exit 1; }

for tool in python3 awk sort gzip zcat; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required but not installed"
done
[[ -x $DANESCAN ]] || die "no danescan binary at $DANESCAN (build the danescan target or set DANESCAN)"
"$DANESCAN" list --help >/dev/null 2>&1 || die "$DANESCAN has no working 'list' subcommand"

# Peak RSS: GNU time if present, else python3's getrusage(RUSAGE_CHILDREN), which also covers
# every process of a pipeline (the shell reaps them, its parent reaps the shell).
# METER=python-rusage forces the fallback (to check it on a machine that has GNU time).
meter=${METER:-}
if [[ -z $meter ]]; then
  if /usr/bin/time --version 2>&1 | grep -q 'GNU'; then meter=gnu-time; else meter=python-rusage; fi
fi

if [[ -n ${WORKDIR:-} ]]; then
  mkdir -p "$WORKDIR"
else
  WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/inputs-bench.XXXXXX")
  [[ $KEEP_LISTS == 1 ]] || trap 'rm -rf "$WORKDIR"' EXIT
fi
plain=$WORKDIR/list-$LINES.txt
gz=$plain.gz

# --- the list -------------------------------------------------------------------------------
# Deterministic (fixed seed). Mix, per line: 88.4 % fresh valid names (3 % of them upper or
# capitalised, 29 % with a www./mail./mx1./shop./blog. prefix), 10 % repeats of a recent name
# (a fifth of those upper-cased or with a trailing dot), 1 % IDN (U-labels), 0.5 % invalid,
# 0.1 % comments and blank lines.
generate() {
  python3 - "$LINES" > "$plain.tmp" <<'PY'
import random, sys
n = int(sys.argv[1]); out = sys.stdout
rng = random.Random(20240601)
alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
tlds = ["com"] * 40 + ["net"] * 6 + ["org"] * 6 + ["de"] * 6 + ["nl", "uk", "co.uk", "io", "fr",
        "se", "cz", "ru", "jp", "br", "it", "pl", "ch", "at", "dk", "eu", "info", "xyz"] * 2
prefixes = [""] * 12 + ["www.", "mail.", "mx1.", "shop.", "blog."]
idn = ["bücher", "straße", "müller", "café", "españa", "日本語", "пример", "δοκιμή", "smörgås",
       "königsweg", "über", "αθήνα", "москва", "北京", "zürich"]
bad = ["*.{}", "{}..com", "under score.{}", "{}/path", "http://{}", "{},extra",
       "x" * 70 + ".{}", "."]
recent, buf = [], []
rand, choice, choices, randint = rng.random, rng.choice, rng.choices, rng.randint
for i in range(n):
    r = rand()
    if r < 0.10 and recent:
        name = recent[int(rand() * len(recent))]
        if r < 0.02:
            name = name.upper()
        elif r < 0.03:
            name += "."
    elif r < 0.105:
        name = choice(bad).format("".join(choices(alnum, k=8)) + ".com")
    elif r < 0.115:
        name = choice(idn) + str(i) + "." + choice(tlds)
    elif r < 0.116:
        name = "# generated" if r < 0.1155 else ""
    else:
        name = choice(prefixes) + "".join(choices(alnum, k=randint(3, 15))) + "." + choice(tlds)
        if r > 0.97:
            name = name.upper() if r > 0.985 else name.capitalize()
        if len(recent) < 100000:
            recent.append(name)
        else:
            recent[i % 100000] = name
    buf.append(name)
    if len(buf) >= 65536:
        out.write("\n".join(buf) + "\n"); buf.clear()
if buf:
    out.write("\n".join(buf) + "\n")
PY
  mv "$plain.tmp" "$plain"
}

if [[ -s $plain ]] && [[ $(wc -l < "$plain") -eq $LINES ]]; then
  echo "reusing $plain"
else
  echo "generating $LINES lines in $plain ..."
  generate
fi
if [[ ! -s $gz || $gz -ot $plain ]]; then
  echo "compressing to $gz ..."
  gzip -6 -c "$plain" > "$gz.tmp" && mv "$gz.tmp" "$gz"
fi

# --- measuring ------------------------------------------------------------------------------
# measure CMD: runs `sh -c CMD` once, sets wall (seconds) and rss_kib (peak of any process).
measure() {
  local cmd=$1 report status=0
  report=$(mktemp "$WORKDIR/time.XXXXXX")
  if [[ $meter == gnu-time ]]; then
    /usr/bin/time -v -o "$report" sh -c "$cmd" || status=$?
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
             n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$report")
    rss_kib=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$report")
  else
    python3 - "$cmd" > "$report" <<'PY' || status=$?
import resource, subprocess, sys, time
start = time.monotonic()
rc = subprocess.run(["sh", "-c", sys.argv[1]]).returncode
wall = time.monotonic() - start
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
PY
    read -r wall rss_kib < "$report"
  fi
  rm -f "$report"
  [[ $status -eq 0 ]] || die "command failed (exit $status): $cmd"
}

row() {  # row TOOL INPUT CMD
  measure "$3"
  awk -v tool="$1" -v input="$2" -v lines="$LINES" -v wall="$wall" -v rss="$rss_kib" 'BEGIN {
    printf "%-44s %-6s %10.2f %8.2f %10.0f\n", tool, input, lines / wall / 1e6, wall, rss / 1024 }'
}

q() { printf '%q' "$1"; }
errs=$WORKDIR/danescan-stderr.txt

echo
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(free -h | awk '/^Mem:/ { print $2 }') RAM"
echo "list:    $LINES lines, $(du -h "$plain" | cut -f1) plain, $(du -h "$gz" | cut -f1) gzip"
echo "danescan: $DANESCAN; awk: $(awk -W version 2>&1 | head -1 || true); meter: $meter"
echo
printf "%-44s %-6s %10s %8s %10s\n" "command" "input" "Mlines/s" "wall s" "peakRSS MiB"
row "danescan list" plain "$(q "$DANESCAN") list $(q "$plain") > /dev/null 2> $(q "$errs")"
summary_plain=$(tail -n 1 "$errs")
row "awk '!seen[tolower(\$0)]++'" plain "awk '!seen[tolower(\$0)]++' $(q "$plain") > /dev/null"
row "LC_ALL=C sort -u" plain "LC_ALL=C sort -u $(q "$plain") > /dev/null"
row "zcat (decompression alone)" gzip "zcat $(q "$gz") > /dev/null"
row "danescan list" gzip "$(q "$DANESCAN") list $(q "$gz") > /dev/null 2> $(q "$errs")"
summary_gz=$(tail -n 1 "$errs")
row "zcat | awk '!seen[tolower(\$0)]++'" gzip "zcat $(q "$gz") | awk '!seen[tolower(\$0)]++' > /dev/null"
row "zcat | LC_ALL=C sort -u" gzip "zcat $(q "$gz") | LC_ALL=C sort -u > /dev/null"
echo
echo "plain: $summary_plain"
echo "gzip:  $summary_gz"
