#!/usr/bin/python3
"""Render danescan's HTML report of a lab scan in headless Chromium (Debian packages chromium).

usage: report_browser.py DANESCAN SCAN.sqlite OUTDIR

Checks, with the browser in a network namespace of its own (`unshare -n`, as root) so that the
page provably needs no network:
- the console capture works: a probe page's console.error is seen (else the next check proves
  nothing);
- the lab report (DANESCAN report --format html of SCAN.sqlite) loads with no console message at
  all (no script error, no Content-Security-Policy violation), its script ran (data-sortable),
  and its charts are drawn: SVG charts with bars and labelled axes in the rendered DOM;
- a copy of the scan with a hostile domain and MX host name (markup) renders them as text: the
  literal text is in the DOM, no element they would have created exists, nothing runs;
- screenshots OUTDIR/report.png and OUTDIR/hostile.png are kept as test artefacts.
Prints one line per check; exit 1 when one fails.
"""

import base64
import hashlib
import html
import json
import os
import pathlib
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE_HOST = "<img src=x onerror=alert(1)>mx.evil.test"
HOSTILE_DOMAIN = "<script>alert(2)</script>.test"


def browse(page, mode, out, profile):
    """Run headless Chromium on file://page with --dump-dom or --screenshot=out; returns
    (stdout, console lines)."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--no-default-browser-check", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", "--window-size=1280,2400", "--hide-scrollbars"]
    if mode == "dom":
        command.append("--dump-dom")
    else:
        command.append(f"--screenshot={out}")
    command.append(pathlib.Path(page).resolve().as_uri())
    if os.geteuid() == 0 and shutil.which("unshare"):
        command = ["unshare", "-n"] + command
    r = subprocess.run(command, capture_output=True, text=True, timeout=120)
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]
    return r.stdout, console


def main():
    danescan, scan, outdir = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    outdir.mkdir(parents=True, exist_ok=True)
    failures = 0

    def check(what, ok, detail=""):
        nonlocal failures
        print(f"{'ok  ' if ok else 'FAIL'} {what}{'' if ok else ': ' + str(detail)[:2000]}")
        failures += not ok

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        probe = tmp / "probe.html"
        probe.write_text('<!DOCTYPE html><html><body><script>console.error("probe-7f3a")</script></body></html>')
        _, console = browse(probe, "dom", None, tmp / "profile")
        check("console capture sees a console.error", any("probe-7f3a" in c for c in console), console)

        report = outdir / "report.html"
        subprocess.run([danescan, "report", "--db", scan, "--format", "html", "--out", str(report)], check=True)
        dom, console = browse(report, "dom", None, tmp / "profile")
        check("lab report: no console messages", not console, console)
        check("lab report: its script ran", 'data-sortable="ready"' in dom, dom[:300])
        charts = dom.count('<svg class="chart"')
        bars = len(re.findall(r'<rect class="bar" [^>]*width="(?!0\.0")', dom))
        check(f"lab report: charts drawn ({charts} charts, {bars} non-empty bars)", charts >= 10 and bars >= 20)
        check("lab report: axes titled", dom.count('class="axis-title"') == 2 * charts)
        # Tables sort: a copy of the page clicks the verdict table's headers from a script of its
        # own and writes what it saw into the DOM (headless Chromium, no WebDriver needed).
        # The page's policy runs only the scripts it names by digest: the copy names this one too.
        clicks = """
var t = document.getElementById('t-verdicts'), th = t.querySelectorAll('th');
function column(i, attr) { return Array.prototype.map.call(t.tBodies[0].rows, function (r) {
  return attr ? parseFloat(r.cells[i].dataset.v) : r.cells[i].textContent; }); }
th[1].click(); var up = column(1, true);
th[1].click(); var down = column(1, true);
th[0].click(); var names = column(0, false);
document.body.dataset.sortcheck = JSON.stringify({up: up, down: down, names: names});
"""
        digest = base64.b64encode(hashlib.sha256(clicks.encode()).digest()).decode()
        page = report.read_text(encoding="utf-8")
        clicker = tmp / "sorted.html"
        clicker.write_text(page.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
                           .replace("</body>", f"<script>{clicks}</script></body>"), encoding="utf-8")
        # And one it does not name (as a name that escaped escaping would be) does not run.
        injected = tmp / "injected.html"
        injected.write_text(page.replace("</body>", "<script>document.body.dataset.injected = 'ran';</script></body>"),
                            encoding="utf-8")
        dom, _ = browse(injected, "dom", None, tmp / "profile")
        check("policy: an inline script the page does not name is not run",
              'data-sortable="ready"' in dom and "data-injected" not in dom, dom[:300])
        dom, console = browse(clicker, "dom", None, tmp / "profile")
        found = re.search(r'data-sortcheck="([^"]*)"', dom)
        seen = json.loads(html.unescape(found.group(1))) if found else {}
        up, down, names = seen.get("up", []), seen.get("down", []), seen.get("names", [])
        check("sorting: a click sorts a number column ascending, a second click descending",
              len(up) >= 5 and up == sorted(up) and down == sorted(up, reverse=True) and up != down, seen)
        check("sorting: a text column sorts by name", len(names) >= 5 and names == sorted(names), names)
        browse(report, "png", outdir / "report.png", tmp / "profile")
        size = (outdir / "report.png").stat().st_size if (outdir / "report.png").exists() else 0
        check(f"lab report: screenshot {outdir / 'report.png'} ({size} bytes)", size > 10000)

        # The hostile copy: names as a hostile zone could publish them.
        hostile_db = tmp / "hostile.sqlite"
        with sqlite3.connect(scan) as src, sqlite3.connect(hostile_db) as dst:
            src.backup(dst)
        with sqlite3.connect(hostile_db) as db:
            host = db.execute("SELECT host_id FROM host_findings ORDER BY host_id LIMIT 1").fetchone()[0]
            db.execute("UPDATE hosts SET name = ? WHERE id = ?", (HOSTILE_HOST, host))
            domain = db.execute("SELECT domain_id FROM findings ORDER BY domain_id LIMIT 1").fetchone()[0]
            db.execute("UPDATE domains SET name = ? WHERE id = ?", (HOSTILE_DOMAIN, domain))
        hostile = outdir / "hostile.html"
        subprocess.run([danescan, "report", "--db", str(hostile_db), "--format", "html", "--out", str(hostile)],
                       check=True)
        dom, console = browse(hostile, "dom", None, tmp / "profile")
        check("hostile: no console messages", not console, console)
        check("hostile: host name shown as text", "&lt;img src=x onerror=alert(1)&gt;mx.evil.test" in dom)
        check("hostile: domain name shown as text", "&lt;script&gt;alert(2)&lt;/script&gt;.test" in dom)
        check("hostile: no element made from a name", "<img" not in dom and dom.count("<script") == 1)
        browse(hostile, "png", outdir / "hostile.png", tmp / "profile")
        check("hostile: screenshot", (outdir / "hostile.png").exists())

    print(f"report-browser: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
