#!/usr/bin/python3 -B
"""Smoke test of what the catalogue's expectations rest on: its certificates and the TLSA
records the lab publishes for them, checked against what the SMTP servers really present.

- every world.json cert marked "expired" is expired now (openssl x509 -checkend 0 fails) and
  every other one is valid now; every "leaf" verifies against its issuer (openssl verify);
- every TLSA record of a catalogue zone that names a cert ({cert:NAME:S:M}) resolves through
  unbound (AD=1 in a signed zone, AD=0 in an unsigned one; CD=1 for a zone signed with a fault)
  to exactly the catalogue's records, and, for each host whose addresses run a `starttls`
  server, the RRset matches the chain that server presents (openssl s_client -starttls smtp;
  digests computed with openssl from the presented certificates, not from RUNDIR/certs).
  A host must match unless its scenario says otherwise: the tlsa_base of a host in a scenario
  with finding tlsa-mismatch and a failing probe must not match, and with finding
  tlsa-alias-canonical-differ the other end of the alias expects the opposite of the base.
Environment: DANESCAN_LAB_DIR (run dir, default /tmp/danescan-lab). Exit 1 when a check fails.
"""

import json
import re
import subprocess
import sys

import dns.rdatatype

from _dnslab import LAB_SRC, NOERROR, RUN, check, describe, done, query, report

sys.path.insert(0, str(LAB_SRC / "tls"))
import certs  # noqa: E402  (tests/lab/tls/certs.py: the placeholder syntax and expansion)

CATALOGUE = LAB_SRC / "catalogue"
FAULTS = ("bogus", "expired", "ds-mismatch")
PEM = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", re.S)


def run(args, data=None):
    return subprocess.run(args, input=data, capture_output=True, timeout=15)


# ---- the certificates themselves
world = json.loads((CATALOGUE / "world.json").read_text())
certdir = RUN / "certs"
for name, spec in sorted(world["certs"].items()):
    crt = str(certdir / f"{name}.crt")
    expired = bool(spec.get("expired"))
    valid_now = run(["openssl", "x509", "-in", crt, "-noout", "-checkend", "0"]).returncode == 0
    report(f"cert {name} is {'expired' if expired else 'valid now'}",
           [] if valid_now != expired else
           [f"openssl x509 -checkend 0 says {'valid' if valid_now else 'expired'}"])
    if spec["kind"] == "leaf":
        # An expired leaf would fail on its dates alone; its signature is what is checked here.
        p = run(["openssl", "verify", *(["-no_check_time"] if expired else []),
                 "-CAfile", str(certdir / f"{spec['issuer']}.crt"), crt])
        report(f"cert {name} verifies against its issuer {spec['issuer']}",
               [] if p.returncode == 0 else [(p.stdout + p.stderr).decode().strip()])


# ---- the TLSA records, as published and as served
def zones():
    """(zone name, zone spec, scenario or None) for every catalogue zone."""
    for name, spec in world["zones"].items():
        yield name, spec, None
    for f in sorted((CATALOGUE / "scenarios").glob("*.json")):
        scenario = json.loads(f.read_text())
        for name, spec in scenario["zones"].items():
            yield name, spec, scenario


def expected_mismatch(scenario):
    """Host names (TLSA owners without _25._tcp.), or (host name, address) for one failing address of
    a host whose other addresses pass (fail-one-address.test), whose RRset must NOT match the
    served chain."""
    if scenario is None:
        return set()
    expect = scenario["expect"]["default"]
    findings, out = set(expect["findings"]), set()
    for host in expect["mx"]:
        base = host["tlsa_base"]
        failing = [p["address"] for p in host["probes"] if p["dane"] == "fail"]
        if base and failing and "tlsa-mismatch" in findings:
            if len(failing) == len(host["probes"]):
                out.add(base)
            else:
                out.update((base, address) for address in failing)
        if base and "tlsa-alias-canonical-differ" in findings:
            for end in [host["host"], *host["cname_chain"]]:
                if end != base and (base not in out):
                    out.add(end)
    return out


def tlsa_owners(zone, spec):
    """{host: [(usage, placeholder S, placeholder M, data)]} for every TLSA owner of the zone
    with at least one placeholder; S and M are None for a record given literally."""
    owners = {}
    tlsa = certs.Tlsa(RUN)
    for line in spec["records"]:
        f = line.split()
        if "TLSA" not in f:
            continue
        i = f.index("TLSA")
        m = certs.PLACEHOLDER.fullmatch(f[i + 4])
        owner = f[0]
        host = zone if owner in ("@", "_25._tcp") else owner.removeprefix("_25._tcp.") + "." + zone
        owners.setdefault(host, []).append(
            (int(f[i + 1]), *((int(m.group(2)), int(m.group(3)), tlsa.placeholder(m)) if m else
                              (None, None, "".join(f[i + 4:]).lower()))))
    return {h: recs for h, recs in owners.items() if any(r[1] is not None for r in recs)}


