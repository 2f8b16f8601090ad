#!/usr/bin/env python3
"""Integration test of bench/world/relay.cc (world_relay): one nsd serving a small zone on
127.56.1.2, the relay on 127.56.1.1 in front of it. Checks that an answer comes back with the
client's own ID after the fixed RTT (>= 50 ms, < 150 ms: a coarse bound, the machine is shared),
that concurrent questions each get their own answer back, and that with --loss 1.0 nothing comes
back. As root (port 53); exits 77 (skipped) otherwise.

Usage: relay_test.py WORLD_RELAY
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

RELAY_ADDR, NSD_ADDR = "127.56.1.1", "127.56.1.2"
ZONE = "sa0.bench."
passed = failed = 0


def check(ok, what):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if ok:
        passed += 1
    else:
        failed += 1


def query(qid, name, qtype=1):
    # The test's own question: header (ID, RD) and one question, IN class.
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)


def ask(addr, packets, timeout):
    """Sends the packets at once; returns {id: (reply bytes, seconds after sending)}."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.05)
    start = time.monotonic()
    for p in packets:
        s.sendto(p, (addr, 53))
    replies = {}
    while time.monotonic() - start < timeout and len(replies) < len(packets):
        try:
            data, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        replies[struct.unpack(">H", data[:2])[0]] = (data, time.monotonic() - start)
    s.close()
    return replies


def wait_for(pred, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    relay = sys.argv[1]
    if os.geteuid() != 0:
        print("skipped: needs root (binds port 53)")
        sys.exit(77)
    d = tempfile.mkdtemp(prefix="danescan-relay-test-")
    with open(f"{d}/zone", "w") as f:
        f.write(f"$ORIGIN {ZONE}\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\n"
                f"ns A {NSD_ADDR}\n* A 127.56.200.1\n")
    with open(f"{d}/nsd.conf", "w") as f:
        f.write(f"""server:
  ip-address: {NSD_ADDR}
  port: 53
  do-ip6: no
  username: ""
  chroot: ""
  database: ""
  pidfile: "{d}/nsd.pid"
  logfile: "{d}/nsd.log"
  xfrdfile: "{d}/xfrd.state"
  zonelistfile: "{d}/zone.list"
  xfrdir: "{d}"
  server-count: 1
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "{ZONE}"
  zonefile: "{d}/zone"
""")
    procs = []

    def start_relay(*flags):
        log = f"{d}/relay.log"
        p = subprocess.Popen([relay, "--map", f"{RELAY_ADDR}={NSD_ADDR}", "--pid-file", f"{d}/relay.pid",
                              "--log", log, "--slow", "0", "--ratelimit", "0", *flags],
                             stdin=subprocess.DEVNULL)
        procs.append(p)
        if not wait_for(lambda: os.path.exists(f"{d}/relay.pid") or p.poll() is not None, 5) or p.poll() is not None:
            print(open(log).read())
            sys.exit("world_relay did not start")
        return p

    def stop_relay(p):
        p.send_signal(signal.SIGTERM)
        p.wait(5)
        with open(f"{d}/relay.log") as f:
            return [l for l in f if "counters (SIGTERM)" in l][-1]

    try:
        subprocess.run(["nsd", "-c", f"{d}/nsd.conf"], check=True)
        check(wait_for(lambda: ask(NSD_ADDR, [query(1, ZONE, 6)], 0.2), 10), "nsd answers directly")

        p = start_relay("--rtt-fixed", "50", "--loss", "0")
        r = ask(RELAY_ADDR, [query(0x1234, "dom1." + ZONE)], 2)
        check(0x1234 in r, "the answer carries the client's ID (0x1234)")
        if 0x1234 in r:
            data, took = r[0x1234]
            check(data[2] & 0x80 and data[3] & 0x0f == 0 and struct.unpack(">H", data[6:8])[0] == 1,
                  "it is a NOERROR answer with one record")
            check(0.050 <= took < 0.150, f"it took {took * 1000:.1f} ms (>= 50, < 150)")
        ids = list(range(100, 120))
        r = ask(RELAY_ADDR, [query(i, f"dom{i}.{ZONE}") for i in ids], 2)
        check(sorted(r) == ids, f"20 concurrent questions: {len(r)} answers, each with its own ID")
        counters = stop_relay(p)
        check("client_in=21 upstream_out=21 upstream_in=21 client_out=21 packets=84" in counters,
              "the counters at exit: " + counters.split("): ", 1)[-1].strip())

        p = start_relay("--rtt-fixed", "50", "--loss", "1.0")
        r = ask(RELAY_ADDR, [query(i, f"dom{i}.{ZONE}") for i in range(5)], 1)
        check(not r, f"--loss 1.0: {len(r)} answers came back")
        counters = stop_relay(p)
        check("client_in=5 upstream_out=0" in counters and "lost_query=5" in counters, "the counters count 5 lost questions")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        try:
            pid = int(open(f"{d}/nsd.pid").read())
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 5)
        except (OSError, ValueError):
            pass
    if failed:
        print(f"logs kept in {d}")
    else:
        shutil.rmtree(d, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
