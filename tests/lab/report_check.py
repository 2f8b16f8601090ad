#!/usr/bin/python3
"""Check a danescan report of a lab scan against the scenario catalogue's expectations.

usage: report_check.py DIR MODE [--catalogue DIR]

DIR holds report.text, report.md, report.json, report.csv and report.html of one lab scan made in
MODE (default or no-probe, as tests/lab/README.md defines them). Every figure checked is computed
here from the catalogue's expected export objects (compare_export.py's derivation for no-probe
scenarios without their own expectation), never from the report itself:
- the headline counts, every verdict's count, every host state's distinct hosts and domains;
- every finding code's domain count;
- the CNAME section: alias MX hosts, where their TLSA records sit (alias-only, canonical-only,
  both-differ: the hosts whose domain carries that finding), failed explicit CNAME queries, and
  the domains a strict RFC 7672 sender and a Postfix-like sender would defer;
- TLSA RRset sizes and usage/selector/matching-type counts (per distinct host name);
- in default mode, the probe count;
- the providers section: the providers ranked by failing domains overall, per TLD and, with
  DIR/ranked.csv (the rank,domain list the scan read), per rank bucket: rank, provider, hosts,
  domains served, failing hosts and domains, and the main cause where every failing domain of
  the provider has one MX host (its findings are then its host's).
Then the formats: JSON parses; CSV loads with the csv module and agrees with the JSON table by
table; both load in pandas (python3-pandas); text, Markdown and HTML carry every
section, and the HTML has its bar charts.
Prints one line per difference and 'report-check (MODE): N checks, M failed'; exit 1 on failure.
"""

import argparse
import collections
import csv
import json
import re
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from compare_export import derive_no_probe  # noqa: E402

FAILED_RCODES = lambda r: r not in (None, "NOERROR", "NXDOMAIN")  # noqa: E731


def plain(value):
    """A catalogue matcher {"any_of": [...]} becomes its first value; the checks below only ask
    questions (failure or not, NOERROR or not) whose answer is the same for every alternative."""
    if isinstance(value, dict) and "any_of" in value:
        options = value["any_of"]
        assert len({FAILED_RCODES(o) for o in options}) == 1, options
        assert len({o == "NOERROR" for o in options}) == 1, options
        return options[0]
    return value


def expectations(catalogue, mode):
    out = []
    for path in sorted(pathlib.Path(catalogue, "scenarios").glob("*.json")):
        scenario = json.loads(path.read_text())
        expect = scenario["expect"]
        if mode in expect:
            out.append(expect[mode])
        elif mode == "no-probe":
            out.append(derive_no_probe(expect["default"]))
        else:
            out.append(expect["default"])
    return out


# The codes that can name why a host in each failing state fails (report/sections_causes.cc and
# tests/lab/causes_check.py read the contract the same way).
CAUSES = {
    "lookup-error": {"address-lookup-failure", "tlsa-lookup-failure", "dnssec-bogus", "cname-loop"},
    "fail": {"tlsa-mismatch", "no-starttls-with-tlsa", "tls-handshake-failure", "starttls-rejected",
             "smtp-timeout", "smtp-protocol-error", "dane-ta-name-mismatch",
             "dane-ta-certificate-expired", "smtp-rate-limited"},
    "unreachable": {"tlsa-host-no-address", "smtp-connect-failure", "smtp-timeout",
                    "smtp-protocol-error", "smtp-rate-limited", "cname-loop"},
}


def failure_causes(domains, served, f):
    """The "Why hosts fail" figures from the contract objects: a failing host's causes are its
    domain's findings that can explain its state (the check assumes one failing host per domain,
    so the domain's findings are the host's); smtp-rate-limited counts when no probe of the host
    connected (the retry was refused with 421 too)."""
    causes = collections.defaultdict(set)  # code -> failing host names
    for d in domains:
        bad = [h for h in d["mx"] if h["dane"] in CAUSES]
        assert len(bad) <= 1, (d["domain"], "the check assumes at most one failing MX host per domain")
        for h in bad:
            named = set(d["findings"]) & CAUSES[h["dane"]]
            if "smtp-rate-limited" in named and any(p["connected"] for p in h["probes"]):
                named.discard("smtp-rate-limited")
            for code in named or {"(no cause named)"}:
                causes[code].add(h["host"])
    for code in sorted(set().union(*CAUSES.values())) + ["(no cause named)"]:
        names = causes.get(code, set())
        f["failure_causes", code, "hosts"] = len(names)
        f["failure_causes", code, "domains"] = len(set().union(*[served[x] for x in names]) if names else set())


