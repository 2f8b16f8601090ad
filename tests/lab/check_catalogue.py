#!/usr/bin/python3
"""Check the lab's scenario catalogue (tests/lab/catalogue) without a running lab.

usage: check_catalogue.py [--check-export PATH] [--contract PATH] [--catalogue DIR]

Checks, with a message naming the file for each problem:
- world.json and every scenarios/<domain>.json have the form of tests/lab/README.md
  (certs, smtp servers, zones, records, {cert:NAME:S:M} placeholders naming world certs,
  expectations per mode with only the `any_of` / `nonnull` matchers);
- every domain is unique and matches its file name; every zone is defined once;
- every expectation, with placeholders and matchers replaced by dummy values, passes the
  contract checker (shared/tools/check-export --strict), one JSONL file per mode;
- expectations agree with the lab: probed addresses are lab SMTP servers whose behaviour gives
  that probe outcome, a passing probe's matched record belongs to the presented chain, DANE-EE
  certificates name their host unless dane-ee-name-mismatch-only is expected;
- across all scenarios and modes, every domain verdict, host state and finding code of the
  contract (parsed from shared/contract/export-jsonl.md, so a new code shows up as missing)
  appears at least once, and so does every `delivery` value under each sender policy, and a
  scenario where the two policies disagree. Prints that coverage table.
Paths default to <repo>/../shared/...; the environment variables DANESCAN_CHECK_EXPORT and
DANESCAN_EXPORT_CONTRACT override them, and the options override those. Exit 1 on any problem.
"""

import argparse
import ipaddress
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
MODES = ("default", "no-probe", "strict")
SERVERS = {"main", "outlook", "refused", "servfail", "dead"}
SIGNED = (True, False, "bogus", "expired", "ds-mismatch")
CERT_KINDS = {"ca", "self-signed", "leaf"}
# What each SMTP behaviour gives a probe: (connected, starttls, tls_ok) (README "smtp").
BEHAVIOUR_PROBE = {
    "starttls": (True, True, True), "no-starttls": (True, False, False),
    "handshake-fail": (True, True, False), "rate-limit": (False, False, False),
    "no-listener": (False, False, False), "stall": (True, False, False),
    "long-ehlo": (True, False, False), "starttls-reject": (True, True, False),
    "garbage-ehlo": (True, False, False),
}
# The contract's delivery values and sender policies (export-jsonl.md, "Delivery").
DELIVERY_VALUES = ("deliver", "fallback", "defer", "unknown")
POLICIES = ("rfc7672", "postfix")
PLACEHOLDER = re.compile(r"\{cert:([^}:]*):([^}:]*):([^}:]*)\}")
ANY_PLACEHOLDER = re.compile(r"\{cert:[^}]*\}?")
LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
ZONE_NAME = re.compile(rf"^{LABEL}\.test$")
DOMAIN_NAME = re.compile(rf"^({LABEL}\.)+test$")
# Dummy association data for the contract checker: the length the matching type implies
# (selector 0 with matching type 0 is a whole certificate; any plausible length will do).
DUMMY_HEX = {(0, 0): 800, (1, 0): 182, (0, 1): 64, (1, 1): 64, (0, 2): 128, (1, 2): 128}


class Problems(list):
    def add(self, where, text):
        self.append(f"{where}: {text}")


# ---------------------------------------------------------------- the contract
def contract_values(text):
    """{section heading: [first-column values]} for the contract's tables, e.g.
    'Domain verdicts' -> ['no-mail', ...]; 'Host object' -> ['host', 'preference', ...]."""
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            m = re.match(r"^\|\s*`([^`]+)`\s*\|", line)
            if m:
                current.append(m.group(1))
    return sections


def read_contract(path):
    sections = contract_values(path.read_text())
    want = {"verdict": "Domain verdicts", "host state": "Host DANE states", "finding": "Finding codes",
            "domain field": "Domain object", "host field": "Host object", "probe field": "Probe object"}
    found = {}
    for kind, heading in want.items():
        values = next((v for h, v in sections.items() if h.startswith(heading)), None)
        if not values:
            raise SystemExit(f"check_catalogue: {path}: no table under a '## {heading}' heading")
        found[kind] = values
    return found


