#!/usr/bin/python3
"""faults.slow_list DANESCAN CHECK-EXPORT

A list that is slow to arrive on stdin must not stall the scan's event loop.

1. stall: `danescan scan -` reads 6,000 names from a pipe, which then stays silent for 4 s
   before the last 100 names and the end. The scan ends with exit 0 and every name stored once,
   and not one query was retried or timed out, nor took 2 s (the client's first timeout): while
   the list was silent, the answers of the domains in flight were read on time. (With the list
   read on the loop thread, their timers expired during the silence.)
2. silent stdin: SIGINT to a scan whose stdin says nothing stops it at once (exit 1, --resume
   named), instead of waiting for the list.
Prints 'N passed, M failed'.
"""

import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import _faultlib as fl  # noqa: E402

FIRST = 6000  # more than zlib's 64 KiB read: the second read has to wait for the pipe
LAST = 100
SILENCE_S = 4.0


def main():
    danescan, checker = fl.args()
    resolver, _ = fl.lab()
    checks = fl.Checks()
    work = fl.Work("faults-slow-list")
    try:
        stall(checks, work, danescan, checker, resolver)
        silent(checks, work, danescan, resolver)
    finally:
        work.close()
    return checks.finish()


def stall(checks, work, danescan, checker, resolver):
    names = fl.nx_names(FIRST + LAST, prefix="slow")
    db = work.path("stall.sqlite")
    proc = subprocess.Popen([danescan, "scan", "-", "--db", db, "--resolver", resolver, "--no-probe", "--quiet"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdin.write("".join(n + "\n" for n in names[:FIRST]))
    proc.stdin.flush()
    time.sleep(SILENCE_S)
    checks.check("stall: the scan waits for the rest of the list", proc.poll() is None, proc.returncode)
    rest = "".join(n + "\n" for n in names[FIRST:])
    try:
        _, stderr = proc.communicate(input=rest, timeout=60)  # writes the rest, then the end
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
    checks.check("stall: exit status 0", proc.returncode == 0, f"{proc.returncode}: {stderr[-400:]}")
    n = fl.committed_domains(db)
    checks.check(f"stall: every name stored ({n} of {len(names)})", n == len(names), n)
    late = fl.db_query(db, "SELECT count(*), max(elapsed_ms), max(attempts) FROM queries "
                           "WHERE attempts > 1 OR rcode = 'TIMEOUT' OR elapsed_ms >= 2000")
    total = fl.db_query(db, "SELECT count(*), max(elapsed_ms) FROM queries")
    checks.check(f"stall: no query retried, timed out or slower than 2 s ({total[0][0]} queries, "
                 f"slowest {total[0][1]} ms)", late[0][0] == 0, late)
    out = work.path("stall.jsonl")
    rc, _, err = fl.export(danescan, db, out)
    checks.check("stall: export exits 0", rc == 0, err)
    rc, text = fl.check_export(checker, out)
    checks.check("stall: check-export --strict passes", rc == 0, text[-600:])


def silent(checks, work, danescan, resolver):
    db = work.path("silent.sqlite")
    proc = subprocess.Popen([danescan, "scan", "-", "--db", db, "--resolver", resolver, "--no-probe", "--quiet"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    checks.check("silent: the scan waits for its list", proc.poll() is None, proc.returncode)
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)  # stdin stays open and silent: communicate() would close it
        stopped = True
    except subprocess.TimeoutExpired:
        stopped = False
    took = time.monotonic() - t
    proc.stdin.close()  # the old behaviour: only the end of the list let it stop
    proc.wait(timeout=30)
    stderr = proc.stderr.read()
    checks.check(f"silent: SIGINT stops it while stdin is silent ({took:.2f} s)", stopped)
    checks.check("silent: exit status 1, --resume named", proc.returncode == 1 and "--resume" in stderr,
                 f"{proc.returncode}: {stderr[-400:]}")
    runs = fl.db_query(db, "SELECT status FROM runs")
    checks.check("silent: the run is 'interrupted'", runs == [("interrupted",)], runs)


if __name__ == "__main__":
    sys.exit(main())