def expected_figures(domains):
    """Every figure the report must show, from the contract objects alone."""
    f = {}
    n = len(domains)
    f["headline", "domains scanned"] = n
    f["headline", "domains with mail (verdict not no-mail)"] = sum(d["verdict"] != "no-mail" for d in domains)
    f["headline", "domains with a DNSSEC-validated MX RRset"] = sum(
        d["mx_secure"] and d["verdict"] not in ("no-mail", "dns-error") for d in domains)
    f["headline", "domains with TLSA records at one or more MX hosts"] = sum(
        any(h["tlsa"] for h in d["mx"]) for d in domains)
    f["headline", "domains with DANE (verdict dane-*)"] = sum(d["verdict"].startswith("dane-") for d in domains)
    f["headline", "domains DANE-authenticated (dane-ok, dane-partial)"] = sum(
        d["verdict"] in ("dane-ok", "dane-partial") for d in domains)
    hosts = {}  # name -> host object (a name shared by scenarios is one host)
    served = collections.defaultdict(set)
    for d in domains:
        for h in d["mx"]:
            hosts.setdefault(h["host"], h)
            served[h["host"]].add(d["domain"])
    f["headline", "distinct MX hosts"] = len(hosts)
    usable = {"pass", "fail", "unreachable", "unprobed"}
    f["headline", "MX hosts with usable TLSA (pass, fail, unreachable, unprobed)"] = sum(
        h["dane"] in usable for h in hosts.values())
    f["headline", "MX hosts that pass DANE"] = sum(h["dane"] == "pass" for h in hosts.values())

    for verdict in ("no-mail", "dns-error", "insecure", "dnssec-no-tlsa", "dane-ok", "dane-partial", "dane-fail",
                    "dane-unusable", "dane-unprobed"):
        f["verdicts", verdict, "domains"] = sum(d["verdict"] == verdict for d in domains)
    for state in ("insecure", "no-tlsa", "unusable-tlsa", "lookup-error", "pass", "fail", "unreachable", "unprobed"):
        names = [name for name, h in hosts.items() if h["dane"] == state]
        f["host_states", state, "hosts"] = len(names)
        f["host_states", state, "domains"] = len(set().union(*[served[x] for x in names]) if names else set())

    codes = collections.Counter(code for d in domains for code in set(d["findings"]))
    for code in ("mx-is-cname", "tlsa-alias-only", "tlsa-canonical-only", "tlsa-alias-canonical-differ",
                 "cname-query-failure", "tlsa-lookup-failure", "tlsa-in-insecure-zone", "tlsa-mismatch",
                 "no-starttls-with-tlsa", "tls-handshake-failure", "pkix-usage-in-smtp", "dnssec-bogus", "mx-servfail",
                 "single-tlsa-record", "dane-ee-name-mismatch-only", "tlsa-too-many-records", "tlsa-malformed",
                 "mx-invalid-name", "mx-special-address", "smtp-rate-limited", "address-lookup-failure",
                 "tlsa-host-no-address", "smtp-connect-failure", "smtp-timeout", "smtp-protocol-error",
                 "starttls-rejected", "dane-ta-name-mismatch", "dane-ta-certificate-expired"):
        f["findings", code, "domains"] = codes[code]
    failure_causes(domains, served, f)

    aliases = {name: h for name, h in hosts.items() if h["cname_chain"]}
    f["cname_hosts", "aliases (CNAME)", "hosts"] = len(aliases)
    for placement, code in (("alias-only", "tlsa-alias-only"), ("canonical-only", "tlsa-canonical-only"),
                            ("both-differ", "tlsa-alias-canonical-differ")):
        names = set()
        for d in domains:
            alias_hosts = [h["host"] for h in d["mx"] if h["cname_chain"]]
            if code in d["findings"]:
                assert len(alias_hosts) == 1, (d["domain"], "the check assumes one alias MX host per domain")
                names.add(alias_hosts[0])
        f["cname_tlsa_placement", placement, "hosts"] = len(names)
    f["cname_queries", "failed hosts"] = sum(FAILED_RCODES(plain(h["cname_rcode"])) for h in hosts.values())

    eligible = [d for d in domains if d["mx_secure"] and d["verdict"] not in ("no-mail", "dns-error")]

    def strict(h):
        return h["dane"] == "lookup-error"

    def postfix(h):
        return strict(h) or (FAILED_RCODES(plain(h["cname_rcode"])) and plain(h["addr_rcode"]) == "NOERROR"
                             and not h["addr_secure"])

    for sender, defers in (("rfc7672-strict", strict), ("postfix-like", postfix)):
        f["cname_deferral", sender, "domains_some"] = sum(any(defers(h) for h in d["mx"]) for d in eligible)
        f["cname_deferral", sender, "domains_all"] = sum(bool(d["mx"]) and all(defers(h) for h in d["mx"])
                                                         for d in eligible)
        f["cname_deferral", sender, "hosts"] = sum(defers(h) for h in hosts.values())

    # Host rows as storage keeps them (storage/SCHEMA.md): one per name and observation. Of the
    # findings a host reports, only dane-ee-name-mismatch-only can differ between the domains of
    # a shared host (the next-hop domain is a reference name): such a host is two rows.
    rows = {}
    for d in domains:
        ee_names = "dane-ee-name-mismatch-only" in d["findings"]
        assert not ee_names or len(d["mx"]) == 1, (d["domain"], "the check assumes one MX host with that finding")
        for h in d["mx"]:
            rows.setdefault((h["host"], ee_names), h)

    sizes = collections.Counter(len(h["tlsa"]) for h in hosts.values() if h["tlsa"])
    for size, count in sizes.items():
        f["tlsa_rrset_sizes", str(size), "hosts"] = count
    params = collections.Counter()
    for h in rows.values():  # the report counts records per host row
        for record in h["tlsa"]:
            u, s, m = record.split()[:3]
            params[u, s, m] += 1
    for (u, s, m), count in params.items():
        f["tlsa_parameters", f"{u} {s} {m}", "records"] = count
    f["tls_probes", "probes"] = sum(len(h["probes"]) for h in rows.values())
    # Who would defer: the catalogue's delivery objects (hand-derived), per policy and value.
    with_delivery = [d for d in domains if d.get("delivery")]
    for policy in ("rfc7672", "postfix"):
        for value in ("deliver", "fallback", "defer", "unknown"):
            f["delivery", (policy, value)] = sum(d["delivery"][policy] == value for d in with_delivery)
    f["delivery_deferred", "domains"] = sorted(d["domain"] for d in with_delivery
                                               if "defer" in d["delivery"].values())
    f["delivery_disagree", "domains"] = sorted(d["domain"] for d in with_delivery
                                               if d["delivery"]["rfc7672"] != d["delivery"]["postfix"])
    return f


