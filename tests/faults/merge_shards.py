#!/usr/bin/python3
"""faults.merge_shards DANESCAN CHECK-EXPORT

Scans the lab's domains (plus 200 NXDOMAIN names) whole, and as --shard 1/2 and --shard 2/2
into two databases; merges the shards with 'danescan merge'. Asserts that the shards are
disjoint and together cover the list, that the merged export has the full scan's domains, none
twice, with the same verdict, MX rcode and host states (any_of domains: compared with the
catalogue), passes check-export --strict, and that the merged run is 'completed'; and that
merging the same shard twice, or into an existing file, fails with exit 1 and writes nothing.
Prints 'N passed, M failed'.
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import _faultlib as fl  # noqa: E402


def merge(danescan, out, *shards):
    return subprocess.run([danescan, "merge", out, *shards], capture_output=True, text=True,
                          timeout=60)


def main():
    danescan, checker = fl.args()
    resolver, lab_domains = fl.lab()
    checks = fl.Checks()
    work = fl.Work("faults-merge")
    try:
        domains = lab_domains + fl.nx_names(200)
        lst = work.write_list("list.txt", domains)
        common = ["--resolver", resolver, "--no-probe", "--allow-special-addresses",
                  "--timeout", "500", "--attempts", "2", "--quiet"]
        full_db = work.path("full.sqlite")
        p = fl.scan(danescan, [lst], full_db, *common)
        checks.check("full scan exits 0", p.returncode == 0, p.stderr[-400:])
        _, full, _ = fl.export(danescan, full_db, work.path("full.jsonl"))
        checks.check(f"full export has every domain ({len(domains)})", len(full) == len(domains),
                     len(full))

        shard_dbs, shard_names = [], []
        for k in (1, 2):
            db = work.path(f"shard{k}.sqlite")
            p = fl.scan(danescan, [lst], db, *common, "--shard", f"{k}/2")
            checks.check(f"shard {k}/2 scan exits 0", p.returncode == 0, p.stderr[-400:])
            rc, objs, err = fl.export(danescan, db, work.path(f"shard{k}.jsonl"))
            names = [d["domain"] for d in objs]
            checks.check(f"shard {k}/2: a proper part of the list ({len(names)} domains)",
                         rc == 0 and 0 < len(names) < len(domains), f"{len(names)} {err}")
            shard_dbs.append(db)
            shard_names.append(set(names))
        checks.check("the shards are disjoint", not (shard_names[0] & shard_names[1]),
                     sorted(shard_names[0] & shard_names[1])[:10])
        checks.check("the shards cover the list", shard_names[0] | shard_names[1] == set(domains),
                     sorted(set(domains) - shard_names[0] - shard_names[1])[:10])

        merged_db, merged_out = work.path("merged.sqlite"), work.path("merged.jsonl")
        m = merge(danescan, merged_db, *shard_dbs)
        checks.check("merge of shard 1 and 2 exits 0", m.returncode == 0,
                     f"{m.returncode}: {m.stderr[-400:]}")
        rc, merged, err = fl.export(danescan, merged_db, merged_out)
        checks.check("export of the merged database exits 0", rc == 0, err)
        fl.compare_scans(checks, "merged vs full scan", full, merged, fl.catalogue_no_probe())
        rc, text = fl.check_export(checker, merged_out)
        checks.check("check-export --strict passes on the merged export", rc == 0, text[-600:])
        runs = fl.db_query(merged_db, "SELECT status FROM runs") if os.path.exists(merged_db) else []
        checks.check("the merged database has one run, 'completed'", runs == [("completed",)], runs)
        q_full = fl.db_query(full_db, "SELECT count(*) FROM queries WHERE domain_id IS NOT NULL")[0][0]
        q_merged = (fl.db_query(merged_db, "SELECT count(*) FROM queries WHERE domain_id IS NOT NULL")[0][0]
                    if os.path.exists(merged_db) else 0)
        checks.check(f"the merged database keeps the domains' queries ({q_merged}; full scan {q_full})",
                     q_merged >= len(domains), q_merged)

        twice = work.path("twice.sqlite")
        m = merge(danescan, twice, shard_dbs[0], shard_dbs[0])
        checks.check("merging the same shard twice exits 1", m.returncode == 1,
                     f"{m.returncode}: {m.stderr[-300:]}")
        checks.check("... and says why (names a domain found twice / the files)",
                     m.stderr.strip() != "" and os.path.basename(shard_dbs[0]) in m.stderr,
                     m.stderr[-300:])
        checks.check("... and writes no database", not os.path.exists(twice) or
                     fl.committed_domains(twice) == 0)
        m = merge(danescan, merged_db, *shard_dbs)
        checks.check("merging into an existing database exits 1", m.returncode == 1,
                     f"{m.returncode}: {m.stderr[-300:]}")
        rc, again, _ = fl.export(danescan, merged_db, work.path("again.jsonl"))
        checks.check("... and leaves it as it was", rc == 0 and again == merged, len(again))

        # Shards that are not one survey (issue 11): refused with every reason, --force recorded.
        probed = work.path("probed2.sqlite")
        probe_common = [c for c in common if c != "--no-probe"]
        p = fl.scan(danescan, [lst], probed, *probe_common, "--shard", "2/2")
        checks.check("probed shard 2/2 scan exits 0", p.returncode == 0, p.stderr[-400:])
        m = merge(danescan, work.path("mixed.sqlite"), shard_dbs[0], probed)
        checks.check("a --no-probe and a probed shard: exit 1, names no_probe",
                     m.returncode == 1 and "option no_probe differs" in m.stderr, m.stderr[-400:])
        checks.check("... and writes nothing", not os.path.exists(work.path("mixed.sqlite")))
        other = work.path("other") 
        os.makedirs(other, exist_ok=True)
        lst2 = os.path.join(other, os.path.basename(lst))
        with open(lst2, "w") as f:
            f.write("\n".join(domains + ["extra-name.test"]) + "\n")
        changed = work.path("changed2.sqlite")
        p = fl.scan(danescan, [lst2], changed, *common, "--shard", "2/2")
        m = merge(danescan, work.path("lists.sqlite"), shard_dbs[0], changed)
        checks.check("shards of lists with the same name but other content: exit 1, 'list 1 differs'",
                     m.returncode == 1 and "list 1 differs" in m.stderr, m.stderr[-400:])
        m = merge(danescan, work.path("missing.sqlite"), shard_dbs[0])
        checks.check("one of two shards: exit 1, names the missing 2/2",
                     m.returncode == 1 and "missing: 2/2" in m.stderr, m.stderr[-400:])
        forced = work.path("forced.sqlite")
        m = merge(danescan, forced, "--force", shard_dbs[0])
        runs = fl.db_query(forced, "SELECT status, json_extract(options, '$.missing_shards'), "
                           "json_array_length(options, '$.forced') FROM runs") if os.path.exists(forced) else []
        checks.check("--force with a missing shard: exit 0, run 'interrupted', 2/2 recorded and printed",
                     m.returncode == 0 and runs == [("interrupted", '["2/2"]', 1)] and "2/2" in m.stderr,
                     f"{m.returncode} {runs} {m.stderr[-300:]}")
    finally:
        work.close()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
