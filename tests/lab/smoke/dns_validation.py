#!/usr/bin/python3 -B
"""DNS smoke test: DNSSEC validation through the lab resolver, on the fixed zones of
tests/lab/dns/smoke-zones.json (secure, insecure, securely absent, and the three signing
faults, each with the Extended DNS Error that tells it apart)."""

from _dnslab import NOERROR, NXDOMAIN, SERVFAIL, check, done, flush, query

# A signed zone validates; so does a zone delegated from a lab zone rather than from test.
check("signed A has AD=1", query("mx.labdns-signed.test", "A"), NOERROR, ad=True,
      answer="127.25.0.250")
check("signed TLSA has AD=1", query("_25._tcp.mx.labdns-signed.test", "TLSA"), NOERROR,
      ad=True, answer="3 1 1 ")
check("nested signed zone has AD=1", query("mx.sub.labdns-signed.test", "A"), NOERROR,
      ad=True, answer="127.25.0.251")
check("unsigned A has AD=0", query("mx.labdns-unsigned.test", "A"), NOERROR, ad=False,
      answer="127.25.0.252")

# "No TLSA" is proven: NXDOMAIN and NODATA in a signed zone both carry AD=1.
check("missing _25._tcp name: NXDOMAIN with AD=1",
      query("_25._tcp.missing.labdns-signed.test", "TLSA"), NXDOMAIN, ad=True)
check("missing TLSA type: NODATA with AD=1", query("mx.labdns-signed.test", "TLSA"),
      NOERROR, ad=True)

# RFC 7672 2.2.3: a signed alias into an unsigned zone is insecure as a whole (AD=0 for A)
# while the CNAME record itself validates (AD=1 for the explicit CNAME query).
check("signed alias into unsigned zone: A has AD=0", query("alias.labdns-signed.test", "A"),
      NOERROR, ad=False, answer="CNAME mx.labdns-outlook.test.")
check("signed alias: explicit CNAME query has AD=1", query("alias.labdns-signed.test", "CNAME"),
      NOERROR, ad=True, answer="CNAME mx.labdns-outlook.test.")

# Signing faults: SERVFAIL with an EDE, the data still there with CD=1. Each zone is flushed
# first so that unbound validates afresh and reports the specific EDE.
for zone, name, ede in (("labdns-bogus.test", "mx.labdns-bogus.test", 6),
                        ("labdns-expired.test", "mx.labdns-expired.test", 7),
                        ("labdns-dsmismatch.test", "mx.labdns-dsmismatch.test", 9)):
    flush(zone)
    check(f"{zone}: SERVFAIL with EDE {ede}", query(name, "A"), SERVFAIL, ad=False, ede=ede)
    check(f"{zone}: cached failure still SERVFAIL with an EDE", query(name, "A"), SERVFAIL,
          ede=True)
    check(f"{zone}: NOERROR with CD=1", query(name, "A", cd=True), NOERROR, ad=False,
          answer="127.25.0.253")
# bogus_names corrupts only the names listed: the rest of the zone validates.
check("bogus zone: a name not listed has AD=1", query("ok.labdns-bogus.test", "A"), NOERROR,
      ad=True, answer="127.25.0.254")

done()
