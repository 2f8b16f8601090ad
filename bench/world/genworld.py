#!/usr/bin/python3
"""Generate the benchmark world: a DNSSEC-signed namespace of many mail domains on loopback.

The world is separate from the test lab (tests/lab): its own run dir (default
/tmp/danescan-bench), its own addresses (127.54.0.0/16) and its own TLD, `bench.`.

Every domain of the list is a name inside a handful of big zones (`dom123.sa0.bench.`), not a
zone of its own: signing 100,000 zones one by one would take far longer than the benchmark.
The mix (fractions of --domains; see bench/README.md, "scan"):

  provider-tlsa  40 %  signed zones sa*, MX at shared signed provider hosts with TLSA
  own-tlsa       10 %  signed zones sb*, own MX host mx.<domain> with TLSA (1 or 2 records)
  signed-notlsa  10 %  signed zones sc*, own MX host, no TLSA (secure denial)
  unsigned       35 %  unsigned zones ua*: 55 % at unsigned provider hosts, 15 % at signed
                       provider hosts with TLSA, 30 % own MX host
  cname           2 %  signed zones ca*, MX host mx.<domain> is a CNAME to a provider host
                       (half signed with TLSA, half unsigned: the outlook.com pattern)
  nxdomain        3 %  names that do not exist (in a signed zone, an unsigned zone, and
                       directly under bench.)

Providers: 8 signed provider zones prov0..7.bench. with 38 MX hosts between them, and 4
unsigned ones uprov0..3.bench. with 20; domains pick a provider with Zipf weights (1/rank),
so a few hosts serve most domains, as in real lists. Half of the signed zones use NSEC3
(RFC 9276 parameters: no salt, 0 iterations), half NSEC. Address records are loopback
(127.54.128.0/17, AAAA ::ffff:127.54.x.y): the world is for DNS-only scans.

Writes RUNDIR/dns/ (zones, keys, nsd and unbound configs; recreated), RUNDIR/domains.txt (the
list, shuffled), RUNDIR/queries.txt (dnsperf's input: the questions danescan asks for that list,
each once, in the order a scan first asks them: MX per domain; CNAME, A, AAAA and TLSA at
_25._tcp per MX host) and RUNDIR/world.json (counts, addresses, generation time). It starts
nothing: bench/world/up does that.

Usage: genworld.py --run RUNDIR [--domains 100000] [--seed 1] [--per-zone 10000]
                   [--tlsa-secure-only]
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "lab" / "dns"))
import genlab  # noqa: E402  (the lab's generator: one nsd configuration for both worlds)

# The world's address plan (bench/README.md, "scan"). 127.54.0.0/16 is used by nothing else
# in the project (the test lab is 127.53.0.0/16 and 127.25.0.0/16).
SERVERS = {"root": "127.54.0.1", "tld": "127.54.0.2", "dom": "127.54.0.3", "prov": "127.54.0.4"}
RESOLVER = "127.54.1.1"
RESOLVER_OUT = "127.54.1.2"
TLD = "bench."
TTL = 3600
VALID_FROM = -3600
VALID_FOR = 90 * 86400

MIX = [("provider-tlsa", 0.40), ("own-tlsa", 0.10), ("signed-notlsa", 0.10),
       ("unsigned", 0.35), ("cname", 0.02), ("nxdomain", 0.03)]
SIGNED_PROVIDER_HOSTS = [8, 6, 5, 5, 4, 4, 3, 3]
UNSIGNED_PROVIDER_HOSTS = [5, 5, 5, 5]


class WorldError(Exception):
    pass


class Zone:
    def __init__(self, name, signed, server, nsec3=False):
        self.name = name          # absolute, with trailing dot
        self.signed = signed
        self.server = server
        self.nsec3 = nsec3
        self.lines = []           # records, owner relative to the origin
        self.ds = None
        self.file = None

    @property
    def stem(self):
        return "root" if self.name == "." else self.name.rstrip(".")

    @property
    def ns_name(self):
        return "ns." + self.name if self.name != "." else "ns."


class Host:
    """An MX host name and what a scan asks about it."""
    def __init__(self, name, secure, alias=False):
        self.name = name          # no trailing dot
        self.secure = secure      # in a signed zone (its TLSA can be usable)
        self.alias = alias


def tlsa_hex(rng):
    return "%064x" % rng.getrandbits(256)


def build_world(n, per_zone, rng):
    counts = {}
    left = n
    for kind, frac in MIX[:-1]:
        counts[kind] = int(round(n * frac))
        left -= counts[kind]
    counts[MIX[-1][0]] = left

    zones = {}

    def zone(name, signed, server):
        z = Zone(name, signed, server, nsec3=signed and (len([x for x in zones.values() if x.signed]) % 2 == 1))
        zones[name] = z
        return z

    addr_seq = [0]

    def next_addr():
        addr_seq[0] += 1
        i = addr_seq[0]
        return f"127.54.{128 + (i >> 8) % 128}.{i & 255}"

    # Provider zones and their hosts.
    signed_providers, unsigned_providers = [], []
    for p, nhosts in enumerate(SIGNED_PROVIDER_HOSTS):
        z = zone(f"prov{p}.{TLD}", True, "prov")
        hosts = []
        for h in range(1, nhosts + 1):
            a = next_addr()
            z.lines += [f"mx{h} IN A {a}", f"mx{h} IN AAAA ::ffff:{a}",
                        f"_25._tcp.mx{h} IN TLSA 3 1 1 {tlsa_hex(rng)}"]
            if h % 3 == 1:  # a key rollover in progress: current and next key
                z.lines.append(f"_25._tcp.mx{h} IN TLSA 3 1 1 {tlsa_hex(rng)}")
            hosts.append(Host(f"mx{h}.prov{p}.bench", True))
        signed_providers.append(hosts)
    for p, nhosts in enumerate(UNSIGNED_PROVIDER_HOSTS):
        z = zone(f"uprov{p}.{TLD}", False, "prov")
        hosts = []
        for h in range(1, nhosts + 1):
            a = next_addr()
            z.lines += [f"mx{h} IN A {a}", f"mx{h} IN AAAA ::ffff:{a}"]
            hosts.append(Host(f"mx{h}.uprov{p}.bench", False))
        unsigned_providers.append(hosts)

    def pick_provider(providers):
        weights = [1.0 / (i + 1) for i in range(len(providers))]
        return rng.choices(providers, weights)[0]

    def provider_mx(providers):
        """One or two MX hosts of one provider, preferences 10 and 20."""
        hosts = pick_provider(providers)
        k = rng.randrange(len(hosts))
        chosen = [hosts[k]]
        if len(hosts) > 1 and rng.random() < 0.6:
            chosen.append(hosts[(k + 1) % len(hosts)])
        return chosen

    domains = []   # (name, [Host...]) in generation order; hosts empty for NXDOMAIN names

    def domain_zones(prefix, count, signed):
        nz = max(1, -(-count // per_zone))
        return [zone(f"{prefix}{i}.{TLD}", signed, "dom") for i in range(nz)]

    seq = [0]

    def label():
        seq[0] += 1
        return f"dom{seq[0]}"

    def spread(count, zs):
        for i in range(count):
            yield zs[i * len(zs) // max(count, 1)]

    sa = domain_zones("sa", counts["provider-tlsa"], True)
    for z in spread(counts["provider-tlsa"], sa):
        d = label()
        hosts = provider_mx(signed_providers)
        for i, h in enumerate(hosts):
            z.lines.append(f"{d} IN MX {10 * (i + 1)} {h.name}.")
        domains.append((f"{d}.{z.stem}", hosts))

    own_host = {}  # name -> Host for own hosts

    def own_mx(z, d, tlsa):
        a = next_addr()
        z.lines += [f"{d} IN MX 10 mx.{d}", f"mx.{d} IN A {a}"]
        if tlsa:
            z.lines.append(f"_25._tcp.mx.{d} IN TLSA 3 1 1 {tlsa_hex(rng)}")
            if rng.random() < 0.3:
                z.lines.append(f"_25._tcp.mx.{d} IN TLSA 2 0 1 {tlsa_hex(rng)}")
        h = Host(f"mx.{d}.{z.stem}", z.signed)
        return [h]

    sb = domain_zones("sb", counts["own-tlsa"], True)
    for z in spread(counts["own-tlsa"], sb):
        d = label()
        domains.append((f"{d}.{z.stem}", own_mx(z, d, True)))
    sc = domain_zones("sc", counts["signed-notlsa"], True)
    for z in spread(counts["signed-notlsa"], sc):
        d = label()
        domains.append((f"{d}.{z.stem}", own_mx(z, d, False)))
    ua = domain_zones("ua", counts["unsigned"], False)
    for z in spread(counts["unsigned"], ua):
        d = label()
        r = rng.random()
        if r < 0.55:
            hosts = provider_mx(unsigned_providers)
        elif r < 0.70:
            hosts = provider_mx(signed_providers)
        else:
            domains.append((f"{d}.{z.stem}", own_mx(z, d, False)))
            continue
        for i, h in enumerate(hosts):
            z.lines.append(f"{d} IN MX {10 * (i + 1)} {h.name}.")
        domains.append((f"{d}.{z.stem}", hosts))
    ca = domain_zones("ca", counts["cname"], True)
    for i, z in enumerate(spread(counts["cname"], ca)):
        d = label()
        providers = signed_providers if i % 2 == 0 else unsigned_providers
        target = pick_provider(providers)[0]
        z.lines += [f"{d} IN MX 10 mx.{d}", f"mx.{d} IN CNAME {target.name}."]
        domains.append((f"{d}.{z.stem}", [Host(f"mx.{d}.{z.stem}", True, alias=True), target]))
    # NXDOMAIN names: a third each in a signed zone, an unsigned zone, and under bench.
    for i in range(counts["nxdomain"]):
        where = (sa[i % len(sa)].stem, ua[i % len(ua)].stem, "bench")[i % 3]
        domains.append((f"nx{i + 1}.{where}", []))

    return zones, domains, counts, addr_seq[0]


def zone_text(z, children):
    lines = [f"$ORIGIN {z.name}", f"$TTL {TTL}",
             f"@ IN SOA {z.ns_name} hostmaster.{z.name.lstrip('.')} 1 3600 600 86400 {TTL}",
             f"@ IN NS {z.ns_name}", f"{z.ns_name} IN A {SERVERS[z.server]}"]
    lines += z.lines
    for c in children:
        lines += [f"{c.name} IN NS {c.ns_name}", f"{c.ns_name} IN A {SERVERS[c.server]}"]
        if c.ds:
            lines.append(c.ds)
    return "\n".join(lines) + "\n"


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise WorldError(f"{' '.join(cmd)}: {(p.stderr or p.stdout).strip()}")
    return p.stdout


def build_zone(z, children, zonedir, keydir, now):
    unsigned = zonedir / (z.stem + ".zone")
    unsigned.write_text(zone_text(z, children))
    z.file = unsigned
    if not z.signed:
        return
    # One CSK (flags 257) per zone, as in the test lab; ldns-keygen writes its DS beside it.
    key = run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", z.name], keydir).strip()
    z.ds = " ".join((keydir / (key + ".ds")).read_text().split())
    signed = zonedir / (z.stem + ".zone.signed")
    cmd = ["ldns-signzone", "-o", z.name, "-i", str(now + VALID_FROM), "-e", str(now + VALID_FOR),
           "-f", str(signed)]
    if z.nsec3:
        cmd += ["-n", "-t", "0"]
    run(cmd + [str(unsigned), str(keydir / key)], zonedir)
    z.file = signed


def nsd_conf(rundir, label, address, zones):
    # The lab's nsd configuration, with larger socket buffers for benchmark bursts.
    genlab.nsd_conf(rundir, label, address, zones,
                    extra_server_lines=("  receive-buffer-size: 4194304", "  send-buffer-size: 4194304"),
                    origin="bench/world/genworld.py")


def unbound_conf(rundir):
    d = rundir / "dns"
    conf = f"""# Generated by bench/world/genworld.py: the benchmark world's validating resolver.
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
  # One thread: on 2 cores shared with the client it is faster and steadier than two
  # (/work/shared/lab-notes.md).
  num-threads: 1
  module-config: "validator iterator"
  root-hints: "{d}/root.hints"
  trust-anchor-file: "{d}/root.ds"
  ede: yes
  # Stated, not defaulted (lab-notes.md): the figures in bench/README.md are with it on.
  qname-minimisation: yes
  aggressive-nsec: yes
  serve-expired: no
  prefetch: no
  minimal-responses: yes
  # No rate limits of unbound's own (the defaults, stated).
  ratelimit: 0
  ip-ratelimit: 0
  # Big enough that a hot pass over 100,000 domains (and the 1,000,000-name list, mostly
  # NXDOMAIN) is answered from the cache.
  msg-cache-size: 256m
  rrset-cache-size: 512m
  key-cache-size: 32m
  neg-cache-size: 64m
  # A server that timed out is probed again at once, not shunned for infra-host-ttl: the
  # world's domains share four servers (each domain stands for a zone of its own), so on the
  # internet mode a few slow domains would otherwise take every domain of their zone down with
  # them, which on the internet (one zone, its own servers) they do not. The lab does the same.
  infra-keep-probing: yes
  infra-host-ttl: 60
  outgoing-range: 8192
  num-queries-per-thread: 4096
  # Bursts of replies overflow the default 208 KB buffers (lab-notes.md); root forces more.
  so-rcvbuf: 8m
  so-sndbuf: 8m
