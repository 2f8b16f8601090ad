#!/usr/bin/python3
"""Generate the lab's DNS world from the scenario catalogue.

Owns: reading the zones of catalogue/world.json, catalogue/scenarios/*.json and
dns/smoke-zones.json; building the root zone `.` and the TLD `test.` with a delegation
(NS, glue, DS when signed) for every lab zone from its closest enclosing zone; keys
(ldns-keygen, one ECDSAP256SHA256 CSK per zone), signing (ldns-signzone) and the signing
faults ("bogus", "expired", "ds-mismatch"); the nsd, unbound and misbehaver configurations;
RUNDIR/lab.json and RUNDIR/domains.txt. It starts nothing: tests/lab/up does that.

Usage: genlab.py --lab-src tests/lab --catalogue tests/lab/catalogue --run RUNDIR
Everything is written below RUNDIR/dns (recreated on every run) plus the two files above.
Errors name the catalogue file they come from and end the program with status 1.
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.zone

# The lab's address plan (tests/lab/README.md, "Addresses").
SERVERS = {
    "root": "127.53.0.1",
    "tld": "127.53.0.2",
    "main": "127.53.0.3",
    "outlook": "127.53.0.4",
    "dead": "127.53.0.5",
    "refused": "127.53.0.6",
    "servfail": "127.53.0.7",
}
RESOLVER = "127.53.1.1"
RESOLVER_OUT = "127.53.1.2"
CATALOGUE_SERVERS = {"main", "outlook", "refused", "servfail", "dead"}
SIGNED_VALUES = (True, False, "bogus", "expired", "ds-mismatch")
TTL = 3600
# Valid signatures: an hour of slack for clocks, long enough for any lab session.
VALID_FROM = -3600
VALID_FOR = 90 * 86400
# "expired": the records' signatures have a validity window wholly in the past.
EXPIRED_WINDOW = ("20200101000000", "20200201000000")


class LabError(Exception):
    pass


class Zone:
    def __init__(self, name, signed, server, records, bogus_names, source):
        self.name = name            # absolute, lower case, with trailing dot ("." for the root)
        self.signed = signed
        self.server = server
        self.records = records      # zone-file lines relative to the origin
        self.bogus_names = bogus_names
        self.source = source        # where it was defined, for error messages
        self.parent = None
        self.children = []
        self.ds = []                # DS lines (absolute owner) for the parent, filled when signed
        self.file = None            # the zone file nsd or the misbehaver serves

    @property
    def is_signed(self):
        return self.signed is not False

    @property
    def ns_name(self):
        return "ns." + self.name if self.name != "." else "ns."

    @property
    def file_stem(self):
        return "root" if self.name == "." else self.name.rstrip(".")


def canonical(name):
    return dns.name.from_text(name).to_text().lower()


def load_zones(obj, source, zones):
    """Add the `zones` object of one catalogue file to `zones`, checking the format."""
    for raw_name, z in (obj.get("zones") or {}).items():
        where = f"{source}: zone {raw_name!r}"
        try:
            name = canonical(raw_name)
        except dns.exception.DNSException as e:
            raise LabError(f"{where}: bad zone name: {e}")
        if not name.endswith(".test.") or name == "test.":
            raise LabError(f"{where}: lab zones must be below test.")
        if name in zones:
            raise LabError(f"{where}: already defined in {zones[name].source}")
        signed = z.get("signed", False)
        if not (isinstance(signed, bool) or signed in SIGNED_VALUES[2:]):
            raise LabError(f"{where}: signed must be one of {SIGNED_VALUES}, not {signed!r}")
        server = z.get("server", "main")
        if server not in CATALOGUE_SERVERS:
            raise LabError(f"{where}: server must be one of {sorted(CATALOGUE_SERVERS)}")
        records = z.get("records", [])
        if not isinstance(records, list) or not all(isinstance(r, str) for r in records):
            raise LabError(f"{where}: records must be a list of strings")
        if any(r.split()[:1] in (["ns"], ["ns." + name]) for r in records):
            raise LabError(f"{where}: the owner ns is the lab's name server name (NS ns.{name})")
        bogus = z.get("bogus_names", [])
        if (signed == "bogus") != bool(bogus):
            raise LabError(f"{where}: bogus_names is required with, and only with, signed \"bogus\"")
        zones[name] = Zone(name, signed, server, records, bogus, source)


def read_catalogue(catalogue, smoke_file):
    """Return (zones by name, scenario domains)."""
    zones, domains = {}, []
    world_file = catalogue / "world.json"
    if world_file.exists():
        load_zones(read_json(world_file), world_file, zones)
    for f in sorted((catalogue / "scenarios").glob("*.json")):
        s = read_json(f)
        if not isinstance(s.get("domain"), str):
            raise LabError(f"{f}: no \"domain\"")
        domains.append(s["domain"])
        load_zones(s, f, zones)
    if smoke_file.exists():
        load_zones(read_json(smoke_file), smoke_file, zones)
    return zones, domains


def read_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise LabError(f"{path}: {e}")


def link_tree(zones):
    """Give each zone its parent: the closest enclosing lab zone (at worst `test.`)."""
    for z in zones.values():
        if z.name == ".":
            continue
        n = dns.name.from_text(z.name).parent()
        while n.to_text().lower() not in zones:
            n = n.parent()
        z.parent = zones[n.to_text().lower()]
        z.parent.children.append(z)
    for z in zones.values():
        # Our NS host name ns.<zone> lives in the zone itself; a child zone of that name would
        # occlude it.
        if z.parent and z.name == z.parent.ns_name:
            raise LabError(f"{z.source}: zone {z.name} clashes with the lab's name server "
                           f"name for {z.parent.name}")


def expand_placeholders(zones, lab_src, rundir):
    """Replace {cert:NAME:S:M} in every record through certs.py, in one batch."""
    todo = [z for z in zones.values() if any("{cert:" in r for r in z.records)]
    if not todo:
        return
    certs_py = lab_src / "tls" / "certs.py"
    if not certs_py.exists():
        raise LabError(f"records use {{cert:...}} placeholders but {certs_py} is missing")
    marker = ";;@@genlab-zone "
    text = "".join(marker + z.name + "\n" + "".join(r + "\n" for r in z.records) for z in todo)
    p = subprocess.run(["/usr/bin/python3", str(certs_py), "expand", str(rundir)],
                       input=text, capture_output=True, text=True)
    if p.returncode != 0:
        raise LabError(f"certs.py expand failed: {p.stderr.strip()}")
    current = None
    for z in todo:
        z.records = []
    for line in p.stdout.splitlines():
        if line.startswith(marker):
            current = zones[line[len(marker):]]
        elif current is not None:
            current.records.append(line)


def zone_text(z, records=None):
    """The unsigned zone file: SOA and NS added by the lab, the catalogue's records, then a
    delegation (NS + glue + DS) per child zone."""
    lines = [
        f"$ORIGIN {z.name}",
        f"$TTL {TTL}",
        f"@ IN SOA {z.ns_name} hostmaster.{z.name.lstrip('.')} 1 3600 600 86400 {TTL}",
        f"@ IN NS {z.ns_name}",
        f"{z.ns_name} IN A {SERVERS[z.server]}",
    ]
    lines += [f"; from {z.source}"] + (z.records if records is None else records)
    for c in sorted(z.children, key=lambda c: c.name):
        lines.append(f"; delegation of {c.name} ({c.server}, signed: {c.signed})")
        lines.append(f"{c.name} IN NS {c.ns_name}")
        lines.append(f"{c.ns_name} IN A {SERVERS[c.server]}")
        lines += c.ds
    return "\n".join(lines) + "\n"


def culprit(z):
    """The first catalogue record after which the zone stops parsing, for the error message."""
    for i, record in enumerate(z.records):
        try:
            dns.zone.from_text(zone_text(z, z.records[:i + 1]), origin=z.name)
        except Exception:
            return f" at record {record!r}"
    return ""


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise LabError(f"{' '.join(cmd)}: {(p.stderr or p.stdout).strip()}")
    return p.stdout


def keygen(z, keydir):
    """One CSK (flags 257) signs everything: ldns-signzone uses a lone KSK as ZSK too.
    ldns-keygen also writes the key's DS (SHA-256) beside it."""
    base = run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", z.name], keydir).strip()
    ds = (keydir / (base + ".ds")).read_text().split()
    return base, " ".join(ds)


