"""Helpers shared by the fault tests in tests/faults/ (not a test: the name starts with '_').

Each test is run as  TEST DANESCAN CHECK-EXPORT  (CMakeLists.txt passes both) inside the lab
(DANESCAN_LAB_DIR, default /tmp/danescan-lab). Everything here is loopback only.
"""

import json
import os
import pathlib
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
LAB_SRC = HERE.parent / "lab"
LAB_DIR = pathlib.Path(os.environ.get("DANESCAN_LAB_DIR", "/tmp/danescan-lab"))
PROXY = HERE / "faultproxy.py"

sys.path.insert(0, str(LAB_SRC))
import compare_export  # noqa: E402  (tests/lab/compare_export.py: derive_no_probe, compare)


class Checks:
    """ok/FAIL lines and the closing 'N passed, M failed'."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}{': ' + str(detail) if detail != '' else ''}", flush=True)
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed or not self.passed else 0


def args():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} DANESCAN CHECK-EXPORT")
    return sys.argv[1], sys.argv[2]


def lab():
    """(resolver, lab domains) of the running lab."""
    info = json.loads((LAB_DIR / "lab.json").read_text())
    domains = [d.strip() for d in open(info["domains_file"]) if d.strip()]
    if not domains:
        sys.exit("the lab has no domains (is it up?)")
    return info["resolver"], domains


class Work:
    """A temporary directory, removed at the end unless DANESCAN_KEEP_WORK is set."""

    def __init__(self, name):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix=f"danescan-{name}-"))

    def path(self, name):
        return str(self.dir / name)

    def write_list(self, name, domains):
        p = self.path(name)
        with open(p, "w") as f:
            f.writelines(d + "\n" for d in domains)
        return p

    def close(self):
        if os.environ.get("DANESCAN_KEEP_WORK"):
            print(f"work directory kept: {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def nx_names(n, prefix="nx"):
    return [f"{prefix}-{i}.test" for i in range(1, n + 1)]


def scan(danescan, lists, db, *options, timeout=120):
    """Run danescan scan to completion; CompletedProcess (stdout and stderr as text)."""
    cmd = [danescan, "scan", *lists, "--db", db, *options]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def start_scan(danescan, lists, db, *options):
    cmd = [danescan, "scan", *lists, "--db", db, *options]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def export(danescan, db, out):
    """Export db as JSONL to out; (exit status, list of domain objects, stderr)."""
    p = subprocess.run([danescan, "export", "--db", db, "--format", "jsonl", "--out", out],
                       capture_output=True, text=True, timeout=60)
    objs = []
    if p.returncode == 0:
        with open(out, encoding="utf-8") as f:
            objs = [json.loads(line) for line in f if line.strip()]
    return p.returncode, objs, p.stderr


def check_export(checker, path):
    """check-export --strict; (exit status, output)."""
    p = subprocess.run([checker, path, "--strict"], capture_output=True, text=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


def committed_domains(db):
    """Domains committed in the latest run of db (0 when the file or the run is not there yet)."""
    if not os.path.exists(db):
        return 0
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = c.execute("SELECT count(*) FROM domains WHERE run_id = "
                            "(SELECT max(id) FROM runs)").fetchone()
            return row[0] if row else 0
        finally:
            c.close()
    except sqlite3.Error:
        return 0


def db_query(db, sql, params=()):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return c.execute(sql, params).fetchall()
    finally:
        c.close()


def duplicates(names):
    seen, dup = set(), set()
    for n in names:
        (dup if n in seen else seen).add(n)
    return sorted(dup)


# --- the catalogue --------------------------------------------------------------------------

def catalogue_no_probe():
    """{domain: expected object in no-probe mode}, placeholders expanded with the lab's certs."""
    paths = sorted((LAB_SRC / "catalogue" / "scenarios").glob("*.json"))
    text = "[" + ",\n".join(p.read_text() for p in paths) + "]"
    expanded = subprocess.run(["/usr/bin/python3", str(LAB_SRC / "tls" / "certs.py"), "expand",
                               str(LAB_DIR)], input=text, capture_output=True, text=True,
                              check=True).stdout
    out = {}
    for scenario in json.loads(expanded):
        expect = scenario["expect"]
        out[scenario["domain"]] = (expect["no-probe"] if "no-probe" in expect
                                   else compare_export.derive_no_probe(expect["default"]))
    return out


