#!/usr/bin/python3
"""The TLS probe engine against the lab's SMTP servers, held to the scenario catalogue.

usage: probe_test.py PROBE_LAB [--rundir DIR] [--catalogue DIR]

For every scenario whose `expect.default` has hosts with probes: expand the {cert:...}
placeholders with the running lab's certificates (tls/certs.py expand), make one probe target
per expected probe (the host's tlsa_base and tlsa; reference names: tlsa_base, the MX host, the
domain, RFC 7672 section 3.2.2), run them all through probe_lab (tls::Prober on one loop), and
check that
- every probe equals the expectation field by field (matchers any_of / nonnull as in
  compare_export.py);
- probeOutcome() gives the host's expected `dane` state;
- the union of the TLS findings of the domain's hosts is the expected domain findings'
  TLS part (tlsa-mismatch, no-starttls-with-tlsa, tls-handshake-failure,
  dane-ee-name-mismatch-only, smtp-rate-limited);
- evidence: a passing probe's chain holds the matched record's data at the matched depth
  (digests computed by the probe, compared with certs.py's), DANE-EE matches at depth 0 and
  DANE-TA above it; a handshake that completed has a TLS version, a cipher and a chain;
  a 421 was retried once.
Exit 1 with one line per difference.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys

LAB = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(LAB))
from compare_export import TLS_FINDINGS, matches  # noqa: E402

CONTRACT_PROBE_FIELDS = ["address", "connected", "starttls", "tls_ok", "dane", "matched", "error"]

# Where the engine disagrees with the catalogue on purpose: the expectation used instead, and
# why, for scenarios whose text `applies` to. The engine must give exactly this; an entry whose
# scenario already expects it is reported as stale.
KNOWN_DISAGREEMENTS = {}  # domain -> {"applies", "reason", "host_dane", "probe", "tls_findings"}


# Cases of issue 4's test list that the catalogue does not have, against the lab's servers
# (another TLSA RRset for a server the catalogue uses) or against LEAF_ONLY, a STARTTLS server
# started here that presents the DANE-TA leaf without its CA. {cert:...} as in the catalogue.
EXTRA_CASES = [
    {"id": "extra/ee-3-0-1", "about": "DANE-EE 3 0 1 (full certificate, SHA-256)",
     "base": "mx.dane-ok.test", "addresses": ["127.25.0.43"], "tlsa": ["3 0 1 {cert:ee-mx1:0:1}"],
     "dane": "pass", "probes": [{"dane": "pass", "matched": "3 0 1 {cert:ee-mx1:0:1}", "error": None}],
     "findings": []},
    {"id": "extra/ee-3-1-2", "about": "DANE-EE 3 1 2 (SPKI, SHA-512)",
     "base": "mx.dane-ok.test", "addresses": ["127.25.0.43"], "tlsa": ["3 1 2 {cert:ee-mx1:1:2}"],
     "dane": "pass", "probes": [{"dane": "pass", "matched": "3 1 2 {cert:ee-mx1:1:2}", "error": None}],
     "findings": []},
    {"id": "extra/ta-2-0-1-with-ca", "about": "DANE-TA 2 0 1 with the CA in the chain",
     "base": "mx.dane-ta.test", "addresses": ["127.25.0.44"], "tlsa": ["2 0 1 {cert:ca1:0:1}"],
     "dane": "pass", "probes": [{"dane": "pass", "matched": "2 0 1 {cert:ca1:0:1}", "error": None}],
     "findings": []},
    {"id": "extra/ta-2-0-1-without-ca", "about": "DANE-TA 2 0 1, the server sends the leaf only: "
     "no certificate of the chain matches (RFC 7671 section 5.2.2: the TA must be in the chain)",
     "base": "mx.dane-ta.test", "addresses": ["LEAF_ONLY"], "tlsa": ["2 0 1 {cert:ca1:0:1}"],
     "dane": "fail", "probes": [{"tls_ok": True, "dane": "fail", "matched": None, "error": {"nonnull": True}}],
     "findings": ["tlsa-mismatch"]},
    {"id": "extra/ee-same-leaf-as-ta-name-mismatch", "about": "the leaf of ta-name-mismatch.test "
     "(names none of the reference identifiers) under DANE-EE: passes, informational finding",
     "base": "mx.ta-name-mismatch.test", "addresses": ["127.25.0.67"],
     "tlsa": ["3 1 1 {cert:leaf-ta-wrongname:1:1}"],
     "dane": "pass", "probes": [{"dane": "pass", "matched": "3 1 1 {cert:leaf-ta-wrongname:1:1}", "error": None}],
     "findings": ["dane-ee-name-mismatch-only"]},
    {"id": "extra/two-addresses-one-mismatch", "about": "a host with two addresses, the second "
     "presents another certificate: the host fails",
     "base": "mx.dane-ok.test", "addresses": ["127.25.0.43", "127.25.0.46"], "tlsa": ["3 1 1 {cert:ee-mx1:1:1}"],
     "dane": "fail",
     "probes": [{"connected": True, "dane": "pass", "matched": "3 1 1 {cert:ee-mx1:1:1}", "error": None},
                {"connected": True, "tls_ok": True, "dane": "fail", "matched": None, "error": {"nonnull": True}}],
     "findings": ["tlsa-mismatch"]},
]


SNI_SEEN = []  # the server names the leaf-only server was asked for (RFC 7672 section 8.1)


def leaf_only_server(rundir):
    """A STARTTLS server on 127.0.0.1 (ephemeral port) presenting leaf-ta without its CA; it
    notes the SNI of every handshake in SNI_SEEN."""
    import socket
    import ssl
    import threading
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{rundir}/certs/leaf-ta.crt", f"{rundir}/certs/leaf-ta.key")
    ctx.sni_callback = lambda sock, name, context: SNI_SEEN.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(30)

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    f = conn.makefile("rb")
                    conn.sendall(b"220 leaf-only ESMTP\r\n")
                    while True:
                        line = f.readline(1024).upper()
                        if not line:
                            break
                        if line.startswith(b"EHLO"):
                            conn.sendall(b"250-leaf-only\r\n250 STARTTLS\r\n")
                        elif line.startswith(b"STARTTLS"):
                            conn.sendall(b"220 go ahead\r\n")
                            with ctx.wrap_socket(conn, server_side=True) as tls:
                                while tls.recv(1024):
                                    pass
                            break
                        else:
                            conn.sendall(b"221 bye\r\n")
                            break
                except (OSError, ssl.SSLError):
                    pass

    threading.Thread(target=serve, daemon=True).start()
    return listener


def expand(rundir, text):
    return subprocess.run(["/usr/bin/python3", str(LAB / "tls" / "certs.py"), "expand", rundir],
                          input=text, capture_output=True, text=True, check=True).stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("probe_lab")
    ap.add_argument("--rundir", default=os.environ.get("DANESCAN_LAB_DIR", "/tmp/danescan-lab"))
    ap.add_argument("--catalogue", default=str(LAB / "catalogue"))
    args = ap.parse_args()

    lab_certificates(args.rundir)
    cases = []  # (domain, expected domain, host id, host object)
    stale = []
    lines = []
    for path in sorted(pathlib.Path(args.catalogue, "scenarios").glob("*.json")):
        text = subprocess.run(["/usr/bin/python3", str(LAB / "tls" / "certs.py"), "expand", args.rundir],
                              input=path.read_text(), capture_output=True, text=True, check=True).stdout
        scenario = json.loads(text)
        expected = scenario["expect"]["default"]
        if not any(h["probes"] for h in expected["mx"]):
            continue
        domain = scenario["domain"]
        known = KNOWN_DISAGREEMENTS.get(domain)
        if known and known["applies"](path.read_text()):
            catalogue_view = (
                [h["dane"] for h in expected["mx"] if h["probes"]],
                set(expected["findings"]) & TLS_FINDINGS)
            if catalogue_view == ([known["host_dane"]] * len(catalogue_view[0]), set(known["tls_findings"])):
                print(f"DIFF {domain}: stale KNOWN_DISAGREEMENTS entry, the catalogue agrees now")
                stale.append(domain)
            print(f"NOTE {domain}: held to a known disagreement with the catalogue: {known['reason']}")
            expected = json.loads(json.dumps(expected))
            expected["findings"] = sorted((set(expected["findings"]) - TLS_FINDINGS) | set(known["tls_findings"]))
            for host in expected["mx"]:
                if host["probes"]:
                    host["dane"] = known["host_dane"]
                    for probe in host["probes"]:
                        probe.update(known["probe"])
        for host in expected["mx"]:
            if not host["probes"]:
                continue
            host_id = f"{domain}/{host['host']}"
            cases.append((domain, expected, host_id, host))
            refs = " ".join([host["tlsa_base"], host["host"], domain])
            for probe in host["probes"]:
                lines.append("\t".join([host_id, probe["address"], "25", host["tlsa_base"], refs, ";".join(host["tlsa"])]))

    listener = leaf_only_server(args.rundir)
    leaf_only_port = listener.getsockname()[1]
    extras = json.loads(expand(args.rundir, json.dumps(EXTRA_CASES)))
    for case in extras:
        refs = " ".join([case["base"], case["base"]])
        for address in case["addresses"]:
            ip, port = ("127.0.0.1", leaf_only_port) if address == "LEAF_ONLY" else (address, 25)
            lines.append("\t".join([case["id"], ip, str(port), case["base"], refs, ";".join(case["tlsa"])]))

    run = subprocess.run([args.probe_lab], input="\n".join(lines) + "\n", capture_output=True, text=True)
    listener.close()
    if run.returncode != 0:
        print(f"probe_lab failed ({run.returncode}): {run.stderr}")
        return 1
    results = {}
    for line in run.stdout.splitlines():
        obj = json.loads(line)
        results[obj["host"]] = obj

    diffs = []
    findings_by_domain = {}
    domains = {}
    for domain, expected, host_id, host in cases:
        domains[domain] = expected
        got = results.get(host_id)
        if got is None:
            diffs.append(f"{host_id}: no result")
            continue
        findings_by_domain.setdefault(domain, set()).update(got["findings"])
        if got["state"] != host["dane"]:
            diffs.append(f"{host_id}: state expected {host['dane']}, got {got['state']}")
        if len(got["probes"]) != len(host["probes"]):
            diffs.append(f"{host_id}: {len(got['probes'])} probes, expected {len(host['probes'])}")
            continue
        for exp, act in zip(host["probes"], got["probes"]):
            where = f"{host_id}@{exp['address']}"
            for key in CONTRACT_PROBE_FIELDS:
                if not matches(exp[key], act[key]):
                    diffs.append(f"{where}.{key}: expected {json.dumps(exp[key])}, got {json.dumps(act[key])}"
                                 f" (error: {act['error']})")
            diffs.extend(evidence_problems(where, act))
    for domain, expected in domains.items():
        want = set(expected["findings"]) & TLS_FINDINGS
        have = findings_by_domain.get(domain, set())
        if want != have:
            diffs.append(f"{domain}: TLS findings expected {sorted(want)}, got {sorted(have)}")

    for case in extras:
        got = results.get(case["id"])
        if got is None:
            diffs.append(f"{case['id']}: no result")
            continue
        if got["state"] != case["dane"]:
            diffs.append(f"{case['id']}: state expected {case['dane']}, got {got['state']} ({case['about']})")
        if sorted(got["findings"]) != sorted(case["findings"]):
            diffs.append(f"{case['id']}: findings expected {case['findings']}, got {got['findings']}")
        if len(got["probes"]) != len(case["probes"]):
            diffs.append(f"{case['id']}: {len(got['probes'])} probes, expected {len(case['probes'])}")
            continue
        for exp, act in zip(case["probes"], got["probes"]):
            for key, value in exp.items():
                if not matches(value, act[key]):
                    diffs.append(f"{case['id']}@{act['address']}.{key}: expected {json.dumps(value)}, "
                                 f"got {json.dumps(act[key])} (error: {act['error']})")
            diffs.extend(evidence_problems(case["id"], act))

    diffs.extend(politeness_problems(args))
    # SNI is the TLSA base domain (RFC 7672 section 8.1), seen by the server itself.
    leaf_only_bases = [c["base"] for c in extras if "LEAF_ONLY" in c["addresses"]]
    if not leaf_only_bases or SNI_SEEN != leaf_only_bases:
        diffs.append(f"SNI: the leaf-only server saw {SNI_SEEN}, expected {leaf_only_bases}")

    for d in diffs:
        print(f"DIFF {d}")
    print(f"probe_test: {len(cases)} catalogue hosts, {len(extras)} extra cases, {len(lines)} probes, "
          f"{len(diffs)} differences")
    return 1 if diffs or stale or not cases else 0


def politeness_problems(args):
    """Issue 4's politeness with DANE-TA: a provider's host is probed once per address whatever
    the domains' next-hop names, unless the outcome depends on them. dane-ta's leaf names the
    TLSA base: three next-hop domains, one connection, all pass. ta-nexthop's leaf names only
    ta-nexthop.test: its own next hop passes, another fails on names, so two connections."""
    def host(domain):
        text = expand(args.rundir, (pathlib.Path(args.catalogue) / "scenarios" / f"{domain}.json").read_text())
        h = json.loads(text)["expect"]["default"]["mx"][0]
        return h["addresses"][0], h["tlsa_base"], h["host"], ";".join(h["tlsa"])
    problems = []
    for domain, next_hops, want_states, want_connections in [
            ("dane-ta.test", ["dane-ta.test", "a.example", "b.example"], ["pass", "pass", "pass"], 1),
            ("ta-nexthop.test", ["ta-nexthop.test", "other.example"], ["pass", "fail"], 2)]:
        address, base, mx, tlsa = host(domain)
        lines = ["\t".join([f"{domain}/{hop}", address, "25", base, " ".join([base, mx, hop]), tlsa])
                 for hop in next_hops]
        run = subprocess.run([args.probe_lab, "--counters", "1"], input="\n".join(lines) + "\n",
                             capture_output=True, text=True)
        if run.returncode != 0:
            problems.append(f"politeness {domain}: probe_lab failed ({run.returncode}): {run.stderr}")
            continue
        objs = [json.loads(line) for line in run.stdout.splitlines()]
        counters = objs[-1]["counters"]
        states = {o["host"]: o["state"] for o in objs[:-1]}
        got = [states.get(f"{domain}/{hop}") for hop in next_hops]
        if got != want_states:
            problems.append(f"politeness {domain}: states {got}, expected {want_states}")
        if counters["connections"] != want_connections:
            problems.append(f"politeness {domain}: {counters['connections']} connections for {len(next_hops)} "
                            f"next-hop domains, expected {want_connections}")
    return problems


LAB_CERTS = {}  # SHA-256 of a lab certificate's DER -> its SANs as OpenSSL prints them


def lab_certificates(rundir):
    """Every certificate the lab made, by DER SHA-256, with its subjectAltName entries read by
    the openssl command (not by danescan): the reference for the probes' SAN evidence."""
    import hashlib
    for crt in sorted(pathlib.Path(rundir, "certs").glob("*.crt")):
        der = subprocess.run(["openssl", "x509", "-in", str(crt), "-outform", "DER"], capture_output=True,
                             check=True).stdout
        text = subprocess.run(["openssl", "x509", "-in", str(crt), "-noout", "-ext", "subjectAltName"],
                              capture_output=True, text=True).stdout
        sans = set()
        for line in text.splitlines()[1:]:
            for item in line.split(","):
                item = item.strip()
                if item.startswith("DNS:"):
                    sans.add(item)
                elif item.startswith("IP Address:"):
                    sans.add("IP:" + item[len("IP Address:"):])
        LAB_CERTS[hashlib.sha256(der).hexdigest()] = sans


