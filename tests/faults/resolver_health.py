#!/usr/bin/python3
"""faults.resolver_health (issue 11): a run that cannot be wrong without saying so. Against
fake_resolver.py on 127.53.4.x (no lab needed):

- nothing listening: exit 1, "never answered", run `interrupted`, no domain stored, runs.health
  `resolver-silent`; also with --attempts 1 on a one-name list; then --resume against a resolver
  that answers: exit 0, `completed`, the domain set equal to an uninterrupted scan's;
- a resolver that answers everything SERVFAIL is not silent: exit 0, a `servfail-at-start`
  warning on stderr and in runs.health;
- a resolver that goes dark mid-run: the warning on stderr, in the final progress line and the
  summary, runs.health `timeout-jump` after the dark point; a healthy run: none of that, health NULL;
- one stalled TCP connection (every UDP answer TC=1): all 40 domains complete, no query TIMEOUT;
- the progress line on a terminal (a pty): "N/M domains (P%)" and an ETA for a file list; for
  standard input no total and no ETA.
Run as  resolver_health.py DANESCAN CHECK-EXPORT.
"""

import json
import os
import pty
import re
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _faultlib as fl  # noqa: E402

FAKE = fl.HERE / "fake_resolver.py"
FAST = ["--no-probe", "--timeout", "200", "--attempts", "3"]


