#!/usr/bin/python3
"""Cross-check danescan's host DANE states against Postfix's posttls-finger in the lab.

usage: posttls_check.py EXPORT.jsonl [--allow-unprobed] [--rundir DIR] [options]
       posttls_check.py --catalogue [--rundir DIR] [options]
options: --catalogue-dir DIR, --relay ADDR, --timeout S, --domain D (repeatable), -v, -vv

For every lab scenario domain in the export (or, with --catalogue, in every scenario's
expect.default) and every MX host whose state a DANE sender decides at connection time
(pass, fail, unreachable) or at lookup time (lookup-error), posttls-finger (Postfix, issue 4)
decides the same host independently; the table shows both. `unprobed` hosts (a --no-probe or
strict scan) cannot be compared: they are listed as skipped and make the check fail unless
--allow-unprobed is given. Exit 0 when every compared host agrees or disagrees as DELIBERATE
below says, 1 otherwise (also when nothing was compared), 2 on usage errors. Needs root
(unshare -m, mount --bind, a DNS relay on port 53) and posttls-finger (tests/install-deps).

How posttls-finger is run, and why:
- Destination: the domain itself, not [host]. posttls-finger then makes its own MX lookup,
  keeps the MX RRset's DNSSEC status (an insecure MX gives "Trusted" instead of "Verified",
  smtp_tls_dane_insecure_mx_policy=dane) and, at the dane level, matches DANE-TA(2)
  certificates against the TLSA base domain AND the next-hop domain (RFC 7672 section 3.2.2).
  With [host] the next hop would be the host name: a DANE-TA leaf that names only the domain
  (the ta-nexthop scenario) then fails with "num=62:hostname mismatch". Match arguments do not
  help: at the dane level posttls-finger ignores them.
- One host and one address per run: posttls-finger stops at the first MX host and address
  that accepts a TCP connection. The DNS relay below answers every query from the lab resolver
  unchanged, except A/AAAA answers: for the host under test it keeps only the address under
  test, for any other name it drops the address records (NOERROR, no data: posttls-finger skips
  that MX host). AD bits, rcodes, CNAMEs, TLSA and CNAME answers pass untouched, so Postfix's
  own DNSSEC logic (TLSA base domain, CNAME expansion, lookup errors) decides as usual.
  Address literals as destinations do not work: a literal has no DNSSEC status, so
  posttls-finger makes no TLSA lookup (and -f looks up _25._tcp.<literal>).
- DNS: posttls-finger uses the libc stub resolver, so each run is in a private mount
  namespace (unshare -m) where a temporary resolv.conf ("nameserver RELAY", "options trust-ad
  edns0", trust-ad or glibc hides the AD bit) is bind-mounted over /etc/resolv.conf. The
  machine's own resolv.conf is never touched.
- Configuration: Debian's postfix package is installed with "No configuration" (no main.cf);
  MAIL_CONFIG points posttls-finger at an empty main.cf in a temporary directory, so Postfix's
  compiled-in defaults apply and nothing on the machine is read or written.
- Command: unshare -m sh -c 'mount --bind RESOLV /etc/resolv.conf && exec posttls-finger
  -l dane -L routine,certmatch -t T -T T DOMAIN' (with MAIL_CONFIG=TMP), killed after
  --timeout seconds (the lab's stall server never answers EHLO; -T bounds that already).

Mapping one run (one address) to a state:
  "Verified TLS connection" / "Trusted TLS connection"          -> pass
  "Untrusted" / "Anonymous" TLS connection, or a TLS handshake
  error, or no STARTTLS in the EHLO reply, or a timeout after
  the greeting (stall)                                           -> fail
  connection refused/timeout, or a 421 greeting                  -> unreachable (for the address)
  "TLSA lookup error", or a temporary DNS failure of the host's
  address lookup                                                 -> lookup-error
  the host has no address (NODATA/NXDOMAIN)                      -> unreachable
Per host: lookup-error if any run says so; else fail if any reachable address fails; else
pass if any passes; else unreachable (the contract's host states).
"""

import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading

HERE = pathlib.Path(__file__).resolve().parent
COMPARED = {"pass", "fail", "unreachable", "lookup-error"}
SKIPPED_UNPROBED = "unprobed"

