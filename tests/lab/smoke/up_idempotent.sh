#!/bin/bash
# Smoke test: tests/lab/up on a lab that is already up is a no-op. It exits 0, says
# "already up", and every component keeps its process (the pid files in $DANESCAN_LAB_DIR do
# not change). Runs inside the lab fixture, so the lab is up when this starts.
set -uo pipefail
LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RUN=${DANESCAN_LAB_DIR:-/tmp/danescan-lab}

pids() { for f in "$RUN"/*.pid; do [[ -e $f ]] && echo "${f##*/} $(cat "$f")"; done; }

before=$(pids)
if [[ -z $before ]]; then
  echo "FAIL: no pid files in $RUN: is the lab up (tests/lab/up)?"
  exit 1
fi
out=$("$LAB_SRC/up" 2>&1)
rc=$?
after=$(pids)
failed=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failed=1; }
if ((rc == 0)); then ok "up exits 0"; else fail "up exits $rc"; fi
if grep -q "already up" <<<"$out"; then ok 'up says "already up"'; else fail 'no "already up"'; fi
if [[ $before == "$after" ]]; then
  ok "pid files unchanged ($(wc -l <<<"$before") components)"
else
  fail "pid files changed:"
  diff <(echo "$before") <(echo "$after") | sed 's/^/     /'
fi
if ((failed)); then
  echo "up printed:"
  sed 's/^/     /' <<<"$out"
  exit 1
fi
echo "all checks passed"
