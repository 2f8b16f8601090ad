#!/usr/bin/python3
"""A misbehaving resolver for the fault tests: a DNS proxy that injects faults.

Listens on a loopback address (UDP and TCP), forwards every query to an upstream resolver
(default the lab's unbound, 127.53.1.1:53) and, over UDP, spoils some answers:

  drop            no answer at all
  wrong-id        an answer with another ID, then (after --follow-ms) the right answer
  wrong-question  an answer for another name (same ID), then the right answer
  truncate        TC=1 with empty sections: the client must retry over TCP
  garbage         random bytes (starting with the query's ID), then the right answer
  refused         rcode REFUSED, no upstream query

The fault of a query is chosen by a seeded hash of (qname, qtype, attempt), where attempt
counts the UDP queries seen for that question (1, 2, ...), so runs are repeatable. A fault
applies to the first attempt only, so a retry heals it, unless the name is under a
--persistent suffix (then every attempt gets the first attempt's fault). TCP queries are
proxied faithfully. --fault SUFFIX=FAULT gives names under SUFFIX a fixed fault instead.
--outage-after N --outage-seconds S: after N queries (UDP and TCP), drop every UDP query and
close every TCP connection for S seconds, then serve again (once).
Every query is logged as one JSON line to --log; "ready ADDR:PORT" on stdout when listening.
SIGTERM (or SIGINT) ends it within a fraction of a second, exit 0: queries already received
are finished (waits for upstream abort) and logged.

Usage: faultproxy.py --listen 127.53.2.1:53 [--drop 0.1 --wrong-id 0.05 ...] [--log FILE]
"""

import argparse
import hashlib
import json
import random
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

FAULTS = ("drop", "wrong-id", "wrong-question", "truncate", "garbage", "refused")


def hostport(text, default_port=53):
    host, _, port = text.rpartition(":")
    if not host:
        host, port = text, default_port
    return host, int(port)


def delay_range(text):
    lo, sep, hi = text.partition("..")
    lo, hi = int(lo), int(hi if sep else lo)
    if not 0 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"bad delay range {text!r} (want LO..HI ms)")
    return lo, hi


def fault_rule(text):
    """SUFFIX=FAULT for --fault; the fault must be one of FAULTS."""
    suffix, _, fault = text.partition("=")
    if fault not in FAULTS:
        raise argparse.ArgumentTypeError(f"unknown fault {fault!r} (one of {', '.join(FAULTS)})")
    return canon(suffix), fault


def canon(name):
    return name.lower().rstrip(".")


def under(name, suffix):
    return name == suffix or suffix == "" or name.endswith("." + suffix)