# Deliberate disagreements: (domain, host) -> what posttls-finger says and why danescan's
# contract differs on purpose. A listed case that agrees again is reported, not failed.
# None is known in the lab today. The expected candidate, Postfix deferring an insecure alias
# whose explicit CNAME query fails (the outlook.com case; the contract keeps such a host's state
# and adds cname-query-failure), does not show through posttls-finger here: Postfix sends that
# CNAME query only after the A/AAAA queries, and unbound answers it from the CNAME its A answer
# cached (NOERROR). Those hosts are `insecure` anyway, which this check does not compare.
# Form of an entry:
#   ("domain.test", "mx.domain.test"): {"posttls": "lookup-error", "reason": "why on purpose"},
DELIBERATE = {}

# Catalogue mode only: expectations that posttls-finger contradicts for a reason found in the
# catalogue, not in danescan. Printed with the row; they still count as disagreements.
# Notes printed beside a disagreement in --catalogue mode, where the catalogue itself is in
# question: (domain, host) -> text. (too-many-tlsa's digest-agility note was fixed in the
# catalogue, commit 99bee73.)
CATALOGUE_NOTES = {}


# ---------------------------------------------------------------------------------------------
# DNS relay: forwards to the lab resolver; filters address records (see the module doc).

def _read_name(msg, off):
    """Decompresses the name at off; returns (labels as bytes tuple, offset after the name)."""
    labels, end, jumps = [], None, 0
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumps += 1
            if jumps > 64:
                raise ValueError("compression loop")
            continue
        off += 1
        if n == 0:
            break
        labels.append(bytes(msg[off:off + n]))
        off += n
    return tuple(labels), (end if end is not None else off)


def _encode_name(labels):
    return b"".join(bytes([len(lab)]) + lab for lab in labels) + b"\0"


def _name_text(labels):
    return ".".join(lab.decode("ascii", "replace") for lab in labels).lower()


# RDATA that may carry compressed names (RFC 3597 section 4); everything else is copied as is.
_NAME_RDATA = {2: "n", 5: "n", 12: "n", 15: "2n", 6: "nn20"}


def _rdata_plain(msg, rtype, off, rdlen):
    layout = _NAME_RDATA.get(rtype)
    if layout is None:
        return bytes(msg[off:off + rdlen])
    out, pos = b"", off
    if layout == "2n":
        out, pos = bytes(msg[pos:pos + 2]), pos + 2
        layout = "n"
    for part in ("n", "n") if layout == "nn20" else ("n",):
        labels, pos = _read_name(msg, pos)
        out += _encode_name(labels)
    if layout == "nn20":
        out += bytes(msg[pos:pos + 20])
    return out


def filter_addresses(msg, host, address, seen):
    """Returns msg with A/AAAA answer records filtered for (host, address), or msg unchanged.
    seen (dict) collects, for host, the rcode and every address the resolver returned."""
    if len(msg) < 12:
        return msg
    _, flags, qd, an, ns, ar = struct.unpack("!6H", msg[:12])
    if qd != 1:
        return msg
    qlabels, off = _read_name(msg, 12)
    qtype = struct.unpack("!H", msg[off:off + 2])[0]
    if qtype not in (1, 28):
        return msg
    qname = _name_text(qlabels)
    question = bytes(msg[12:off + 4])
    off += 4
    records, changed = [], False
    for i in range(an + ns + ar):
        labels, off = _read_name(msg, off)
        rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rdata = _rdata_plain(msg, rtype, off, rdlen)
        if i < an and rtype in (1, 28):
            text = socket.inet_ntop(socket.AF_INET if rtype == 1 else socket.AF_INET6,
                                    bytes(msg[off:off + rdlen]))
            if qname == host:
                seen.setdefault("addresses", set()).add(text)
            if qname != host or (address is not None and text != address):
                off += rdlen
                changed = True
                an -= 1
                continue
        off += rdlen
        records.append(_encode_name(labels) + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata))
                       + rdata)
    if qname == host:
        seen.setdefault("rcodes", set()).add(flags & 0xF)
    if not changed:
        return msg
    return struct.pack("!6H", struct.unpack("!H", msg[:2])[0], flags, 1, an, ns, ar) + question \
        + b"".join(records)


