#!/usr/bin/python3
"""The lab's SMTP servers: one asyncio process for every world.json "smtp" address (port 25).

Usage: smtpd.py --world WORLD_JSON --run RUNDIR   (foreground; SIGTERM or SIGINT ends it)

Behaviours (tests/lab/README.md):
  starttls        220 greeting, EHLO offers STARTTLS, "220 ready", TLS with the entry's "chain"
                  (leaf first; certificates from RUNDIR/certs, made by tls/certs.py), then
                  EHLO/NOOP/RSET/QUIT inside TLS
  no-starttls     EHLO without STARTTLS; STARTTLS is refused with 502
  handshake-fail  offers STARTTLS, answers 220, then sends bytes that are not TLS and closes
  rate-limit      421 greeting, then closes (on every connection)
  stall           220 greeting, then reads and never answers
  long-ehlo       an EHLO reply of LONG_EHLO_BYTES continuation lines, without STARTTLS
  no-listener     nothing is bound
  starttls-reject offers STARTTLS, answers the STARTTLS command with 454 (TLS not available)
  garbage-ehlo    220 greeting, then answers EHLO with a line that is not an SMTP reply
Every connection has a deadline, so a client that goes quiet cannot keep one open; each ends
with one log line on stderr. An address that cannot be bound ends the start-up with status 1.
"""

import argparse
import asyncio
import json
import logging
import pathlib
import signal
import ssl
import sys
import time

BEHAVIOURS = {"starttls", "no-starttls", "handshake-fail", "rate-limit", "stall", "long-ehlo",
              "no-listener", "starttls-reject", "garbage-ehlo"}
PORT = 25
HOSTNAME = "lab-smtp.test"
IDLE_TIMEOUT = 30        # s without a command line from the client
CONNECTION_TIMEOUT = 120  # s for a whole connection, stall included; longer than any probe
LONG_EHLO_BYTES = 1 << 20
MAX_LINE = 4096          # a command line longer than this ends the connection


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


class Connection:
    def __init__(self, spec, tls_context, reader, writer):
        self.tls_context = tls_context
        self.reader, self.writer = reader, writer
        self.behaviour = spec["behaviour"]
        self.in_tls = False

    async def send(self, *lines):
        self.writer.write("".join(line + "\r\n" for line in lines).encode())
        await self.writer.drain()

    async def command(self):
        """The next command line, upper-cased verb first; None at EOF."""
        line = await asyncio.wait_for(self.reader.readline(), IDLE_TIMEOUT)
        if not line:
            return None
        if len(line) > MAX_LINE:
            raise ValueError("command line too long")
        return line.decode("ascii", "replace").strip()

    def ehlo_lines(self, name):
        if self.behaviour == "long-ehlo":
            # About 100-byte lines, far past any client's sane limit (RFC 5321 4.5.3.1.5 gives
            # 512 per line; clients cap the whole reply); no STARTTLS, so the outcome does not
            # depend on how much of it a client reads.
            pad = "x" * 80
            count = LONG_EHLO_BYTES // (len(pad) + 20)
            return [f"250-{HOSTNAME} greets {name}"] + \
                [f"250-X-LAB-FILLER-{i:06d} {pad}" for i in range(count)] + ["250 8BITMIME"]
        offer = self.behaviour in ("starttls", "handshake-fail", "starttls-reject") and not self.in_tls
        return [f"250-{HOSTNAME} greets {name}", "250-PIPELINING", "250-SIZE 10240000"] + \
            (["250-STARTTLS"] if offer else []) + ["250 8BITMIME"]

    async def run(self):
        """Serve one connection; return a short outcome for the log line."""
        if self.behaviour == "rate-limit":
            await self.send("421 4.7.0 lab-smtp.test too many connections, try again later")
            return "421"
        await self.send(f"220 {HOSTNAME} ESMTP danescan lab ({self.behaviour})")
        if self.behaviour == "stall":
            while await self.reader.read(4096):  # read everything, answer nothing
                pass
            return "stalled until EOF"
        while True:
            line = await self.command()
            if line is None:
                return "EOF" + (" in TLS" if self.in_tls else "")
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO" and self.behaviour == "garbage-ehlo":
                # Not "NNN text": what a client meets at a port that is not SMTP, or a broken proxy.
                await self.send("this is not an SMTP reply")
            elif verb == "EHLO":
                await self.send(*self.ehlo_lines(line[5:].strip() or "client"))
            elif verb == "HELO":
                await self.send(f"250 {HOSTNAME}")
            elif verb in ("NOOP", "RSET"):
                await self.send("250 2.0.0 OK")
            elif verb == "QUIT":
                await self.send("221 2.0.0 Bye")
                return "QUIT" + (" in TLS" if self.in_tls else "")
            elif verb == "STARTTLS" and not self.in_tls and self.behaviour == "handshake-fail":
                await self.send("220 2.0.0 Ready to start TLS")
                # A plain-text line where the ServerHello belongs: the client's handshake fails.
                await self.send("this is not TLS, the handshake ends here")
                return "STARTTLS, then garbage"
            elif verb == "STARTTLS" and not self.in_tls and self.behaviour == "starttls":
                await self.send("220 2.0.0 Ready to start TLS")
                await self.writer.start_tls(self.tls_context, ssl_handshake_timeout=IDLE_TIMEOUT)
                self.in_tls = True
            elif verb == "STARTTLS" and self.behaviour == "starttls-reject":
                await self.send("454 4.7.0 TLS not available due to temporary reason")
            elif verb == "STARTTLS":
                await self.send("502 5.5.1 STARTTLS not available")
            else:
                await self.send("502 5.5.2 command not implemented by the lab server")


