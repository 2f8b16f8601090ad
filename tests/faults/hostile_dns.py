#!/usr/bin/python3
"""Fault test: a hostile resolver and a counting SMTP server on loopback (issue 11, section 5).

usage: hostile_dns.py DANESCAN CHECK-EXPORT

A fake validating resolver (every answer AD=1; UDP with TC=1 past the query's EDNS size, and
TCP) on 127.53.3.1 and a fake SMTP server on 127.53.3.2 (it counts connections, answers 554 and
closes), both on random ports, serve:
- many.hostile.test: 500 MX hosts of 1,000 A records each (127.53.3.2 first in address order,
  the rest in 127.153.0.0/16 where nothing listens), each with a usable TLSA RRset;
- shared.hostile.test: 20 MX hosts, all aliases of one pool host with the same 1,000 addresses
  and the TLSA RRset at the pool (so they share one probe per address);
- long.hostile.test: an MX host of 251 characters, so _25._tcp.<host> has 262 octets;
- loop.hostile.test: an MX host whose CNAME chain loops (SERVFAIL to its A/AAAA, as unbound);
- timeout.hostile.test / servfail.hostile.test: the MX query is never answered / SERVFAIL;
- rot.hostile.test: a TLSA RRset whose order rotates with every answer.
A scan with probes (the default limits: 10 MX hosts, 5 addresses per host, 20 probes per domain)
must stay bounded: A queries for 10 of the 500 hosts, at most 20 probe records per domain, 5
connections in all to the counting server, peak RSS under 200 MB (the unbounded scanner opened
500,000 connections and peaked at 1.18 GB), mx-limit-reached recorded; the long name is
tlsa-name-too-long / no-tlsa with no TLSA query sent; the loop is cname-loop; the timeout is
mx-timeout + mx-servfail and the SERVFAIL only mx-servfail; two scans of the rotating RRset give
the same export line. Prints 'N passed, M failed'.
"""

import ipaddress
import json
import os
import resource
import socket
import socketserver
import subprocess
import sys
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _faultlib as fl  # noqa: E402

RESOLVER_ADDR = "127.53.3.1"
SMTP_ADDR = "127.53.3.2"
HOSTS = 500
ADDRESSES = 1000
SHARED_HOSTS = 20
MAX_MX_HOSTS, MAX_PER_HOST, MAX_PER_DOMAIN = 10, 5, 20  # the documented defaults
RSS_BOUND_KB = 200 * 1024
K = ["%064x" % (i + 1) for i in range(3)]
LONG_HOST = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 41 + ".long.hostile.test"
assert len(LONG_HOST) == 251


def addresses(block):
    """1,000 addresses: the counting server's first (numerically lowest), then 127.153.block.x."""
    out = [SMTP_ADDR]
    n = 0
    while len(out) < ADDRESSES:
        out.append(str(ipaddress.IPv4Address("127.153.0.0") + block * 4096 + n))
        n += 1
    return out


class Zone:
    """name -> {rdtype: [rdata text]}, CNAMEs, and names whose questions get no answer or SERVFAIL."""

    def __init__(self):
        self.records = {}
        self.silent = set()
        self.servfail = set()  # (name, rdtype) answered SERVFAIL
        self.rotate = set()
        self.asked = []
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, name, rdtype, *rdatas):
        self.records.setdefault(name, {}).setdefault(rdtype, []).extend(rdatas)

    def answer(self, query):
        q = query.question[0]
        name = q.name.to_text().rstrip(".").lower()
        rdtype = dns.rdatatype.to_text(q.rdtype)
        with self.lock:
            self.asked.append((name, rdtype, bool(query.flags & dns.flags.CD)))
            n = self.counts[(name, rdtype)] = self.counts.get((name, rdtype), 0) + 1
        if name in self.silent:
            return None
        r = dns.message.make_response(query)
        r.flags |= dns.flags.RA
        if (name, rdtype) in self.servfail:
            r.set_rcode(dns.rcode.SERVFAIL)
            return r
        r.flags |= dns.flags.AD
        owner = name
        for _ in range(8):  # in-zone CNAME chains, as a resolver returns them
            node = self.records.get(owner)
            if node is None:
                break
            if rdtype != "CNAME" and "CNAME" in node:
                target = node["CNAME"][0]
                r.answer.append(dns.rrset.from_text(owner + ".", 3600, "IN", "CNAME", target + "."))
                owner = target
                continue
            rdatas = list(node.get(rdtype, []))
            if name in self.rotate and rdatas:
                k = n % len(rdatas)
                rdatas = rdatas[k:] + rdatas[:k]
            if rdatas:
                rr = dns.rrset.from_text_list(owner + ".", 3600, "IN", rdtype,
                                              [d + "." if rdtype in ("MX", "CNAME") else d for d in rdatas])
                r.answer.append(rr)
            break
        else:
            r.set_rcode(dns.rcode.SERVFAIL)
        if not self.records.get(name) and not r.answer:
            r.set_rcode(dns.rcode.NXDOMAIN)
        return r