chains, digests = {}, {}


def presented_chain(address, servername):
    if address not in chains:
        p = run(["openssl", "s_client", "-starttls", "smtp", "-connect", f"[{address}]:25" if ":" in address else f"{address}:25",
                 "-servername", servername, "-showcerts"], b"QUIT\n")
        chains[address] = PEM.findall(p.stdout.decode("ascii", "replace"))
    return chains[address]


def digest(pem, selector, mtype):
    """TLSA association data of a PEM certificate (RFC 6698 section 2.1), all by openssl."""
    if (pem, selector, mtype) not in digests:
        if selector == 0:
            der = run(["openssl", "x509", "-outform", "DER"], pem.encode()).stdout
        else:
            pub = run(["openssl", "x509", "-noout", "-pubkey"], pem.encode()).stdout
            der = run(["openssl", "pkey", "-pubin", "-outform", "DER"], pub).stdout
        if mtype:
            algorithm = "-sha256" if mtype == 1 else "-sha512"
            der = run(["openssl", "dgst", algorithm, "-binary"], der).stdout
        digests[pem, selector, mtype] = der.hex()
    return digests[pem, selector, mtype]


def matches(chain, records):
    """The published records that match the presented chain: usage 3 and 1 the leaf, others
    any certificate of the chain; the digest uses the placeholder's selector and type. Digest
    agility (RFC 7671 section 9), as OpenSSL and Postfix apply it: of the records with one usage
    and selector, only those of the strongest matching type published count (OpenSSL's default
    ordinals: full value 0, SHA-256 1, SHA-512 2)."""
    strength = {0: 0, 1: 1, 2: 2}
    best = {}
    for usage, s, m, data in records:
        if s is not None and m in strength:
            best[usage, s] = max(best.get((usage, s), -1), strength[m])
    out = []
    for usage, s, m, data in records:
        if s is None:
            continue
        if m in strength and strength[m] < best[usage, s]:
            continue
        candidates = chain[:1] if usage in (1, 3) else chain
        if any(digest(pem, s, m) == data for pem in candidates):
            out.append(f"{usage} {s} {m}")
    return out


smtp = world["smtp"]
hosts_checked = 0
for zone, spec, scenario in zones():
    signed = spec.get("signed")
    cd = signed in FAULTS
    mismatch = expected_mismatch(scenario)
    for host, records in tlsa_owners(zone, spec).items():
        r = query(f"_25._tcp.{host}", "TLSA", cd=cd)
        check(f"{host}: TLSA resolves{' (CD=1)' if cd else ''}", r, NOERROR,
              ad=None if cd else signed is True)
        got = sorted(rd.cert.hex() for rrset in r.answer if rrset.rdtype == dns.rdatatype.TLSA
                     for rd in rrset)
        want = sorted(rec[3] for rec in records)
        report(f"{host}: resolved TLSA data is the catalogue's",
               [] if got == want else [f"resolved {got}, catalogue {want}"])
        a = query(host, "A", cd=cd)
        addresses = [rd.address for rrset in a.answer if rrset.rdtype == dns.rdatatype.A
                     for rd in rrset]
        aaaa = query(host, "AAAA", cd=cd)  # the IPv6 host (ipv6-mx.test, [::1]:25)
        addresses += [rd.address for rrset in aaaa.answer if rrset.rdtype == dns.rdatatype.AAAA
                      for rd in rrset]
        if not addresses:
            print(f"skip {host}: no address ({describe(a)})")
        for address in addresses:
            behaviour = smtp.get(address, {}).get("behaviour", "no lab server")
            if behaviour != "starttls":
                print(f"skip {host} at {address}: {behaviour}")
                continue
            chain = presented_chain(address, host)
            if not chain:
                report(f"{host} at {address}: server presents a chain", ["no certificate seen"])
                continue
            hit, want_hit = matches(chain, records), host not in mismatch and (host, address) not in mismatch
            hosts_checked += 1
            report(f"{host} at {address}: TLSA {'matches' if want_hit else 'does not match'} "
                   f"the presented chain",
                   [] if bool(hit) == want_hit else
                   [f"matching records {hit or 'none'}, scenario expects "
                    f"{'a match' if want_hit else 'none'}"])
report(f"{hosts_checked} TLSA host addresses checked against their servers (want 30 or more)",
       [] if hosts_checked >= 30 else [f"only {hosts_checked}"])
done()