# report/providers.cc: a provider breaks a dane-fail domain through a host in one of these states;
# its main cause is the most frequent finding (ties: byte order) other than these.
FAILING_STATES = {"fail", "lookup-error", "unreachable"}
NOT_CAUSES = {"mx-is-cname", "tlsa-alias-only", "tlsa-canonical-only", "tlsa-alias-canonical-differ",
              "cname-query-failure", "tlsa-in-insecure-zone", "pkix-usage-in-smtp", "single-tlsa-record",
              "dane-ee-name-mismatch-only", "tlsa-too-many-records", "tlsa-malformed", "mx-invalid-name",
              "mx-special-address", "mx-limit-reached"}
RANK_BUCKETS = (("top 1k", 1000), ("top 10k", 10000), ("top 100k", 100000), ("top 1M", 1000000))


def provider_of(name):
    """The registered domain as libpsl gives it for the lab's names: `test.` is not in the public
    suffix list, so the default rule `*` applies (the last two labels); an IP literal is itself."""
    if ":" in name or all(c.isdigit() or c == "." for c in name):
        return name
    assert name.endswith(".test"), name
    return ".".join(name.split(".")[-2:])


def provider_rankings(domains, partitions, limit):
    """{(partition, rank): (provider, hosts, domains, failing_hosts, failing_domains, main_cause)};
    main_cause None where it cannot be told from the domain objects (a failing domain with two
    MX hosts)."""
    stats = {}
    for d in domains:
        for part in partitions(d):
            for h in d["mx"]:
                s = stats.setdefault((part, provider_of(h["host"])), {
                    "hosts": set(), "domains": set(), "failing_hosts": set(), "failing": set(),
                    "causes": collections.Counter(), "knowable": True})
                s["hosts"].add(h["host"])
                s["domains"].add(d["domain"])
                if d["verdict"] == "dane-fail" and h["dane"] in FAILING_STATES:
                    s["failing_hosts"].add(h["host"])
                    if d["domain"] not in s["failing"]:
                        s["failing"].add(d["domain"])
                        s["knowable"] &= len(d["mx"]) == 1
                        s["causes"].update(set(d["findings"]) - NOT_CAUSES)
    ranked = collections.defaultdict(list)
    for (part, provider), s in stats.items():
        if s["failing"]:
            ranked[part].append(((-len(s["failing"]), -len(s["domains"]), provider), provider, s))
    out = {}
    for part, entries in ranked.items():
        for rank, (_, provider, s) in enumerate(sorted(entries, key=lambda e: e[0])[:limit], 1):
            cause = min(s["causes"].items(), key=lambda kv: (-kv[1], kv[0]))[0] if s["causes"] else None
            out[part, rank] = (provider, len(s["hosts"]), len(s["domains"]), len(s["failing_hosts"]),
                               len(s["failing"]), cause if s["knowable"] else None)
    return out


