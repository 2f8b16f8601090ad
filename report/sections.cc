// report/sections.cc — the headline, misconfigurations, CNAME'd MX hosts and TLSA records
// sections: SQL over the run (?1), one query per table. See sections.h for the conventions.
#include "report/sections.h"

#include <string>

#include "report/table_spec.h"

namespace danescan::report {

using namespace spec;

const char* const kVerdictValues =
    "verdicts(k, verdict) AS (VALUES (1,'no-mail'),(2,'dns-error'),(3,'insecure'),(4,'dnssec-no-tlsa'),"
    "(5,'dane-ok'),(6,'dane-partial'),(7,'dane-fail'),(8,'dane-unusable'),(9,'dane-unprobed'))";
const char* const kHostStateValues =
    "states(k, state) AS (VALUES (1,'insecure'),(2,'no-tlsa'),(3,'unusable-tlsa'),(4,'lookup-error'),"
    "(5,'pass'),(6,'fail'),(7,'unreachable'),(8,'unprobed'))";
const char* const kFindingValues =
    "codes(k, code) AS (VALUES (1,'mx-is-cname'),(2,'tlsa-alias-only'),(3,'tlsa-canonical-only'),"
    "(4,'tlsa-alias-canonical-differ'),(5,'cname-query-failure'),(6,'tlsa-lookup-failure'),"
    "(7,'tlsa-in-insecure-zone'),(8,'tlsa-mismatch'),(9,'no-starttls-with-tlsa'),(10,'tls-handshake-failure'),"
    "(11,'pkix-usage-in-smtp'),(12,'dnssec-bogus'),(13,'mx-servfail'),(14,'single-tlsa-record'),"
    "(15,'dane-ee-name-mismatch-only'),(16,'tlsa-too-many-records'),(17,'tlsa-malformed'),"
    "(18,'mx-invalid-name'),(19,'mx-special-address'),(20,'smtp-rate-limited'),"
    "(21,'address-lookup-failure'),(22,'tlsa-host-no-address'),(23,'smtp-connect-failure'),(24,'smtp-timeout'),"
    "(25,'smtp-protocol-error'),(26,'starttls-rejected'),(27,'dane-ta-name-mismatch'),"
    "(28,'dane-ta-certificate-expired'))";

namespace {

// Bases of the shares (source.cc computes them once into run_figures).
constexpr const char* kScanned = "(SELECT scanned FROM run_figures)";
constexpr const char* kWithHosts = "(SELECT with_hosts FROM run_figures)";
constexpr const char* kHostNames = "(SELECT host_names FROM run_figures)";
// A host state with usable TLSA records (export-jsonl.md: the four states after `lookup-error`).
constexpr const char* kUsableStates = "('pass','fail','unreachable','unprobed')";
// A TLSA record that RFC 7672 / OpenSSL would not use because of its content (the contract's
// `tlsa-malformed`): not "U S M HEX", unknown usage, selector or matching type (255 included),
// or a digest whose length does not fit SHA-256 (64 hex digits) or SHA-512 (128).
constexpr const char* kMalformed =
    "(t.usage IS NULL OR t.usage > 3 OR t.selector > 1 OR t.mtype > 2 "
    "OR (t.mtype = 1 AND length(t.data) <> 64) OR (t.mtype = 2 AND length(t.data) <> 128) "
    "OR length(t.data) % 2 = 1)";

Table headline(const Source& s) {
  Table t = table("headline", "Headline",
                  "Domains of the run, the DANE share by domains and by distinct MX hosts, hosts and providers "
                  "(provider: the MX host's registered domain by the public suffix list).",
                  metricColumns("domains, hosts or providers"));
  // Three one-pass aggregates (domains, host rows, providers), then one row per figure.
  std::string sql =
      std::string(
          "WITH dm AS MATERIALIZED (SELECT count(*) AS n, coalesce(sum(verdict <> 'no-mail'), 0) AS mail, "
          "coalesce(sum(mx_secure = 1 AND verdict NOT IN ('no-mail', 'dns-error')), 0) AS secure, "
          "(SELECT count(DISTINCT mx.domain_id) FROM (SELECT DISTINCT t.host_id FROM hosts h JOIN tlsa_records "
          "t ON t.host_id = h.id AND t.at = 'base' WHERE h.run_id = ?1) th JOIN mx ON mx.host_id = th.host_id) "
          "AS tlsa, coalesce(sum(verdict LIKE 'dane-%'), 0) AS dane, "
          "coalesce(sum(verdict IN ('dane-ok', 'dane-partial')), 0) AS auth FROM domains d WHERE run_id = ?1), "
          "hm AS MATERIALIZED (SELECT count(DISTINCT CASE WHEN dane IN ") +
      kUsableStates +
      " THEN name END) AS usable, count(DISTINCT CASE WHEN dane = 'pass' THEN name END) AS pass FROM hosts WHERE "
      "run_id = ?1), "
      "pm AS MATERIALIZED (SELECT (SELECT count(*) FROM host_names) AS names, (SELECT count(DISTINCT provider) FROM "
      "host_names) AS providers, (SELECT count(DISTINCT hn.provider) FROM hosts h JOIN host_names hn ON hn.name = "
      "h.name WHERE h.run_id = ?1 AND h.dane IN " +
      kUsableStates + ") AS usable) ";
  const char* domain_rows[][2] = {
      {"domains scanned", "n"},
      {"domains with mail (verdict not no-mail)", "mail"},
      {"domains with a DNSSEC-validated MX RRset", "secure"},
      {"domains with TLSA records at one or more MX hosts", "tlsa"},
      {"domains with DANE (verdict dane-*)", "dane"},
      {"domains DANE-authenticated (dane-ok, dane-partial)", "auth"},
  };
  for (const auto& row : domain_rows) {
    sql += std::string(row[0] == domain_rows[0][0] ? "" : " UNION ALL ") + "SELECT '" + row[0] + "', " + row[1] +
           ", 1.0 * " + row[1] + " / NULLIF(n, 0), 'domains scanned' FROM dm";
  }
  sql +=
      " UNION ALL SELECT 'distinct MX hosts', names, NULL, NULL FROM pm"
      " UNION ALL SELECT 'MX hosts with usable TLSA (pass, fail, unreachable, unprobed)', hm.usable, 1.0 * hm.usable / "
      "NULLIF(names, 0), 'distinct MX hosts' FROM hm, pm"
      " UNION ALL SELECT 'MX hosts that pass DANE', pass, 1.0 * pass / NULLIF(names, 0), 'distinct MX hosts' FROM hm, "
      "pm"
      " UNION ALL SELECT 'distinct providers', providers, NULL, NULL FROM pm"
      " UNION ALL SELECT 'providers with an MX host with usable TLSA', pm.usable, 1.0 * pm.usable / NULLIF(providers, "
      "0), 'distinct providers' FROM pm";
  s.fill(t, sql);
  return t;
}

Table verdicts(const Source& s) {
  Table t = table("verdicts", "Domain verdicts", "Every verdict of the contract; share of the domains scanned.",
                  {text("verdict", "the contract's domain verdict"), count("domains", "domains with this verdict"),
                   share("share", "domains / domains scanned")});
  chart(t, {"verdict"}, "domains", "domains");
  s.fill(t, withCtes({kVerdictValues,
                      "c AS (SELECT verdict, count(*) AS n FROM domains WHERE run_id = ?1 GROUP BY verdict)"}) +
                "SELECT v.verdict, coalesce(c.n, 0), 1.0 * coalesce(c.n, 0) / NULLIF(" + kScanned +
                ", 0) FROM verdicts v LEFT JOIN c ON c.verdict = v.verdict "
                "UNION ALL SELECT verdict, n, 1.0 * n / NULLIF(" +
                kScanned + ", 0) FROM c WHERE verdict NOT IN (SELECT verdict FROM verdicts)");
  return t;
}

Table hostStates(const Source& s) {
  Table t = table(
      "host_states", "MX host DANE states",
      "Every host state of the contract, per distinct MX host name and weighted by the domains those hosts "
      "serve (a domain with hosts in two states counts in both).",
      hostColumns({text("state", "the contract's host DANE state")}, "distinct MX hosts", "domains with MX hosts"));
  chart(t, {"state"}, "hosts", "MX hosts");
  s.fill(t, withCtes({kHostStateValues,
                      "c AS (SELECT h.dane, count(DISTINCT h.name) AS hosts, count(DISTINCT mx.domain_id) AS domains "
                      "FROM hosts h LEFT JOIN mx ON mx.host_id = h.id WHERE h.run_id = ?1 GROUP BY h.dane)"}) +
                "SELECT st.state, coalesce(c.hosts, 0), 1.0 * coalesce(c.hosts, 0) / NULLIF(" + kHostNames +
                ", 0), coalesce(c.domains, 0), 1.0 * coalesce(c.domains, 0) / NULLIF(" + kWithHosts +
                ", 0) FROM states st LEFT JOIN c ON c.dane = st.state");
  return t;
}

}  // namespace

Section headlineSection(const Source& s) {
  Section section{"headline", "Headline", {}};
  section.tables.push_back(headline(s));
  section.tables.push_back(verdicts(s));
  section.tables.push_back(hostStates(s));
  return section;
}

Section findingsSection(const Source& s) {
  Section section{"misconfigurations", "Misconfigurations", {}};
  // The run's finding rows, and each code's rank in the contract (later codes after them).
  const std::string f =
      "f AS (SELECT f.code, f.domain_id, f.host_id FROM findings f JOIN domains d ON d.id = f.domain_id "
      "WHERE d.run_id = ?1)";
  const std::string all_codes =
      "all_codes AS (SELECT k, code FROM codes UNION ALL "
      "SELECT DISTINCT 1000, code FROM f WHERE code NOT IN (SELECT code FROM codes))";
  {
    Table t = table("findings", "Finding codes",
                    "Every finding code of the contract: domains carrying it (share of the domains scanned), the "
                    "distinct MX hosts causing it (share of the distinct MX hosts; 0 for domain-level codes such as "
                    "mx-servfail), and up to three example domains in name order.",
                    {text("code", "the contract's finding code"), count("domains", "domains carrying the code"),
                     share("share", "domains / domains scanned"), count("hosts", "distinct MX host names causing it"),
                     share("host_share", "hosts / distinct MX hosts"),
                     text("examples", "up to three domains carrying the code, '; '-separated, in name order")});
    chart(t, {"code"}, "domains", "domains");
    s.fill(t,
           withCtes({kFindingValues, f.c_str(), all_codes.c_str(),
                     "byc AS (SELECT code, count(DISTINCT domain_id) AS domains FROM f GROUP BY code)",
                     "hh AS (SELECT hf.code, count(DISTINCT h.name) AS hosts FROM host_findings hf JOIN hosts h ON "
                     "h.id = hf.host_id WHERE h.run_id = ?1 GROUP BY hf.code)",
                     "ex AS (SELECT code, group_concat(name, '; ') AS examples FROM (SELECT e.code, d.name, "
                     "row_number() OVER (PARTITION BY e.code ORDER BY d.name) AS rn FROM (SELECT DISTINCT code, "
                     "domain_id FROM f) e JOIN domains d ON d.id = e.domain_id ORDER BY e.code, d.name) WHERE rn <= 3 "
                     "GROUP BY code)"}) +
               "SELECT a.code, coalesce(byc.domains, 0), 1.0 * coalesce(byc.domains, 0) / NULLIF(" + kScanned +
               ", 0), coalesce(hh.hosts, 0), 1.0 * coalesce(hh.hosts, 0) / NULLIF(" + kHostNames +
               ", 0), ex.examples FROM all_codes a LEFT JOIN byc ON byc.code = a.code LEFT JOIN hh ON hh.code = "
               "a.code LEFT JOIN ex ON ex.code = a.code ORDER BY a.k, a.code");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("finding_hosts", "Top MX hosts per finding",
                    "For each code, the five MX hosts whose own findings include it that carry it to the most domains.",
                    {text("code", "finding code"), count("rank", "1 = most domains"), text("host", "MX host name"),
                     text("provider", "the host's registered domain"),
                     count("domains", "domains carrying the code through this host")});
    s.fill(t, withCtes({kFindingValues, f.c_str(), all_codes.c_str(),
                        "x AS (SELECT f.code, h.name, count(DISTINCT f.domain_id) AS n FROM f JOIN hosts h ON h.id = "
                        "f.host_id GROUP BY f.code, h.name)",
                        "r AS (SELECT code, name, n, row_number() OVER (PARTITION BY code ORDER BY n DESC, name) AS rk "
                        "FROM x)"}) +
                  "SELECT r.code, r.rk, r.name, hn.provider, r.n FROM r JOIN all_codes a ON a.code = r.code "
                  "LEFT JOIN host_names hn ON hn.name = r.name WHERE r.rk <= 5 ORDER BY a.k, a.code, r.rk");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("finding_providers", "Top providers per finding",
                    "For each code, the five providers (registered domains of MX hosts) whose hosts carry it to the "
                    "most domains.",
                    {text("code", "finding code"), count("rank", "1 = most domains"),
                     text("provider", "registered domain of the MX hosts"),
                     count("hosts", "distinct MX host names of the provider causing it"),
                     count("domains", "domains carrying the code through the provider's hosts")});
    s.fill(t,
           withCtes({kFindingValues, f.c_str(), all_codes.c_str(),
                     "x AS (SELECT f.code, hn.provider, count(DISTINCT h.name) AS hosts, count(DISTINCT f.domain_id) "
                     "AS n FROM f JOIN hosts h ON h.id = f.host_id JOIN host_names hn ON hn.name = h.name GROUP BY "
                     "f.code, hn.provider)",
                     "r AS (SELECT code, provider, hosts, n, row_number() OVER (PARTITION BY code ORDER BY n DESC, "
                     "provider) AS rk FROM x)"}) +
               "SELECT r.code, r.rk, r.provider, r.hosts, r.n FROM r JOIN all_codes a ON a.code = r.code "
               "WHERE r.rk <= 5 ORDER BY a.k, a.code, r.rk");
    section.tables.push_back(std::move(t));
  }
  return section;
}

Section cnameSection(const Source& s) {
  Section section{"cname", "CNAME'd MX hosts", {}};
  // Alias hosts of the run with the canonical (last) name of their chain and the number of TLSA
  // records found at each end: `base` rows belong to tlsa_base, `other` rows to tlsa_other_base.
  const std::string aliases =
      "a AS (SELECT h.id, h.name, h.dane, h.tlsa_rcode, h.tlsa_other_rcode, h.tlsa_base, h.tlsa_other_base, "
      "(SELECT c.name FROM cname_chain c WHERE c.host_id = h.id ORDER BY c.position DESC LIMIT 1) AS canonical "
      "FROM hosts h WHERE h.run_id = ?1 AND EXISTS (SELECT 1 FROM cname_chain c WHERE c.host_id = h.id))";
  // The TLSA records at one end (`which`: the alias name or the canonical name) of host a.
  const auto at = [](const std::string& which) {
    return "SELECT t.usage, t.selector, t.mtype, t.data FROM tlsa_records t WHERE t.host_id = a.id AND "
           "((t.at = 'base' AND a.tlsa_base = " +
           which + ") OR (t.at = 'other' AND a.tlsa_other_base = " + which + "))";
  };
  {
    Table t = table("cname_hosts", "MX hosts that are aliases",
                    "MX hosts whose address lookup followed a CNAME (RFC 2181 and RFC 5321 do not allow it), per "
                    "distinct name and by the domains they serve.",
                    hostColumns({text("metric", "which hosts")}, "distinct MX hosts", "domains with MX hosts"));
    // One pass over the alias host rows only (few), after the row for all MX hosts.
    const std::string alias = "EXISTS (SELECT 1 FROM cname_chain c WHERE c.host_id = h.id)";
    s.fill(t, std::string("SELECT 'all MX hosts', ") + kHostNames + ", 1.0 * " + kHostNames + " / NULLIF(" +
                  kHostNames + ", 0), " + kWithHosts + ", 1.0 * " + kWithHosts + " / NULLIF(" + kWithHosts +
                  ", 0) UNION ALL SELECT * FROM (" +
                  hostMetricsSql(
                      "", "hosts h LEFT JOIN mx ON mx.host_id = h.id WHERE h.run_id = ?1 AND " + alias,
                      {{"aliases (CNAME)", "1"},
                       {"aliases with a validated chain", "h.addr_secure = 1"},
                       {"aliases with a validated CNAME, insecure chain", "h.addr_secure = 0 AND h.cname_secure = 1"},
                       {"aliases with TLSA records used (tlsa_base set)", "h.tlsa_base IS NOT NULL"}},
                      kHostNames, kWithHosts) +
                  ")");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("cname_tlsa_placement", "Where alias MX hosts' TLSA records sit",
                    "Alias MX hosts by the TLSA RRsets at `_25._tcp.` of the alias (the MX name) and of the canonical "
                    "name: compared only when both lookups completed (NOERROR or NXDOMAIN), as the findings are; "
                    "`both-equal`/`both-differ` compare the RRsets as sets.",
                    hostColumns({text("placement",
                                      "no-tlsa-lookup | lookup-failed | none | alias-only | "
                                      "canonical-only | both-equal | both-differ")},
                                "alias MX hosts", "domains with MX hosts"));
    chart(t, {"placement"}, "hosts", "alias MX hosts");
    const std::string classify =
        "p AS (SELECT a.id, a.name, CASE "
        "WHEN a.tlsa_rcode IS NULL THEN 'no-tlsa-lookup' "
        "WHEN a.tlsa_rcode NOT IN ('NOERROR','NXDOMAIN') OR a.tlsa_other_rcode IS NULL "
        "OR a.tlsa_other_rcode NOT IN ('NOERROR','NXDOMAIN') THEN 'lookup-failed' "
        "WHEN NOT EXISTS (" +
        at("a.name") + ") AND NOT EXISTS (" + at("a.canonical") +
        ") THEN 'none' "
        "WHEN NOT EXISTS (" +
        at("a.canonical") +
        ") THEN 'alias-only' "
        "WHEN NOT EXISTS (" +
        at("a.name") +
        ") THEN 'canonical-only' "
        "WHEN NOT EXISTS (" +
        at("a.name") + " EXCEPT " + at("a.canonical") + ") AND NOT EXISTS (" + at("a.canonical") + " EXCEPT " +
        at("a.name") + ") THEN 'both-equal' ELSE 'both-differ' END AS placement FROM a)";
    s.fill(t,
           withCtes({aliases.c_str(), classify.c_str(),
                     "kinds(k, placement) AS (VALUES (1,'no-tlsa-lookup'),(2,'lookup-failed'),(3,'none'),"
                     "(4,'alias-only'),(5,'canonical-only'),(6,'both-equal'),(7,'both-differ'))",
                     "c AS (SELECT p.placement, count(DISTINCT p.name) AS hosts, count(DISTINCT mx.domain_id) AS "
                     "domains FROM p LEFT JOIN mx ON mx.host_id = p.id GROUP BY p.placement)"}) +
               "SELECT k.placement, coalesce(c.hosts, 0), 1.0 * coalesce(c.hosts, 0) / NULLIF((SELECT count(DISTINCT "
               "name) FROM a), 0), coalesce(c.domains, 0), 1.0 * coalesce(c.domains, 0) / NULLIF(" +
               kWithHosts + ", 0) FROM kinds k LEFT JOIN c ON c.placement = k.placement ORDER BY k.k");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("cname_queries", "Explicit CNAME queries by rcode",
                    "MX hosts by the rcode of the explicit CNAME query for their name (`not sent` when none was); "
                    "failed = not NOERROR/NXDOMAIN. Postfix sends this query when an alias's address records are "
                    "insecure and defers mail when it fails.",
                    {text("rcode", "rcode of the CNAME query, or TIMEOUT, or `not sent`"),
                     count("failed", "1 when the rcode is a failure"), count("hosts", "distinct MX host names"),
                     count("alias_hosts", "of which aliases"), count("domains", "distinct domains those hosts serve")});
    chart(t, {"rcode"}, "hosts", "MX hosts");
    s.fill(t,
           "SELECT coalesce(h.cname_rcode, 'not sent') AS r, CASE WHEN h.cname_rcode IS NULL OR h.cname_rcode IN "
           "('NOERROR','NXDOMAIN') THEN 0 ELSE 1 END, count(DISTINCT h.name), count(DISTINCT CASE WHEN EXISTS "
           "(SELECT 1 FROM cname_chain c WHERE c.host_id = h.id) THEN h.name END), count(DISTINCT mx.domain_id) "
           "FROM hosts h LEFT JOIN mx ON mx.host_id = h.id WHERE h.run_id = ?1 GROUP BY r ORDER BY 3 DESC, r");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("cname_deferral", "Domains a DANE sender would defer",
                    "Domains with a validated MX RRset (DANE applies) and at least one (some) or every (all) MX host "
                    "the sender defers. Strict RFC 7672: hosts in `lookup-error`. Postfix-like: also hosts whose "
                    "explicit CNAME query failed while the address lookup succeeded insecurely (the "
                    "`cname-query-failure` case). Shares: of the domains with a validated MX RRset.",
                    {text("sender", "rfc7672-strict | postfix-like | postfix-only (the difference)"),
                     count("hosts", "distinct MX host names deferred"),
                     count("domains_some", "domains with at least one deferred MX host"),
                     share("share_some", "domains_some / domains with a validated MX RRset"),
                     count("domains_all", "domains whose every MX host is deferred"),
                     share("share_all", "domains_all / domains with a validated MX RRset")});
    chart(t, {"sender"}, "domains_some", "domains with a deferred MX host");
    const std::string strict = "(h.dane = 'lookup-error')";
    const std::string postfix =
        "(h.dane = 'lookup-error' OR (h.cname_rcode IS NOT NULL AND h.cname_rcode NOT IN ('NOERROR','NXDOMAIN') "
        "AND h.addr_rcode = 'NOERROR' AND h.addr_secure = 0))";
    const std::string defer = "hd AS MATERIALIZED (SELECT h.name, " + strict + " AS strict, " + postfix +
                              " AS postfix FROM hosts h WHERE h.run_id = ?1 AND (" + postfix + "))";
    // Only domains with at least one deferred host can count: those, then all of their hosts.
    const std::string per_domain =
        "cand AS MATERIALIZED (SELECT DISTINCT mx.domain_id AS id FROM hosts h JOIN mx ON mx.host_id = h.id WHERE "
        "h.run_id = ?1 AND " +
        postfix +
        "), "
        "dd AS MATERIALIZED (SELECT d.id, max(" +
        strict + ") AS s_some, min(" + strict + ") AS s_all, max(" + postfix + ") AS p_some, min(" + postfix +
        ") AS p_all FROM cand JOIN domains d ON d.id = cand.id JOIN mx ON "
        "mx.domain_id = d.id JOIN hosts h ON h.id = mx.host_id WHERE d.mx_secure = 1 AND d.verdict NOT IN "
        "('no-mail','dns-error') GROUP BY d.id)";
    // Computed once (a scalar subquery is evaluated once per place it is written).
    const std::string eligible = "(SELECT n FROM elig)";
    s.fill(t, withCtes({defer.c_str(), per_domain.c_str(),
                        "elig AS MATERIALIZED (SELECT count(*) AS n FROM domains WHERE run_id = ?1 AND mx_secure = 1 "
                        "AND verdict NOT IN ('no-mail','dns-error'))"}) +
                  "SELECT 'rfc7672-strict', (SELECT count(DISTINCT name) FROM hd WHERE strict), sum(s_some), 1.0 * "
                  "sum(s_some) / NULLIF(" +
                  eligible + ", 0), sum(s_all), 1.0 * sum(s_all) / NULLIF(" + eligible +
                  ", 0) FROM dd UNION ALL SELECT 'postfix-like', (SELECT count(DISTINCT name) FROM hd WHERE postfix), "
                  "sum(p_some), 1.0 * sum(p_some) / NULLIF(" +
                  eligible + ", 0), sum(p_all), 1.0 * sum(p_all) / NULLIF(" + eligible +
                  ", 0) FROM dd UNION ALL SELECT 'postfix-only', (SELECT count(DISTINCT name) FROM hd WHERE "
                  "postfix AND NOT strict), sum(p_some AND NOT s_some), 1.0 * sum(p_some AND NOT s_some) / NULLIF(" +
                  eligible + ", 0), sum(p_all AND NOT s_all), 1.0 * sum(p_all AND NOT s_all) / NULLIF(" + eligible +
                  ", 0) FROM dd");
    // sum() over no rows is NULL: an empty scan shows zeros.
    for (auto& row : t.rows) {
      for (size_t i = 1; i < row.size(); ++i) {
        if (t.columns[i].kind == Kind::Int && std::holds_alternative<std::monostate>(row[i])) row[i] = int64_t{0};
      }
    }
    section.tables.push_back(std::move(t));
  }
  return section;
}

Section tlsaSection(const Source& s) {
  Section section{"tlsa", "TLSA records", {}};
  // The run's TLSA RRsets used (at = 'base'), one row per host row.
  const std::string base =
      "b AS MATERIALIZED (SELECT h.id AS host_id, h.name, h.dane, t.usage, t.selector, t.mtype, t.data FROM hosts h "
      "JOIN "
      "tlsa_records t ON t.host_id = h.id AND t.at = 'base' WHERE h.run_id = ?1)";
  {
    Table t =
        table("tlsa_parameters", "TLSA parameters",
              "Records of the RRsets used (the contract's `tlsa`) by usage, selector and matching type; NULL "
              "numbers: a record that is not `U S M HEX`. Records are counted per host row.",
              {count("usage", "certificate usage"), text("usage_name", "PKIX-TA(0) PKIX-EE(1) DANE-TA(2) DANE-EE(3)"),
               count("selector", "0 full certificate, 1 SubjectPublicKeyInfo"),
               count("mtype", "matching type: 0 full, 1 SHA-256, 2 SHA-512"), count("records", "TLSA records"),
               count("hosts", "distinct MX host names publishing such a record"),
               count("domains", "distinct domains those hosts serve")});
    chart(t, {"usage_name", "selector", "mtype"}, "records", "TLSA records");
    s.fill(t,
           withCtes({base.c_str(),
                     "g AS (SELECT usage, selector, mtype, count(*) AS records, count(DISTINCT name) AS hosts FROM b "
                     "GROUP BY usage, selector, mtype)",
                     "dm AS (SELECT u.usage, u.selector, u.mtype, count(DISTINCT mx.domain_id) AS domains FROM (SELECT "
                     "DISTINCT host_id, usage, selector, mtype FROM b) u JOIN mx ON mx.host_id = u.host_id GROUP BY "
                     "u.usage, u.selector, u.mtype)"}) +
               "SELECT g.usage, CASE WHEN g.usage IS NULL THEN NULL WHEN g.usage = 0 THEN 'PKIX-TA' WHEN g.usage = 1 "
               "THEN 'PKIX-EE' WHEN g.usage = 2 THEN 'DANE-TA' WHEN g.usage = 3 THEN 'DANE-EE' ELSE 'unknown' END, "
               "g.selector, g.mtype, g.records, "
               "g.hosts, coalesce(dm.domains, 0) FROM g LEFT JOIN dm ON dm.usage IS g.usage AND dm.selector IS "
               "g.selector AND dm.mtype IS g.mtype ORDER BY g.records DESC, g.usage, g.selector, g.mtype");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("tlsa_rrset_sizes", "TLSA RRset sizes",
                    "Hosts by the number of records in the RRset used (1: no rollover can be staged; over 12: some "
                    "large senders give up).",
                    {count("records", "records in the RRset"), count("hosts", "distinct MX host names"),
                     count("domains", "distinct domains those hosts serve")});
    chart(t, {"records"}, "hosts", "MX hosts");
    s.fill(t, withCtes({base.c_str(), "z AS (SELECT host_id, name, count(*) AS n FROM b GROUP BY host_id)"}) +
                  "SELECT z.n, count(DISTINCT z.name), count(DISTINCT mx.domain_id) FROM z LEFT JOIN mx ON mx.host_id "
                  "= z.host_id GROUP BY z.n ORDER BY z.n");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("tlsa_rrsets", "TLSA RRsets: rollover readiness and quality",
                    "Hosts with a TLSA RRset in use. Rollover-ready as the issue defines it: two or more records, or a "
                    "DANE-EE plus a DANE-TA record. Malformed: see tlsa_malformed.",
                    hostColumns({text("metric", "which hosts")}, "hosts with a TLSA RRset",
                                "domains served by hosts with a TLSA RRset"));
    // Per host row: record counts by kind.
    const std::string per_host =
        std::string(
            "r AS MATERIALIZED (SELECT host_id, name, dane, count(*) AS n, sum(usage = 3) AS ee, sum(usage = 2) AS ta, "
            "sum(usage IN (0, 1)) AS pkix, sum(usage IN (2, 3) AND NOT ") +
        kMalformed + ") AS usable, sum(" + kMalformed + ") AS bad FROM b t GROUP BY host_id)";
    const std::vector<Metric> rows = {
        {"with a TLSA RRset", "1"},
        {"single record", "h.n = 1"},
        {"two or more records", "h.n >= 2"},
        {"DANE-EE plus DANE-TA", "h.ee > 0 AND h.ta > 0"},
        {"rollover-ready (two or more records, or DANE-EE plus DANE-TA)", "h.n >= 2 OR (h.ee > 0 AND h.ta > 0)"},
        {"two or more usable records", "h.usable >= 2"},
        {"oversized (more than 12 records)", "h.n > 12"},
        {"with a malformed record", "h.bad > 0"},
        {"with a PKIX-TA(0)/PKIX-EE(1) record", "h.pkix > 0"},
        {"no usable record (unusable-tlsa)", "h.usable = 0"},
    };
    // hostMetricsSql counts h.name and mx.domain_id: r, one row per host row, is `h`.
    std::string sql = hostMetricsSql(base + ", " + per_host, "r AS h LEFT JOIN mx ON mx.host_id = h.host_id", rows,
                                     "(SELECT count(DISTINCT name) FROM r)",
                                     "(SELECT count(DISTINCT mx.domain_id) FROM r JOIN mx ON mx.host_id = r.host_id)");
    s.fill(t, sql);
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("tlsa_malformed", "Malformed TLSA records",
                    "Records of the RRsets used that no sender can use because of their content (the contract's "
                    "`tlsa-malformed`), by the first reason that applies.",
                    {text("reason", "why the record is unusable"), count("records", "records"),
                     count("hosts", "distinct MX host names"), count("domains", "distinct domains those hosts serve")});
    s.fill(t,
           withCtes({base.c_str(),
                     "m AS (SELECT host_id, name, CASE WHEN usage IS NULL THEN 'not U S M HEX' WHEN usage > 3 THEN "
                     "'unknown usage' WHEN selector > 1 THEN 'unknown selector' WHEN mtype = 255 THEN 'matching type "
                     "255 (private)' WHEN mtype > 2 THEN 'unknown matching type' WHEN length(data) % 2 = 1 THEN "
                     "'odd number of hex digits' WHEN mtype = 1 AND length(data) <> 64 THEN 'SHA-256 digest of wrong "
                     "length' WHEN mtype = 2 AND length(data) <> 128 THEN 'SHA-512 digest of wrong length' END AS "
                     "reason FROM b)",
                     "dm AS (SELECT reason, count(DISTINCT mx.domain_id) AS domains FROM (SELECT DISTINCT host_id, "
                     "reason FROM m WHERE reason IS NOT NULL) u JOIN mx ON mx.host_id = u.host_id GROUP BY reason)"}) +
               "SELECT m.reason, count(*), count(DISTINCT m.name), coalesce(dm.domains, 0) FROM m LEFT JOIN dm ON "
               "dm.reason = m.reason WHERE m.reason IS NOT NULL GROUP BY m.reason ORDER BY 2 DESC, 1");
    section.tables.push_back(std::move(t));
  }
  return section;
}

}  // namespace danescan::report