def has_matcher(obj):
    """True when an expectation holds any_of/nonnull somewhere: its outcome may vary."""
    if isinstance(obj, dict):
        if set(obj) in ({"any_of"}, {"nonnull"}):
            return True
        return any(has_matcher(v) for v in obj.values())
    if isinstance(obj, list):
        return any(has_matcher(v) for v in obj)
    return False


def diff_catalogue(expected, actual):
    """Differences between a domain object and its no-probe expectation (compare_export's rules)."""
    diffs = []
    compare_export.compare(expected, actual, False, actual.get("domain", "?"), diffs)
    return diffs


def outcome(d):
    """What must not change between two scans of a domain: verdict, MX rcode, host states."""
    return (d["verdict"], d["mx_rcode"], tuple((h["host"], h["dane"]) for h in d["mx"]))


def compare_scans(checks, what, reference, actual, catalogue):
    """Same domains, no duplicates, same outcome per domain; the domains whose catalogue
    expectation varies (any_of) are held to the catalogue instead of to the reference."""
    ref = {d["domain"]: d for d in reference}
    names = [d["domain"] for d in actual]
    dup = duplicates(names)
    checks.check(f"{what}: no domain twice", not dup, f"duplicates {dup[:10]}")
    act = {d["domain"]: d for d in actual}
    missing, extra = sorted(set(ref) - set(act)), sorted(set(act) - set(ref))
    checks.check(f"{what}: the same {len(ref)} domains as the reference",
                 not missing and not extra,
                 f"{len(missing)} missing {missing[:10]}, {len(extra)} extra {extra[:10]}")
    varying = {n for n, e in catalogue.items() if has_matcher(e)}
    differ, cat_diffs = [], []
    for name in sorted(set(ref) & set(act)):
        if name in varying:
            cat_diffs += diff_catalogue(catalogue[name], act[name])
        elif outcome(ref[name]) != outcome(act[name]):
            differ.append(f"{name}: {outcome(ref[name])} != {outcome(act[name])}")
    checks.check(f"{what}: every domain has the reference's verdict, mx_rcode and host states "
                 f"({len(set(ref) & set(act) - varying)} compared)", not differ,
                 "; ".join(differ[:10]))
    present = sorted(varying & set(act))
    checks.check(f"{what}: the varying domains {present} match the catalogue",
                 not cat_diffs, "; ".join(cat_diffs[:10]))


# --- the fault proxy ------------------------------------------------------------------------

def free_udp_tcp(addr, port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the proxy does (TIME_WAIT)
            try:
                s.bind((addr, port))
            except OSError:
                return False
    return True


class FaultProxy:
    """faultproxy.py on the first free 127.53.2.x:53 (x from 1); stop() returns the log."""

    def __init__(self, log, *proxy_args, upstream="127.53.1.1:53", first=1):
        self.log = log
        for x in range(first, first + 8):
            addr = f"127.53.2.{x}"
            if free_udp_tcp(addr, 53):
                break
        else:
            raise SystemExit("no free 127.53.2.x:53 for the fault proxy")
        self.listen = f"{addr}:53"
        self.p = subprocess.Popen([str(PROXY), "--listen", self.listen, "--upstream", upstream,
                                   "--log", log, *proxy_args], stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().strip()
        if line != f"ready {self.listen}":
            self.p.kill()
            raise SystemExit(f"faultproxy did not start (said {line!r})")

    def stop(self):
        """SIGTERM; (exit status, log entries)."""
        if self.p.poll() is None:
            self.p.terminate()
        try:
            rc = self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = "hung"
        with open(self.log) as f:
            entries = [json.loads(line) for line in f if line.strip()]
        return rc, entries


def wait_for(predicate, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
