#!/usr/bin/python3
"""Generate a scan database of N domains for bench/report.sh (default 1,000,000).

usage: gen_report_db.py DANESCAN OUT.sqlite [--domains N] [--seed S]

The schema comes from danescan itself (a scan of an empty list creates the file and its run);
the rows are then written with SQL directly, in one transaction, which is ~20x faster than
replaying records through storage::Writer and gives the same tables. The mix (fixed seed):

  share  verdict          MX hosts
  3 %    no-mail          none (NXDOMAIN)
  1 %    dns-error        none (SERVFAIL + CD repeat, EDE 22)
  55 %   insecure         unsigned provider hosts (2,000 providers x 2 hosts, Zipf 1/rank)
  20 %   dnssec-no-tlsa   own signed host without TLSA
  13 %   dane-ok          half at 100 signed DANE providers (2 hosts each), half own host; 2 TLSA records
                          (30 % a DANE-TA + DANE-EE pair), one probe with a 2-certificate chain
  3 %    dane-fail        own host, tlsa-mismatch (probe fails)
  2 %    dane-fail        alias MX host into a provider zone whose TLSA lookup fails
                          (lookup-error, tlsa-lookup-failure, cname-query-failure, mx-is-cname)
  1 %    dane-unusable    own host with PKIX-EE(1) records only
  2 %    dane-partial     own DANE host (pass) plus an unsigned backup host

Queries: one MX query per domain; per host row A, AAAA, CNAME and TLSA (or tlsa-insecure), so
about 2.3 million query rows for a million domains.
"""