def check_providers(domains, ranks, tables, check):
    """The providers section against provider_rankings() of the catalogue's domain objects."""
    def tld(d):
        return [d["domain"].rsplit(".", 1)[-1]]

    def buckets(d):
        rank = ranks.get(d["domain"])
        return [name for name, top in RANK_BUCKETS if rank is not None and rank <= top]

    for table, partitions, limit, part_column in (("providers", lambda d: [""], 20, None),
                                                  ("provider_tlds", tld, 5, "tld"),
                                                  ("provider_ranks", buckets, 5, "rank_bucket")):
        if table == "provider_ranks" and not ranks:
            continue
        expected = provider_rankings(domains, partitions, limit)
        rows = tables[table]["rows"]
        check(f"{table} rows", len(expected), len(rows))
        for r in rows:
            key = (r[part_column] if part_column else "", r["rank"])
            want = expected.get(key)
            got = (r["provider"], r["hosts"], r["domains"], r["failing_hosts"], r["failing_domains"])
            check(f"{table} {key}", want[:5] if want else None, got)
            if want and want[5] is not None:
                check(f"{table} {key} main_cause", want[5], r["main_cause"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("mode", choices=["default", "no-probe"])
    ap.add_argument("--catalogue", default=str(HERE / "catalogue"))
    args = ap.parse_args()
    d = pathlib.Path(args.dir)
    problems, checks = [], 0

    def check(what, expected, actual):
        nonlocal checks
        checks += 1
        if expected != actual:
            problems.append(f"{what}: expected {expected!r}, got {actual!r}")

    report = json.loads((d / "report.json").read_text(encoding="utf-8"))
    tables = report["tables"]

    def cell(table, key, column):
        first = tables[table]["columns"][0]["name"]
        return next((row[column] for row in tables[table]["rows"] if str(row[first]) == key), None)

    domains = expectations(args.catalogue, args.mode)
    # The methods box (report/methods.cc): the scan's program, list, resolver and probes, from what
    # the test gave it: every catalogue domain read once from one list, no line invalid.
    box = {}
    for r in tables["methods"]["rows"]:
        box.setdefault(r["item"], []).append(r["setting"])
    check("methods: first section", "methods", report["sections"][0]["id"])
    check("methods: status", ["completed"], box.get("status"))
    check("methods: lists", 1, len(box.get("list", [])))
    listed = re.fullmatch(r".*: (\d+) lines, 0 invalid, 0 duplicates", (box.get("list") or [""])[0])
    # One line per domain, and the CSV list's header line when it counts it.
    check("methods: list lines", True, bool(listed) and int(listed.group(1)) in (len(domains), len(domains) + 1))
    check("methods: probes", ["off (--no-probe)" if args.mode == "no-probe" else "on"], box.get("probes"))
    check("methods: danescan version", True, bool(box.get("danescan version")))
    expected = expected_figures(domains)
    for key, value in expected.items():
        if key[0] == "headline":
            check(f"headline '{key[1]}'", value, cell("headline", key[1], "count"))
        elif key[0] == "cname_queries":
            actual = sum(r["hosts"] for r in tables["cname_queries"]["rows"] if r["failed"] == 1)
            check("cname_queries failed hosts", value, actual)
        elif key[0] == "tlsa_parameters":
            check(f"tlsa_parameters {key[1]}", value, next((r["records"] for r in tables["tlsa_parameters"]["rows"]
                                                            if f"{r['usage']} {r['selector']} {r['mtype']}" == key[1]),
                                                           None))
        elif key[0] == "delivery":
            check(f"delivery {key[1]}", value, next((r["domains"] for r in tables["delivery"]["rows"]
                                                     if (r["sender"], r["delivery"]) == key[1]), None))
        elif key[0] in ("delivery_deferred", "delivery_disagree"):
            check(f"{key[0]} domains", value, [r["domain"] for r in tables[key[0]]["rows"]])
        elif key[0] == "tls_probes":
            check("tls_probes probes", value, cell("tls_probes", "probes", "count"))
        else:
            check(f"{key[0]} '{key[1]}' {key[2]}", value, cell(key[0], key[1], key[2]))
    # No extra rows beyond those the catalogue predicts.
    check("tlsa_rrset_sizes rows", sorted(k[1] for k in expected if k[0] == "tlsa_rrset_sizes"),
          sorted(str(r["records"]) for r in tables["tlsa_rrset_sizes"]["rows"]))
    check("tlsa_parameters rows", sorted(k[1] for k in expected if k[0] == "tlsa_parameters"),
          sorted(f"{r['usage']} {r['selector']} {r['mtype']}" for r in tables["tlsa_parameters"]["rows"]))

    ranks = {}
    if (d / "ranked.csv").exists():
        for line in (d / "ranked.csv").read_text().splitlines()[1:]:
            rank, name = line.split(",")
            ranks[name] = int(rank)
    check_providers(domains, ranks, tables, check)

    # CSV: loads with the csv module, one header; each table's rows equal the JSON's.
    with open(d / "report.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for name, t in tables.items():
        mine = [r for r in rows if r["table"] == name]
        check(f"csv rows of {name}", len(t["rows"]), len(mine))
        for jr, cr in zip(t["rows"], mine):
            for column in t["columns"]:
                v = jr[column["name"]]
                text = "" if v is None else (repr(v) if isinstance(v, float) else str(v))
                got = cr[column["name"]]
                if isinstance(v, float):
                    got = repr(float(got)) if got else ""
                if text != got:
                    check(f"csv {name}.{column['name']}", text, got)

    # pandas (python3-pandas, installed by tests/install-deps): both shapes load with no
    # post-processing, numeric columns as numbers. Missing pandas is a failure, not a skip.
    try:
        import pandas as pd
    except ImportError:
        pd = None
    check("pandas importable (python3-pandas)", True, pd is not None)
    if pd is not None:
        df = pd.read_csv(d / "report.csv")
        verdicts = df[df.table == "verdicts"].dropna(axis=1, how="all")
        check("pandas csv: verdict domains are integers", True,
              str(verdicts["domains"].dtype).startswith(("int", "float")) and
              int(verdicts["domains"].sum()) == expected["headline", "domains scanned"])
        check("pandas csv: share is float", "float64", str(df["share"].dtype))
        for name, t in tables.items():
            frame = pd.DataFrame(t["rows"], columns=[c["name"] for c in t["columns"]])
            check(f"pandas json {name} rows", len(t["rows"]), len(frame))
        frame = pd.DataFrame(tables["findings"]["rows"]).set_index("code")
        check("pandas json findings domains", expected["findings", "mx-is-cname", "domains"],
              int(frame.loc["mx-is-cname", "domains"]))

    # Every section in the people formats; the HTML's charts drawn as SVG bars.
    text = (d / "report.text").read_text(encoding="utf-8")
    md = (d / "report.md").read_text(encoding="utf-8")
    html = (d / "report.html").read_text(encoding="utf-8")
    for section in report["sections"]:
        check(f"text has section {section['id']}", True, f"== {section['title']} ==" in text)
        check(f"md has section {section['id']}", True, f"## {section['title']}" in md)
        check(f"html has section {section['id']}", True, f'<section id="{section["id"]}">' in html)
        for table_id in section["tables"]:
            check(f"html has table {table_id}", True, f'<h3 id="{table_id}">' in html)
    check("html bar charts", True, html.count('<svg class="chart"') >= 10 and html.count('<rect class="bar"') >= 20)

    for p in problems:
        print(f"DIFF {p}")
    print(f"report-check ({args.mode}): {checks} checks, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
