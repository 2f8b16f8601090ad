#!/usr/bin/python3
"""A scripted stand-alone resolver for the resolver-health fault tests (issue 11): no upstream,
no lab. It answers every question itself, over UDP and TCP, on a loopback address (127.53.4.x,
the range of these tests):

- a name under `nx.test` (and every name with --nxdomain): NXDOMAIN;
- MX: `10 mail.<name>`; A of `mail.*`: 127.53.4.250; everything else: NOERROR, no data.

Faults:
  --truncate-udp         every UDP answer is TC=1 with empty sections (the client must use TCP)
  --stall-tcp N          the first N TCP connections are accepted and read, and never answered
  --dark-after N         after N queries (UDP and TCP) nothing is answered any more
  --servfail             every answer is SERVFAIL
Prints "ready ADDR:PORT" once it listens; SIGTERM stops it. --log FILE appends one JSON line per
query: {"transport", "qname", "qtype", "answered", "conn"} (conn: the TCP connection's number).
"""

import argparse
import json
import signal
import socket
import sys
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True, help="ADDR:PORT")
    p.add_argument("--truncate-udp", action="store_true")
    p.add_argument("--stall-tcp", type=int, default=0)
    p.add_argument("--dark-after", type=int, default=-1)
    p.add_argument("--servfail", action="store_true")
    p.add_argument("--nxdomain", action="store_true")
    p.add_argument("--log")
    return p.parse_args()


class Server:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.queries = 0
        self.tcp_conns = 0
        self.log = open(a.log, "a") if a.log else None

    def note(self, transport, q, answered, conn=None):
        with self.lock:
            if self.log:
                self.log.write(json.dumps({"transport": transport, "qname": q.question[0].name.to_text(omit_final_dot=True),
                                           "qtype": dns.rdatatype.to_text(q.question[0].rdtype),
                                           "answered": answered, "conn": conn}) + "\n")
                self.log.flush()

    def count(self):
        with self.lock:
            self.queries += 1
            return self.queries

    def dark(self, n):
        return self.a.dark_after >= 0 and n > self.a.dark_after

    def answer(self, q, truncated=False):
        r = dns.message.make_response(q)
        r.flags |= dns.flags.RA
        if self.a.servfail:
            r.set_rcode(dns.rcode.SERVFAIL)
            return r
        if truncated:
            r.flags |= dns.flags.TC
            return r
        question = q.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        if self.a.nxdomain or name == "nx.test" or name.endswith(".nx.test"):
            r.set_rcode(dns.rcode.NXDOMAIN)
            return r
        if question.rdtype == dns.rdatatype.MX:
            r.answer.append(dns.rrset.from_text(question.name, 300, "IN", "MX", f"10 mail.{name}."))
        elif question.rdtype == dns.rdatatype.A and name.startswith("mail."):
            r.answer.append(dns.rrset.from_text(question.name, 300, "IN", "A", "127.53.4.250"))
        return r

    def udp(self, sock):
        while True:
            try:
                data, peer = sock.recvfrom(65535)
                q = dns.message.from_wire(data)
            except Exception:
                continue
            n = self.count()
            if self.dark(n):
                self.note("udp", q, False)
                continue
            sock.sendto(self.answer(q, truncated=self.a.truncate_udp).to_wire(), peer)
            self.note("udp", q, True)

    def tcp_conn(self, conn, number):
        stalled = number <= self.a.stall_tcp
        buf = b""
        try:
            while True:
                chunk = conn.recv(65535)
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 2 and len(buf) - 2 >= int.from_bytes(buf[:2], "big"):
                    length = int.from_bytes(buf[:2], "big")
                    wire, buf = buf[2:2 + length], buf[2 + length:]
                    q = dns.message.from_wire(wire)
                    n = self.count()
                    if stalled or self.dark(n):
                        self.note("tcp", q, False, number)
                        continue
                    out = self.answer(q).to_wire()
                    conn.sendall(len(out).to_bytes(2, "big") + out)
                    self.note("tcp", q, True, number)
        except OSError:
            return
        finally:
            conn.close()

    def tcp(self, listener):
        while True:
            conn, _ = listener.accept()
            with self.lock:
                self.tcp_conns += 1
                number = self.tcp_conns
            threading.Thread(target=self.tcp_conn, args=(conn, number), daemon=True).start()


def main():
    a = parse_args()
    host, port = a.listen.rsplit(":", 1)
    port = int(port)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    udp.bind((host, port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((host, udp.getsockname()[1]))
    tcp.listen(128)
    server = Server(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=server.udp, args=(udp,), daemon=True).start()
    threading.Thread(target=server.tcp, args=(tcp,), daemon=True).start()
    print(f"ready {host}:{udp.getsockname()[1]}", flush=True)
    signal.pause()


if __name__ == "__main__":
    main()
