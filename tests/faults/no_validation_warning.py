#!/usr/bin/python3
"""faults.no_validation_warning DANESCAN CHECK-EXPORT

Scans a few lab domains with --resolver 127.53.0.3, the lab's nsd "main" server: authoritative
for the lab zones, it answers but never sets the AD bit. Asserts that the scan warns on stderr
that the resolver does not validate, still exits 0 and exports every domain (check-export
--strict passes, nothing reads secure), and, as a control, that the same scan through the
validating unbound gives no such warning. Prints 'N passed, M failed'.
"""

import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import _faultlib as fl  # noqa: E402

NSD_MAIN = "127.53.0.3"
# Signed and unsigned lab domains whose zones (and MX hosts' zones) nsd main serves.
DOMAINS = ["dane-ok.test", "no-tlsa.test", "unsigned.test", "alias-only.test", "two-hosts.test"]


def warns(stderr):
    s = stderr.lower()
    return "does not validate" in s or "never set the ad bit" in s


def main():
    danescan, checker = fl.args()
    resolver, lab_domains = fl.lab()
    checks = fl.Checks()
    work = fl.Work("faults-noad")
    try:
        domains = [d for d in DOMAINS if d in lab_domains]
        checks.check("the chosen domains are lab domains", len(domains) == len(DOMAINS),
                     sorted(set(DOMAINS) - set(domains)))
        lst = work.write_list("list.txt", domains)
        common = ["--no-probe", "--allow-special-addresses", "--timeout", "500", "--attempts", "2"]

        db, out = work.path("nsd.sqlite"), work.path("nsd.jsonl")
        p = fl.scan(danescan, [lst], db, "--resolver", NSD_MAIN, *common, timeout=60)
        print(p.stderr.strip())
        checks.check("scan through nsd (no validation) exits 0", p.returncode == 0, p.returncode)
        checks.check("stderr warns that the resolver does not validate (AD bit never set)",
                     warns(p.stderr), p.stderr[-400:])
        # The same warning also under --quiet: it is not progress output.
        db_q = work.path("nsd-quiet.sqlite")
        q = fl.scan(danescan, [lst], db_q, "--resolver", NSD_MAIN, "--quiet", *common, timeout=60)
        checks.check("with --quiet: exit 0 and still the warning", q.returncode == 0 and warns(q.stderr),
                     f"exit {q.returncode}: {q.stderr[-300:]}")
        rc, objs, err = fl.export(danescan, db, out)
        checks.check("export exits 0", rc == 0, err)
        names = [d["domain"] for d in objs]
        checks.check(f"every domain exported once ({len(domains)})",
                     sorted(names) == sorted(domains), names)
        rc, text = fl.check_export(checker, out)
        checks.check("check-export --strict passes", rc == 0, text[-600:])
        secure = [d["domain"] for d in objs if d["mx_secure"]
                  or any(h["addr_secure"] for h in d["mx"])]
        checks.check("nothing reads secure without AD", not secure, secure)
        dane = [d["domain"] for d in objs if d["verdict"].startswith("dane-")
                or d["verdict"] == "dnssec-no-tlsa"]
        checks.check("no DANE verdict without validation", not dane, dane)
        ad = fl.db_query(db, "SELECT count(*), sum(ad) FROM queries")[0]
        checks.check(f"db: {ad[0]} queries recorded, none with AD", ad[0] > 0 and not ad[1], ad)

        # Control: through the validating resolver, no warning and secure answers.
        db2, out2 = work.path("unbound.sqlite"), work.path("unbound.jsonl")
        p2 = fl.scan(danescan, [lst], db2, "--resolver", resolver, *common, timeout=60)
        checks.check("control scan through unbound exits 0", p2.returncode == 0, p2.returncode)
        checks.check("control: no warning about validation", not warns(p2.stderr), p2.stderr[-400:])
        rc, objs2, _ = fl.export(danescan, db2, out2)
        checks.check("control: some domains read secure (mx_secure)",
                     rc == 0 and any(d["mx_secure"] for d in objs2))
    finally:
        work.close()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
