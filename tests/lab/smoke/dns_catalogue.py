#!/usr/bin/python3 -B
"""DNS smoke test: every zone of the catalogue (world.json, scenarios/*.json) and of
dns/smoke-zones.json is served and validates as its `signed` and `server` say, asked at its
apex (SOA) through the lab resolver; the names in `bogus_names` fail validation; and
domains.txt lists every scenario domain. Expectations are derived from the catalogue, so this
test follows it as it grows."""

import json

import dns.exception
import dns.name
import dns.rdatatype
import dns.zone

from _dnslab import (LAB_SRC, NOERROR, RUN, SERVFAIL, check, done, lab, query, report)

FAULTS = ("bogus", "expired", "ds-mismatch")


def catalogue_zones():
    files = [LAB_SRC / "catalogue" / "world.json",
             *sorted((LAB_SRC / "catalogue" / "scenarios").glob("*.json")),
             LAB_SRC / "dns" / "smoke-zones.json"]
    zones, domains = {}, []
    for f in files:
        if f.exists():
            obj = json.loads(f.read_text())
            if "scenarios" in f.parts:
                domains.append(obj["domain"])
            for name, z in (obj.get("zones") or {}).items():
                zones[dns.name.from_text(name)] = z
    return zones, domains


def ancestors(name, zones):
    """The lab zones above `name`, closest first."""
    out, n = [], name.parent()
    while n != dns.name.root:
        if n in zones:
            out.append((n, zones[n]))
        n = n.parent()
    return out


def why_skipped(name, zones):
    """Why a zone's own state cannot be seen (a parent decides for it), or None."""
    child = name
    for n, z in ancestors(name, zones):
        if z.get("server", "main") not in ("main", "outlook"):
            return f"below {n}, served by {z.get('server')}"
        if z.get("signed") in ("expired", "ds-mismatch"):
            return f"below {n}, signed {z.get('signed')}"
        label = child.relativize(n).to_text()
        if z.get("signed") == "bogus" and label in z.get("bogus_names", []):
            return f"its delegation in {n} is a bogus name"
        child = n
    return None


def insecure_above(name, zones):
    return any(z.get("signed", False) is False for _, z in ancestors(name, zones))


def type_at(zone, name):
    """A record type the signed zone file has at `name`, to query a bogus name by."""
    f = RUN / "dns" / "zones" / (zone.to_text().rstrip(".") + ".zone.signed")
    node = dns.zone.from_file(str(f), origin=zone, relativize=False).get_node(name)
    types = [r.rdtype for r in (node.rdatasets if node else [])
             if r.rdtype not in (dns.rdatatype.RRSIG, dns.rdatatype.NSEC)]
    return dns.rdatatype.to_text(types[0]) if types else "NSEC"


zones, domains = catalogue_zones()
skipped = []
for name in sorted(zones):
    z = zones[name]
    signed, server = z.get("signed", False), z.get("server", "main")
    what = f"{name} (signed {signed}, server {server})"
    reason = why_skipped(name, zones)
    if reason:
        skipped.append(f"{name}: {reason}")
        continue
    if server in ("refused", "servfail"):
        check(what, query(name, "SOA"), SERVFAIL, ede=[])
        continue
    if server == "dead":
        try:
            r = query(name, "SOA", timeout=1)
            check(what, r, SERVFAIL)
        except dns.exception.Timeout:
            report(what, [])
        continue
    if signed is False or insecure_above(name, zones):
        check(what, query(name, "SOA"), NOERROR, ad=False)
    elif signed in ("expired", "ds-mismatch") or "@" in z.get("bogus_names", []):
        check(what, query(name, "SOA"), SERVFAIL, ede=True)
        check(what + " with CD=1", query(name, "SOA", cd=True), NOERROR, ad=False)
    else:
        check(what, query(name, "SOA"), NOERROR, ad=True)
    if signed == "bogus" and not insecure_above(name, zones):
        for raw in z.get("bogus_names", []):
            bogus = name if raw == "@" else dns.name.from_text(raw, origin=name)
            rdtype = type_at(name, bogus)
            check(f"  bogus name {bogus} {rdtype}", query(bogus, rdtype), SERVFAIL, ede=True)
            check(f"  bogus name {bogus} {rdtype} with CD=1", query(bogus, rdtype, cd=True),
                  NOERROR, ad=False)

listed = (RUN / "domains.txt").read_text().split()
report(f"domains.txt lists the {len(domains)} scenario domains",
       [] if sorted(listed) == sorted(domains) else
       [f"domains.txt has {sorted(set(listed) ^ set(domains))} in excess or missing"])
report("lab.json names domains.txt", [] if lab().get("domains_file") == str(RUN / "domains.txt")
       else [f"domains_file is {lab().get('domains_file')}"])
for s in skipped:
    print(f"skip {s}")
done()