def build_zone(z, zonedir, keydir):
    """Write, check, and (if signed) sign one zone; set z.file and z.ds."""
    text = zone_text(z)
    try:
        dns.zone.from_text(text, origin=z.name, relativize=False, check_origin=True)
    except Exception as e:  # dnspython raises several unrelated types for bad input
        raise LabError(f"{z.source}: zone {z.name} does not parse: {e}{culprit(z)}")
    unsigned = zonedir / (z.file_stem + ".zone")
    unsigned.write_text(text)
    z.file = unsigned
    if not z.is_signed:
        return
    key, ds = keygen(z, keydir)
    if z.signed == "ds-mismatch":
        # The parent publishes the DS of a key that never appears in the zone. (unbound 1.17
        # reports EDE 6, "no keys have a DS with algorithm ...", not 9, which is for a zone
        # without any DNSKEY.)
        _, ds = keygen(z, keydir / "unused")
    z.ds = [ds]
    now = int(time.time())
    signed = zonedir / (z.file_stem + ".zone.signed")
    sign(z, unsigned, signed, keydir / key, str(now + VALID_FROM), str(now + VALID_FOR))
    if z.signed == "expired":
        expire_signatures(z, unsigned, signed, keydir / key)
    if z.signed == "bogus":
        corrupt_signatures(z, signed)
    z.file = signed