def build_zone():
    z = Zone()
    tlsa = ["3 1 1 " + K[0], "3 1 1 " + K[1]]
    for i in range(HOSTS):
        host = f"h{i:03d}.many.hostile.test"
        z.add("many.hostile.test", "MX", f"{10 + i} {host}")
        z.add(host, "A", *addresses(i))
        z.add("_25._tcp." + host, "TLSA", *tlsa)
    for i in range(SHARED_HOSTS):
        host = f"mx{i:02d}.shared.hostile.test"
        z.add("shared.hostile.test", "MX", f"{10 + i} {host}")
        z.add(host, "CNAME", "pool.shared.hostile.test")
    z.add("pool.shared.hostile.test", "A", *addresses(HOSTS + 1))
    z.add("_25._tcp.pool.shared.hostile.test", "TLSA", *tlsa)
    z.add("long.hostile.test", "MX", "10 " + LONG_HOST)
    z.add(LONG_HOST, "A", "127.153.250.1")
    z.add("loop.hostile.test", "MX", "10 mx.loop.hostile.test")
    z.add("mx.loop.hostile.test", "CNAME", "loop.loop.hostile.test")
    z.add("loop.loop.hostile.test", "CNAME", "mx.loop.hostile.test")
    for t in ("A", "AAAA"):
        z.servfail.add(("mx.loop.hostile.test", t))
    z.silent.add("timeout.hostile.test")
    z.add("servfail.hostile.test", "MX", "10 mx.servfail.hostile.test")
    z.servfail.add(("servfail.hostile.test", "MX"))
    z.add("rot.hostile.test", "MX", "10 mx.rot.hostile.test")
    z.add("mx.rot.hostile.test", "A", "127.153.250.2")
    z.add("_25._tcp.mx.rot.hostile.test", "TLSA", "3 1 1 " + K[2], "3 1 1 " + K[0], "2 1 1 " + K[1])
    z.rotate.add("_25._tcp.mx.rot.hostile.test")
    return z


def serve_dns(zone):
    """UDP and TCP on RESOLVER_ADDR, one port for both. Returns the port."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        udp.bind((RESOLVER_ADDR, 0))
        port = udp.getsockname()[1]
        try:
            tcp = socketserver.ThreadingTCPServer((RESOLVER_ADDR, port), TcpHandler)
            break
        except OSError:
            udp.close()
    else:
        sys.exit("no free port on " + RESOLVER_ADDR)
    tcp.daemon_threads = True
    tcp.zone = zone

    def udp_loop():
        while True:
            data, peer = udp.recvfrom(65535)
            try:
                query = dns.message.from_wire(data)
            except Exception:
                continue
            r = zone.answer(query)
            if r is None:
                continue
            limit = query.payload if query.edns >= 0 else 512
            wire = r.to_wire(max_size=65535)
            if len(wire) > limit:
                t = dns.message.make_response(query)
                t.flags |= dns.flags.TC | dns.flags.RA
                wire = t.to_wire()
            udp.sendto(wire, peer)

    threading.Thread(target=udp_loop, daemon=True).start()
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    return port


class TcpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        while True:
            head = self._read(2)
            if not head:
                return
            data = self._read(int.from_bytes(head, "big"))
            if data is None:
                return
            r = self.server.zone.answer(dns.message.from_wire(data))
            if r is None:
                continue
            wire = r.to_wire(max_size=65535)
            sock.sendall(len(wire).to_bytes(2, "big") + wire)

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf


def serve_smtp():
    """Counts connections on SMTP_ADDR (random port), answers 554 and closes. (port, counter)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((SMTP_ADDR, 0))
    srv.listen(128)
    count = [0]

    def loop():
        while True:
            conn, _ = srv.accept()
            count[0] += 1
            try:
                conn.sendall(b"554 hostile.test no service\r\n")
            except OSError:
                pass
            conn.close()

    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1], count


