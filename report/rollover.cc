// report/rollover.cc — the section `rollover` (with --compare): the MX hosts whose TLSA records
// no longer match their certificate, by what changed since the compared scan.
//
// A host (by name) counts when it is `fail` with `tlsa-mismatch` now. Its TLSA RRset (the `base`
// records, as a set over the name's host rows) and its leaf certificates (SHA-256 of every
// depth-0 certificate its probes saw, as a set) are compared with the compared scan's, and the
// compared scan's probes say whether the records matched then (a probe with dane `pass`):
// - matched then, new certificate, same TLSA: a failed rollover (the TLSA was not updated);
// - matched then, TLSA changed, same certificate: the records were changed without the server;
// - the rest (both changed, neither, no match then, host not in the compared scan) by name.
// Weighted by the domains each host serves now.
#include <string>

#include "report/providers.h"
#include "report/table_spec.h"

namespace danescan::report {
namespace {

using namespace spec;

// The kinds in the order the tables list them (a fixed vocabulary: every kind, zeros included).
constexpr const char* kKinds =
    "kinds(k, kind) AS (VALUES (1,'failed rollover: new certificate, stale TLSA'),"
    "(2,'TLSA changed, certificate unchanged'),(3,'certificate and TLSA changed'),"
    "(4,'certificate and TLSA unchanged'),(5,'no match in the compared scan'),(6,'not in the compared scan'))";

// The TLSA RRset and the leaf certificates of a host name in one scan (`db`: main or old, `run`:
// ?1 or ?2), as sorted '; '-joined sets; `name` is the outer query's host name.
std::string tlsaSet(const std::string& db, const std::string& run) {
  return "(SELECT group_concat(r, '; ') FROM (SELECT DISTINCT printf('%s %s %s %s', t.usage, t.selector, t.mtype, "
         "t.data) AS r FROM " + db + ".tlsa_records t JOIN " + db + ".hosts x ON x.id = t.host_id WHERE x.run_id = " +
         run + " AND x.name = c.name AND t.at = 'base' ORDER BY r))";
}
std::string leafSet(const std::string& db, const std::string& run) {
  return "(SELECT group_concat(sha256, '; ') FROM (SELECT DISTINCT pc.sha256 FROM " + db + ".probe_certs pc JOIN " +
         db + ".probes p ON p.id = pc.probe_id JOIN " + db + ".hosts x ON x.id = p.host_id WHERE x.run_id = " + run +
         " AND x.name = c.name AND pc.depth = 0 ORDER BY pc.sha256))";
}

// cls(name, kind, old_leaves, new_leaves): one row per host name failing with tlsa-mismatch now.
std::string classified() {
  return "cur AS (SELECT DISTINCT h.name FROM hosts h JOIN host_findings hf ON hf.host_id = h.id WHERE h.run_id = ?1 "
         "AND h.dane = 'fail' AND hf.code = 'tlsa-mismatch'), "
         "sets AS MATERIALIZED (SELECT c.name, EXISTS (SELECT 1 FROM old.hosts x WHERE x.run_id = ?2 AND x.name = "
         "c.name) AS in_old, EXISTS (SELECT 1 FROM old.probes p JOIN old.hosts x ON x.id = p.host_id WHERE "
         "x.run_id = ?2 AND x.name = c.name AND p.dane = 'pass') AS matched_then, " +
         tlsaSet("main", "?1") + " AS new_tlsa, " + tlsaSet("old", "?2") + " AS old_tlsa, " + leafSet("main", "?1") +
         " AS new_leaves, " + leafSet("old", "?2") +
         " AS old_leaves FROM cur c), "
         "cls AS (SELECT name, old_leaves, new_leaves, CASE WHEN NOT in_old THEN 'not in the compared scan' "
         "WHEN NOT matched_then THEN 'no match in the compared scan' "
         "WHEN new_leaves IS NOT old_leaves AND new_tlsa IS old_tlsa THEN 'failed rollover: new certificate, stale "
         "TLSA' WHEN new_tlsa IS NOT old_tlsa AND new_leaves IS old_leaves THEN 'TLSA changed, certificate "
         "unchanged' WHEN new_tlsa IS NOT old_tlsa THEN 'certificate and TLSA changed' "
         "ELSE 'certificate and TLSA unchanged' END AS kind FROM sets)";
}

}  // namespace

Section rolloverSection(const Source& s) {
  Section section{"rollover", "Rollovers since the compared scan", {}};
  const std::string cls = classified();
  {
    Table t = table("rollover_summary", "TLSA mismatches by what changed",
                    "MX hosts in state fail with tlsa-mismatch now, by what changed since the compared scan: their "
                    "TLSA RRset and their leaf certificates (SHA-256), each compared as a set, and whether the "
                    "TLSA records matched the certificate presented then (a probe passed). A failed rollover: "
                    "matched then, new certificate, same TLSA. Per distinct host name, weighted by the domains "
                    "those hosts serve now.",
                    {text("rollover", "failed rollover: new certificate, stale TLSA | TLSA changed, certificate unchanged | "
                                     "certificate and TLSA changed | certificate and TLSA unchanged | no match in the "
                                     "compared scan | not in the compared scan"),
                     count("hosts", "distinct MX host names"),
                     count("domains", "distinct domains those hosts serve")});
    s.fill(t, withCtes({kKinds, cls}) +
                  "SELECT k.kind, count(DISTINCT c.name), count(DISTINCT mx.domain_id) FROM kinds k LEFT JOIN cls c "
                  "ON c.kind = k.kind LEFT JOIN hosts h ON h.run_id = ?1 AND h.name = c.name LEFT JOIN mx ON "
                  "mx.host_id = h.id GROUP BY k.k, k.kind ORDER BY k.k");
    chart(t, {"rollover"}, "domains", "domains");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("rollover_hosts", "Hosts whose TLSA records stopped matching",
                    "Per kind of `rollover_summary` (the first two only: the rest are no rollover), the 20 hosts "
                    "serving the most domains, with the leaf certificates' SHA-256 then and now (first 16 hex "
                    "digits, '; '-joined when the addresses differ).",
                    {text("rollover", "what changed"), text("host", "MX host name"),
                     text("provider", "the host's registered domain"),
                     count("domains", "distinct domains the host serves now"),
                     text("old_leaf", "leaf SHA-256 in the compared scan (16 hex digits)"),
                     text("new_leaf", "leaf SHA-256 now (16 hex digits)")});
    s.fill(t, withCtes({kKinds, cls,
                        "r AS (SELECT c.*, k.k, hn.provider, hn.domains, row_number() OVER (PARTITION BY k.k ORDER BY "
                        "hn.domains DESC, c.name) AS rn FROM cls c JOIN kinds k ON k.kind = c.kind JOIN host_names "
                        "hn ON hn.name = c.name WHERE k.k <= 2)",
                        "short(name, o, n) AS (SELECT name, (SELECT group_concat(substr(value, 1, 16), '; ') FROM "
                        "json_each('[\"' || replace(old_leaves, '; ', '\",\"') || '\"]')), (SELECT "
                        "group_concat(substr(value, 1, 16), '; ') FROM json_each('[\"' || replace(new_leaves, '; ', "
                        "'\",\"') || '\"]')) FROM r)"}) +
                  "SELECT r.kind, r.name, r.provider, r.domains, short.o, short.n FROM r JOIN short ON short.name = "
                  "r.name WHERE r.rn <= 20 ORDER BY r.k, r.rn");
    section.tables.push_back(std::move(t));
  }
  return section;
}

}  // namespace danescan::report
