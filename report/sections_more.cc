// report/sections_more.cc — the certificates, DNS health and comparison sections (see sections.h).
#include <string>

#include "report/sections.h"
#include "report/table_spec.h"

namespace danescan::report {

using namespace spec;

namespace {

// The leaf certificates the DANE probes of the run saw (probe_certs depth 0), with the host's
// name; opportunistic probes (--probe-all, dane 'n/a') are not of DANE hosts.
constexpr const char* kLeaves =
    "leaf AS (SELECT h.name, p.host_id, c.sha256, c.key_type, c.key_bits, c.not_after, c.issuer FROM probes p "
    "JOIN hosts h ON h.id = p.host_id JOIN probe_certs c ON c.probe_id = p.id AND c.depth = 0 WHERE h.run_id = ?1 "
    "AND p.dane <> 'n/a')";

// RFC 8914 section 4 (and the IANA registry's later entries) by INFO-CODE.
constexpr const char* kEdeNames =
    "ede_names(code, name) AS (VALUES (0,'Other Error'),(1,'Unsupported DNSKEY Algorithm'),"
    "(2,'Unsupported DS Digest Type'),(3,'Stale Answer'),(4,'Forged Answer'),(5,'DNSSEC Indeterminate'),"
    "(6,'DNSSEC Bogus'),(7,'Signature Expired'),(8,'Signature Not Yet Valid'),(9,'DNSKEY Missing'),"
    "(10,'RRSIGs Missing'),(11,'No Zone Key Bit Set'),(12,'NSEC Missing'),(13,'Cached Error'),(14,'Not Ready'),"
    "(15,'Blocked'),(16,'Censored'),(17,'Filtered'),(18,'Prohibited'),(19,'Stale NXDOMAIN Answer'),"
    "(20,'Not Authoritative'),(21,'Not Supported'),(22,'No Reachable Authority'),(23,'Network Error'),"
    "(24,'Invalid Data'),(25,'Signature Expired before Valid'),(26,'Too Early'),"
    "(27,'Unsupported NSEC3 Iterations Value'),(28,'Unable to conform to policy'),(29,'Synthesized'),"
    "(30,'Invalid Query Type'))";

}  // namespace

Section certificatesSection(const Source& s) {
  Section section{"certificates", "Certificates of DANE hosts", {}};
  {
    Table t = table("cert_keys", "Leaf key types and sizes",
                    "Leaf certificates presented to the probes of hosts with usable TLSA, by public key; certificates "
                    "are distinct by SHA-256.",
                    {text("key_type", "OpenSSL's short name: RSA, EC, ED25519, ..."), count("key_bits", "key size"),
                     count("certificates", "distinct leaf certificates"), count("hosts", "distinct MX host names"),
                     count("domains", "distinct domains those hosts serve")});
    chart(t, {"key_type", "key_bits"}, "hosts", "MX hosts");
    s.fill(t, withCtes({kLeaves}) +
                  "SELECT l.key_type, l.key_bits, count(DISTINCT l.sha256), count(DISTINCT l.name), (SELECT "
                  "count(DISTINCT mx.domain_id) FROM mx WHERE mx.host_id IN (SELECT host_id FROM leaf l2 WHERE "
                  "l2.key_type = l.key_type AND l2.key_bits = l.key_bits)) FROM leaf l GROUP BY l.key_type, l.key_bits "
                  "ORDER BY 4 DESC, 1, 2");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("cert_ta_issuers", "DANE-TA trust anchors",
                    "Probes authenticated by a DANE-TA(2) record: the subject of the certificate the record matched "
                    "(the trust anchor, at matched_depth in the chain), the 20 commonest.",
                    {text("trust_anchor", "subject (RFC 2253) of the matched certificate"),
                     count("hosts", "distinct MX host names"), count("domains", "distinct domains those hosts serve")});
    s.fill(t,
           "WITH ta AS (SELECT h.name, p.host_id, coalesce(c.subject, '(not in the presented chain)') AS subject "
           "FROM probes p JOIN hosts h ON h.id = p.host_id LEFT JOIN probe_certs c ON c.probe_id = p.id AND c.depth "
           "= p.matched_depth WHERE h.run_id = ?1 AND p.matched LIKE '2 %') "
           "SELECT ta.subject, count(DISTINCT ta.name), (SELECT count(DISTINCT mx.domain_id) FROM mx WHERE "
           "mx.host_id IN (SELECT host_id FROM ta t2 WHERE t2.subject = ta.subject)) FROM ta GROUP BY ta.subject "
           "ORDER BY 2 DESC, 1 LIMIT 20");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("cert_validity", "Validity left on leaf certificates",
                    "Days from the scan's start to the leaf's notAfter, distinct leaf certificates per bucket.",
                    {text("validity_left", "expired | <7 d | 7-30 d | 30-90 d | 90-365 d | >365 d"),
                     count("certificates", "distinct leaf certificates"), count("hosts", "distinct MX host names"),
                     count("domains", "distinct domains those hosts serve")});
    chart(t, {"validity_left"}, "certificates", "leaf certificates");
    s.fill(t, withCtes({kLeaves,
                        "bk(k, bucket) AS (VALUES (1,'expired'),(2,'<7 d'),(3,'7-30 d'),(4,'30-90 d'),(5,'90-365 d'),"
                        "(6,'>365 d'))",
                        "lb AS (SELECT leaf.*, CASE WHEN d < 0 THEN 'expired' WHEN d < 7 THEN '<7 d' WHEN d < 30 THEN "
                        "'7-30 d' WHEN d < 90 THEN '30-90 d' WHEN d < 365 THEN '90-365 d' ELSE '>365 d' END AS bucket "
                        "FROM (SELECT leaf.*, julianday(leaf.not_after) - julianday((SELECT started_at FROM runs "
                        "WHERE id = ?1)) AS d FROM leaf) leaf)",
                        "c AS (SELECT bucket, count(DISTINCT sha256) AS certs, count(DISTINCT name) AS hosts FROM lb "
                        "GROUP BY bucket)",
                        "dm AS (SELECT u.bucket, count(DISTINCT mx.domain_id) AS domains FROM (SELECT DISTINCT bucket, "
                        "host_id FROM lb) u JOIN mx ON mx.host_id = u.host_id GROUP BY u.bucket)"}) +
                  "SELECT bk.bucket, coalesce(c.certs, 0), coalesce(c.hosts, 0), coalesce(dm.domains, 0) FROM bk LEFT "
                  "JOIN c ON c.bucket = bk.bucket LEFT JOIN dm ON dm.bucket = bk.bucket ORDER BY bk.k");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("tls_probes", "Probes of DANE hosts",
                    "SMTP/TLS probes of hosts with usable TLSA: how far they got and how they authenticated.",
                    metricColumns("probes (one per address)"));
    const std::vector<Metric> rows = {
        {"probes", "1"},
        {"connected (220 greeting)", "p.connected = 1"},
        {"STARTTLS offered", "p.starttls = 1"},
        {"TLS handshake completed", "p.tls_ok = 1"},
        {"DANE pass", "p.dane = 'pass'"},
        {"DANE fail", "p.dane = 'fail'"},
        {"matched a DANE-EE(3) record (depth 0)", "p.matched LIKE '3 %'"},
        {"matched a DANE-TA(2) record", "p.matched LIKE '2 %'"},
        {"DANE pass, leaf names do not include the host", "p.dane = 'pass' AND p.leaf_names_match = 0"},
        {"rate limited (421)", "p.rate_limited = 1"},
        {"TLSv1.3", "p.tls_version = 'TLSv1.3'"},
        {"TLSv1.2", "p.tls_version = 'TLSv1.2'"},
    };
    const std::string sql = countMetricsSql(
        "", "probes p JOIN hosts h ON h.id = p.host_id WHERE h.run_id = ?1 AND p.dane <> 'n/a'", rows, "c0", "probes");
    s.fill(t, sql);
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("tls_opportunistic", "Opportunistic TLS (scans with --probe-all)",
                    "SMTP/TLS probes of hosts without usable TLSA records (dane n/a): STARTTLS as a sender without "
                    "DANE would see it. Empty unless the scan ran with --probe-all.",
                    metricColumns("probes (one per address)"));
    const std::vector<Metric> rows = {
        {"probes", "1"},
        {"connected (220 greeting)", "p.connected = 1"},
        {"STARTTLS offered", "p.starttls = 1"},
        {"TLS handshake completed", "p.tls_ok = 1"},
        {"TLSv1.3", "p.tls_version = 'TLSv1.3'"},
        {"TLSv1.2", "p.tls_version = 'TLSv1.2'"},
    };
    s.fill(t, countMetricsSql("", "probes p JOIN hosts h ON h.id = p.host_id WHERE h.run_id = ?1 AND p.dane = 'n/a'",
                              rows, "c0", "probes"));
    section.tables.push_back(std::move(t));
  }
  return section;
}

Section dnsSection(const Source& s) {
  Section section{"dns", "DNS health", {}};
  {
    Table t = table("dns_rcodes", "Rcodes per query purpose",
                    "Queries of the run by purpose (mx, a, aaaa, cname, tlsa, tlsa-other, tlsa-insecure; `+cd`: the "
                    "CD=1 repeat after a SERVFAIL) and rcode (TIMEOUT: no answer); share within the purpose.",
                    {text("purpose", "what the query was for"), text("rcode", "DNS rcode or TIMEOUT"),
                     count("queries", "queries"), share("share", "queries / queries of this purpose")});
    chart(t, {"purpose", "rcode"}, "queries", "queries");
    s.fill(t,
           "SELECT purpose, rcode, sum(n), 1.0 * sum(n) / sum(sum(n)) OVER (PARTITION BY purpose) FROM "
           "query_stats GROUP BY purpose, rcode ORDER BY purpose, 3 DESC, rcode");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("dns_ede", "Extended DNS Errors per query purpose",
                    "RFC 8914 INFO-CODEs in the answers, per purpose (a query with two codes counts for each).",
                    {text("purpose", "what the query was for"), count("ede", "INFO-CODE"),
                     text("ede_name", "its name in the IANA registry"), count("queries", "queries carrying it")});
    chart(t, {"purpose", "ede_name"}, "queries", "queries");
    s.fill(t, withCtes({kEdeNames}) +
                  "SELECT q.purpose, CAST(e.value AS INTEGER) AS code, en.name, sum(q.n) FROM query_stats q, "
                  "json_each(q.ede) e LEFT JOIN ede_names en ON en.code = CAST(e.value AS INTEGER) WHERE q.ede <> '[]' "
                  "GROUP BY q.purpose, code ORDER BY q.purpose, 4 DESC, code");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("dns_health", "Transport, timeouts and DNSSEC failures", "Queries of the run.",
                    metricColumns("queries, or domains and hosts where the metric says so"));
    const std::vector<Metric> rows = {
        {"queries", "1"},
        {"answered over TCP (after TC=1)", "tcp = 1"},
        {"retried (more than one attempt)", "retried = 1"},
        {"timed out (no answer)", "rcode = 'TIMEOUT'"},
        {"SERVFAIL", "rcode = 'SERVFAIL'"},
        {"with an Extended DNS Error", "ede <> '[]'"},
        {"CD=1 repeats after a SERVFAIL", "cd = 1"},
        {"bogus: CD=1 repeat answered NOERROR (the data exists, validation failed)", "cd = 1 AND rcode = 'NOERROR'"},
    };
    std::string sql = countMetricsSql("", "query_stats", rows, "c0", "queries", "n");
    sql +=
        " UNION ALL SELECT 'domains with dnssec-bogus', count(DISTINCT f.domain_id), 1.0 * count(DISTINCT "
        "f.domain_id) / NULLIF((SELECT count(*) FROM domains WHERE run_id = ?1), 0), 'domains scanned' FROM "
        "findings f JOIN domains d ON d.id = f.domain_id WHERE d.run_id = ?1 AND f.code = 'dnssec-bogus'";
    sql +=
        " UNION ALL SELECT 'MX hosts with dnssec-bogus', count(DISTINCT h.name), 1.0 * count(DISTINCT h.name) / "
        "NULLIF((SELECT count(*) FROM host_names), 0), 'distinct MX hosts' FROM host_findings hf JOIN hosts h "
        "ON h.id = hf.host_id WHERE h.run_id = ?1 AND hf.code = 'dnssec-bogus'";
    s.fill(t, sql);
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("dns_latency", "Resolver latency",
                    "Milliseconds from the first send to the answer, answered queries only (TIMEOUTs excluded), per "
                    "purpose and for all; nearest-rank percentiles.",
                    {text("purpose", "what the query was for, or `all`"), count("queries", "answered queries"),
                     count("p50_ms", "median"), count("p90_ms", "90th percentile"), count("p99_ms", "99th percentile"),
                     count("p999_ms", "99.9th percentile"), count("max_ms", "slowest")});
    chart(t, {"purpose"}, "p90_ms", "p90 latency (ms)");
    // A histogram per purpose (one GROUP BY over the queries; milliseconds take few distinct
    // values), then cumulative counts over the histogram: the nearest-rank percentile q is the
    // smallest value whose cumulative count reaches n * q.
    const auto p = [](const char* q) { return std::string("min(CASE WHEN upto >= n * ") + q + " THEN ms END)"; };
    s.fill(t,
           "WITH hist AS MATERIALIZED (SELECT purpose, elapsed_ms AS ms, sum(n) AS c FROM query_stats WHERE rcode "
           "<> 'TIMEOUT' GROUP BY purpose, elapsed_ms), "
           "groups AS (SELECT purpose AS grp, ms, c, 0 AS k FROM hist UNION ALL SELECT 'all', ms, sum(c), 1 FROM hist "
           "GROUP BY ms), "
           "cum AS (SELECT grp, k, ms, sum(c) OVER (PARTITION BY grp ORDER BY ms) AS upto, sum(c) OVER (PARTITION "
           "BY grp) AS n FROM groups) "
           "SELECT grp, max(n), " +
               p("0.5") + ", " + p("0.9") + ", " + p("0.99") + ", " + p("0.999") +
               ", max(ms) FROM cum GROUP BY grp ORDER BY max(k), grp");
    section.tables.push_back(std::move(t));
  }
  return section;
}

Section compareSection(const Source& s) {
  Section section{"compare", "Changes since the compared scan", {}};
  // Domains present in both scans, matched by name: n = now, o = the older scan.
  const std::string pairs =
      "pair AS (SELECT n.id AS nid, o.id AS oid, n.name, n.verdict AS nv, o.verdict AS ov FROM domains n JOIN "
      "old.domains o ON o.run_id = ?2 AND o.name = n.name WHERE n.run_id = ?1)";
  {
    Table t = table("compare_summary", "Summary",
                    "DANE = a verdict dane-* (TLSA published at a secure MX host); share of the domains in both scans.",
                    metricColumns("domains"));
    const std::string both = "(SELECT count(*) FROM pair)";
    std::string sql = withCtes({pairs.c_str()}) + "SELECT * FROM (";
    sql += "SELECT 'domains in both scans', count(*), 1.0, 'domains in both scans', 1 FROM pair";
    sql +=
        " UNION ALL SELECT 'domains only in this scan', (SELECT count(*) FROM domains n WHERE n.run_id = ?1 AND NOT "
        "EXISTS (SELECT 1 FROM old.domains o WHERE o.run_id = ?2 AND o.name = n.name)), NULL, NULL, 2";
    sql +=
        " UNION ALL SELECT 'domains only in the compared scan', (SELECT count(*) FROM old.domains o WHERE o.run_id = "
        "?2 AND NOT EXISTS (SELECT 1 FROM domains n WHERE n.run_id = ?1 AND n.name = o.name)), NULL, NULL, 3";
    const char* rows[][2] = {
        {"verdict changed", "nv <> ov"},
        {"gained DANE", "nv LIKE 'dane-%' AND ov NOT LIKE 'dane-%'"},
        {"lost DANE", "ov LIKE 'dane-%' AND nv NOT LIKE 'dane-%'"},
        {"became dane-fail", "nv = 'dane-fail' AND ov <> 'dane-fail'"},
        {"no longer dane-fail", "ov = 'dane-fail' AND nv <> 'dane-fail'"},
        {"became dane-ok", "nv = 'dane-ok' AND ov <> 'dane-ok'"},
    };
    int k = 3;
    for (const auto& row : rows) {
      sql += " UNION ALL SELECT '" + std::string(row[0]) + "', count(*), 1.0 * count(*) / NULLIF(" + both +
             ", 0), 'domains in both scans', " + std::to_string(++k) + " FROM pair WHERE " + row[1];
    }
    sql += ") ORDER BY 5";
    s.fill(t, sql);
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("compare_verdicts", "Verdict changes",
                    "Domains in both scans whose verdict changed, by old and new verdict.",
                    {text("old_verdict", "verdict in the compared scan"), text("new_verdict", "verdict in this scan"),
                     count("domains", "domains")});
    s.fill(t, withCtes({pairs.c_str()}) +
                  "SELECT ov, nv, count(*) FROM pair WHERE nv <> ov GROUP BY ov, nv ORDER BY 3 DESC, 1, 2");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("compare_findings", "New and fixed failures",
                    "Per finding code, domains in both scans that carry it now but did not (new), did but no longer "
                    "do (fixed), or carry it in both (kept).",
                    {text("code", "finding code"), count("new", "domains with the code now only"),
                     count("fixed", "domains with the code in the compared scan only"),
                     count("kept", "domains with the code in both")});
    chart(t, {"code"}, "new", "domains with a new finding");
    s.fill(t, withCtes({kFindingValues, pairs.c_str(),
                        "u AS (SELECT f.code, p.nid, 1 AS a, 0 AS b FROM pair p JOIN findings f ON f.domain_id = p.nid "
                        "UNION ALL SELECT f.code, p.nid, 0, 1 FROM pair p JOIN old.findings f ON f.domain_id = p.oid)",
                        "g AS (SELECT code, nid, max(a) AS a, max(b) AS b FROM u GROUP BY code, nid)",
                        "c AS (SELECT code, sum(a AND NOT b) AS added, sum(b AND NOT a) AS fixed, sum(a AND b) AS kept "
                        "FROM g GROUP BY code)",
                        "all_codes AS (SELECT k, code FROM codes UNION ALL SELECT 1000, code FROM c WHERE code NOT IN "
                        "(SELECT code FROM codes))"}) +
                  "SELECT a.code, coalesce(c.added, 0), coalesce(c.fixed, 0), coalesce(c.kept, 0) FROM all_codes a "
                  "LEFT JOIN c ON c.code = a.code ORDER BY a.k, a.code");
    section.tables.push_back(std::move(t));
  }
  {
    Table t = table("compare_providers", "Providers whose status changed",
                    "A provider's status: the distinct DANE states of its MX hosts, '+'-joined in name order "
                    "(`absent`: no MX host of the provider in that scan). Providers whose status differs, by the "
                    "domains they serve now.",
                    {text("provider", "registered domain of the MX hosts"), text("old_status", "in the compared scan"),
                     text("new_status", "in this scan"), count("old_domains", "domains served then"),
                     count("new_domains", "domains served now")});
    s.fill(t,
           "WITH ns AS (SELECT provider, group_concat(dane, '+') AS status FROM (SELECT DISTINCT hn.provider, h.dane "
           "FROM hosts h JOIN host_names hn ON hn.name = h.name WHERE h.run_id = ?1 ORDER BY hn.provider, h.dane) "
           "GROUP BY provider), "
           "os AS (SELECT provider, group_concat(dane, '+') AS status FROM (SELECT DISTINCT hn.provider, h.dane FROM "
           "old.hosts h JOIN old_host_names hn ON hn.name = h.name WHERE h.run_id = ?2 ORDER BY hn.provider, "
           "h.dane) GROUP BY provider), "
           "nd AS (SELECT hn.provider, count(DISTINCT mx.domain_id) AS n FROM hosts h JOIN host_names hn ON hn.name "
           "= h.name JOIN mx ON mx.host_id = h.id WHERE h.run_id = ?1 GROUP BY hn.provider), "
           "od AS (SELECT hn.provider, count(DISTINCT mx.domain_id) AS n FROM old.hosts h JOIN old_host_names hn ON "
           "hn.name = h.name JOIN old.mx mx ON mx.host_id = h.id WHERE h.run_id = ?2 GROUP BY hn.provider), "
           "pv AS (SELECT provider FROM ns UNION SELECT provider FROM os) "
           "SELECT pv.provider, coalesce(os.status, 'absent'), coalesce(ns.status, 'absent'), coalesce(od.n, 0), "
           "coalesce(nd.n, 0) FROM pv LEFT JOIN ns ON ns.provider = pv.provider LEFT JOIN os ON os.provider = "
           "pv.provider LEFT JOIN nd ON nd.provider = pv.provider LEFT JOIN od ON od.provider = pv.provider WHERE "
           "coalesce(os.status, 'absent') <> coalesce(ns.status, 'absent') ORDER BY 5 DESC, 4 DESC, 1");
    section.tables.push_back(std::move(t));
  }
  return section;
}

}  // namespace danescan::report