def main():
    danescan, checker = fl.args()
    c = fl.Checks()
    work = fl.Work("hostile")
    zone = build_zone()
    dns_port = serve_dns(zone)
    smtp_port, connections = serve_smtp()
    domains = ["many.hostile.test", "shared.hostile.test", "long.hostile.test", "loop.hostile.test",
               "timeout.hostile.test", "servfail.hostile.test", "rot.hostile.test"]
    common = ["--resolver", f"{RESOLVER_ADDR}:{dns_port}", "--allow-special-addresses", "--smtp-port", str(smtp_port),
              "--timeout", "1000", "--attempts", "2", "--connect-timeout", "2000", "--quiet"]
    db = work.path("scan.sqlite")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([danescan, "scan", work.write_list("list.txt", domains), "--db", db, *common],
                          capture_output=True, text=True, timeout=300)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    c.check("scan exits 0", proc.returncode == 0, proc.stderr[-2000:])
    c.check(f"peak RSS under {RSS_BOUND_KB // 1024} MB", peak_kb < RSS_BOUND_KB and peak_kb >= before,
            f"{peak_kb // 1024} MB")
    print(f"     peak RSS {peak_kb // 1024} MB, {connections[0]} SMTP connections", flush=True)
    recorded = json.loads(fl.db_query(db, "SELECT options FROM runs")[0][0])
    c.check("the limits are recorded with the run",
            (recorded.get("max_mx_hosts"), recorded.get("max_addresses_per_host"), recorded.get("max_probes_per_domain"))
            == (MAX_MX_HOSTS, MAX_PER_HOST, MAX_PER_DOMAIN), recorded)
    out = work.path("export.jsonl")
    fl.export(danescan, db, out)
    lines = {json.loads(line)["domain"]: line for line in open(out)}
    got = {d: json.loads(line) for d, line in lines.items()}
    c.check("one export line per domain", sorted(got) == sorted(domains), sorted(got))
    # Not --strict: the delivery object and some causes come from other parts of issue 11. One
    # known disagreement: the checker refuses no-tlsa with tlsa_rcode null, which the contract's
    # tlsa-name-too-long asks for ("no lookup failed"; tlsa_rcode is null when none was made).
    checked = subprocess.run([checker, out], capture_output=True, text=True)
    known = "(long.hostile.test) mx[0]: state 'no-tlsa' but no TLSA lookup is recorded"
    errors = [ln for ln in (checked.stdout + checked.stderr).splitlines() if ln.startswith("error:") and known not in ln]
    c.check("check-export: no error but the known one", not errors,
            errors[:10])

    many = got.get("many.hostile.test", {"mx": [], "findings": []})
    c.check("many: 10 MX hosts kept, most preferred first",
            [h["host"] for h in many["mx"]] == [f"h{i:03d}.many.hostile.test" for i in range(MAX_MX_HOSTS)],
            [h["host"] for h in many["mx"]][:12])
    c.check("many: mx-limit-reached", "mx-limit-reached" in many["findings"], many["findings"])
    asked_a = {n for n, t, _ in zone.asked if t == "A" and n.endswith(".many.hostile.test")}
    c.check("many: A queries for 10 of the 500 hosts only", len(asked_a) == MAX_MX_HOSTS, len(asked_a))
    c.check("many: every address of a looked-up host recorded", all(len(h["addresses"]) == ADDRESSES for h in many["mx"]),
            [len(h["addresses"]) for h in many["mx"]])
    probes = [len(h["probes"]) for h in many["mx"]]
    c.check("many: 5 probes per host for 4 hosts, then the domain's budget of 20 is spent",
            probes == [MAX_PER_HOST] * 4 + [0] * 6, probes)
    c.check("many: hosts past the budget stay unprobed", [h["dane"] for h in many["mx"][4:]] == ["unprobed"] * 6,
            [h["dane"] for h in many["mx"]])
    c.check("many: probes in address order, the counting server first",
            all(h["probes"][0]["address"] == SMTP_ADDR for h in many["mx"][:4]))

    shared = got.get("shared.hostile.test", {"mx": [], "findings": []})
    c.check("shared: 10 of 20 aliases kept", len(shared["mx"]) == MAX_MX_HOSTS and "mx-limit-reached" in shared["findings"],
            (len(shared["mx"]), shared["findings"]))
    c.check("shared: every kept alias has the shared pool's 5 probes",
            [len(h["probes"]) for h in shared["mx"]] == [MAX_PER_HOST] * MAX_MX_HOSTS, [len(h["probes"]) for h in shared["mx"]])
    # many: 4 hosts (TLSA base each its own) reach the counting server; shared: one probe per
    # (address, TLSA base, RRset) for all its aliases, so once.
    c.check("5 connections in all to the counting server", connections[0] == 4 + 1, connections[0])

    long = got.get("long.hostile.test", {"mx": [{}], "findings": [], "verdict": None})
    host = long["mx"][0] if long["mx"] else {}
    c.check("long: no-tlsa, tlsa_rcode null", host.get("dane") == "no-tlsa" and host.get("tlsa_rcode") is None,
            {k: host.get(k) for k in ("dane", "tlsa_rcode", "tlsa_base")})
    c.check("long: tlsa-name-too-long, dnssec-no-tlsa", long["findings"] == ["tlsa-name-too-long"]
            and long["verdict"] == "dnssec-no-tlsa", (long["verdict"], long["findings"]))
    c.check("long: no TLSA question reached the resolver",
            not any(t == "TLSA" and "long.hostile.test" in n for n, t, _ in zone.asked))

    loop = got.get("loop.hostile.test", {"mx": [{}], "findings": []})
    c.check("loop: cname-loop, lookup-error", "cname-loop" in loop["findings"] and loop["mx"][0].get("dane") == "lookup-error",
            (loop["findings"], loop["mx"][0].get("dane")))
    follow = [n for n, t, _ in zone.asked if t == "CNAME" and n.endswith("loop.hostile.test")]
    c.check("loop: the chain was followed a bounded way", 1 < len(follow) <= 20, follow)

    timeout = got.get("timeout.hostile.test", {"findings": []})
    c.check("timeout: TIMEOUT, mx-servfail + mx-timeout", timeout.get("mx_rcode") == "TIMEOUT"
            and timeout["findings"] == ["mx-servfail", "mx-timeout"], (timeout.get("mx_rcode"), timeout["findings"]))
    servfail = got.get("servfail.hostile.test", {"findings": []})
    c.check("servfail: mx-servfail without mx-timeout", servfail.get("mx_rcode") == "SERVFAIL"
            and servfail["findings"] == ["mx-servfail"], (servfail.get("mx_rcode"), servfail["findings"]))

    # The rotating RRset: a second scan sees another order, and gives the same line.
    db2 = work.path("rot.sqlite")
    proc = subprocess.run([danescan, "scan", work.write_list("rot.txt", ["rot.hostile.test"]), "--db", db2, *common],
                          capture_output=True, text=True, timeout=120)
    out2 = work.path("rot.jsonl")
    fl.export(danescan, db2, out2)
    second = open(out2).read().strip()
    c.check("rot: the resolver answered in two orders", zone.counts.get(("_25._tcp.mx.rot.hostile.test", "TLSA"), 0) >= 2)
    c.check("rot: identical data, identical export line", second == lines.get("rot.hostile.test", "").strip(),
            (second[:300], lines.get("rot.hostile.test", "")[:300]))
    rot_tlsa = json.loads(second)["mx"][0]["tlsa"] if second else []
    c.check("rot: tlsa sorted", rot_tlsa == sorted(rot_tlsa) and len(rot_tlsa) == 3, rot_tlsa)
    work.close()
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
