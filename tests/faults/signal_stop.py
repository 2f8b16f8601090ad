#!/usr/bin/python3
"""faults.signal_stop DANESCAN CHECK-EXPORT

Starts a scan of a long list (the lab's domains plus 3,000 NXDOMAIN names, paced with
--concurrency 20 --qps 1000 so that it takes several seconds) and sends SIGINT about 1 s in;
then the same with SIGTERM, and with SIGINT twice (the second abandons the domains in flight). For each: exit status 1, stderr mentions --resume, the run is
'interrupted', the database holds some but not all domains, every stored domain is complete
(finished_at set; the export passes check-export --strict and has no domain twice); then
--resume completes (exit 0, run 'completed') with every domain exactly once, the same outcome
as an uninterrupted reference scan. Prints 'N passed, M failed'.
"""

import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import _faultlib as fl  # noqa: E402

NX = 3000
PACE = ["--concurrency", "20", "--qps", "1000"]


def main():
    danescan, checker = fl.args()
    resolver, lab_domains = fl.lab()
    checks = fl.Checks()
    work = fl.Work("faults-signal")
    try:
        domains = lab_domains + fl.nx_names(NX)
        lst = work.write_list("list.txt", domains)
        common = ["--resolver", resolver, "--no-probe", "--allow-special-addresses",
                  "--timeout", "500", "--attempts", "2"]
        ref_db = work.path("ref.sqlite")
        p = fl.scan(danescan, [lst], ref_db, *common, "--quiet", timeout=120)
        checks.check("reference scan exits 0", p.returncode == 0, p.stderr[-400:])
        _, reference, _ = fl.export(danescan, ref_db, work.path("ref.jsonl"))
        catalogue = fl.catalogue_no_probe()
        for sigs in ([signal.SIGINT], [signal.SIGTERM], [signal.SIGINT, signal.SIGINT]):
            stop(checks, work, danescan, checker, lst, domains, common, sigs, reference, catalogue)
    finally:
        work.close()
    return checks.finish()


def stop(checks, work, danescan, checker, lst, domains, common, sigs, reference, catalogue):
    """Signals sigs (a second one 50 ms after the first: abandon the domains in flight)."""
    name = "+".join(signal.Signals(sig).name for sig in sigs)
    db = work.path(f"{name}.sqlite")
    # Not --quiet: the progress output must not get in the way of the signal handling.
    proc = fl.start_scan(danescan, [lst], db, *common, *PACE)
    time.sleep(1.0)
    running = proc.poll() is None
    checks.check(f"{name}: the scan is still running after 1 s", running, proc.returncode)
    t = time.monotonic()
    for i, sig in enumerate(sigs):
        if i:
            time.sleep(0.05)
        proc.send_signal(sig)
    try:
        _, stderr = proc.communicate(timeout=30)
    except Exception:
        proc.kill()
        _, stderr = proc.communicate()
        checks.check(f"{name}: the scan stops within 30 s", False)
    print(f"{name}: stopped {time.monotonic() - t:.2f} s after the signal, exit {proc.returncode}",
          flush=True)
    checks.check(f"{name}: exit status 1", proc.returncode == 1, f"{proc.returncode}: {stderr[-400:]}")
    checks.check(f"{name}: stderr mentions --resume", "--resume" in stderr, stderr[-400:])
    n = fl.committed_domains(db)
    checks.check(f"{name}: the database holds some but not all domains ({n} of {len(domains)})",
                 0 < n < len(domains), n)
    runs = fl.db_query(db, "SELECT status, finished_at FROM runs")
    checks.check(f"{name}: the run is 'interrupted'", len(runs) == 1 and runs[0][0] == "interrupted", runs)
    unfinished = fl.db_query(db, "SELECT name FROM domains WHERE finished_at IS NULL")
    checks.check(f"{name}: every stored domain is finished (finished_at set)", not unfinished,
                 unfinished[:5])
    out = work.path(f"{name}-partial.jsonl")
    rc, part, err = fl.export(danescan, db, out)
    checks.check(f"{name}: the partial export exits 0 with {n} domains, none twice",
                 rc == 0 and len(part) == n and not fl.duplicates([d["domain"] for d in part]),
                 f"{rc} {len(part)} {err}")
    rc, text = fl.check_export(checker, out)
    checks.check(f"{name}: check-export --strict passes on the partial export", rc == 0, text[-600:])
    ref = {d["domain"]: d for d in reference}
    wrong = [d["domain"] for d in part if d["domain"] in ref and not fl.has_matcher(catalogue.get(d["domain"], {}))
             and fl.outcome(d) != fl.outcome(ref[d["domain"]])]
    checks.check(f"{name}: the stored domains are complete (same outcome as the reference)",
                 not wrong, wrong[:10])

    p = fl.scan(danescan, [lst], db, *common, "--quiet", "--resume", timeout=120)
    checks.check(f"{name}: --resume exits 0", p.returncode == 0, f"{p.returncode}: {p.stderr[-400:]}")
    runs = fl.db_query(db, "SELECT status, resumed FROM runs")
    checks.check(f"{name}: after the resume the run is 'completed' (resumed once)",
                 runs == [("completed", 1)], runs)
    out = work.path(f"{name}-final.jsonl")
    rc, final, err = fl.export(danescan, db, out)
    checks.check(f"{name}: final export exits 0", rc == 0, err)
    fl.compare_scans(checks, f"{name} + resume vs uninterrupted", reference, final, catalogue)
    rc, text = fl.check_export(checker, out)
    checks.check(f"{name}: check-export --strict passes on the final export", rc == 0, text[-600:])


if __name__ == "__main__":
    sys.exit(main())
