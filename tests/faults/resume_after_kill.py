#!/usr/bin/python3
"""faults.resume_after_kill DANESCAN CHECK-EXPORT

An uninterrupted reference scan of the lab's domains plus 1,500 NXDOMAIN names (nx-N.test)
(and some of them listed twice),
then the same list into a new database, killed with SIGKILL at several points: once some
domains are committed, then (after --resume) twice more at higher progress levels, and once
right after a resume started; finally resumed to completion. Asserts that the committed count
never shrinks and grows between the progress kills, that the killed runs stay one run
('running' until the end, 'completed' after, 'resumed' counting the resumes), that the final
scan exits 0, and that its export has exactly the reference's domains, none twice, the same
verdict, MX rcode and host states per domain (the domains whose catalogue outcome varies,
any_of, are compared with the catalogue), and passes check-export --strict.
Prints 'N passed, M failed'.
"""

import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import _faultlib as fl  # noqa: E402

NX = 1500
# --qps spreads the scan over ~2 s or more, so the kills land at different progress levels.
PACE = ["--concurrency", "50", "--qps", "800"]


def main():
    danescan, checker = fl.args()
    resolver, lab_domains = fl.lab()
    checks = fl.Checks()
    work = fl.Work("faults-resume")
    try:
        run(checks, work, danescan, checker, resolver, lab_domains)
    finally:
        work.close()
    return checks.finish()


def run(checks, work, danescan, checker, resolver, lab_domains):
    nx = fl.nx_names(NX)
    # Some names twice, late in the list (one in capitals): after a kill, a repeat of a domain
    # already done must not be scanned or stored again.
    listed = lab_domains + nx + lab_domains[:20] + [nx[0].upper(), nx[-1]]
    domains = sorted(set(d.lower() for d in listed))
    lst = work.write_list("list.txt", listed)
    common = ["--resolver", resolver, "--no-probe", "--allow-special-addresses",
              "--timeout", "500", "--attempts", "2", "--quiet"]

    ref_db, ref_out = work.path("ref.sqlite"), work.path("ref.jsonl")
    t0 = time.monotonic()
    p = fl.scan(danescan, [lst], ref_db, *common, timeout=120)
    checks.check(f"reference scan exits 0 ({time.monotonic() - t0:.1f} s)", p.returncode == 0,
                 p.stderr[-400:])
    rc, reference, err = fl.export(danescan, ref_db, ref_out)
    checks.check(f"reference export has every distinct domain once ({len(domains)})",
                 rc == 0 and sorted(d["domain"] for d in reference) == domains,
                 f"{len(reference)}: {err}")

    db = work.path("killed.sqlite")
    counts = []

    def kill_when(proc, label, enough, at_most):
        """SIGKILL proc once enough(committed) holds (or after at_most s); committed after."""
        t = time.monotonic()
        fl.wait_for(lambda: proc.poll() is not None or enough(fl.committed_domains(db)), at_most)
        finished_early = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        n = fl.committed_domains(db)
        print(f"{label}: SIGKILL after {time.monotonic() - t:.2f} s, {n} domains committed"
              f"{' (the scan had already ended!)' if finished_early else ''}", flush=True)
        checks.check(f"{label}: the scan was still running when killed", not finished_early,
                     f"exit {proc.returncode}")
        checks.check(f"{label}: killed by SIGKILL", proc.returncode == -signal.SIGKILL,
                     proc.returncode)
        return n

    # Kill 1: once anything is committed. Kills 2 and 3: a few hundred domains further on.
    proc = fl.start_scan(danescan, [lst], db, *common, *PACE)
    counts.append(kill_when(proc, "kill 1 (first scan)", lambda n: n >= 1, 15))
    checks.check("kill 1: some domains committed, not all", 0 < counts[-1] < len(domains), counts[-1])
    for k in (2, 3):
        proc = fl.start_scan(danescan, [lst], db, *common, *PACE, "--resume")
        base = counts[-1]
        counts.append(kill_when(proc, f"kill {k} (resumed)", lambda n: n >= base + 300, 15))
        checks.check(f"kill {k}: more domains committed than at kill {k - 1}, not all",
                     counts[-2] < counts[-1] < len(domains), counts)
    # Kill 4: right after a resume started (while it reads what is done and starts over).
    proc = fl.start_scan(danescan, [lst], db, *common, *PACE, "--resume")
    time.sleep(0.15)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    counts.append(fl.committed_domains(db))
    print(f"kill 4 (0.15 s into a resume): {counts[-1]} domains committed", flush=True)
    checks.check("kill 4: nothing committed was lost", counts[-1] >= counts[-2], counts)
    runs = fl.db_query(db, "SELECT id, status, resumed FROM runs")
    checks.check("after the kills: one run, status 'running'",
                 len(runs) == 1 and runs[0][1] == "running", runs)

    p = fl.scan(danescan, [lst], db, *common, "--resume", timeout=120)
    checks.check("final --resume exits 0", p.returncode == 0, f"exit {p.returncode}: {p.stderr[-400:]}")
    runs = fl.db_query(db, "SELECT id, status, resumed FROM runs")
    checks.check("after the final resume: one run, 'completed', resumed 4 times",
                 len(runs) == 1 and runs[0][1] == "completed" and runs[0][2] == 4, runs)
    dup_rows = fl.db_query(db, "SELECT name, count(*) FROM domains GROUP BY run_id, name "
                               "HAVING count(*) > 1")
    checks.check("db: no domain stored twice", not dup_rows, dup_rows[:5])

    out = work.path("resumed.jsonl")
    rc, final, err = fl.export(danescan, db, out)
    checks.check("export of the resumed scan exits 0", rc == 0, err)
    fl.compare_scans(checks, "resumed vs uninterrupted", reference, final, fl.catalogue_no_probe())
    rc, text = fl.check_export(checker, out)
    checks.check("check-export --strict passes on the resumed scan", rc == 0, text[-800:])


if __name__ == "__main__":
    sys.exit(main())
