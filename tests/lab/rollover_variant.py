#!/usr/bin/python3
"""Write a variant of the lab catalogue in which two hosts changed, for the rollover test.

usage: rollover_variant.py CATALOGUE OUTDIR

OUTDIR/catalogue is a copy of CATALOGUE with:
- mx.ee-shared.test (127.25.0.77, serving ee-nexthop-a.test and ee-nexthop-b.test) presenting a
  new certificate `ee-nexthop-next` (same names, a new key) while its TLSA records stay those of
  the old one: a failed rollover (new certificate, stale TLSA);
- mx.dane-ok.test's TLSA record for `ee-mx1` replaced by one for `spare3` while the server keeps
  presenting ee-mx1: TLSA changed, certificate unchanged.
Everything else is the catalogue as it is. `DANESCAN_LAB_CATALOGUE=OUTDIR/catalogue tests/lab/up`
starts the lab from it; a plain `tests/lab/up` restores the lab. Prints what it changed; exit 1
when the catalogue no longer has what the variant changes.
"""

import json
import pathlib
import shutil
import sys

CERT_HOST, CERT_ADDRESS, OLD_CERT, NEW_CERT = "mx.ee-shared.test", "127.25.0.77", "ee-nexthop", "ee-nexthop-next"
TLSA_SCENARIO, OLD_TLSA, NEW_TLSA = "dane-ok.test", "{cert:ee-mx1:1:1}", "{cert:spare3:1:1}"


def main():
    src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]) / "catalogue"
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(src, out)

    world_path = out / "world.json"
    world = json.loads(world_path.read_text())
    smtp = world["smtp"][CERT_ADDRESS]
    assert smtp.get("chain") == [OLD_CERT], (CERT_ADDRESS, smtp)
    world["certs"][NEW_CERT] = dict(world["certs"][OLD_CERT])
    smtp["chain"] = [NEW_CERT]
    world_path.write_text(json.dumps(world, indent=2) + "\n")
    print(f"rollover_variant: {CERT_HOST} ({CERT_ADDRESS}) presents {NEW_CERT} instead of {OLD_CERT}")

    scenario_path = out / "scenarios" / f"{TLSA_SCENARIO}.json"
    scenario = json.loads(scenario_path.read_text())
    zone = scenario["zones"][TLSA_SCENARIO]
    changed = [r.replace(OLD_TLSA, NEW_TLSA) for r in zone["records"]]
    assert changed != zone["records"], (TLSA_SCENARIO, zone["records"])
    zone["records"] = changed
    scenario_path.write_text(json.dumps(scenario, indent=2) + "\n")
    print(f"rollover_variant: {TLSA_SCENARIO}'s TLSA {OLD_TLSA} became {NEW_TLSA}")


if __name__ == "__main__":
    main()