class Proxy:
    def __init__(self, a):
        self.a = a
        self.upstream = hostport(a.upstream)
        self.rates = [(f, getattr(a, f.replace("-", "_"))) for f in FAULTS]
        if sum(r for _, r in self.rates) > 1.0 + 1e-9:
            sys.exit("faultproxy: fault rates add up to more than 1")
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.attempts = {}       # (qname, qtype) -> UDP queries seen
        self.count = 0           # all queries seen (UDP and TCP), for --outage-after
        self.outage_until = None
        self.stopping = threading.Event()
        self.log = open(a.log, "a", buffering=1) if a.log else None

    # --- choosing ----------------------------------------------------------------------
    def rng(self, qname, qtype, attempt):
        key = f"{self.a.seed}\0{qname}\0{qtype}\0{attempt}".encode()
        return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))

    def choose(self, qname, qtype, attempt):
        """(fault or None, delay in ms, rng) for this attempt of this question."""
        persistent = any(under(qname, s) for s in self.a.persistent)
        key_attempt = 1 if persistent else attempt
        rng = self.rng(qname, qtype, key_attempt)
        u = rng.random()
        lo, hi = self.a.delay_ms
        delay = rng.randint(lo, hi)
        if attempt > 1 and not persistent:
            return None, delay, rng
        for suffix, fault in self.a.fault:
            if under(qname, suffix):
                return fault, delay, rng
        for fault, rate in self.rates:
            if u < rate:
                return fault, delay, rng
            u -= rate
        return None, delay, rng

    def tick(self):
        """Count a query; True while the outage lasts."""
        with self.lock:
            self.count += 1
            now = time.monotonic()
            if (self.outage_until is None and self.a.outage_after is not None
                    and self.count > self.a.outage_after):
                self.outage_until = now + self.a.outage_seconds
                self.write({"event": "outage-start", "seconds": self.a.outage_seconds})
            return self.outage_until is not None and now < self.outage_until

    def write(self, entry):
        line = json.dumps({"t": round(time.time(), 3), **entry}) + "\n"
        with self.log_lock:
            if self.log:
                self.log.write(line)

    def close_log(self):
        with self.log_lock:
            if self.log:
                self.log.close()
            self.log = None

    # --- upstream ----------------------------------------------------------------------
    def ask_udp(self, wire):
        if self.stopping.is_set():
            raise OSError("proxy stopped")
        family = socket.AF_INET6 if ":" in self.upstream[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(self.a.upstream_timeout)
            s.connect(self.upstream)
            s.send(wire)
            deadline = time.monotonic() + self.a.upstream_timeout
            while True:  # in short steps, so that SIGTERM need not wait for a slow upstream
                if self.stopping.is_set():
                    raise OSError("proxy stopped")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout("upstream timeout")
                s.settimeout(min(0.1, left))
                try:
                    reply = s.recv(65535)
                except socket.timeout:
                    continue
                if reply[:2] == wire[:2]:
                    return reply

    # --- UDP ---------------------------------------------------------------------------
    def handle_udp(self, wire, client, sock):
        entry = {"transport": "udp", "client": f"{client[0]}:{client[1]}"}
        try:
            q = dns.message.from_wire(wire)
            qname, qtype = canon(q.question[0].name.to_text()), q.question[0].rdtype
        except (dns.exception.DNSException, IndexError):
            q, qname, qtype = None, None, None
        outage = self.tick()
        with self.lock:
            key = (qname, qtype)
            attempt = self.attempts[key] = self.attempts.get(key, 0) + 1
        fault, delay, rng = (None, 0, None) if q is None else self.choose(qname, qtype, attempt)
        if outage:
            fault = "outage"
        entry.update(id=int.from_bytes(wire[:2], "big"), qname=qname,
                     qtype=dns.rdatatype.to_text(qtype) if qtype is not None else None,
                     attempt=attempt, fault=fault or "none", delay_ms=delay, rcode=None)
        try:
            if fault in ("drop", "outage"):
                return
            if delay:
                time.sleep(delay / 1000)
            if fault in ("refused", "truncate"):
                r = dns.message.make_response(q)
                if fault == "refused":
                    r.set_rcode(dns.rcode.REFUSED)
                else:
                    r.flags |= dns.flags.TC
                sock.sendto(r.to_wire(), client)
                entry["rcode"] = dns.rcode.to_text(r.rcode())
                return
            try:
                reply = self.ask_udp(wire)
            except OSError as e:  # includes socket.timeout
                entry["upstream_error"] = str(e) or type(e).__name__
                return
            entry["rcode"] = dns.rcode.to_text(reply[3] & 0x0F)
            if fault is not None:
                try:
                    sock.sendto(self.spoil(fault, wire, reply, rng), client)
                except (dns.exception.DNSException, IndexError) as e:  # odd upstream reply
                    entry["spoil_error"] = str(e)
                time.sleep(self.a.follow_ms / 1000)
            sock.sendto(reply, client)
        except OSError as e:
            entry["error"] = str(e)
        finally:
            self.write(entry)

    def spoil(self, fault, query, reply, rng):
        if fault == "wrong-id":
            other = (int.from_bytes(reply[:2], "big") + 1 + rng.randrange(0xFFFE)) & 0xFFFF
            return other.to_bytes(2, "big") + reply[2:]
        if fault == "garbage":
            return query[:2] + rng.randbytes(rng.randint(10, 200))
        # wrong-question: the same reply, its question and owner names moved to another name
        r = dns.message.from_wire(reply)
        qname = r.question[0].name
        other = dns.name.from_text("wrong-question-" + str(rng.randrange(10**6)), qname.parent()
                                   if len(qname) > 1 else dns.name.root)
        r.question = [dns.rrset.RRset(other, q.rdclass, q.rdtype) for q in r.question]
        for i, rrset in enumerate(r.answer):
            if rrset.name == qname:
                moved = dns.rrset.RRset(other, rrset.rdclass, rrset.rdtype, rrset.covers)
                moved.update(rrset)
                r.answer[i] = moved
        return r.to_wire()

    # --- TCP ---------------------------------------------------------------------------
    def handle_tcp(self, rfile, wfile, client):
        up = None
        try:
            while True:
                head = rfile.read(2)
                if len(head) < 2:
                    return
                wire = rfile.read(struct.unpack("!H", head)[0])
                entry = {"transport": "tcp", "client": f"{client[0]}:{client[1]}",
                         "id": int.from_bytes(wire[:2], "big"), "qname": None, "qtype": None,
                         "fault": "none", "rcode": None}
                try:
                    q = dns.message.from_wire(wire)
                    entry["qname"] = canon(q.question[0].name.to_text())
                    entry["qtype"] = dns.rdatatype.to_text(q.question[0].rdtype)
                except (dns.exception.DNSException, IndexError):
                    pass
                if self.tick():
                    entry["fault"] = "outage"
                    self.write(entry)
                    return  # closes the connection
                try:
                    if up is None:
                        up = socket.create_connection(self.upstream, self.a.upstream_timeout)
                    up.sendall(head + wire)
                    reply = recv_tcp(up)
                except OSError as e:
                    entry["upstream_error"] = str(e) or type(e).__name__
                    self.write(entry)
                    return
                entry["rcode"] = dns.rcode.to_text(reply[3] & 0x0F) if len(reply) > 3 else None
                self.write(entry)
                wfile.write(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        finally:
            if up is not None:
                up.close()


def recv_tcp(sock):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("upstream closed the connection")
            data += chunk
        return data
    return exactly(struct.unpack("!H", exactly(2))[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True, metavar="ADDR:PORT", help="e.g. 127.53.2.1:53")
    ap.add_argument("--upstream", default="127.53.1.1:53", metavar="ADDR:PORT",
                    help="the resolver to forward to (default the lab's unbound)")
    ap.add_argument("--seed", default="0", help="hash seed (any string; default 0)")
    for f in FAULTS:
        ap.add_argument("--" + f, type=float, default=0.0, metavar="RATE",
                        help=f"share of first attempts that get {f} (0..1)")
    ap.add_argument("--fault", type=fault_rule, action="append", default=[],
                    metavar="SUFFIX=FAULT", help="names under SUFFIX always get FAULT "
                    "(first attempt, or every attempt with --persistent); overrides rates")
    ap.add_argument("--persistent", type=canon, action="append", default=[], metavar="SUFFIX",
                    help="names under SUFFIX get their fault on every attempt")
    ap.add_argument("--delay-ms", type=delay_range, default=(0, 0), metavar="LO..HI",
                    help="delay every UDP answer by LO..HI ms (chosen by the hash)")
    ap.add_argument("--follow-ms", type=int, default=30, metavar="MS",
                    help="wait between a spoiled answer and the right one (default 30)")
    ap.add_argument("--outage-after", type=int, metavar="N",
                    help="after N queries, answer nothing for --outage-seconds (once)")
    ap.add_argument("--outage-seconds", type=float, default=5.0, metavar="S",
                    help="length of the outage (default 5)")
    ap.add_argument("--upstream-timeout", type=float, default=5.0, metavar="S",
                    help="give up on an upstream UDP answer after S (default 5)")
    ap.add_argument("--workers", type=int, default=256, metavar="N",
                    help="UDP queries handled at once (default 256)")
    ap.add_argument("--log", metavar="FILE", help="JSON-lines log of every query")
    a = ap.parse_args()

    proxy = Proxy(a)
    address = hostport(a.listen)
    pool = ThreadPoolExecutor(a.workers)

    class Tcp(socketserver.StreamRequestHandler):
        timeout = 30

        def handle(self):
            proxy.handle_tcp(self.rfile, self.wfile, self.client_address)

    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET

    class TcpServer(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        address_family = family

    stop = proxy.stopping
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    udp = socket.socket(family, socket.SOCK_DGRAM)
    # A big receive buffer, so that a scanner's burst waits in the kernel instead of being lost.
    for opt in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        try:
            udp.setsockopt(socket.SOL_SOCKET, opt, 16 << 20)
            break
        except (OSError, TypeError):
            continue
    udp.bind(address)
    udp.settimeout(0.2)

    def udp_loop():
        while not stop.is_set():
            try:
                data, client = udp.recvfrom(65535)
            except OSError:  # the timeout, or an ICMP error
                continue
            pool.submit(proxy.handle_udp, data, client, udp)

    tcp = TcpServer(address, Tcp)
    threads = [threading.Thread(target=udp_loop, daemon=True),
               threading.Thread(target=tcp.serve_forever, args=(0.1,), daemon=True)]
    for t in threads:
        t.start()
    proxy.write({"event": "start", "listen": a.listen, "upstream": a.upstream,
                 "argv": sys.argv[1:]})
    print(f"ready {address[0]}:{address[1]}", flush=True)

    while not stop.wait(0.1):
        pass
    tcp.shutdown()
    tcp.server_close()
    threads[0].join()
    udp.close()
    pool.shutdown(wait=True)  # queries received so far end quickly (upstream waits abort)
    proxy.write({"event": "stop", "queries": proxy.count})
    proxy.close_log()


if __name__ == "__main__":
    main()