class Relay:
    """UDP and TCP on (listen, 53) -> the lab resolver; one target (host, address) at a time."""

    def __init__(self, listen, upstream, log=None):
        self.listen, self.upstream, self.log = listen, upstream, log
        self.target, self.seen, self.queries = (None, None), {}, []
        self.lock = threading.Lock()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((listen, 53))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((listen, 53))
        self.tcp.listen(16)
        for loop in (self._udp_loop, self._tcp_loop):
            threading.Thread(target=loop, daemon=True).start()

    def set_target(self, host, address):
        with self.lock:
            self.target, self.seen, self.queries = (host, address), {}, []

    def _rewrite(self, query, answer):
        with self.lock:
            host, address = self.target
            try:
                labels, off = _read_name(query, 12)
                self.queries.append((_name_text(labels), struct.unpack("!H", query[off:off + 2])[0],
                                     answer[3] & 0xF if len(answer) > 3 else None))
                return filter_addresses(answer, host, address, self.seen)
            except (ValueError, IndexError, struct.error) as e:
                print(f"posttls-check: relay: unparsable message ({e}), passed as is", file=sys.stderr)
                return answer

    def _udp_loop(self):
        while True:
            query, client = self.udp.recvfrom(65535)
            threading.Thread(target=self._udp_one, args=(query, client), daemon=True).start()

    def _udp_one(self, query, client):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((self.listen, 0))
            s.settimeout(10)
            try:
                s.sendto(query, self.upstream)
                answer, _ = s.recvfrom(65535)
            except OSError:
                return  # the client times out as it would against the resolver itself
        self.udp.sendto(self._rewrite(query, answer), client)

    def _tcp_loop(self):
        while True:
            conn, _ = self.tcp.accept()
            threading.Thread(target=self._tcp_one, args=(conn,), daemon=True).start()

    @staticmethod
    def _recv_exact(sock, n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def _tcp_one(self, conn):
        with conn:
            conn.settimeout(20)
            try:
                while True:
                    query = self._recv_exact(conn, struct.unpack("!H", self._recv_exact(conn, 2))[0])
                    with socket.create_connection(self.upstream, timeout=10,
                                                  source_address=(self.listen, 0)) as up:
                        up.sendall(struct.pack("!H", len(query)) + query)
                        answer = self._recv_exact(up, struct.unpack("!H", self._recv_exact(up, 2))[0])
                    answer = self._rewrite(query, answer)
                    conn.sendall(struct.pack("!H", len(answer)) + answer)
            except OSError:
                return


# ---------------------------------------------------------------------------------------------
# posttls-finger runs

def classify(output):
    """One run's output -> (state, short reason)."""
    if "TLSA lookup error" in output:
        return "lookup-error", "TLSA lookup error"
    m = re.search(r"(Verified|Trusted|Untrusted|Anonymous) TLS connection established", output)
    if m:
        if m.group(1) in ("Verified", "Trusted"):
            dane = re.search(r"Matched DANE (EE|TA) certificate at depth \d+: (\d \d \d)", output)
            return "pass", f"{m.group(1)}" + (f", DANE-{dane.group(1)} {dane.group(2)}" if dane else "")
        why = re.search(r"verification failed for [^:]+:\d+: (.*)", output)
        return "fail", f"{m.group(1)} TLS" + (f": {why.group(1)[:60]}" if why else "")
    if re.search(r"SSL_connect error|TLS handshake failed|Cannot start TLS", output):
        return "fail", "TLS handshake failed"
    if "Connected to " in output:
        if re.search(r"^posttls-finger: < 421", output, re.M) \
                or "SMTP service not available" in output:
            return "unreachable", "421 greeting"
        stalled = re.search(r"(timeout while[^\n]*|lost connection[^\n]*)", output)
        if stalled:
            return "fail", f"no EHLO reply ({stalled.group(1)})"
        if "> STARTTLS" not in output:
            return "fail", "no STARTTLS offered"
        return "fail", "connected, no TLS session"
    if re.search(r"Failed to establish session .*: connect to ", output):
        why = re.search(r"connect to [^:]+:\d+: (.*)", output)
        return "unreachable", "connect: " + (why.group(1) if why else "failed")
    if "Destination address lookup failed" in output or "has a valid address record" in output:
        if re.search(r"try again|Name service error.*SERVFAIL", output):
            return "lookup-error", "address lookup failed (temporary)"
        return "unreachable", "no address"
    return "unknown", (output.strip().splitlines() or ["no output"])[-1][:80]


class Finger:
    def __init__(self, relay, timeout, verbose):
        self.relay, self.timeout, self.verbose = relay, timeout, verbose
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="posttls-check."))
        (self.tmp / "main.cf").write_text("")
        self.resolv = self.tmp / "resolv.conf"
        self.resolv.write_text(f"nameserver {relay.listen}\noptions trust-ad edns0 timeout:3 attempts:2\n")
        self.command_shown = False

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run(self, domain, host, address):
        self.relay.set_target(host, address)
        step = str(max(2, min(10, int(self.timeout / 3))))
        argv = ["unshare", "-m", "sh", "-c",
                'mount --bind "$1" /etc/resolv.conf && shift && exec posttls-finger "$@"',
                "sh", str(self.resolv), "-l", "dane", "-L", "routine,certmatch",
                "-t", step, "-T", step, domain]
        if not self.command_shown and self.verbose:
            print("posttls-check: MAIL_CONFIG=" + str(self.tmp) + " " + " ".join(argv))
            self.command_shown = True
        env = dict(os.environ, MAIL_CONFIG=str(self.tmp))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=self.timeout)
            text = out.decode("utf-8", "replace")
            state, why = classify(text)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            text, state, why = "", "unknown", f"posttls-finger still running after {self.timeout}s"
        if state == "unreachable" and why == "no address" and address is not None:
            state, why = "unknown", f"relay: {host} did not resolve to {address}"
        if self.verbose >= 2:
            print(f"--- {domain} {host} {address}: {state} ({why})\n" +
                  "\n".join(text.splitlines()[:40]))
            for qname, qtype, rcode in self.relay.queries:
                print(f"    relay: {qname} type {qtype} rcode {rcode}")
        seen = dict(self.relay.seen)
        return state, why, seen


