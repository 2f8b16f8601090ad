#!/usr/bin/python3
"""Compare a danescan export of a lab scan with the scenario catalogue's expectations.

usage: compare_export.py EXPORT.jsonl MODE [--rundir DIR] [--catalogue DIR] [--dns-only]

MODE is the scan mode the export came from (tests/lab/README.md): default, no-probe or strict.
Placeholders ({cert:NAME:S:M}) are expanded with the running lab's certificates (RUNDIR,
default $DANESCAN_LAB_DIR or /tmp/danescan-lab).

Which expectation a scenario is held to:
- the scenario's own expectation for MODE, when it has one: every field;
- in no-probe mode otherwise: its default expectation, seen by a scan that makes no probe
  (derive_no_probe below: DNS fields as they are; hosts that would be probed are `unprobed`,
  or `unreachable` when they have no address at all; no probes; no TLS findings; the verdict
  follows the contract's precedence from those states, the delivery the rules of
  tests/lab/README.md "Delivery" (delivery_of below));
- in strict mode otherwise: not compared (strict expectations exist where they matter);
- --dns-only compares only the DNS fields (for default-mode scans until TLS probes exist).
`findings` and `tlsa` compare as sets; hosts in order; probes in order. Matchers: any_of, nonnull.
Exit 1 with one line per difference; prints a summary line 'N passed, M failed'.
"""

import argparse
import copy
import json
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
TLS_FINDINGS = {"tlsa-mismatch", "no-starttls-with-tlsa", "tls-handshake-failure",
                "dane-ee-name-mismatch-only", "smtp-rate-limited",
                # the causes a probe shows (address-lookup-failure and tlsa-host-no-address
                # come from DNS and stay in a no-probe scan)
                "smtp-connect-failure", "smtp-timeout", "smtp-protocol-error", "starttls-rejected",
                "dane-ta-name-mismatch", "dane-ta-certificate-expired"}
PROBED_STATES = {"pass", "fail", "unreachable", "unprobed"}
DNS_HOST_FIELDS = ["host", "preference", "cname_chain", "addr_rcode", "addr_secure", "cname_rcode",
                   "addresses", "tlsa_base", "tlsa_rcode", "tlsa"]
DNS_DOMAIN_FIELDS = ["domain", "mx_rcode", "mx_secure", "implicit_mx"]
SET_FIELDS = {"findings", "tlsa"}


def verdict_of(d):
    """The contract's precedence list (export-jsonl.md, 'Domain verdicts')."""
    states = [h["dane"] for h in d["mx"]]
    if d["verdict"] == "no-mail":  # no-mail also covers an implicit MX without addresses
        return "no-mail"
    if d["mx_rcode"] == "NXDOMAIN" or (d["mx_rcode"] == "NOERROR" and not states):
        return "no-mail"
    if d["mx_rcode"] != "NOERROR" and not isinstance(d["mx_rcode"], dict):
        return "dns-error"
    if not d["mx_secure"] or all(s == "insecure" for s in states):
        return "insecure"
    if any(s in ("fail", "lookup-error", "unreachable") for s in states):
        return "dane-fail"
    if "unusable-tlsa" in states:
        return "dane-unusable"
    if "unprobed" in states:
        return "dane-unprobed"
    if all(s == "pass" for s in states):
        return "dane-ok"
    if "pass" in states:
        return "dane-partial"
    return "dnssec-no-tlsa"


POSTFIX_ADDRESS_LIMIT = 5  # smtp_mx_address_limit


def _walk(groups, budget):
    """groups: per preference, the items ('accept', 'reject', 'unknown') a sender may try."""
    maybe = False
    for i, items in enumerate(groups):
        tried = min(len(items), budget)
        budget -= tried
        accepting, unknown = items.count("accept"), items.count("unknown")
        if tried and accepting > len(items) - tried:
            group = "accept"
        elif tried and accepting + unknown:
            group = "maybe"
        else:
            group = "reject"
        if i == 0 and group != "reject":
            return "deliver" if group == "accept" else "unknown"
        if i > 0 and group == "accept":
            return "fallback"  # whatever an earlier backup group did: fallback too
        maybe = maybe or group == "maybe"
    return "unknown" if maybe else "defer"


def _postfix_address(h, probe):
    if h["cname_chain"] and not h["addr_secure"] and h["cname_rcode"] not in (None, "NOERROR"):
        return "reject"  # Postfix's explicit CNAME query failed: TLSA lookup error
    state = h["dane"]
    if state in ("insecure", "no-tlsa"):
        return "accept"
    if state == "unusable-tlsa":
        return "reject" if probe and not (probe["connected"] and probe["tls_ok"]) else "accept"
    if state == "lookup-error":
        return "unknown" if h["addr_rcode"] not in ("NOERROR", "NXDOMAIN") else "reject"
    if state == "unprobed" or probe is None:
        return "unknown"
    return "accept" if probe["connected"] and probe["dane"] == "pass" else "reject"


def delivery_of(d):
    """The contract's delivery object from a domain object (tests/lab/README.md 'Delivery')."""
    if d["verdict"] == "no-mail":
        return None
    if d["verdict"] == "dns-error":
        return {"rfc7672": "defer", "postfix": "defer"}
    rfc, postfix = {}, {}
    for h in d["mx"]:
        state = h["dane"]
        rfc.setdefault(h["preference"], []).append(
            "reject" if state in ("fail", "lookup-error", "unreachable") or not h["addresses"]
            else "unknown" if state == "unprobed" else "accept")
        probes = {p["address"]: p for p in h["probes"]}
        postfix.setdefault(h["preference"], []).extend(
            _postfix_address(h, probes.get(a)) for a in h["addresses"])
    return {"rfc7672": _walk([rfc[k] for k in sorted(rfc)], float("inf")),
            "postfix": _walk([postfix[k] for k in sorted(postfix)], POSTFIX_ADDRESS_LIMIT)}