def sign(z, unsigned, signed, key, inception, expiration):
    run(["ldns-signzone", "-o", z.name, "-i", inception, "-e", expiration,
         "-f", str(signed), str(unsigned), str(key)], signed.parent)


def expire_signatures(z, unsigned, signed, key):
    """Re-sign with signatures that expired in the past, but keep the valid signature of
    the DNSKEY RRset: the chain of trust holds and the resolver sees the records'
    signatures expire (unbound: EDE 7, "signature expired"), rather than a broken key set
    (EDE 6, like every other fault)."""
    valid = dns.zone.from_file(str(signed), origin=z.name, relativize=False)
    old = signed.with_suffix(".expired")
    sign(z, unsigned, old, key, *EXPIRED_WINDOW)
    zone = dns.zone.from_file(str(old), origin=z.name, relativize=False)
    apex = dns.name.from_text(z.name)
    zone.replace_rdataset(apex, valid.find_rdataset(apex, dns.rdatatype.RRSIG,
                                                    dns.rdatatype.DNSKEY))
    zone.to_file(str(signed), relativize=False)
    old.unlink()


def corrupt_signatures(z, path):
    """Flip the first byte of every RRSIG at the bogus names: the records still parse, the
    signatures no longer verify (unbound: EDE 6)."""
    zone = dns.zone.from_file(str(path), origin=z.name, relativize=False)
    origin = dns.name.from_text(z.name)
    for raw in z.bogus_names:
        name = origin if raw == "@" else dns.name.from_text(raw, origin=origin)
        node = zone.get_node(name)
        # One RRSIG rdataset per covered type (the records', the NSEC's).
        sigsets = [rds for rds in (node.rdatasets if node else []) if rds.rdtype == dns.rdatatype.RRSIG]
        if not sigsets:
            raise LabError(f"{z.source}: bogus name {raw!r} has no signatures in {z.name}")
        for rds in sigsets:
            bad = [r.replace(signature=bytes([r.signature[0] ^ 0xFF]) + r.signature[1:])
                   for r in rds]
            rds.clear()
            for r in bad:
                rds.add(r)
    zone.to_file(str(path), relativize=False)


def build_all(zones, zonedir, keydir):
    """Children before parents (a parent needs its children's DS); zones of one depth in
    parallel, since each is ldns-keygen + ldns-signzone."""
    by_depth = {}
    for z in zones.values():
        by_depth.setdefault(len(dns.name.from_text(z.name)), []).append(z)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for depth in sorted(by_depth, reverse=True):
            for f in [pool.submit(build_zone, z, zonedir, keydir) for z in by_depth[depth]]:
                f.result()


def nsd_conf(rundir, label, address, zones, extra_server_lines=(), origin="tests/lab/dns/genlab.py"):
    """One nsd per address; bench/world/genworld.py uses it too, with socket-buffer extras."""
    d = rundir / "dns"
    lines = [
        f"# Generated by {origin}; one nsd per address.",
        "server:",
        f"  ip-address: {address}",
        "  port: 53",
        "  do-ip6: no",
        '  username: ""',          # stay root: the run dir belongs to root
        '  chroot: ""',
        '  database: ""',          # read zone files directly, no nsd.db (fast start)
        f'  zonesdir: "{d}/zones"',
        f'  pidfile: "{rundir}/nsd-{label}.pid"',
        f'  logfile: "{rundir}/nsd-{label}.log"',
        f'  xfrdfile: "{d}/nsd-{label}.xfrd.state"',
        f'  zonelistfile: "{d}/nsd-{label}.zone.list"',
        f'  xfrdir: "{d}"',
        "  server-count: 1",
        "  verbosity: 1",
        "  hide-version: yes",
        # Debian builds nsd with rate limiting on: 200 answers/s per /24 would throttle scans.
        "  rrl-ratelimit: 0",
        "  rrl-whitelist-ratelimit: 0",
        *extra_server_lines,
        "remote-control:",
        "  control-enable: no",
    ]
    for z in zones:
        lines += ["zone:", f'  name: "{z.name}"', f'  zonefile: "{z.file.name}"']
    (d / f"nsd-{label}.conf").write_text("\n".join(lines) + "\n")


