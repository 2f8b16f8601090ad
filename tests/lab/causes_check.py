#!/usr/bin/python3
"""Every failure of a lab scan names its cause (issue 13; export-jsonl.md, last paragraph).

usage: causes_check.py EXPORT.jsonl SCAN.sqlite

Holds the scan of the whole catalogue, in any mode, to the contract's rule: a host whose state
is `fail`, `lookup-error` or `unreachable` carries at least one finding that names the cause,
and so does a domain whose verdict is `dane-fail` or `dns-error`. Judged per host, from the
host's own findings (the database's host_findings, not the union a domain carries), with the
codes that can explain that state (CAUSES below); a domain must carry the cause of each of its
failing hosts (the export's findings), and a dns-error domain one of the MX lookup's causes.

smtp-rate-limited says a server answered 421, which a good retry may follow (the host then
passes with the finding): it names the cause of an unreachable or failing host only when one of
the host's probes ended on the 421 (a stage 'rejected' on a rate-limited probe, i.e. the retry
was refused too). Exit 1 with one line per failure that names no cause.
"""

import json
import sqlite3
import sys

# The codes that can explain each failing host state. cname-loop (a chain that cannot be
# followed leaves no address) belongs to helper `hostile`'s part of the contract.
CAUSES = {
    "lookup-error": {"address-lookup-failure", "tlsa-lookup-failure", "dnssec-bogus", "cname-loop"},
    "fail": {"tlsa-mismatch", "no-starttls-with-tlsa", "tls-handshake-failure", "starttls-rejected",
             "smtp-timeout", "smtp-protocol-error", "dane-ta-name-mismatch",
             "dane-ta-certificate-expired", "smtp-rate-limited"},
    "unreachable": {"tlsa-host-no-address", "smtp-connect-failure", "smtp-timeout",
                    "smtp-protocol-error", "smtp-rate-limited", "cname-loop"},
}
MX_CAUSES = {"mx-servfail", "mx-timeout", "dnssec-bogus"}
REJECTED_ON_421 = """
    SELECT count(*) FROM probes WHERE host_id = ? AND rate_limited AND 'rejected' IN
      (greeting_outcome, ehlo_outcome, starttls_outcome)"""


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    export = {}
    for line in open(sys.argv[1], encoding="utf-8"):
        if line.strip():
            d = json.loads(line)
            export[d["domain"]] = d
    db = sqlite3.connect(sys.argv[2])
    run = db.execute("SELECT max(id) FROM runs").fetchone()[0]
    host_rows = db.execute("""
        SELECT d.name, h.id, h.name, h.dane FROM domains d JOIN mx ON mx.domain_id = d.id
        JOIN hosts h ON h.id = mx.host_id WHERE d.run_id = ? ORDER BY d.name, mx.position""", (run,)).fetchall()
    findings = {}
    for host_id, code in db.execute("SELECT host_id, code FROM host_findings"):
        findings.setdefault(host_id, set()).add(code)

    problems, hosts_judged, domains_judged = [], 0, 0
    failing_hosts = {}
    for domain, host_id, host, state in host_rows:
        if state not in CAUSES:
            continue
        hosts_judged += 1
        causes = findings.get(host_id, set()) & CAUSES[state]
        if causes == {"smtp-rate-limited"} and db.execute(REJECTED_ON_421, (host_id,)).fetchone()[0] == 0:
            causes = set()  # a 421 the retry got past is not why the host fails
        if not causes:
            problems.append(f"{domain}: host {host} is {state} without a finding naming the cause "
                            f"(its findings: {sorted(findings.get(host_id, set()))})")
        failing_hosts.setdefault(domain, []).append((host, causes))
    for domain, d in sorted(export.items()):
        if d["verdict"] == "dns-error":
            domains_judged += 1
            if not set(d["findings"]) & MX_CAUSES:
                problems.append(f"{domain}: dns-error without a finding naming the cause ({d['findings']})")
        elif d["verdict"] == "dane-fail":
            domains_judged += 1
            hosts = failing_hosts.get(domain, [])
            if not hosts:
                problems.append(f"{domain}: dane-fail without a failing host in the database")
            for host, causes in hosts:
                if causes and not causes & set(d["findings"]):
                    problems.append(f"{domain}: the cause {sorted(causes)} of host {host} is not among "
                                    f"the domain's findings {d['findings']}")
    for p in problems:
        print(f"CAUSE {p}")
    print(f"causes-check: {hosts_judged} failing hosts, {domains_judged} failing domains, "
          f"{len(problems)} without a cause")
    return 1 if problems or not domains_judged else 0


if __name__ == "__main__":
    sys.exit(main())
