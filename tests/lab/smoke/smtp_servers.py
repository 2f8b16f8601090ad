#!/usr/bin/python3
"""Smoke test of the lab's SMTP servers (tests/lab/smtp/smtpd.py) on the running lab.

For every world.json "smtp" address, checks its behaviour from the outside:
  starttls        offers STARTTLS, and `openssl s_client -starttls smtp` is shown exactly the
                  configured chain (SHA-256 fingerprints against RUNDIR/certs/NAME.crt)
  no-starttls     EHLO reply without STARTTLS
  handshake-fail  offers STARTTLS, answers 220, then a TLS handshake fails
  rate-limit      greets with 421
  stall           greets with 220, then does not answer EHLO
  long-ehlo       EHLO reply larger than 512 KiB
  no-listener     the connection is refused
  starttls-reject offers STARTTLS, answers the STARTTLS command with 454
  garbage-ehlo    greets with 220, answers EHLO with a line that is not an SMTP reply
Environment: DANESCAN_LAB_DIR (run dir, default /tmp/danescan-lab); DANESCAN_LAB_WORLD
(default: catalogue/world.json beside this directory). Exit 1 when a check fails.
"""

import hashlib
import ipaddress
import json
import os
import pathlib
import re
import socket
import ssl
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
RUN = pathlib.Path(os.environ.get("DANESCAN_LAB_DIR", "/tmp/danescan-lab"))
WORLD = pathlib.Path(os.environ.get("DANESCAN_LAB_WORLD", HERE.parent / "catalogue" / "world.json"))
PORT = 25
TIMEOUT = 10


class Smtp:
    """A minimal SMTP client over a plain socket: enough to see greetings and EHLO replies."""

    def __init__(self, address):
        self.sock = socket.create_connection((address, PORT), timeout=TIMEOUT)
        self.buf = b""

    def reply(self, cap=4 << 20):
        """(code, lines) of the next reply; stops reading after `cap` bytes."""
        lines, total = [], 0
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("connection closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            text = line.decode("ascii", "replace")
            lines.append(text)
            total += len(line) + 2
            if len(text) < 4 or text[3] != "-" or total > cap:
                return text[:3], lines

    def command(self, line, **kw):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply(**kw)

    def close(self):
        self.sock.close()


def offers_starttls(lines):
    return any(line[4:].strip().upper() == "STARTTLS" for line in lines[1:])


def fingerprint(pem):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def check_starttls(address, spec):
    s = Smtp(address)
    try:
        code, _ = s.reply()
        if code != "220":
            return f"greeting {code}, want 220"
        code, lines = s.command("EHLO smoke.test")
        if code != "250" or not offers_starttls(lines):
            return f"EHLO reply does not offer STARTTLS: {lines}"
        s.command("QUIT")
    finally:
        s.close()
    certs = RUN / "certs"
    leaf = json.loads(WORLD.read_text())["certs"][spec["chain"][0]]
    servername = (leaf.get("names") or ["lab.test"])[0]
    p = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", f"[{address}]:{PORT}" if ":" in address else f"{address}:{PORT}",
                        "-servername", servername, "-showcerts"],
                       input="QUIT\n", capture_output=True, text=True, timeout=TIMEOUT)
    shown = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", p.stdout, re.S)
    if not shown:
        return f"openssl s_client saw no certificate (exit {p.returncode}): {p.stderr.strip()[-300:]}"
    got = [fingerprint(pem) for pem in shown]
    want = [fingerprint((certs / f"{name}.crt").read_text()) for name in spec["chain"]]
    if got != want:
        return f"presented chain {got} is not the configured {spec['chain']} {want}"
    return None


def check_no_starttls(address, spec):
    s = Smtp(address)
    try:
        code, _ = s.reply()
        code2, lines = s.command("EHLO smoke.test")
    finally:
        s.close()
    if code != "220" or code2 != "250":
        return f"greeting {code}, EHLO {code2}, want 220 and 250"
    return "EHLO reply offers STARTTLS" if offers_starttls(lines) else None


