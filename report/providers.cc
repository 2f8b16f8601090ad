// report/providers.cc — the section `providers`: which MX providers break the most domains.
//
// A provider (source.cc: the MX host's registered domain) "breaks" a domain when the domain's
// verdict is `dane-fail` and one of the provider's hosts that serve it is in a state that makes
// it so (`fail`, `lookup-error`, `unreachable`: export-jsonl.md). Its main cause is the finding
// its failing hosts carry to the most of those domains (ties: the code first in byte order),
// among the findings that can explain a failure: the findings are taken as they come (a code
// added later counts), less the ones that never make a host fail (kNotCauses).
#include <string>

#include "report/providers.h"
#include "report/table_spec.h"

namespace danescan::report {
namespace {

using namespace spec;

// Findings that accompany a failing host without being why it fails: aliases and where their
// TLSA records sit, records no sender uses or that are only warnings, names and addresses the
// scan did not look up or probe, and the CNAME query whose failure alone never fails a host.
constexpr const char* kNotCauses =
    "('mx-is-cname','tlsa-alias-only','tlsa-canonical-only','tlsa-alias-canonical-differ','cname-query-failure',"
    "'tlsa-in-insecure-zone','pkix-usage-in-smtp','single-tlsa-record','dane-ee-name-mismatch-only',"
    "'tlsa-too-many-records','tlsa-malformed','mx-invalid-name','mx-special-address','mx-limit-reached')";

// Cumulative rank buckets of rank,domain lists (domains.rank; NULL for plain lists).
constexpr const char* kRankBuckets =
    "buckets(k, bucket, top) AS (VALUES (1,'top 1k',1000),(2,'top 10k',10000),(3,'top 100k',100000),"
    "(4,'top 1M',1000000))";

std::vector<Column> rankingColumns(std::vector<Column> labels, const std::string& served) {
  labels.push_back(count("rank", "1 = most failing domains (ties: most domains served, then name)"));
  labels.push_back(text("provider", "registered domain of the MX hosts"));
  labels.push_back(count("hosts", "distinct MX host names of the provider serving " + served));
  labels.push_back(count("domains", "distinct " + served + " the provider's hosts serve"));
  labels.push_back(count("failing_hosts", "of those hosts, the ones in state fail, lookup-error or unreachable "
                                          "that serve a dane-fail domain"));
  labels.push_back(count("failing_domains", "domains with verdict dane-fail served by a failing host of the provider"));
  labels.push_back(share("failing_share", "failing_domains / domains"));
  labels.push_back(text("main_cause", "the finding the provider's failing hosts carry to the most failing domains"));
  labels.push_back(count("cause_domains", "failing domains carrying main_cause through the provider's hosts"));
  return labels;
}

// Every (host row, domain) link of the run with what the three tables partition and count by,
// built once: one pass over the MX links instead of one per table. `tld`: what follows the
// domain's last dot (rtrim strips every character but '.' from the right), the whole name when
// it has none.
constexpr const char* kLinks[] = {
    "CREATE TEMP TABLE provider_links AS SELECT hn.provider, h.name, h.id AS host_id, mx.domain_id, "
    "(d.verdict = 'dane-fail' AND h.dane IN ('fail','lookup-error','unreachable')) AS failing, "
    "substr(d.name, length(rtrim(d.name, replace(d.name, '.', ''))) + 1) AS tld, d.rank FROM hosts h "
    "JOIN host_names hn ON hn.name = h.name JOIN mx ON mx.host_id = h.id JOIN domains d ON d.id = mx.domain_id "
    "WHERE h.run_id = ?1",
    "CREATE INDEX temp.provider_links_provider ON provider_links(provider)",
};

// One table: the links with the partition `part` (`ctes` may define what `join` needs), ranked
// per partition; at most `limit` providers each. Only providers that break a domain somewhere are
// grouped (the index on provider), so the many that break none cost one index probe each.
std::string rankingSql(const std::string& ctes, const std::string& part, const std::string& part_order,
                       const std::string& join, int limit, bool with_part) {
  const std::string served =
      "served AS MATERIALIZED (SELECT " + part + " AS part, " + part_order +
      " AS part_order, l.* FROM provider_links l " + join +
      " WHERE l.provider IN (SELECT DISTINCT provider FROM provider_links WHERE failing))";
  const std::string cause =
      std::string("cause AS (SELECT s.part, s.provider, f.code, count(DISTINCT s.domain_id) AS n FROM served s "
                  "JOIN findings f ON f.domain_id = s.domain_id AND f.host_id = s.host_id WHERE s.failing AND "
                  "f.code NOT IN ") + kNotCauses + " GROUP BY s.part, s.provider, f.code)";
  return "WITH " + (ctes.empty() ? std::string() : ctes + ", ") + served + ", " +
         "pv AS (SELECT part, min(part_order) AS part_order, provider, count(DISTINCT name) AS hosts, "
         "count(DISTINCT domain_id) AS domains, count(DISTINCT CASE WHEN failing THEN name END) AS failing_hosts, "
         "count(DISTINCT CASE WHEN failing THEN domain_id END) AS failing_domains FROM served GROUP BY part, "
         "provider), " +
         cause + ", " +
         "top AS (SELECT part, provider, code, n, row_number() OVER (PARTITION BY part, provider ORDER BY n DESC, "
         "code) AS k FROM cause), "
         "ranked AS (SELECT *, row_number() OVER (PARTITION BY part ORDER BY failing_domains DESC, domains DESC, "
         "provider) AS rk FROM pv WHERE failing_domains > 0) "
         "SELECT " + (with_part ? "r.part, " : "") +
         "r.rk, r.provider, r.hosts, r.domains, r.failing_hosts, r.failing_domains, 1.0 * r.failing_domains / "
         "NULLIF(r.domains, 0), t.code, t.n FROM ranked r LEFT JOIN top t ON t.part = r.part AND t.provider = "
         "r.provider AND t.k = 1 WHERE r.rk <= " + std::to_string(limit) + " ORDER BY r.part_order, r.part, r.rk";
}

}  // namespace

Section providersSection(const Source& s) {
  Section section{"providers", "Providers that break domains", {}};
  for (const char* sql : kLinks) (void)s.scalar(sql);
  {
    Table t = table("providers", "MX providers by failing domains",
                    "The 20 providers (registered domains of MX hosts) whose hosts break the most domains: domains "
                    "with verdict dane-fail served by a provider host in state fail, lookup-error or unreachable. "
                    "main_cause: the finding those hosts carry to the most of those domains (ties: first in byte "
                    "order), findings that never fail a host (aliases, warnings, names not looked up) left out.",
                    rankingColumns({}, "domains"));
    s.fill(t, rankingSql("", "''", "0", "", 20, false));
    chart(t, {"provider"}, "failing_domains", "failing domains");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("provider_tlds", "MX providers by failing domains, per TLD",
                    "Per TLD of the scanned domain (its last label), the five providers whose hosts break the most "
                    "of that TLD's domains; every figure counts that TLD's domains only. Definitions as in "
                    "`providers`.",
                    rankingColumns({text("tld", "TLD of the scanned domains (last label)")}, "domains of the TLD"));
    s.fill(t, rankingSql("", "l.tld", "0", "", 5, true));
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("provider_ranks", "MX providers by failing domains, per rank bucket",
                    "For domains from rank,domain lists (the list's rank; plain lists have none), per cumulative "
                    "bucket (top 1k = rank 1 to 1,000, top 10k includes it, ...), the five providers whose hosts "
                    "break the most of the bucket's domains; every figure counts the bucket's domains only. Empty "
                    "when no domain has a rank. Definitions as in `providers`.",
                    rankingColumns({text("rank_bucket", "top 1k | top 10k | top 100k | top 1M (ranks 1 to N)")},
                                   "domains of the bucket"));
    s.fill(t, rankingSql(kRankBuckets, "b.bucket", "b.k", "JOIN buckets b ON l.rank <= b.top", 5, true));
    section.tables.push_back(std::move(t));
  }
  return section;
}

}  // namespace danescan::report