def evidence_problems(where, p):
    out = []
    if p["tls_ok"]:
        if not p["tls_version"] or not p["cipher"] or not p["chain"]:
            out.append(f"{where}: a completed handshake without version, cipher or chain")
        if p["verify_code"] is None:
            out.append(f"{where}: a completed handshake without a verify result")
        for cert in p["chain"]:
            # The lab's keys are all EC P-256 (tls/certs.py).
            if (len(cert["sha256"]) != 64 or len(cert["spki_sha256"]) != 64 or not cert["not_after"]
                    or not cert["subject"].startswith("CN=") or not cert["issuer"].startswith("CN=")
                    or (cert["key_type"], cert["key_bits"]) != ("EC", 256)):
                out.append(f"{where}: incomplete certificate evidence {cert}")
            if cert["sha256"] not in LAB_CERTS:
                out.append(f"{where}: a certificate the lab did not make: {cert['sha256']}")
            elif set(cert["sans"]) != LAB_CERTS[cert["sha256"]]:
                out.append(f"{where}: SANs {sorted(cert['sans'])}, openssl reads {sorted(LAB_CERTS[cert['sha256']])}")
    if p["dane"] == "pass":
        usage, selector, mtype, data = p["matched"].split(" ")
        depth = p["matched_depth"]
        if depth is None or (usage == "3") != (depth == 0):
            out.append(f"{where}: matched {usage} at depth {depth}")
        elif mtype == "1" and depth < len(p["chain"]):
            digest = p["chain"][depth]["spki_sha256" if selector == "1" else "sha256"]
            if digest != data:
                out.append(f"{where}: matched data {data} is not the chain's digest at depth {depth} ({digest})")
        if p["verify_code"] != 0:
            out.append(f"{where}: pass with verify result {p['verify_code']} {p['verify_text']}")
    if p["rate_limited"] and p["attempts"] != 2:
        out.append(f"{where}: 421 seen but {p['attempts']} attempts")
    return out


if __name__ == "__main__":
    sys.exit(main())