def tls_context(address, spec, rundir):
    """Server context presenting the entry's chain (leaf first) with the leaf's key."""
    certdir = rundir / "certs"
    chain = spec.get("chain") or []
    if not chain:
        raise SystemExit(f"smtpd: {address}: behaviour starttls needs a \"chain\"")
    pem = []
    for name in chain:
        crt = certdir / f"{name}.crt"
        if not crt.exists():
            raise SystemExit(f"smtpd: {address}: no certificate {crt} (run tls/certs.py generate first)")
        pem.append(crt.read_text())
    chain_file = rundir / "smtp" / f"{address}.chain.pem"
    chain_file.parent.mkdir(parents=True, exist_ok=True)
    chain_file.write_text("".join(pem))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(chain_file), str(certdir / f"{chain[0]}.key"))
    return ctx


async def serve(world, rundir):
    servers = []
    for address, spec in sorted((world.get("smtp") or {}).items()):
        behaviour = spec.get("behaviour")
        if behaviour not in BEHAVIOURS:
            raise SystemExit(f"smtpd: {address}: unknown behaviour {behaviour!r}")
        if behaviour == "no-listener":
            continue
        ctx = tls_context(address, spec, rundir) if behaviour == "starttls" else None

        async def handle(reader, writer, address=address, spec=spec, ctx=ctx):
            start, peer = time.monotonic(), writer.get_extra_info("peername")
            conn = Connection(spec, ctx, reader, writer)
            try:
                async with asyncio.timeout(CONNECTION_TIMEOUT):
                    outcome = await conn.run()
            except TimeoutError:
                outcome = "timeout"
            except (ConnectionResetError, BrokenPipeError):
                outcome = "closed by the client"  # e.g. tests/lab/up's connect-only health check
            except (OSError, ssl.SSLError, ValueError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError) as e:
                outcome = f"error: {type(e).__name__}: {e}"
            finally:
                conn.writer.close()
            log(f"{address}:{PORT} {spec['behaviour']} from {peer[0]}:{peer[1]}: {outcome} "
                f"({time.monotonic() - start:.1f} s)")

        try:
            servers.append(await asyncio.start_server(handle, address, PORT, limit=MAX_LINE * 2))
        except OSError as e:
            raise SystemExit(f"smtpd: cannot listen on {address}:{PORT}: {e.strerror or e} "
                             "(root needed for port 25; is another server there?)")
        log(f"{address}:{PORT} {behaviour} listening")
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in servers:
        s.close()
    log("stopped")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", required=True, type=pathlib.Path)
    ap.add_argument("--run", required=True, type=pathlib.Path)
    a = ap.parse_args()
    # asyncio warns on every TLS connection that ends with EOF ("returning true from
    # eof_received() has no effect when using ssl"): noise, not a fault of the client.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    try:
        world = json.loads(a.world.read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"smtpd: {a.world}: {e}")
    asyncio.run(serve(world, a.run.resolve()))


if __name__ == "__main__":
    main()
