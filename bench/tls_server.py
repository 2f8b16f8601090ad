#!/usr/bin/python3
"""bench/tls.sh's server: the lab's SMTP server code on three listeners of one address.

Usage: tls_server.py --run DIR --address ADDR [--chain ee-mx1] [--greeting-delay S] [--backlog N]

It loads tests/lab/smtp/smtpd.py and serves with its Connection class (behaviour "starttls") and
its tls_context() (DIR/certs holds the lab's certificates, made by tests/lab/tls/certs.py), so
danescan's probes and `openssl s_time` meet the same Python asyncio process, the same SSL
context and the same certificate. The listeners, each on a port the kernel chooses:
  starttls   the lab's STARTTLS dialogue, exactly as smtpd.py serves it
  delayed    the same after GREETING_DELAY seconds of silence before the 220 greeting, so that
             every probe of a batch is in flight at once (the memory measurement)
  implicit   TLS from the first byte (as SMTP on port 465), then the same dialogue inside TLS:
             what `openssl s_time -new` can measure (it does not speak STARTTLS)
When they listen it prints one line on stdout, `ready starttls=P delayed=P implicit=P`, and runs
until SIGTERM or SIGINT; it then prints how many connections each listener served, and how they
ended, on stderr. Unlike smtpd.py it writes no log line per connection (thousands per second).
"""

import argparse
import asyncio
import collections
import importlib.util
import logging
import pathlib
import resource
import signal
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
SMTPD_PATH = REPO / "tests" / "lab" / "smtp" / "smtpd.py"


def load_smtpd():
    # Not "smtpd": Python 3.11 still ships a deprecated standard module of that name.
    spec = importlib.util.spec_from_file_location("danescan_lab_smtpd", SMTPD_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def serve(args, smtpd):
    spec = {"behaviour": "starttls", "chain": args.chain}
    ctx = smtpd.tls_context(args.address, spec, args.run)
    outcomes = {name: collections.Counter() for name in ("starttls", "delayed", "implicit")}

    def handler(listener, delay=0.0, implicit=False):
        async def handle(reader, writer):
            conn = smtpd.Connection(spec, ctx, reader, writer)
            conn.in_tls = implicit
            try:
                async with asyncio.timeout(smtpd.CONNECTION_TIMEOUT):
                    if delay:
                        await asyncio.sleep(delay)
                    outcome = await conn.run()
            except TimeoutError:
                outcome = "timeout"
            except (ConnectionResetError, BrokenPipeError):
                outcome = "closed by the client"
            except (OSError, smtpd.ssl.SSLError, ValueError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError) as e:
                outcome = f"error: {type(e).__name__}"
            finally:
                writer.close()
            outcomes[listener][outcome] += 1
        return handle

    limit = smtpd.MAX_LINE * 2
    servers = {
        "starttls": await asyncio.start_server(handler("starttls"), args.address, 0,
                                               limit=limit, backlog=args.backlog),
        "delayed": await asyncio.start_server(handler("delayed", delay=args.greeting_delay),
                                              args.address, 0, limit=limit, backlog=args.backlog),
        "implicit": await asyncio.start_server(handler("implicit", implicit=True), args.address, 0,
                                               limit=limit, backlog=args.backlog, ssl=ctx,
                                               ssl_handshake_timeout=smtpd.IDLE_TIMEOUT),
    }
    ports = " ".join(f"{name}={s.sockets[0].getsockname()[1]}" for name, s in servers.items())
    print(f"ready {ports}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in servers.values():
        s.close()
    for name, counts in outcomes.items():
        total = sum(counts.values())
        detail = ", ".join(f"{n} {what}" for what, n in counts.most_common())
        print(f"tls_server {args.address} {name}: {total} connections" + (f" ({detail})" if total else ""),
              file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True, type=pathlib.Path, help="dir with certs/ (lab certificates)")
    ap.add_argument("--address", required=True)
    ap.add_argument("--chain", default="ee-mx1", type=lambda s: s.split(","),
                    help="certificate names, leaf first, comma-separated (default ee-mx1)")
    ap.add_argument("--greeting-delay", type=float, default=1.0, help="seconds (delayed listener)")
    ap.add_argument("--backlog", type=int, default=4096, help="listen backlog (smtpd.py: 100)")
    args = ap.parse_args()
    args.run = args.run.resolve()
    smtpd = load_smtpd()
    logging.getLogger("asyncio").setLevel(logging.ERROR)  # as smtpd.py
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # 1,000 connections at once
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(serve(args, smtpd))


if __name__ == "__main__":
    main()