def unbound_conf(rundir):
    d = rundir / "dns"
    conf = f"""# Generated by tests/lab/dns/genlab.py: the lab's validating resolver.
server:
  interface: {RESOLVER}
  port: 53
  outgoing-interface: {RESOLVER_OUT}
  do-ip6: no
  # unbound refuses to send queries to 127.0.0.0/8 unless told otherwise.
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: "{rundir}/unbound.pid"
  logfile: "{rundir}/unbound.log"
  use-syslog: no
  verbosity: 1
  num-threads: 1
  # Debian's build would otherwise load the EDNS client-subnet cache module too.
  module-config: "validator iterator"
  root-hints: "{d}/root.hints"
  # The lab root's DS; a static anchor (auto-trust-anchor-file would want RFC 5011 state).
  trust-anchor-file: "{d}/root.ds"
  # test. is one of unbound's default local zones (RFC 6761); here it is a real signed TLD.
  local-zone: "test." nodefault
  val-log-level: 2
  ede: yes
  # Stated, not defaulted, so that a benchmark can say what it measured (lab-notes.md).
  qname-minimisation: yes
  aggressive-nsec: yes
  serve-expired: no
  prefetch: no
  # Host-cache entries (RTT, EDNS lameness, "down") live 60 s rather than 15 min, and a
  # down server keeps being probed: a dead lab address or a NOTIMP answer does not linger.
  infra-host-ttl: 60
  infra-keep-probing: yes
  msg-cache-size: 64m
  rrset-cache-size: 128m
  key-cache-size: 16m
  neg-cache-size: 16m
  outgoing-range: 8192
  num-queries-per-thread: 4096
  # Bursts of replies overflow the default 208 KB buffers (lab-notes.md); root may force more.
  so-rcvbuf: 4m
  so-sndbuf: 4m
remote-control:
  control-enable: yes
  control-interface: "{rundir}/unbound.ctl"
  control-use-cert: no
"""
    (d / "unbound.conf").write_text(conf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lab-src", required=True, type=pathlib.Path)
    ap.add_argument("--catalogue", required=True, type=pathlib.Path)
    ap.add_argument("--run", required=True, type=pathlib.Path)
    a = ap.parse_args()
    rundir = a.run.resolve()
    d = rundir / "dns"

    zones, domains = read_catalogue(a.catalogue, a.lab_src / "dns" / "smoke-zones.json")
    catalogue_zones = len(zones)
    zones["test."] = Zone("test.", True, "tld", [], [], "the lab (TLD)")
    zones["."] = Zone(".", True, "root", [], [], "the lab (root)")
    link_tree(zones)
    expand_placeholders(zones, a.lab_src, rundir)

    if d.exists():
        shutil.rmtree(d)
    (d / "zones").mkdir(parents=True)
    (d / "keys" / "unused").mkdir(parents=True)
    build_all(zones, d / "zones", d / "keys")

    nsd_conf(rundir, "root", SERVERS["root"], [zones["."]])
    nsd_conf(rundir, "tld", SERVERS["tld"], [zones["test."]])
    nsd_conf(rundir, "main", SERVERS["main"],
             sorted((z for z in zones.values() if z.server == "main"), key=lambda z: z.name))
    misbehave = {
        SERVERS["outlook"]: {"mode": "outlook", "zones": {
            z.name: str(z.file) for z in zones.values() if z.server == "outlook"}},
        SERVERS["refused"]: {"mode": "refused"},
        SERVERS["servfail"]: {"mode": "servfail"},
    }
    (d / "misbehave.json").write_text(json.dumps(misbehave, indent=2) + "\n")

    root = zones["."]
    (d / "root.hints").write_text(f". {TTL} IN NS {root.ns_name}\n"
                                  f"{root.ns_name} {TTL} IN A {SERVERS['root']}\n")
    (d / "root.ds").write_text("\n".join(root.ds) + "\n")
    unbound_conf(rundir)

    (rundir / "domains.txt").write_text("".join(x + "\n" for x in domains))
    lab = {"resolver": f"{RESOLVER}:53", "rundir": str(rundir),
           "domains_file": str(rundir / "domains.txt"),
           "unbound_conf": str(d / "unbound.conf")}
    (rundir / "lab.json").write_text(json.dumps(lab, indent=2) + "\n")

    signed = sum(1 for z in zones.values() if z.is_signed)
    faults = sum(1 for z in zones.values() if z.signed in ("bogus", "expired", "ds-mismatch"))
    print(f"lab: {catalogue_zones} lab zones + root + test. ({signed} signed, "
          f"{faults} with a signing fault), {len(domains)} scenarios")


if __name__ == "__main__":
    try:
        main()
    except LabError as e:
        print(f"lab: zone generation failed: {e}", file=sys.stderr)
        sys.exit(1)
