#!/usr/bin/python3 -B
"""DNS smoke test: the misbehaving lab servers, asked directly and through the resolver.
outlook-like (127.53.0.4): answers A, NOTIMP to CNAME, SERVFAIL to TLSA; refused
(127.53.0.6); servfail (127.53.0.7); dead (127.53.0.5, nothing listens)."""

import socket

import dns.exception

from _dnslab import (DEAD_ADDR, NOERROR, NOTIMP, NXDOMAIN, OUTLOOK_ADDR, REFUSED,
                     REFUSED_ADDR, SERVFAIL, SERVFAIL_ADDR, check, done, flush_name, query,
                     report)

for tcp in (False, True):
    via = "TCP" if tcp else "UDP"
    check(f"outlook direct ({via}): A answered authoritatively",
          query("mx.labdns-outlook.test", "A", OUTLOOK_ADDR, tcp=tcp), NOERROR, aa=True,
          answer="127.25.0.249")
    check(f"outlook direct ({via}): CNAME query gets NOTIMP",
          query("alias.labdns-outlook.test", "CNAME", OUTLOOK_ADDR, tcp=tcp), NOTIMP)
    check(f"outlook direct ({via}): TLSA query gets SERVFAIL",
          query("_25._tcp.mx.labdns-outlook.test", "TLSA", OUTLOOK_ADDR, tcp=tcp), SERVFAIL)
    check(f"refused direct ({via}): REFUSED", query("x.labdns-refused.test", "A", REFUSED_ADDR,
                                                    tcp=tcp), REFUSED)
    check(f"servfail direct ({via}): SERVFAIL",
          query("x.labdns-servfail.test", "A", SERVFAIL_ADDR, tcp=tcp), SERVFAIL)
check("outlook direct: in-zone CNAME followed for A",
      query("alias.labdns-outlook.test", "A", OUTLOOK_ADDR), NOERROR, aa=True,
      answer="127.25.0.249")
check("outlook direct: missing name gets NXDOMAIN",
      query("nope.labdns-outlook.test", "A", OUTLOOK_ADDR), NXDOMAIN, aa=True)
check("outlook direct: a name outside its zones gets REFUSED",
      query("mx.labdns-signed.test", "A", OUTLOOK_ADDR), REFUSED)

# Through unbound: the authoritative failures are SERVFAIL, with CD=1 too, without an EDE
# (nothing to do with DNSSEC), and a NOTIMP for CNAME does not spoil the A lookups.
check("resolver: CNAME query at outlook gives SERVFAIL",
      query("mx.labdns-outlook.test", "CNAME"), SERVFAIL)
check("resolver: TLSA query at outlook gives SERVFAIL",
      query("_25._tcp.mx.labdns-outlook.test", "TLSA"), SERVFAIL)
check("resolver: A at outlook still resolves (AD=0, unsigned)",
      query("alias.labdns-outlook.test", "A"), NOERROR, ad=False, answer="127.25.0.249")

# The catalogue's own outlook names (catalogue/world.json, scenarios outlook-direct and
# outlook-alias) behave as its expectations assume. unbound answers a CNAME query from a CNAME
# cached by an A answer (outlook-chain's "about"), so each name is flushed and its CNAME query
# sent first.
direct = "outlook-direct-test.mail.protection.outlook.test"
flush_name(direct, "TLSA")
flush_name(f"_25._tcp.{direct}", "TLSA")
check(f"resolver: {direct} CNAME gives SERVFAIL", query(direct, "CNAME"), SERVFAIL)
check(f"resolver: {direct} A answered, AD=0", query(direct, "A"), NOERROR, ad=False,
      answer="127.25.0.33")
check(f"resolver: _25._tcp.{direct} TLSA gives SERVFAIL", query(f"_25._tcp.{direct}", "TLSA"),
      SERVFAIL)
alias, canonical = "mx.outlook-alias.test", "outlook-alias-test.mail.protection.outlook.test"
flush_name(alias)
flush_name(canonical)
check(f"resolver: {alias} explicit CNAME NOERROR, AD=1 (signed alias)", query(alias, "CNAME"),
      NOERROR, ad=True, answer=canonical)
r = query(alias, "A")
check(f"resolver: {alias} A answered with the CNAME chain, AD=0", r, NOERROR, ad=False,
      answer="127.25.0.34")
check(f"resolver: {alias} A answer holds the CNAME", r, NOERROR, answer=f"CNAME {canonical}.")

for zone in ("labdns-refused.test", "labdns-servfail.test"):
    for cd in (False, True):
        check(f"resolver: {zone} gives SERVFAIL{' with CD=1' if cd else ''}, no EDE",
              query(f"mx.{zone}", "A", cd=cd), SERVFAIL, ede=[])

# Dead: nothing listens. TCP is refused at once; a UDP query gets no reply.
problems = []
try:
    socket.create_connection((DEAD_ADDR, 53), timeout=2).close()
    problems.append("a TCP connection was accepted")
except ConnectionRefusedError:
    pass
except OSError as e:
    problems.append(f"TCP connect: {e} (want connection refused)")
try:
    r = query("mx.labdns-dead.test", "A", DEAD_ADDR, timeout=1)
    problems.append(f"UDP got a reply: rcode {r.rcode()}")
except (dns.exception.Timeout, ConnectionRefusedError):
    pass
report("dead: nothing listens on 127.53.0.5:53", problems)

done()