remote-control:
  control-enable: yes
  control-interface: "{rundir}/unbound.ctl"
  control-use-cert: no
"""
    (d / "unbound.conf").write_text(conf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True, type=pathlib.Path)
    ap.add_argument("--domains", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-zone", type=int, default=10000, help="domains per big zone")
    ap.add_argument("--tlsa-secure-only", action="store_true",
                    help="queries.txt: TLSA questions only for hosts in signed zones")
    a = ap.parse_args()
    if a.domains < 100 or a.per_zone < 1:
        raise WorldError("--domains must be at least 100 and --per-zone at least 1")
    t0 = time.monotonic()
    rundir = a.run.resolve()
    d = rundir / "dns"
    rng = random.Random(a.seed)

    zones, domains, counts, naddr = build_world(a.domains, a.per_zone, rng)
    tld = Zone(TLD, True, "tld")
    root = Zone(".", True, "root")

    if d.exists():
        shutil.rmtree(d)
    (d / "zones").mkdir(parents=True)
    (d / "keys").mkdir()
    now = int(time.time())
    # Children first (the TLD needs their DS), in parallel: each is keygen + signzone.
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        # Biggest first, so that the pool's tail is short.
        order = sorted(zones.values(), key=lambda z: -len(z.lines))
        for f in [pool.submit(build_zone, z, [], d / "zones", d / "keys", now) for z in order]:
            f.result()
    t_sign = time.monotonic()
    build_zone(tld, sorted(zones.values(), key=lambda z: z.name), d / "zones", d / "keys", now)
    build_zone(root, [tld], d / "zones", d / "keys", now)

    nsd_conf(rundir, "root", SERVERS["root"], [root])
    nsd_conf(rundir, "tld", SERVERS["tld"], [tld])
    for server in ("dom", "prov"):
        nsd_conf(rundir, server, SERVERS[server],
                 sorted((z for z in zones.values() if z.server == server), key=lambda z: z.name))
    (d / "root.hints").write_text(f". {TTL} IN NS ns.\nns. {TTL} IN A {SERVERS['root']}\n")
    (d / "root.ds").write_text(root.ds + "\n")
    unbound_conf(rundir)

    # The list, shuffled (real lists do not come sorted by kind), and dnsperf's questions in
    # the order a scan of that list first asks them, each once: MX per domain; per new MX host
    # CNAME, A, AAAA, and TLSA at _25._tcp (for an alias, at both ends of the chain, as the
    # scan records both). danescan also asks the TLSA of hosts in unsigned zones, for the
    # record (queries.purpose "tlsa-insecure"); --tlsa-secure-only leaves those out.
    order = list(range(len(domains)))
    rng.shuffle(order)
    seen = set()
    qlines, list_lines = [], []
    nq = {"MX": 0, "CNAME": 0, "A": 0, "AAAA": 0, "TLSA": 0}
    for i in order:
        name, hosts = domains[i]
        list_lines.append(name)
        qlines.append(f"{name} MX")
        nq["MX"] += 1
        for h in hosts:
            if h.name in seen:
                continue
            seen.add(h.name)
            for t in ("CNAME", "A", "AAAA"):
                qlines.append(f"{h.name} {t}")
                nq[t] += 1
            if h.secure or not a.tlsa_secure_only:
                qlines.append(f"_25._tcp.{h.name} TLSA")
                nq["TLSA"] += 1
    (rundir / "domains.txt").write_text("\n".join(list_lines) + "\n")
    (rundir / "queries.txt").write_text("\n".join(qlines) + "\n")

    elapsed = time.monotonic() - t0
    info = {
        "resolver": f"{RESOLVER}:53", "resolver_out": RESOLVER_OUT, "servers": SERVERS,
        "rundir": str(rundir), "domains_file": str(rundir / "domains.txt"),
        "queries_file": str(rundir / "queries.txt"), "unbound_conf": str(d / "unbound.conf"),
        "domains": len(domains), "mix": counts, "zones": len(zones) + 2,
        "signed_zones": sum(1 for z in zones.values() if z.signed) + 2,
        "mx_hosts": len(seen), "addresses": naddr, "queries": len(qlines), "queries_by_type": nq,
        "seed": a.seed, "per_zone": a.per_zone, "generated_at": now,
        "signatures_expire": now + VALID_FOR, "generation_seconds": round(elapsed, 1),
        "signing_seconds": round(t_sign - t0, 1),
    }
    (rundir / "world.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"world: {len(domains)} domains in {len(zones) + 2} zones ({info['signed_zones']} signed), "
          f"{len(seen)} MX hosts, {len(qlines)} questions; generated in {elapsed:.1f} s")


if __name__ == "__main__":
    try:
        main()
    except WorldError as e:
        print(f"world: generation failed: {e}", file=sys.stderr)
        sys.exit(1)
