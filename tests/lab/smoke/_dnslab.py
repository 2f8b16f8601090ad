"""Helpers for the DNS smoke tests (imported, not run; the leading _ keeps CMake from
registering it). Queries go to the lab only: the resolver named in RUNDIR/lab.json or a lab
server address given explicitly."""

import json
import os
import pathlib
import subprocess
import sys

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

LAB_SRC = pathlib.Path(__file__).resolve().parent.parent
RUN = pathlib.Path(os.environ.get("DANESCAN_LAB_DIR", "/tmp/danescan-lab")).resolve()
# Lab server addresses (tests/lab/README.md, "Addresses").
OUTLOOK_ADDR, DEAD_ADDR = "127.53.0.4", "127.53.0.5"
REFUSED_ADDR, SERVFAIL_ADDR = "127.53.0.6", "127.53.0.7"

NOERROR, NXDOMAIN, SERVFAIL = dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL
REFUSED, NOTIMP = dns.rcode.REFUSED, dns.rcode.NOTIMP

failures = []


def lab():
    try:
        return json.loads((RUN / "lab.json").read_text())
    except OSError as e:
        sys.exit(f"FAIL: no lab at {RUN} ({e}); run tests/lab/up first")


RESOLVER = lab()["resolver"].rsplit(":", 1)[0]


def query(name, rdtype, server=None, cd=False, tcp=False, timeout=5.0):
    """One query with DO set (unbound sets AD only then); returns the response."""
    q = dns.message.make_query(name, rdtype, want_dnssec=True)
    if cd:
        q.flags |= dns.flags.CD
    send = dns.query.tcp if tcp else dns.query.udp
    try:
        return send(q, server or RESOLVER, timeout=timeout)
    except dns.exception.Timeout:
        raise dns.exception.Timeout(f"no answer from {server or RESOLVER} for {name} {rdtype} "
                                    f"within {timeout} s") from None


def ede_codes(r):
    return [int(o.code) for o in r.options if o.otype == dns.edns.OptionType.EDE]


def describe(r):
    return (f"rcode {dns.rcode.to_text(r.rcode())}, flags {dns.flags.to_text(r.flags)}, "
            f"EDE {ede_codes(r)}, answer {[rr.to_text() for rr in r.answer]}")


def check(what, r, rcode, ad=None, ede=None, answer=None, aa=None):
    """Record a failure unless response r matches. ede: None (not checked), [] (none),
    True (at least one), or a code. answer: a substring expected in the answer section."""
    problems = []
    if r.rcode() != rcode:
        problems.append(f"rcode {dns.rcode.to_text(r.rcode())}, want {dns.rcode.to_text(rcode)}")
    if ad is not None and bool(r.flags & dns.flags.AD) != ad:
        problems.append(f"AD={int(not ad)}, want AD={int(ad)}")
    if aa is not None and bool(r.flags & dns.flags.AA) != aa:
        problems.append(f"AA={int(not aa)}, want AA={int(aa)}")
    codes = ede_codes(r)
    if ede == [] and codes:
        problems.append(f"EDE {codes}, want none")
    elif ede is True and not codes:
        problems.append("no EDE, want one")
    elif isinstance(ede, int) and not isinstance(ede, bool) and codes != [ede]:
        problems.append(f"EDE {codes}, want [{ede}]")
    if answer is not None and not any(answer in rr.to_text() for rr in r.answer):
        problems.append(f"answer lacks {answer!r}")
    report(what, problems, r)


def report(what, problems, r=None):
    if problems:
        failures.append(what)
        print(f"FAIL {what}: {'; '.join(problems)}" + (f"\n     got {describe(r)}" if r else ""))
    else:
        print(f"ok   {what}")


def flush(zone):
    """Forget a zone in unbound (records, keys, bogus marks): unbound 1.17 gives the
    specific EDE (7 expired, 9 DNSKEY missing) only when it validates afresh; an answer
    served from its bogus cache carries EDE 6."""
    conf = lab().get("unbound_conf", str(RUN / "dns" / "unbound.conf"))
    subprocess.run(["unbound-control", "-c", conf, "flush_zone", zone],
                   check=True, capture_output=True)
    subprocess.run(["unbound-control", "-c", conf, "flush_bogus"], check=True, capture_output=True)


def flush_name(name, *types):
    """Forget one name in unbound: its common types (unbound-control flush) and `types`."""
    conf = lab().get("unbound_conf", str(RUN / "dns" / "unbound.conf"))
    subprocess.run(["unbound-control", "-c", conf, "flush", name], check=True, capture_output=True)
    for t in types:
        subprocess.run(["unbound-control", "-c", conf, "flush_type", name, t],
                       check=True, capture_output=True)


def done():
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {', '.join(failures)}")
    print("all checks passed")


