#!/usr/bin/python3
"""Self-test of faultproxy.py: starts it on 127.53.2.9:5399 in front of the lab's unbound and
checks each fault with raw dnspython queries. Needs the lab up (tests/lab/up).
Prints 'N passed, M failed'; exit status 1 when anything failed."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY = os.path.join(HERE, "faultproxy.py")
ADDR, PORT = "127.53.2.9", 5399
LAB_DIR = os.environ.get("DANESCAN_LAB_DIR", "/tmp/danescan-lab")
UPSTREAM = "127.53.1.1"
MX = dns.rdatatype.MX

passed, failed = 0, 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}{': ' + detail if detail else ''}")


class Proxy:
    def __init__(self, *args):
        self.log = tempfile.NamedTemporaryFile(prefix="faultproxy-", suffix=".jsonl",
                                               delete=False).name
        self.p = subprocess.Popen([PROXY, "--listen", f"{ADDR}:{PORT}", "--log", self.log,
                                   *args], stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().strip()
        if line != f"ready {ADDR}:{PORT}":
            self.p.kill()
            raise SystemExit(f"faultproxy did not start (said {line!r})")

    def stop(self):
        """SIGTERM; returns (exit status, log entries)."""
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = "hung"
        with open(self.log) as f:
            entries = [json.loads(line) for line in f]
        os.unlink(self.log)
        return rc, entries


def datagrams(qname, rdtype=MX, want=2, timeout=1.0):
    """Send one UDP query; return (query, every datagram received within timeout, up to want)."""
    q = dns.message.make_query(qname, rdtype, want_dnssec=True)
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(q.to_wire(), (ADDR, PORT))
        deadline = time.monotonic() + timeout
        while len(out) < want and time.monotonic() < deadline:
            s.settimeout(deadline - time.monotonic())
            try:
                out.append(s.recv(65535))
            except socket.timeout:
                break
    return q, out


def parse(wire):
    try:
        return dns.message.from_wire(wire)
    except Exception:
        return None


def same_answer(a, b):
    """The same answer RRsets (RRset equality ignores TTLs, which the cache counts down)."""
    return len(a.answer) == len(b.answer) and all(rrset in b.answer for rrset in a.answer)


def right(q, wire, expected):
    """The datagram is the right answer to q: its ID, question and answer section."""
    r = parse(wire)
    return (r is not None and q.is_response(r) and r.rcode() == dns.rcode.NOERROR
            and same_answer(r, expected))


def lab_domains(n):
    """n lab domains whose MX query unbound answers NOERROR with records."""
    with open(os.path.join(LAB_DIR, "domains.txt")) as f:
        names = [line.strip() for line in f if line.strip()]
    good = {}
    for name in names:
        r = dns.query.udp(dns.message.make_query(name, MX, want_dnssec=True), UPSTREAM,
                          timeout=3)
        if r.rcode() == dns.rcode.NOERROR and r.answer:
            good[name] = r
        if len(good) == n:
            break
    if len(good) < n:
        raise SystemExit(f"the lab has only {len(good)} domains with an MX (is it up?)")
    return good


def fixed_faults(expected):
    clean, drop, wid, wq, trunc, garb, refused, pdrop = list(expected)
    p = Proxy("--fault", f"{drop}=drop", "--fault", f"{wid}=wrong-id",
              "--fault", f"{wq}=wrong-question", "--fault", f"{trunc}=truncate",
              "--fault", f"{garb}=garbage", "--fault", f"{refused}=refused",
              "--fault", f"{pdrop}=drop", "--persistent", pdrop)
    try:
        q, got = datagrams(clean)
        check("no fault: the right answer, once", len(got) == 1 and right(q, got[0], expected[clean]))

        q, got = datagrams(drop)
        check("drop: no answer (timeout)", got == [], f"{len(got)} datagrams")
        q, got = datagrams(drop)
        check("drop: the retry is answered", len(got) == 1 and right(q, got[0], expected[drop]))

        q, got = datagrams(wid)
        first = parse(got[0]) if got else None
        check("wrong-id: first answer has another ID",
              first is not None and first.id != q.id and first.flags & dns.flags.QR)
        check("wrong-id: then the right answer", len(got) == 2 and right(q, got[1], expected[wid]))

        q, got = datagrams(wq)
        first = parse(got[0]) if got else None
        check("wrong-question: first answer is for another name",
              first is not None and first.id == q.id and first.question
              and first.question[0].name != q.question[0].name and not q.is_response(first))
        check("wrong-question: then the right answer",
              len(got) == 2 and right(q, got[1], expected[wq]))

        q, got = datagrams(trunc)
        first = parse(got[0]) if got else None
        check("truncate: TC=1, same ID, no records over UDP",
              len(got) == 1 and first is not None and first.id == q.id
              and first.flags & dns.flags.TC and not first.answer)
        r = dns.query.tcp(q, ADDR, port=PORT, timeout=3)
        check("truncate: TCP answers correctly", right(q, r.to_wire(), expected[trunc]))

        q, got = datagrams(garb)
        first = parse(got[0]) if got else None
        check("garbage: first datagram is not an answer to the query",
              len(got) >= 1 and got[0][:2] == q.to_wire()[:2]
              and (first is None or not q.is_response(first)))
        check("garbage: then the right answer", len(got) == 2 and right(q, got[1], expected[garb]))

        q, got = datagrams(refused)
        first = parse(got[0]) if got else None
        check("refused: rcode REFUSED", len(got) == 1 and first is not None
              and q.is_response(first) and first.rcode() == dns.rcode.REFUSED)
        q, got = datagrams(refused)
        check("refused: the retry is answered",
              len(got) == 1 and right(q, got[0], expected[refused]))

        silent = [datagrams(pdrop, timeout=0.5)[1] for _ in range(3)]
        check("persistent drop: every attempt times out", silent == [[], [], []])

        r = dns.query.tcp(dns.message.make_query(pdrop, MX, want_dnssec=True), ADDR,
                          port=PORT, timeout=3)
        check("TCP is proxied faithfully (also for a persistent fault)",
              same_answer(r, expected[pdrop]))
    finally:
        rc, log = p.stop()
    check("SIGTERM stops it cleanly (exit 0)", rc == 0, f"exit {rc}")
    udp = [(e["qname"], e["attempt"], e["fault"]) for e in log if e.get("transport") == "udp"]
    want = [(clean, 1, "none"), (drop, 1, "drop"), (drop, 2, "none"), (wid, 1, "wrong-id"),
            (wq, 1, "wrong-question"), (trunc, 1, "truncate"), (garb, 1, "garbage"),
            (refused, 1, "refused"), (refused, 2, "none"),
            (pdrop, 1, "drop"), (pdrop, 2, "drop"), (pdrop, 3, "drop")]
    check("log: every UDP query with its attempt and fault", sorted(udp) == sorted(want),
          f"{udp}")
    tcp = [(e["qname"], e["fault"]) for e in log if e.get("transport") == "tcp"]
    check("log: the TCP queries", sorted(tcp) == sorted([(trunc, "none"), (pdrop, "none")]),
          f"{tcp}")


def seeded_rates(expected):
    """Rates: the faults chosen are the same in two runs, and retries heal."""
    names = [(n, t) for n in expected for t in (MX, dns.rdatatype.A, dns.rdatatype.TLSA,
                                                   dns.rdatatype.AAAA)]
    runs = []
    for _ in range(2):
        p = Proxy("--seed", "selftest", "--refused", "0.4", "--truncate", "0.3")
        seen, healed = [], True
        for name, rdtype in names:
            q, got = datagrams(name, rdtype, want=1, timeout=2)
            r = parse(got[0]) if got else None
            seen.append(None if r is None else ("TC" if r.flags & dns.flags.TC
                                                else dns.rcode.to_text(r.rcode())))
            q, got = datagrams(name, rdtype, want=1, timeout=2)
            r = parse(got[0]) if got else None
            healed &= (r is not None and not r.flags & dns.flags.TC
                       and r.rcode() != dns.rcode.REFUSED)
        rc, _ = p.stop()
        runs.append(seen)
        check("rates: every retry is answered cleanly", healed)
    check("rates: the same faults in two runs with the same seed", runs[0] == runs[1])
    counts = {k: runs[0].count(k) for k in ("REFUSED", "TC")}
    check("rates: both faults and clean answers occur",
          counts["REFUSED"] > 0 and counts["TC"] > 0 and
          len(names) - sum(counts.values()) > 0, f"{counts} of {len(names)}")


def delay(expected):
    name = next(iter(expected))
    p = Proxy("--delay-ms", "300..400")
    try:
        t = time.monotonic()
        q, got = datagrams(name, want=1, timeout=2)
        took = time.monotonic() - t
        check("delay: answered after 300..400 ms", len(got) == 1 and 0.29 <= took < 1.0,
              f"{took:.3f} s")
    finally:
        p.stop()


def outage(expected):
    a, b, c = list(expected)[:3]
    p = Proxy("--outage-after", "2", "--outage-seconds", "1.5")
    try:
        for n in (a, b):
            q, got = datagrams(n, want=1)
            check(f"outage: query before it is answered ({n})",
                  len(got) == 1 and right(q, got[0], expected[n]))
        q, got = datagrams(c, want=1, timeout=0.5)
        check("outage: UDP query is dropped", got == [])
        try:
            r = dns.query.tcp(dns.message.make_query(c, MX), ADDR, port=PORT, timeout=2)
            check("outage: TCP connection closed without an answer", False, str(r.rcode()))
        except (EOFError, OSError):
            check("outage: TCP connection closed without an answer", True)
        time.sleep(1.2)
        q, got = datagrams(c, want=1)
        check("outage: served again after it", len(got) == 1 and right(q, got[0], expected[c]))
    finally:
        rc, log = p.stop()
    check("outage: logged", sum(e.get("fault") == "outage" for e in log) == 2
          and any(e.get("event") == "outage-start" for e in log))


def main():
    try:
        expected = lab_domains(8)
    except (Exception, SystemExit) as e:
        check("the lab's unbound answers (tests/lab/up)", False, f"{type(e).__name__}: {e}")
        print(f"{passed} passed, {failed} failed")
        sys.exit(1)
    for test in (fixed_faults, seeded_rates, delay, outage):
        try:
            test(expected)
        except Exception as e:  # a crash in a test is a failure, not the end of the run
            check(f"{test.__name__} ran", False, f"{type(e).__name__}: {e}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