import argparse
import itertools
import os
import random
import sqlite3
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("danescan")
    ap.add_argument("out")
    ap.add_argument("--domains", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    if os.path.exists(args.out):
        os.remove(args.out)
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as empty:
        subprocess.run([args.danescan, "scan", empty.name, "--resolver", "127.0.0.1:9", "--db", args.out, "--quiet"],
                       check=True)
    db = sqlite3.connect(args.out, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    db.execute("BEGIN")
    run = db.execute("SELECT max(id) FROM runs").fetchone()[0]
    now = "2026-11-29T00:00:00.000Z"

    hosts, host_addr, tlsa, host_findings, probes, certs, queries = [], [], [], [], [], [], []
    domains, mx, findings, chains = [], [], [], []
    host_codes = {}
    next_host = [0]
    next_probe = [0]
    hex64 = lambda: "%064x" % rnd.getrandbits(256)  # noqa: E731

    def host(name, dane, addr_secure=1, cname_rcode="NOERROR", tlsa_rcode=None, records=(), codes=(), probe=None,
             chain=None):
        next_host[0] += 1
        h = next_host[0]
        hosts.append((h, run, name, h, "NOERROR", addr_secure, cname_rcode, 1 if addr_secure else 0,
                      name if records else None, tlsa_rcode, None, None, dane))
        host_addr.append((h, 0, "192.0.%d.%d" % (h // 250 % 250, h % 250)))
        for i, (u, s, m) in enumerate(records):
            tlsa.append((h, "base", i, u, s, m, hex64()))
        for i, c in enumerate(codes):
            host_findings.append((h, i, c))
        host_codes[h] = list(codes)
        if chain:
            chains.append((h, 0, chain))
        for i, (purpose, t, rcode) in enumerate((("a", 1, "NOERROR"), ("aaaa", 28, "NOERROR"),
                                                 ("cname", 5, cname_rcode or "NOERROR"),
                                                 ("tlsa" if addr_secure else "tlsa-insecure", 52,
                                                  tlsa_rcode or "NXDOMAIN"))):
            ms = int(rnd.expovariate(1 / 25))
            queries.append((h, None, i, purpose, name, t, 0, rcode, addr_secure, int(rnd.random() < 0.01),
                            "[]" if rcode != "SERVFAIL" else "[22]", "", ms, 1, "127.0.0.1:53", "", ""))
        if probe:
            next_probe[0] += 1
            p = next_probe[0]
            ok = probe == "pass"
            probes.append((p, h, 0, host_addr[-1][2], 1, 1, 1, probe, "3 1 1 x" if ok else None,
                           None if ok else "no TLSA record matched", 25, name, "ok", 3, "ok", 5, "ok", 4, "ok", 3,
                           "ok", 12, "TLSv1.3", "TLS_AES_256_GCM_SHA384", 0 if ok else None, 0, "ok", 1, 0, 1, 40))
            kind = rnd.choice((("EC", 256), ("RSA", 2048), ("RSA", 4096)))
            days = rnd.randint(-30, 400)
            certs.append((p, 0, hex64(), hex64(), "CN=" + name, "CN=CA %d" % (h % 7), kind[0], kind[1],
                          '["DNS:%s"]' % name, "2026-01-01T00:00:00Z", "2027-%02d-01T00:00:00Z" % (1 + days % 12)))
            certs.append((p, 1, hex64(), hex64(), "CN=CA %d" % (h % 7), "CN=CA %d" % (h % 7), "RSA", 4096, "[]",
                           "2025-01-01T00:00:00Z", "2035-01-01T00:00:00Z"))
        return h

    # Provider hosts, shared by many domains.
    unsigned = [host("mx%d.prov%d.net" % (i % 2, i // 2), "insecure", addr_secure=0) for i in range(4000)]
    dane_prov = [host("mx%d.dprov%d.org" % (i % 2, i // 2), "pass", tlsa_rcode="NOERROR",
                      records=((3, 1, 1), (3, 1, 1)), probe="pass") for i in range(200)]
    broken_prov = [host("mx.%d.protection.outlook-like.com" % i, "insecure", addr_secure=0, cname_rcode="SERVFAIL",
                        tlsa_rcode="SERVFAIL", codes=("cname-query-failure",)) for i in range(50)]
    # Cumulative Zipf weights (1/rank): choices() then bisects instead of summing per call.
    zipf_unsigned = list(itertools.accumulate(1 / (r + 1) for r in range(len(unsigned))))
    zipf_dane = list(itertools.accumulate(1 / (r + 1) for r in range(len(dane_prov))))

    for n in range(args.domains):
        name = "d%07d.example" % n
        x = rnd.random()
        codes = set()
        links = []
        mx_rcode, mx_secure, verdict = "NOERROR", 1, None
        if x < 0.03:
            verdict, mx_rcode = "no-mail", "NXDOMAIN"
        elif x < 0.04:
            verdict, mx_rcode, mx_secure = "dns-error", "SERVFAIL", 0
            codes.add("mx-servfail")
        elif x < 0.59:
            verdict, mx_secure = "insecure", int(rnd.random() < 0.1)
            links = [rnd.choices(unsigned, cum_weights=zipf_unsigned)[0]]
        elif x < 0.79:
            verdict = "dnssec-no-tlsa"
            links = [host("mx." + name, "no-tlsa", tlsa_rcode="NXDOMAIN")]
        elif x < 0.92:
            verdict = "dane-ok"
            if rnd.random() < 0.5:
                links = [rnd.choices(dane_prov, cum_weights=zipf_dane)[0]]
            else:
                records = ((2, 0, 1), (3, 1, 1)) if rnd.random() < 0.3 else ((3, 1, 1), (3, 1, 1))
                links = [host("mx." + name, "pass", tlsa_rcode="NOERROR", records=records, probe="pass")]
        elif x < 0.95:
            verdict = "dane-fail"
            links = [host("mx." + name, "fail", tlsa_rcode="NOERROR", records=((3, 1, 1), (3, 1, 1)),
                          codes=("tlsa-mismatch",), probe="fail")]
        elif x < 0.97:
            verdict = "dane-fail"
            target = rnd.choice(broken_prov)
            links = [host("mail." + name, "lookup-error", addr_secure=0, cname_rcode="SERVFAIL",
                          tlsa_rcode="SERVFAIL", codes=("mx-is-cname", "cname-query-failure", "tlsa-lookup-failure"),
                          chain="mx.%d.protection.outlook-like.com" % (target % 50))]
        elif x < 0.98:
            verdict = "dane-unusable"
            links = [host("mx." + name, "unusable-tlsa", tlsa_rcode="NOERROR", records=((1, 1, 1), (1, 1, 1)),
                          codes=("pkix-usage-in-smtp",))]
        else:
            verdict = "dane-partial"
            links = [host("mx." + name, "pass", tlsa_rcode="NOERROR", records=((3, 1, 1), (3, 1, 1)), probe="pass"),
                     rnd.choices(unsigned, cum_weights=zipf_unsigned)[0]]
        d = n + 1
        # rank = the line, as a rank,domain list gives it (the report's rank buckets)
        delivery = None if verdict == "no-mail" else "defer" if verdict in ("dane-fail", "dns-error") else "deliver"
        domains.append((d, run, name, "list.txt", n + 1, n + 1, verdict, mx_rcode, mx_secure, 0, now, delivery, delivery))
        for i, h in enumerate(links):
            mx.append((d, i, h, 10 * (i + 1)))
            for k, code in enumerate(host_codes[h]):
                findings.append((d, k, code, h))
        for code in codes:
            findings.append((d, 0, code, None))
        ms = int(rnd.expovariate(1 / 30))
        queries.append((None, d, 0, "mx", name, 15, 0, mx_rcode, mx_secure, 0, "[22]" if mx_rcode == "SERVFAIL" else "[]",
                        "", ms, 1, "127.0.0.1:53", "", ""))
        if mx_rcode == "SERVFAIL":
            queries.append((None, d, 1, "mx+cd", name, 15, 1, "SERVFAIL", 0, 0, "[]", "", 3, 1, "127.0.0.1:53", "", ""))

    def put(table, rows):
        if rows:
            db.executemany("INSERT INTO %s VALUES (%s)" % (table, ",".join("?" * len(rows[0]))), rows)

    put("hosts", hosts)
    put("host_addresses", host_addr)
    put("tlsa_records", tlsa)
    put("host_findings", host_findings)
    put("cname_chain", chains)
    put("domains", domains)
    put("mx", mx)
    put("findings", findings)
    put("probes", probes)
    put("probe_certs", certs)
    db.executemany("INSERT INTO queries (host_id, domain_id, position, purpose, name, type, cd, rcode, ad, tcp, ede, "
                   "ede_text, elapsed_ms, attempts, resolver, answer, error) VALUES (%s)" % ",".join("?" * 17), queries)
    db.execute("COMMIT")
    db.close()
    print(f"gen_report_db: {len(domains)} domains, {len(hosts)} host rows, {len(mx)} mx links, {len(findings)} "
          f"findings, {len(tlsa)} TLSA records, {len(probes)} probes, {len(queries)} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
