#!/usr/bin/python3
"""The lab's misbehaving authoritative DNS servers, one process for all their addresses.

Modes (per address, from RUNDIR/dns/misbehave.json written by genlab.py):
  outlook   answers from its zone files like an authoritative server, except NOTIMP to
            every CNAME query and SERVFAIL to every TLSA query: what the name servers of
            *.mail.protection.outlook.com do, and what breaks RFC 7672 2.2.3 alias handling
            in resolvers that send an explicit CNAME query.
  refused   REFUSED to every query.
  servfail  SERVFAIL to every query.
UDP and TCP on port 53. The zone logic is deliberately small: exact names, in-zone CNAME
chains, NODATA (also for empty non-terminals) and NXDOMAIN, with RRSIGs and NSEC proofs when
the query has DO and the zone file is signed. No wildcards, no delegations below the zone.

Usage: misbehave.py --config RUNDIR/dns/misbehave.json   (foreground; SIGTERM ends it)
"""

import argparse
import bisect
import json
import signal
import socket
import socketserver
import struct
import sys
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

IN = dns.rdataclass.IN
RRSIG = dns.rdatatype.RRSIG


class Zone:
    def __init__(self, origin, path):
        self.origin = dns.name.from_text(origin)
        self.zone = dns.zone.from_file(path, origin=self.origin, relativize=False)
        # dns.name ordering is DNSSEC canonical order (RFC 4034 6.1): NSEC lookups bisect it.
        self.names = sorted(self.zone.nodes)

    def rrsets(self, name, rdtype, dnssec):
        """The RRset name/rdtype and, with DO, its signatures; [] when absent."""
        node = self.zone.get_node(name)
        rds = node and node.get_rdataset(IN, rdtype)
        if not rds:
            return []
        out = [dns.rrset.from_rdata_list(name, rds.ttl, list(rds))]
        sigs = dnssec and node.get_rdataset(IN, RRSIG, rdtype)
        if sigs:
            out.append(dns.rrset.from_rdata_list(name, sigs.ttl, list(sigs)))
        return out

    def covering_nsec(self, name, dnssec):
        """The NSEC whose owner precedes `name` in canonical order (it covers `name`)."""
        i = bisect.bisect_left(self.names, name)
        return self.rrsets(self.names[i - 1], dns.rdatatype.NSEC, dnssec) if i else []

    def answer(self, r, qname, qtype, dnssec):
        """Fill response r for a query inside this zone."""
        r.flags |= dns.flags.AA
        for _ in range(8):  # follow in-zone CNAMEs, as an authoritative server does
            node = self.zone.get_node(qname)
            if node is None:
                break
            found = self.rrsets(qname, qtype, dnssec)
            if found:
                r.answer += found
                return
            cname = self.rrsets(qname, dns.rdatatype.CNAME, dnssec)
            if not cname:
                break
            r.answer += cname
            qname = cname[0][0].target
            if not qname.is_subdomain(self.origin):
                return
        r.authority += self.rrsets(self.origin, dns.rdatatype.SOA, dnssec)
        if self.zone.get_node(qname) is not None:  # NODATA: the name's own NSEC
            r.authority += self.rrsets(qname, dns.rdatatype.NSEC, dnssec)
            return
        i = bisect.bisect_left(self.names, qname)
        if i < len(self.names) and self.names[i].is_subdomain(qname):
            # Empty non-terminal: NODATA, proven by the NSEC that covers it.
            r.authority += self.covering_nsec(qname, dnssec)
            return
        r.set_rcode(dns.rcode.NXDOMAIN)
        if dnssec:
            # RFC 4035 3.1.3.2: the name does not exist, nor does the wildcard at the apex.
            r.authority += self.covering_nsec(qname, dnssec)
            wildcard = dns.name.from_text("*", origin=self.origin)
            for rrset in self.covering_nsec(wildcard, dnssec):
                if rrset not in r.authority:
                    r.authority.append(rrset)


class Server:
    def __init__(self, mode, zones):
        self.mode = mode
        self.zones = [Zone(name, path) for name, path in (zones or {}).items()]

    def respond(self, wire):
        """Return (reply, the client's UDP size limit), or (None, 0) to stay silent."""
        try:
            q = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None, 0
        if q.flags & dns.flags.QR or len(q.question) != 1:
            return None, 0
        r = dns.message.make_response(q)
        limit = 512
        if q.edns >= 0:
            r.use_edns(0, q.ednsflags & dns.flags.DO, 1232)
            limit = min(max(512, q.payload), 1232)
        qname, qtype = q.question[0].name, q.question[0].rdtype
        if self.mode == "refused":
            r.set_rcode(dns.rcode.REFUSED)
        elif self.mode == "servfail":
            r.set_rcode(dns.rcode.SERVFAIL)
        elif qtype == dns.rdatatype.CNAME:
            r.set_rcode(dns.rcode.NOTIMP)
        elif qtype == dns.rdatatype.TLSA:
            r.set_rcode(dns.rcode.SERVFAIL)
        else:
            zone = max((z for z in self.zones if qname.is_subdomain(z.origin)),
                       key=lambda z: len(z.origin), default=None)
            if zone is None:
                r.set_rcode(dns.rcode.REFUSED)
            else:
                zone.answer(r, qname, qtype, bool(q.ednsflags & dns.flags.DO))
        return r, limit


def to_wire(r, limit):
    """Encode; over `limit` bytes, an empty truncated reply (TC) sends the client to TCP."""
    try:
        return r.to_wire(max_size=limit)
    except dns.exception.TooBig:
        r.answer, r.authority, r.additional = [], [], []
        r.flags |= dns.flags.TC
        return r.to_wire(max_size=limit)


def serve(address, server):
    class Udp(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            r, limit = server.respond(data)
            if r is not None:
                sock.sendto(to_wire(r, limit), self.client_address)

    class Tcp(socketserver.StreamRequestHandler):
        timeout = 10

        def handle(self):
            try:
                while True:
                    head = self.rfile.read(2)
                    if len(head) < 2:
                        return
                    data = self.rfile.read(struct.unpack("!H", head)[0])
                    r, _ = server.respond(data)
                    if r is None:
                        return
                    out = to_wire(r, 65535)
                    self.wfile.write(struct.pack("!H", len(out)) + out)
            except (OSError, socket.timeout):
                return

    class UdpServer(socketserver.UDPServer):
        allow_reuse_address = True

    class TcpServer(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    for cls, handler in ((UdpServer, Udp), (TcpServer, Tcp)):
        srv = cls((address, 53), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    a = ap.parse_args()
    with open(a.config) as f:
        config = json.load(f)
    for address, c in config.items():
        serve(address, Server(c["mode"], c.get("zones")))
        print(f"misbehave: {address}:53 {c['mode']} "
              f"({len(c.get('zones') or {})} zones)", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Event().wait()


if __name__ == "__main__":
    main()