def host_state(finger, domain, host, addresses):
    """Runs posttls-finger per address; returns (state, reasons, notes)."""
    results, notes = [], []
    tried = set()
    todo = list(addresses) or [None]
    seen_all = set()
    while todo:
        address = todo.pop(0)
        tried.add(address)
        state, why, seen = finger.run(domain, host, address)
        results.append((address, state, why))
        seen_all |= seen.get("addresses", set())
        extra = [a for a in sorted(seen_all) if a not in tried and a not in todo]
        if extra:
            notes.append(f"posttls-finger's lookup found addresses the export lacks: {extra}")
            todo.extend(extra)
    missing = [a for a in addresses if a not in seen_all]
    if addresses and missing and all(s != "lookup-error" for _, s, _ in results):
        notes.append(f"addresses in the export that the lab resolver did not return: {missing}")
    states = [s for _, s, _ in results]
    if "lookup-error" in states:
        final = "lookup-error"
    elif "unknown" in states:
        final = "unknown"
    elif "fail" in states:
        final = "fail"
    elif "pass" in states:
        final = "pass"
    else:
        final = "unreachable"
    reasons = "; ".join(f"{a or '-'}: {s} ({w})" for a, s, w in results)
    return final, reasons, notes


# ---------------------------------------------------------------------------------------------
# Inputs

def lab_identity(rundir):
    """The running lab's inputs hash and component pids: a change during the check means the
    lab was restarted under it (tests/lab/up from another tree), and the results are void."""
    ident = {}
    for path in sorted(pathlib.Path(rundir).glob("*.pid")) + [pathlib.Path(rundir, "inputs.sha256")]:
        try:
            ident[path.name] = path.read_text().strip()
        except OSError:
            ident[path.name] = None
    return ident


def catalogue_domains(catalogue):
    out = {}
    for path in sorted(pathlib.Path(catalogue, "scenarios").glob("*.json")):
        scenario = json.loads(path.read_text())
        out[scenario["domain"]] = scenario
    return out


def load_export(path):
    domains = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    obj = json.loads(line)
                    domains[obj["domain"]] = obj
                except (ValueError, KeyError, TypeError) as e:
                    raise ValueError(f"{path}:{n}: not an export line ({e})") from e
    return domains