def start_fake(addr, *options):
    p = subprocess.Popen(["/usr/bin/python3", str(FAKE), "--listen", addr, *options],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready "):
        p.kill()
        raise RuntimeError(f"fake resolver did not start: {line!r} {p.stderr.read()}")
    return p, line.split()[1]


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()


def run_row(db):
    rows = fl.db_query(db, "SELECT status, health FROM runs ORDER BY id DESC LIMIT 1")
    return rows[0] if rows else (None, None)


def domains(db):
    return sorted(r[0] for r in fl.db_query(db, "SELECT name FROM domains WHERE run_id = (SELECT max(id) FROM runs)"))


def health_kinds(health):
    return [w["kind"] for w in json.loads(health)["warnings"]] if health else []


def silent_then_resume(c, danescan, work):
    names = [f"d{i}.example.test" for i in range(60)] + [f"x-{i}.nx.test" for i in range(40)]
    lst = work.write_list("silent.txt", names)
    addr = "127.53.4.9:5353"  # nothing listens here until the fake starts
    db = work.path("silent.sqlite")
    p = fl.scan(danescan, [lst], db, "--resolver", addr, *FAST, timeout=60)
    c.check("silent: exit 1", p.returncode == 1, p.returncode)
    c.check("silent: the message says the resolver never answered", "never answered" in p.stderr, p.stderr[-500:])
    c.check("silent: --resume is suggested", "--resume" in p.stderr)
    status, health = run_row(db)
    c.check("silent: the run is interrupted", status == "interrupted", status)
    c.check("silent: no domain stored (they would be the resolver's timeouts)", domains(db) == [], len(domains(db)))
    c.check("silent: runs.health says resolver-silent", health_kinds(health) == ["resolver-silent"], health)

    one = work.write_list("one.txt", ["d0.example.test"])
    db1 = work.path("silent1.sqlite")
    p = fl.scan(danescan, [one], db1, "--resolver", addr, "--no-probe", "--timeout", "200", "--attempts", "1", timeout=60)
    c.check("silent, one name, --attempts 1: exit 1, nothing stored",
            p.returncode == 1 and domains(db1) == [] and run_row(db1)[0] == "interrupted", (p.returncode, p.stderr[-300:]))

    # Two resolvers, neither answering: still silent.
    db2 = work.path("silent2.sqlite")
    p = fl.scan(danescan, [lst], db2, "--resolver", addr, "--resolver", "127.53.4.10:5353", *FAST, timeout=60)
    c.check("silent, two resolvers: exit 1, nothing stored", p.returncode == 1 and domains(db2) == [], p.returncode)

    fake, _ = start_fake(addr)
    try:
        p = fl.scan(danescan, [lst], db, "--resolver", addr, *FAST, "--resume", timeout=60)
        c.check("resume against a working resolver: exit 0", p.returncode == 0, p.stderr[-500:])
        status, health = run_row(db)
        c.check("resume: completed, the silent warning kept", status == "completed" and
                health_kinds(health) == ["resolver-silent"], (status, health))
        ref = work.path("reference.sqlite")
        p = fl.scan(danescan, [lst], ref, "--resolver", addr, *FAST, timeout=60)
        c.check("reference scan: exit 0, health NULL", p.returncode == 0 and run_row(ref) == ("completed", None), run_row(ref))
        c.check("resume: the domain set of an uninterrupted scan", domains(db) == domains(ref) == sorted(names),
                (len(domains(db)), len(domains(ref))))
        got = dict(fl.db_query(db, "SELECT name, verdict FROM domains"))
        want = dict(fl.db_query(ref, "SELECT name, verdict FROM domains"))
        c.check("resume: the same verdicts", got == want)
        c.check("healthy run: no warning on stderr", "resolver health" not in p.stderr and "never answered" not in p.stderr,
                p.stderr[-300:])
    finally:
        stop(fake)


def servfail_at_start(c, danescan, work):
    fake, addr = start_fake("127.53.4.11:0", "--servfail")
    try:
        lst = work.write_list("servfail.txt", [f"s{i}.example.test" for i in range(400)])
        db = work.path("servfail.sqlite")
        p = fl.scan(danescan, [lst], db, "--resolver", addr, *FAST, timeout=60)
        c.check("servfail everything: not silent, exit 0", p.returncode == 0, p.stderr[-300:])
        c.check("servfail everything: warned on stderr", "SERVFAILs were 100% of the first 200 queries" in p.stderr,
                p.stderr[-500:])
        status, health = run_row(db)
        c.check("servfail everything: runs.health servfail-at-start", "servfail-at-start" in health_kinds(health), health)
    finally:
        stop(fake)


def dark_mid_run(c, danescan, work):
    # Each nx name costs one query (its MX: NXDOMAIN): the resolver goes dark after 1,500.
    fake, addr = start_fake("127.53.4.12:0", "--dark-after", "1500")
    try:
        lst = work.write_list("dark.txt", [f"n{i}.nx.test" for i in range(2500)])
        db = work.path("dark.sqlite")
        p = fl.scan(danescan, [lst], db, "--resolver", addr, "--no-probe", "--timeout", "100", "--attempts", "2",
                    timeout=120)
        c.check("dark mid-run: the scan completes (exit 0)", p.returncode == 0, p.stderr[-300:])
        c.check("dark mid-run: a warning line when it happens", "warning: resolver health: timeouts" in p.stderr,
                p.stderr[-500:])
        progress = [l for l in p.stderr.splitlines() if " domains/s " in l]
        c.check("dark mid-run: the final progress line says it", progress and "WARNING: timeouts" in progress[-1],
                progress[-1:] if progress else p.stderr[-300:])
        c.check("dark mid-run: the summary says it", re.search(r"timeouts rose to \d+% of 200 queries at query \d+", p.stderr)
                is not None, p.stderr[-500:])
        status, health = run_row(db)
        warnings = json.loads(health)["warnings"] if health else []
        jumps = [w for w in warnings if w["kind"] == "timeout-jump"]
        c.check("dark mid-run: runs.health timeout-jump", len(jumps) == 1, health)
        if jumps:
            # Results arrive out of order around the dark point, but not by much.
            c.check("dark mid-run: after the dark point, against a clean baseline",
                    1300 <= jumps[0]["at_query"] <= 1800 and jumps[0]["baseline"] < 0.05 and jumps[0]["share"] > 0.5, jumps[0])
        c.check("dark mid-run: no servfail warning", not any(w["kind"].startswith("servfail") for w in warnings), health)
    finally:
        stop(fake)


def tcp_stall(c, danescan, work):
    log = work.path("stall.jsonl")
    fake, addr = start_fake("127.53.4.13:0", "--truncate-udp", "--stall-tcp", "1", "--log", log)
    try:
        names = [f"t{i}.example.test" for i in range(40)]
        lst = work.write_list("stall.txt", names)
        db = work.path("stall.sqlite")
        p = fl.scan(danescan, [lst], db, "--resolver", addr, "--no-probe", timeout=60)
        c.check("tcp stall: exit 0", p.returncode == 0, p.stderr[-300:])
        with open(log) as f:
            entries = [json.loads(l) for l in f]
        stalled = [e for e in entries if e["transport"] == "tcp" and not e["answered"]]
        c.check("tcp stall: queries did reach the stalled connection", len(stalled) > 0, len(stalled))
        c.check("tcp stall: all 40 domains stored", domains(db) == sorted(names), len(domains(db)))
        timeouts = fl.db_query(db, "SELECT name, type, error FROM queries WHERE rcode = 'TIMEOUT'")
        c.check("tcp stall: no query timed out", timeouts == [], timeouts[:3])
        c.check("tcp stall: every MX answered over TCP",
                fl.db_query(db, "SELECT count(*) FROM domains WHERE mx_rcode = 'NOERROR'")[0][0] == 40)
    finally:
        stop(fake)


def under_pty(cmd, stdin_data=None):
    """Runs cmd with stderr on a pty; returns (exit status, everything written to it)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    if stdin_data is not None:
        p.stdin.write(stdin_data.encode())
        p.stdin.close()
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    p.wait(timeout=60)
    os.close(master)
    return p.returncode, out.decode(errors="replace")


def progress_on_a_terminal(c, danescan, work):
    fake, addr = start_fake("127.53.4.14:0")
    try:
        names = [f"p{i}.nx.test" for i in range(1500)]
        lst = work.write_list("progress.txt", names)
        # --qps keeps it running for a few progress ticks (one a second).
        rc, out = under_pty([danescan, "scan", lst, "--db", work.path("progress.sqlite"), "--resolver", addr,
                             "--no-probe", "--qps", "400"])
        lines = [l for l in re.split(r"[\r\n]", out) if " domains/s " in l]
        c.check("progress (file): exit 0", rc == 0, out[-300:])
        with_total = [l for l in lines if re.search(r"\b\d+/1500 domains \(\d+%\)", l)]
        c.check("progress (file): the line shows N/1500 and a percentage", len(with_total) > 0, lines[:2])
        c.check("progress (file): and an ETA", any(re.search(r"ETA \d+:\d\d", l) for l in with_total), lines[:2])
        rc, out = under_pty([danescan, "scan", "-", "--db", work.path("progress-stdin.sqlite"), "--resolver", addr,
                             "--no-probe", "--qps", "400"], stdin_data="".join(n + "\n" for n in names))
        lines = [l for l in re.split(r"[\r\n]", out) if " domains/s " in l]
        c.check("progress (stdin): exit 0, progress lines", rc == 0 and len(lines) > 1, out[-300:])
        c.check("progress (stdin): no total and no ETA",
                lines and not any("ETA" in l or re.search(r"\d+/\d+ domains", l) for l in lines), lines[:2])
    finally:
        stop(fake)


def main():
    danescan, _checker = fl.args()
    c = fl.Checks()
    work = fl.Work("resolver-health")
    try:
        for part in (silent_then_resume, servfail_at_start, dark_mid_run, tcp_stall, progress_on_a_terminal):
            try:
                part(c, danescan, work)
            except Exception as e:  # a crash in one part fails it, the others still run
                c.check(f"{part.__name__} ran", False, repr(e))
    finally:
        work.close()
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
