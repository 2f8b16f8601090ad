#!/usr/bin/python3
"""`danescan check DOMAIN` against the lab (issue 11, item 3).

usage: check_test.py DANESCAN

For every scenario of the catalogue, `check --json` (the options of scan_test.sh's default mode)
prints the scenario's expected contract object (compare_export.py's comparison) and exits with the
status its verdict calls for. For one domain of every verdict (dane-unprobed: a --no-probe check),
also: the human-readable account names the verdict, every host with its state and every finding;
`check --db` stores a run whose `danescan export` line is byte for byte the `--json` line; a pipe
gets no ANSI escape, a pseudo-terminal gets them, and NO_COLOR or --color never turns them off.
Exit 1 with one line per failure.
"""

import json
import os
import pathlib
import pty
import re
import select
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import compare_export  # noqa: E402  (the export test's own comparison)

# The rule, restated here from the issue rather than read from the program.
EXIT_OK = {"dane-ok", "dnssec-no-tlsa", "insecure", "no-mail"}
EXIT_FAILED = {"dns-error", "dane-fail", "dane-unusable", "dane-partial", "dane-unprobed"}
DEFAULT_OPTIONS = ["--allow-special-addresses", "--probe-timeout", "3000", "--smtp-retry-delay", "500"]
NO_PROBE_OPTIONS = ["--allow-special-addresses", "--no-probe"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")

failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL {message}", flush=True)


def scenarios(rundir):
    for path in sorted((HERE / "catalogue" / "scenarios").glob("*.json")):
        text = subprocess.run(["/usr/bin/python3", str(HERE / "tls" / "certs.py"), "expand", rundir],
                              input=path.read_text(), capture_output=True, text=True, check=True).stdout
        yield json.loads(text)


def run(argv, env=None):
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)