def states_of(value):
    """A host's dane value, or a catalogue matcher {"any_of": [...]}, as a list of states."""
    if isinstance(value, dict) and set(value) == {"any_of"}:
        return list(value["any_of"])
    return [value]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("export", nargs="?", help="danescan export (jsonl)")
    ap.add_argument("--catalogue", action="store_true",
                    help="check the catalogue's expect.default objects instead of an export")
    ap.add_argument("--rundir", default=os.environ.get("DANESCAN_LAB_DIR", "/tmp/danescan-lab"))
    ap.add_argument("--catalogue-dir", default=str(HERE / "catalogue"))
    ap.add_argument("--relay", default="127.53.254.1",
                    help="loopback address for the filtering DNS relay (port 53)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds per posttls-finger run")
    ap.add_argument("--domain", action="append", help="only these domains (repeatable)")
    ap.add_argument("--allow-unprobed", action="store_true",
                    help="skip unprobed hosts without failing (a --no-probe or strict-mode export)")
    ap.add_argument("-v", "--verbose", action="count", default=0)
    try:
        args = ap.parse_args()
    except SystemExit as e:
        return 2 if e.code else 0
    if bool(args.export) == args.catalogue:
        print("posttls-check: give either EXPORT.jsonl or --catalogue", file=sys.stderr)
        return 2
    if shutil.which("posttls-finger") is None:
        print("posttls-check: posttls-finger not found (tests/install-deps installs postfix)", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("posttls-check: needs root (unshare -m, mount --bind, port 53)", file=sys.stderr)
        return 2
    try:
        lab = json.loads(pathlib.Path(args.rundir, "lab.json").read_text())
    except (OSError, ValueError) as e:
        print(f"posttls-check: no running lab in {args.rundir} ({e})", file=sys.stderr)
        return 2
    host_port = lab["resolver"].rsplit(":", 1)
    upstream = (host_port[0], int(host_port[1]) if len(host_port) > 1 else 53)

    scenarios = catalogue_domains(args.catalogue_dir)
    if args.catalogue:
        subjects = {d: s["expect"]["default"] for d, s in scenarios.items()}
        source = "catalogue expect.default"
    else:
        try:
            exported = load_export(args.export)
        except (OSError, ValueError) as e:
            print(f"posttls-check: {e}", file=sys.stderr)
            return 2
        subjects = {d: o for d, o in exported.items() if d in scenarios}
        ignored = sorted(set(exported) - set(scenarios))
        if ignored:
            print(f"posttls-check: not lab scenario domains, ignored: {', '.join(ignored)}")
        source = args.export
    if args.domain:
        subjects = {d: o for d, o in subjects.items() if d in args.domain}

    try:
        relay = Relay(args.relay, upstream)
    except OSError as e:
        print(f"posttls-check: cannot listen on {args.relay}:53 for the DNS relay ({e})", file=sys.stderr)
        return 2
    finger = Finger(relay, args.timeout, args.verbose)
    lab_before = lab_identity(args.rundir)
    rows, skipped, bad, deliberate_seen = [], [], 0, set()
    try:
        for domain in sorted(subjects):
            for h in subjects[domain].get("mx", []):
                ours = states_of(h.get("dane"))
                if SKIPPED_UNPROBED in ours:
                    skipped.append(f"{domain} {h['host']}: unprobed (no TLS probe in this export)")
                    continue
                if not set(ours) & COMPARED:
                    continue
                theirs, reasons, notes = host_state(finger, domain, h["host"], h.get("addresses", []))
                agree = theirs in ours
                verdict = "yes" if agree else "NO"
                key = (domain, h["host"])
                if not agree and key in DELIBERATE and DELIBERATE[key]["posttls"] == theirs:
                    verdict = "deliberate"
                    deliberate_seen.add(key)
                elif not agree:
                    bad += 1
                rows.append((domain, h["host"], "|".join(ours), theirs, verdict, reasons, notes))
    finally:
        finger.close()

    widths = [max([len(r[i]) for r in rows] + [len(t)]) for i, t in
              enumerate(("domain", "host", "danescan", "posttls-finger", "agree"))]
    print(f"posttls-check: {source} against posttls-finger through {lab['resolver']}")
    header = ("domain", "host", "danescan", "posttls-finger", "agree")
    print("  ".join(t.ljust(w) for t, w in zip(header, widths)))
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r[:5], widths)))
        if args.verbose or r[4] != "yes":
            print(f"    {r[5]}")
            for key in [(r[0], r[1])]:
                if key in DELIBERATE and r[4] == "deliberate":
                    print(f"    deliberate: {DELIBERATE[key]['reason']}")
        for note in r[6]:
            print(f"    note: {note}")
        if args.catalogue and r[4] != "yes" and (r[0], r[1]) in CATALOGUE_NOTES:
            print(f"    catalogue: {CATALOGUE_NOTES[(r[0], r[1])]}")
    for note in skipped:
        print(f"skipped: {note}")
    for key in sorted(set(DELIBERATE) - deliberate_seen):
        if key[0] in subjects:
            print(f"note: deliberate disagreement not seen (they agree now?): {key[0]} {key[1]}")
    print(f"posttls-check: {len(rows)} hosts compared, {sum(r[4] == 'yes' for r in rows)} agree, "
          f"{len(deliberate_seen)} deliberate, {bad} disagree, {len(skipped)} skipped")
    if lab_identity(args.rundir) != lab_before:
        print(f"posttls-check: the lab in {args.rundir} was restarted during the check "
              "(pid files or inputs.sha256 changed): results void")
        return 1
    if skipped and not args.allow_unprobed:
        print(f"posttls-check: {len(skipped)} hosts unprobed: this export has no TLS probes for "
              "them, so posttls-finger has nothing to be compared with (--allow-unprobed skips them)")
        return 1
    if not rows:
        print("posttls-check: nothing compared")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