def derive_no_probe(expected):
    d = copy.deepcopy(expected)
    for h in d["mx"]:
        if h["dane"] in PROBED_STATES:
            h["dane"] = "unprobed" if h["addresses"] else "unreachable"
        h["probes"] = []
    d["findings"] = sorted(set(d["findings"]) - TLS_FINDINGS)
    if d["verdict"] != "dns-error":
        d["verdict"] = verdict_of(d)
    if "delivery" in d:
        d["delivery"] = delivery_of(d)
    return d


def matches(expected, actual):
    if isinstance(expected, dict) and set(expected) == {"any_of"}:
        return actual in expected["any_of"]
    if isinstance(expected, dict) and set(expected) == {"nonnull"}:
        return actual is not None
    return expected == actual


def compare(expected, actual, dns_only, where, diffs):
    def field(exp, act, key, path):
        if key not in act:
            diffs.append(f"{path}: missing field '{key}'")
            return
        e, a = exp[key], act[key]
        if key in SET_FIELDS and isinstance(e, list) and isinstance(a, list):
            if sorted(map(str, e)) != sorted(map(str, a)):
                diffs.append(f"{path}.{key}: expected {sorted(e)}, got {sorted(a)}")
        elif not matches(e, a):
            diffs.append(f"{path}.{key}: expected {json.dumps(e)}, got {json.dumps(a)}")

    domain_fields = DNS_DOMAIN_FIELDS if dns_only else [k for k in expected if k not in ("mx", "findings", "findings_optional")]
    for key in domain_fields:
        field(expected, actual, key, where)
    # findings_optional: codes that depend on what the lab's resolver did before (mx-timeout: unbound
    # answers SERVFAIL instead of nothing once it has marked a dead server down), compared apart.
    optional = set(expected.get("findings_optional", []))
    exp_findings = set(expected["findings"]) - (TLS_FINDINGS if dns_only else set()) - optional
    act_findings = set(actual.get("findings", [])) - (TLS_FINDINGS if dns_only else set()) - optional
    if "mx-timeout" in optional and ("mx-timeout" in actual.get("findings", [])) != (actual.get("mx_rcode") == "TIMEOUT"):
        diffs.append(f"{where}.findings: mx-timeout must go with mx_rcode TIMEOUT, and only with it")
    if exp_findings != act_findings:
        diffs.append(f"{where}.findings: expected {sorted(exp_findings)}, got {sorted(act_findings)}")
    hosts_e, hosts_a = expected["mx"], actual.get("mx", [])
    if [h["host"] for h in hosts_e] != [h.get("host") for h in hosts_a]:
        diffs.append(f"{where}.mx: expected hosts {[h['host'] for h in hosts_e]}, got {[h.get('host') for h in hosts_a]}")
        return
    for i, (he, ha) in enumerate(zip(hosts_e, hosts_a)):
        path = f"{where}.mx[{i}]"
        for key in (DNS_HOST_FIELDS if dns_only else [k for k in he if k != "probes"]):
            field(he, ha, key, path)
        if dns_only:
            continue
        pe, pa = he["probes"], ha.get("probes", [])
        if len(pe) != len(pa):
            diffs.append(f"{path}.probes: expected {len(pe)}, got {len(pa)}")
            continue
        for j, (xe, xa) in enumerate(zip(pe, pa)):
            for key in xe:
                field(xe, xa, key, f"{path}.probes[{j}]")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("export")
    ap.add_argument("mode", choices=["default", "no-probe", "strict"])
    ap.add_argument("--rundir", default=os.environ.get("DANESCAN_LAB_DIR", "/tmp/danescan-lab"))
    ap.add_argument("--catalogue", default=str(HERE / "catalogue"))
    ap.add_argument("--dns-only", action="store_true")
    args = ap.parse_args()

    actual = {}
    for n, line in enumerate(open(args.export, encoding="utf-8"), 1):
        if line.strip():
            obj = json.loads(line)
            actual[obj["domain"]] = obj
    passed, diffs_all, compared = 0, [], 0
    for path in sorted(pathlib.Path(args.catalogue, "scenarios").glob("*.json")):
        text = subprocess.run(["/usr/bin/python3", str(HERE / "tls" / "certs.py"), "expand", args.rundir],
                              input=path.read_text(), capture_output=True, text=True, check=True).stdout
        scenario = json.loads(text)
        expect = scenario["expect"]
        if args.mode in expect:
            expected = expect[args.mode]
        elif args.mode == "no-probe":
            expected = derive_no_probe(expect["default"])
        else:
            continue
        compared += 1
        domain = scenario["domain"]
        diffs = []
        if domain not in actual:
            diffs.append(f"{domain}: not in the export")
        else:
            compare(expected, actual[domain], args.dns_only, domain, diffs)
        if diffs:
            diffs_all.extend(diffs)
        else:
            passed += 1
    for d in diffs_all:
        print(f"DIFF {d}")
    failed = compared - passed
    print(f"compare-export ({args.mode}{', dns only' if args.dns_only else ''}): {passed} passed, {failed} failed")
    return 1 if failed or compared == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