def run_in_pty(argv, env):
    """stdout on a pseudo-terminal (so isatty() is true); returns (exit status, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 300)
        if not ready:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def check_account(domain, text, expected):
    """The account names the verdict, every host and its state, every finding."""
    if not re.search(rf"^Verdict: {re.escape(expected['verdict'])}$", text, re.M):
        fail(f"{domain}: the account does not give the verdict {expected['verdict']}")
    for h in expected["mx"]:
        state = h["dane"]
        if not re.search(rf"^MX host {re.escape(h['host'])} ", text, re.M):
            fail(f"{domain}: the account has no section for host {h['host']}")
        if f" {h['host']} {state}" not in text.split("Host states:", 1)[-1].split("\n", 1)[0]:
            fail(f"{domain}: the host states line does not give {h['host']} {state}")
    if not re.search(r"^Host states: ", text, re.M):
        fail(f"{domain}: no 'Host states' line")
    states_in_sections = re.findall(r"^  host state: (\S+)$", text, re.M)
    if states_in_sections != [h["dane"] for h in expected["mx"]]:
        fail(f"{domain}: host sections give states {states_in_sections}, expected {[h['dane'] for h in expected['mx']]}")
    line = re.search(r"^Findings: (.*)$", text, re.M)
    findings = set() if not line or line.group(1) == "none" else set(line.group(1).split(", "))
    optional = set(expected.get("findings_optional", []))
    if findings - optional != set(expected["findings"]) - optional:
        fail(f"{domain}: the account's findings {sorted(findings)}, expected {sorted(expected['findings'])}")
    if not re.search(r"^Delivery", text, re.M):
        fail(f"{domain}: no Delivery line")
    if "MX RRset: " not in text:
        fail(f"{domain}: no MX RRset line")


def main():
    binary = os.path.abspath(sys.argv[1])
    rundir = os.environ.get("DANESCAN_LAB_DIR", "/tmp/danescan-lab")
    resolver = json.load(open(os.path.join(rundir, "lab.json")))["resolver"]
    base = [binary, "check", "--resolver", resolver]

    all_scenarios = list(scenarios(rundir))
    # One domain per verdict for the account, the database and the colour checks (the first by
    # name); dane-unprobed comes from a scenario's explicit no-probe expectation.
    chosen = {}
    for s in all_scenarios:
        chosen.setdefault(s["expect"]["default"]["verdict"], (s, "default"))
    for s in all_scenarios:
        if "no-probe" in s["expect"] and s["expect"]["no-probe"]["verdict"] == "dane-unprobed":
            chosen.setdefault("dane-unprobed", (s, "no-probe"))
            break
    missing = (EXIT_OK | EXIT_FAILED) - set(chosen)
    if missing:
        fail(f"the catalogue has no domain with verdict(s) {sorted(missing)}")

    # Every scenario: --json is its expected contract object, the exit status its verdict's.
    checked = 0
    for s in all_scenarios:
        domain, expected = s["domain"], s["expect"]["default"]
        r = run(base + [domain, "--json"] + DEFAULT_OPTIONS)
        checked += 1
        want = 0 if expected["verdict"] in EXIT_OK else 1
        if r.returncode != want:
            fail(f"{domain}: exit {r.returncode}, expected {want} for {expected['verdict']}; stderr: {r.stderr.strip()}")
        lines = r.stdout.splitlines()
        if len(lines) != 1:
            fail(f"{domain}: --json printed {len(lines)} lines, expected one")
            continue
        diffs = []
        compare_export.compare(expected, json.loads(lines[0]), False, domain, diffs)
        for d in diffs:
            fail(f"--json {d}")

    with tempfile.TemporaryDirectory() as work:
        env_pipe = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        for verdict, (s, mode) in sorted(chosen.items()):
            domain = s["domain"]
            expected = s["expect"][mode] if mode in s["expect"] else compare_export.derive_no_probe(s["expect"]["default"])
            options = DEFAULT_OPTIONS if mode == "default" else NO_PROBE_OPTIONS
            want = 0 if verdict in EXIT_OK else 1

            # The account, in a pipe: no escapes, and every piece the issue names.
            r = run(base + [domain] + options, env=env_pipe)
            if r.returncode != want:
                fail(f"{domain} ({mode}): account exit {r.returncode}, expected {want} for {verdict}")
            if ANSI.search(r.stdout) or "\x1b" in r.stdout:
                fail(f"{domain}: ANSI escapes in a pipe")
            check_account(domain, r.stdout, expected)

            # --db: the stored run exports the very line --json printed.
            db = os.path.join(work, f"{domain}.sqlite")
            r = run(base + [domain, "--json", "--db", db] + options)
            if r.returncode != want:
                fail(f"{domain} ({mode}): --json --db exit {r.returncode}, expected {want}")
            exported = run([binary, "export", "--db", db, "--format", "jsonl"])
            if exported.returncode != 0 or exported.stdout != r.stdout or not r.stdout:
                fail(f"{domain}: export of the --db run differs from --json:\n  {exported.stdout.strip()}\n  {r.stdout.strip()}")
            if r.stdout.count("\n") == 1:
                diffs = []
                compare_export.compare(expected, json.loads(r.stdout), False, domain, diffs)
                for d in diffs:
                    fail(f"--json ({mode}) {d}")
            else:
                fail(f"{domain}: --json --db printed {r.stdout.count(chr(10))} lines, expected one")

            # A terminal gets colour, unless NO_COLOR or --color never; --color always in a pipe.
            code, out = run_in_pty(base + [domain] + options, env_pipe)
            if code != want:
                fail(f"{domain}: exit {code} on a terminal, expected {want}")
            if not ANSI.search(out):
                fail(f"{domain}: no ANSI colour on a terminal")
            plain = ANSI.sub("", out).replace("\r\n", "\n")
            check_account(domain, plain, expected)
            _, out = run_in_pty(base + [domain] + options, dict(env_pipe, NO_COLOR="1"))
            if "\x1b" in out:
                fail(f"{domain}: ANSI escapes on a terminal with NO_COLOR set")
            _, out = run_in_pty(base + [domain, "--color", "never"] + options, env_pipe)
            if "\x1b" in out:
                fail(f"{domain}: ANSI escapes on a terminal with --color never")
            r = run(base + [domain, "--color", "always"] + options, env=env_pipe)
            if not ANSI.search(r.stdout):
                fail(f"{domain}: no colour in a pipe with --color always")
            print(f"check_test: {verdict}: {domain} ({mode}) checked", flush=True)

    # Usage errors: exit 2 with a message that names the problem.
    for argv, pattern in [([binary, "check", "bad..name", "--resolver", resolver], "not a domain name"),
                          ([binary, "check", "dane-ok.test"], "--resolver is required"),
                          ([binary, "check", "--resolver", resolver], "DOMAIN"),
                          ([binary, "check", "dane-ok.test", "--resolver", "resolver.example"], "not an IP address")]:
        r = run(argv)
        if r.returncode != 2 or not re.search(pattern, r.stderr):
            fail(f"{' '.join(argv[1:])}: exit {r.returncode}, stderr {r.stderr.strip()!r}; expected 2 and /{pattern}/")

    print(f"check_test: {checked} domains checked with --json, {len(chosen)} verdicts in full, {len(failures)} failures")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