def check_handshake_fail(address, spec):
    s = Smtp(address)
    try:
        s.reply()
        _, lines = s.command("EHLO smoke.test")
        if not offers_starttls(lines):
            return f"EHLO reply does not offer STARTTLS: {lines}"
        code, _ = s.command("STARTTLS")
        if code != "220":
            return f"STARTTLS answered {code}, want 220"
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        try:
            ctx.wrap_socket(s.sock, server_hostname="smoke.test").close()
        except (ssl.SSLError, OSError):
            return None
        return "the TLS handshake completed"
    finally:
        s.close()


def check_rate_limit(address, spec):
    s = Smtp(address)
    try:
        code, lines = s.reply()
    finally:
        s.close()
    return None if code == "421" else f"greeting {lines}, want 421"


def check_stall(address, spec):
    s = Smtp(address)
    try:
        code, _ = s.reply()
        if code != "220":
            return f"greeting {code}, want 220"
        s.sock.settimeout(3)
        try:
            _, lines = s.command("EHLO smoke.test")
            return f"EHLO was answered: {lines[:3]}"
        except socket.timeout:
            return None
    finally:
        s.close()


def check_long_ehlo(address, spec):
    s = Smtp(address)
    try:
        s.reply()
        code, lines = s.command("EHLO smoke.test", cap=4 << 20)
    finally:
        s.close()
    size = sum(len(line) + 2 for line in lines)
    return None if code == "250" and size > 512 * 1024 else f"EHLO reply of {size} bytes, want > 512 KiB"


def check_starttls_reject(address, spec):
    s = Smtp(address)
    try:
        s.reply()
        _, lines = s.command("EHLO smoke.test")
        if not offers_starttls(lines):
            return f"EHLO reply does not offer STARTTLS: {lines}"
        code, lines = s.command("STARTTLS")
    finally:
        s.close()
    return None if code == "454" else f"STARTTLS answered {lines}, want 454"


def check_garbage_ehlo(address, spec):
    s = Smtp(address)
    try:
        code, _ = s.reply()
        if code != "220":
            return f"greeting {code}, want 220"
        _, lines = s.command("EHLO smoke.test")
    finally:
        s.close()
    return None if not re.match(r"^\d{3}[ -]", lines[0]) else f"EHLO answered like SMTP: {lines[:2]}"


def check_no_listener(address, spec):
    try:
        Smtp(address).close()
    except ConnectionRefusedError:
        return None
    return "a connection was accepted"


CHECKS = {"starttls": check_starttls, "no-starttls": check_no_starttls,
          "handshake-fail": check_handshake_fail, "rate-limit": check_rate_limit,
          "stall": check_stall, "long-ehlo": check_long_ehlo, "no-listener": check_no_listener,
          "starttls-reject": check_starttls_reject, "garbage-ehlo": check_garbage_ehlo}


def main():
    if not (RUN / "certs").is_dir():
        print(f"smtp smoke: no certificates in {RUN}/certs: is the lab up (tests/lab/up)?")
        return 1
    smtp = json.loads(WORLD.read_text()).get("smtp") or {}
    failed = 0
    for address, spec in sorted(smtp.items(), key=lambda kv: (ipaddress.ip_address(kv[0]).version, ipaddress.ip_address(kv[0]))):
        behaviour = spec["behaviour"]
        try:
            problem = CHECKS[behaviour](address, spec)
        except (OSError, EOFError, subprocess.TimeoutExpired) as e:
            problem = f"{type(e).__name__}: {e}"
        print(f"{'ok  ' if problem is None else 'FAIL'} {address}:{PORT} {behaviour}"
              + ("" if problem is None else f": {problem}"))
        failed += problem is not None
    print(f"smtp smoke: {len(smtp) - failed} passed, {failed} failed")
    return 1 if failed or not smtp else 0


if __name__ == "__main__":
    sys.exit(main())
