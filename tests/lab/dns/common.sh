# shellcheck shell=bash disable=SC2034  # (variables are used by the scripts that source this)
# Shared by tests/lab/up and tests/lab/down (sourced, not run): where the lab lives and how
# to recognise its processes without touching anything else on the machine.

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RUN=$(realpath -m "${DANESCAN_LAB_DIR:-/tmp/danescan-lab}")
PY=/usr/bin/python3   # Debian's, with python3-dnspython; not whatever python3 is first in PATH

# Every component: name, pid file (in $RUN). The order is the start order; down goes backwards.
COMPONENTS=(nsd-root nsd-tld nsd-main misbehave unbound smtpd)

die() { echo "lab: $*" >&2; exit 1; }

case "$RUN" in
  /|/tmp|/root|/home|/usr|/etc|/var) die "DANESCAN_LAB_DIR=$RUN is not a lab run directory" ;;
esac

# One up or down at a time on the machine (the lab's addresses are machine-wide, whatever the
# run dir). up runs down while holding the lock, hence DANESCAN_LAB_LOCKED.
lab_lock() {
  [[ -n ${DANESCAN_LAB_LOCKED:-} ]] && return
  exec 9>/run/lock/danescan-lab.lock
  flock -w 120 9 || die "another tests/lab/up or down has held /run/lock/danescan-lab.lock for 2 min"
  export DANESCAN_LAB_LOCKED=1
}

# The argv of a process, one argument per line (empty when it is gone).
proc_args() { tr '\0' '\n' < "/proc/$1/cmdline" 2>/dev/null || true; }

# True if pid $1 is alive and is one of this run dir's lab processes: it runs a program the
# lab starts (judged by its executable: nsd renames its processes "nsd: main" and so on), and
# one of its arguments is $RUN or a path below it (every lab command line names its config or
# run dir). A stale pid file pointing at a recycled pid is thus harmless.
is_lab_pid() {
  local exe
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  case "${exe##*/}" in nsd|unbound|python3*|openssl) ;; *) return 1 ;; esac
  proc_args "$1" | grep -qxF "$RUN" || proc_args "$1" | grep -qF "$RUN/"
}

# The pid recorded in component $1's pid file, if that process is ours and alive.
component_pid() {
  local pid
  pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && is_lab_pid "$pid" && echo "$pid"
}

# Every live lab process of this run dir: the /proc scan above, plus any descendant of a
# component (e.g. helpers smtpd.py might spawn), since killing a parent can orphan those.
lab_pids() {
  local p roots=() all
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $p == "$$" || $p == "$BASHPID" ]] && continue
    is_lab_pid "$p" && roots+=("$p")
  done
  all=" ${roots[*]} "
  # Add descendants until nothing changes (the tree is tiny).
  local changed=1 ppid
  while ((changed)); do
    changed=0
    for p in /proc/[0-9]*; do
      p=${p#/proc/}
      [[ $all == *" $p "* ]] && continue
      # /proc/PID/stat: "pid (comm) state ppid ..."; comm may contain spaces.
      ppid=$(sed 's/.*) [^ ]* \([0-9]*\).*/\1/' "/proc/$p/stat" 2>/dev/null) || continue
      if [[ $all == *" $ppid "* ]]; then all+="$p "; changed=1; fi
    done
  done
  echo $all
}