# ---------------------------------------------------------------- catalogue form
def check_placeholders(text, where, certs, problems):
    for m in PLACEHOLDER.finditer(text):
        name, s, mt = m.groups()
        if name not in certs:
            problems.add(where, f"{m.group(0)} names no cert of world.json")
        if s not in ("0", "1") or mt not in ("0", "1", "2"):
            problems.add(where, f"{m.group(0)}: selector must be 0 or 1, matching type 0, 1 or 2")
    rest = PLACEHOLDER.sub("", text)
    if ANY_PLACEHOLDER.search(rest):
        problems.add(where, f"malformed placeholder in {text!r}")


def check_zones(zones, where, certs, seen, problems):
    if not isinstance(zones, dict):
        problems.add(where, '"zones" must be an object')
        return
    for name, z in zones.items():
        zw = f"{where}: zone {name}"
        if not ZONE_NAME.match(name):
            problems.add(zw, "zone names are direct children of test. (lower case, no trailing dot)")
        if name in seen:
            problems.add(zw, f"also defined in {seen[name]}")
        seen[name] = where
        if not isinstance(z, dict):
            problems.add(zw, "not an object")
            continue
        extra = set(z) - {"signed", "server", "records", "bogus_names"}
        if extra:
            problems.add(zw, f"unknown keys {sorted(extra)}")
        if z.get("signed") not in SIGNED or not isinstance(z.get("signed"), (bool, str)):
            problems.add(zw, f"signed must be one of {SIGNED}")
        if z.get("server") not in SERVERS:
            problems.add(zw, f"server must be one of {sorted(SERVERS)}")
        bogus = z.get("bogus_names")
        if (z.get("signed") == "bogus") != (bogus is not None):
            problems.add(zw, 'bogus_names goes with, and only with, signed "bogus"')
        if bogus is not None and not (isinstance(bogus, list) and bogus and all(isinstance(b, str) for b in bogus)):
            problems.add(zw, "bogus_names must be a non-empty list of names")
        records = z.get("records")
        if not (isinstance(records, list) and all(isinstance(r, str) for r in records)):
            problems.add(zw, "records must be a list of strings")
            continue
        for r in records:
            check_placeholders(r, zw, certs, problems)
            check_loopback_only(r, zw, problems)


def check_loopback_only(record, where, problems):
    """The lab never points a name outside loopback: a scan with --allow-special-addresses
    connects to every address it finds, and no test may send traffic off this machine."""
    fields = record.split()
    if "IN" not in fields:
        return
    i = fields.index("IN")
    if len(fields) < i + 3 or fields[i + 1] not in ("A", "AAAA"):
        return
    try:
        address = ipaddress.ip_address(fields[i + 2])
    except ValueError:
        return  # not an address at all: the zone loader rejects it
    if not address.is_loopback:
        problems.add(where, f"record '{record}' points outside loopback (127.0.0.0/8, ::1)")


def check_world(world, where, problems):
    certs = world.get("certs")
    if not isinstance(certs, dict):
        problems.add(where, '"certs" must be an object')
        certs = {}
    for name, c in certs.items():
        cw = f"{where}: cert {name}"
        if c.get("kind") not in CERT_KINDS:
            problems.add(cw, f"kind must be one of {sorted(CERT_KINDS)}")
        if c.get("kind") == "leaf" and certs.get(c.get("issuer"), {}).get("kind") != "ca":
            problems.add(cw, "a leaf needs an issuer that is a ca")
        if c.get("kind") in ("leaf", "self-signed") and not c.get("names"):
            problems.add(cw, "an end-entity certificate needs names")
    smtp = world.get("smtp")
    if not isinstance(smtp, dict):
        problems.add(where, '"smtp" must be an object')
        smtp = {}
    for address, s in smtp.items():
        sw = f"{where}: smtp {address}"
        m = re.match(r"^127\.25\.0\.(\d+)$", address)
        if address != "::1" and (not m or not 10 <= int(m.group(1)) <= 254):
            problems.add(sw, "lab SMTP addresses are 127.25.0.10 to 127.25.0.254, and ::1")
        if s.get("behaviour") not in BEHAVIOUR_PROBE:
            problems.add(sw, f"behaviour must be one of {sorted(BEHAVIOUR_PROBE)}")
        chain = s.get("chain")
        if s.get("behaviour") == "starttls":
            if not (isinstance(chain, list) and chain and all(c in certs for c in chain)):
                problems.add(sw, "starttls needs a chain of world.json certs, leaf first")
            elif certs[chain[0]].get("kind") == "ca":
                problems.add(sw, "the chain's first certificate must not be a ca")
    return certs, smtp


# ---------------------------------------------------------------- expectations
def is_matcher(v):
    return isinstance(v, dict) and set(v) in ({"any_of"}, {"nonnull"})


def concrete(v, where, problems):
    """The expectation with each matcher replaced by a value it allows (any_of: the first)."""
    if is_matcher(v):
        if "any_of" in v:
            if not (isinstance(v["any_of"], list) and len(v["any_of"]) >= 2):
                problems.add(where, "any_of needs a list of at least two values")
                return None
            return concrete(v["any_of"][0], where, problems)
        if v["nonnull"] is not True:
            problems.add(where, 'the matcher is {"nonnull": true}')
        return "(any non-null value)"
    if isinstance(v, dict):
        if any(k in v for k in ("any_of", "nonnull")):
            problems.add(where, f"malformed matcher {v}: only {{\"any_of\": [...]}} or {{\"nonnull\": true}}")
        return {k: concrete(x, f"{where}.{k}", problems) for k, x in v.items()}
    if isinstance(v, list):
        return [concrete(x, f"{where}[{i}]", problems) for i, x in enumerate(v)]
    return v


def dummy_hex(text):
    return PLACEHOLDER.sub(lambda m: "ab" * (DUMMY_HEX.get((int(m.group(2)), int(m.group(3))), 64) // 2)
                           if m.group(2).isdigit() and m.group(3).isdigit() else m.group(0), text)


def with_dummy_hex(v):
    if isinstance(v, dict):
        return {k: with_dummy_hex(x) for k, x in v.items()}
    if isinstance(v, list):
        return [with_dummy_hex(x) for x in v]
    return dummy_hex(v) if isinstance(v, str) else v


def check_fields(obj, fields, where, problems):
    if not isinstance(obj, dict):
        problems.add(where, "not an object")
        return False
    # findings_optional (compare_export.py): codes an expectation allows but does not require.
    extra = [k for k in obj if k not in fields and k != "findings_optional"]
    if extra:
        problems.add(where, f"fields not in the contract: {extra}")
    return True


def check_expect(d, where, contract, certs, smtp, problems):
    """Cross-checks of one concrete expectation against the contract's form and the lab."""
    if not check_fields(d, contract["domain field"], where, problems):
        return
    findings = d.get("findings") or []
    hosts = d.get("mx") or []
    keys = [(h.get("preference"), h.get("host")) for h in hosts if isinstance(h, dict)]
    if keys != sorted(keys, key=lambda k: (k[0] if isinstance(k[0], int) else 0, str(k[1]))):
        problems.add(where, "mx hosts are not in preference order, ties by name")
    mismatch_seen = False
    for i, h in enumerate(hosts):
        hw = f"{where} mx[{i}] {h.get('host') if isinstance(h, dict) else ''}"
        if not check_fields(h, contract["host field"], hw, problems):
            continue
        # Reference identifiers (RFC 7672 section 3.2.2): the TLSA base, the MX host and the
        # next-hop domain (the domain itself); the chain's names as well, for the catalogue.
        names = {h.get("host"), h.get("tlsa_base"), d.get("domain"), *(h.get("cname_chain") or [])}
        for j, p in enumerate(h.get("probes") or []):
            pw = f"{hw} probe[{j}]"
            if not check_fields(p, contract["probe field"], pw, problems):
                continue
            address = p.get("address")
            if address not in (h.get("addresses") or []):
                problems.add(pw, f"{address} is not one of the host's addresses")
            server = smtp.get(address)
            if server is None:
                problems.add(pw, f"{address} is not a world.json smtp address")
                continue
            got = (p.get("connected"), p.get("starttls"), p.get("tls_ok"))
            if got != BEHAVIOUR_PROBE.get(server.get("behaviour")):
                problems.add(pw, f"connected/starttls/tls_ok {got} do not fit behaviour {server.get('behaviour')!r}")
            matched = p.get("matched")
            if matched is None:
                continue
            if matched not in (h.get("tlsa") or []):
                problems.add(pw, f"matched {matched!r} is not in the host's tlsa")
            m = re.match(r"^(\d+) \d+ \d+ \{cert:([^}:]*):", matched)
            chain = server.get("chain") or []
            if not m or not chain:
                continue
            usage, cert = m.group(1), m.group(2)
            if usage == "3" and cert != chain[0]:
                problems.add(pw, f"DANE-EE record of {cert}, but {address} presents {chain[0]}")
            if usage == "2" and cert not in chain[1:]:
                problems.add(pw, f"DANE-TA record of {cert}, not an issuer in {address}'s chain {chain}")
            if usage == "3" and p.get("dane") == "pass" and cert in certs:
                if not names & set(certs[cert].get("names") or []):
                    mismatch_seen = True
                    if "dane-ee-name-mismatch-only" not in findings:
                        problems.add(pw, f"certificate {cert} does not name {sorted(n for n in names if n)}: "
                                         "add the names in world.json, or expect dane-ee-name-mismatch-only")
    if "dane-ee-name-mismatch-only" in findings and not mismatch_seen:
        problems.add(where, "dane-ee-name-mismatch-only expected, but every passing DANE-EE certificate names its host")
    check_delivery(d, where, problems)


def check_delivery(d, where, problems):
    """delivery: null exactly for no-mail, else one contract value per sender policy."""
    delivery = d.get("delivery", "missing")
    if delivery == "missing":
        problems.add(where, "no delivery (export-jsonl.md, 'Delivery')")
    elif delivery is None:
        if d.get("verdict") != "no-mail":
            problems.add(where, f"delivery null for a {d.get('verdict')!r} domain")
    elif d.get("verdict") == "no-mail":
        problems.add(where, "delivery must be null for a no-mail domain")
    elif not isinstance(delivery, dict) or set(delivery) != set(POLICIES) \
            or any(delivery[k] not in DELIVERY_VALUES for k in POLICIES):
        problems.add(where, f"delivery {delivery!r}: one of {DELIVERY_VALUES} for each of {POLICIES}")


def run_checker(checker, objects_by_mode, problems):
    with tempfile.TemporaryDirectory() as tmp:
        for mode, objects in objects_by_mode.items():
            if not objects:
                continue
            path = pathlib.Path(tmp) / f"{mode}.jsonl"
            path.write_text("".join(json.dumps(o) + "\n" for o in objects))
            p = subprocess.run([sys.executable, str(checker), str(path), "--strict"],
                               capture_output=True, text=True)
            if p.returncode != 0:
                lines = [ln for ln in (p.stdout + p.stderr).splitlines() if not ln.startswith("check-export:")]
                for ln in lines or [f"exit status {p.returncode}"]:
                    problems.add(f"check-export (mode {mode})", ln)


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check-export", type=pathlib.Path,
                    default=os.environ.get("DANESCAN_CHECK_EXPORT") or REPO.parent / "shared/tools/check-export")
    ap.add_argument("--contract", type=pathlib.Path,
                    default=os.environ.get("DANESCAN_EXPORT_CONTRACT") or REPO.parent / "shared/contract/export-jsonl.md")
    ap.add_argument("--catalogue", type=pathlib.Path, default=HERE / "catalogue")
    a = ap.parse_args()
    for path in (a.check_export, a.contract, a.catalogue / "world.json"):
        if not path.exists():
            print(f"check_catalogue: {path} does not exist")
            return 1
    contract = read_contract(a.contract)
    problems = Problems()

    def load(path):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as e:
            problems.add(str(path), str(e))
            return None

    world_path = a.catalogue / "world.json"
    world = load(world_path) or {}
    certs, smtp = check_world(world, "world.json", problems)
    zones_seen = {}
    check_zones(world.get("zones") or {}, "world.json", certs, zones_seen, problems)
    # helper zones of the DNS smoke tests share the lab's namespace: a clash breaks tests/lab/up
    smoke_zones = HERE / "dns" / "smoke-zones.json"
    if smoke_zones.exists():
        for name in (load(smoke_zones) or {}).get("zones") or {}:
            zones_seen.setdefault(name, str(smoke_zones.relative_to(HERE)))

    by_mode = {m: [] for m in MODES}
    coverage = {kind: {v: [] for v in contract[kind]} for kind in ("verdict", "host state", "finding")}
    for policy in POLICIES:
        coverage[f"delivery {policy}"] = {v: [] for v in DELIVERY_VALUES}
    coverage["delivery disagreement"] = {"rfc7672 != postfix": []}
    contract.update({kind: list(values) for kind, values in coverage.items() if kind.startswith("delivery")})
    files = sorted((a.catalogue / "scenarios").glob("*.json"))
    if not files:
        problems.add("scenarios", "no scenario files")
    for f in files:
        where = f"scenarios/{f.name}"
        s = load(f)
        if not isinstance(s, dict):
            continue
        extra = set(s) - {"domain", "about", "zones", "expect"}
        missing = {"domain", "about", "zones", "expect"} - set(s)
        if extra or missing:
            problems.add(where, f"keys must be domain, about, zones, expect (extra {sorted(extra)}, missing {sorted(missing)})")
        domain = s.get("domain")
        if not isinstance(domain, str) or not DOMAIN_NAME.match(domain):
            problems.add(where, f"domain {domain!r} is not a normalised name under test")
        if f.name != f"{domain}.json":
            problems.add(where, f"the file name must be {domain}.json")
        if not isinstance(s.get("about"), str) or len(s.get("about", "")) < 20:
            problems.add(where, '"about" must say what the scenario tests and why')
        check_zones(s.get("zones", {}), where, certs, zones_seen, problems)
        expect = s.get("expect")
        if not isinstance(expect, dict) or "default" not in expect or set(expect) - set(MODES):
            problems.add(where, f"expect needs 'default' and may have only {MODES}")
            continue
        for mode, obj in expect.items():
            mw = f"{where} [{mode}]"
            check_placeholders(json.dumps(obj), mw, certs, problems)
            d = concrete(obj, mw, problems)
            if not isinstance(d, dict):
                problems.add(mw, "the expectation is not an object")
                continue
            if d.get("domain") != domain:
                problems.add(mw, f"expectation for {d.get('domain')!r}, not {domain!r}")
            check_expect(d, mw, contract, certs, smtp, problems)
            by_mode[mode].append(with_dummy_hex(d))
            tag = f"{domain}" + ("" if mode == "default" else f" [{mode}]")
            for kind, values in (("verdict", [d.get("verdict")]), ("finding", d.get("findings") or []),
                                 ("host state", [h.get("dane") for h in d.get("mx") or [] if isinstance(h, dict)])):
                for v in dict.fromkeys(values):
                    coverage[kind].setdefault(v, []).append(tag)
            delivery = d.get("delivery")
            if isinstance(delivery, dict):
                for policy in POLICIES:
                    coverage[f"delivery {policy}"].setdefault(delivery.get(policy), []).append(tag)
                if delivery.get("rfc7672") != delivery.get("postfix"):
                    coverage["delivery disagreement"]["rfc7672 != postfix"].append(tag)
    run_checker(a.check_export, by_mode, problems)

    print(f"catalogue: {len(files)} scenarios, "
          + ", ".join(f"{len(v)} {m}" for m, v in by_mode.items()) + " expectations")
    for kind, table in coverage.items():
        print(f"\n{kind}{'' if kind.startswith('delivery') else 's'}:")
        for value, where in table.items():
            mark = "" if value in contract[kind] else "  (not in the contract)"
            shown = ", ".join(where[:3]) + (f", +{len(where) - 3}" if len(where) > 3 else "")
            print(f"  {value:28} {len(where):3}  {shown or 'MISSING'}{mark}")
            if not where:
                problems.add("coverage", f"no scenario expects the {kind} {value!r}")
            if mark:
                problems.add("coverage", f"the {kind} {value!r} is not in the contract")
    print()
    for p in problems:
        print(f"error: {p}")
    print(f"check_catalogue: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
