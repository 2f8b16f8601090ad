// report/sections_causes.cc — "Why hosts fail" (issue 13): the MX hosts a DANE sender defers
// mail to (states fail, lookup-error, unreachable) by the finding that names the cause, per
// distinct host name and weighted by the domains they serve. See sections.h for the conventions.
//
// A cause is one of the host's own findings (host_findings) that can explain its state (kCauses:
// a refused connection explains an unreachable host, not a failing one whose other address
// answered); smtp-rate-limited only when a probe of the host ended on the 421 (the retry was
// refused too: a 421 followed by a good retry is not why a host fails). A host with several
// causes counts under each; one with none is the row `(no cause named)`, which the contract
// says should stay at 0.
#include <string>

#include "report/sections.h"
#include "report/table_spec.h"

namespace danescan::report {

using namespace spec;

namespace {

// (k, code, the states it explains, space-separated), in the order a sender meets them: DNS
// first, then the connection, the SMTP dialogue, TLS and authentication.
constexpr const char* kCauses =
    "causes(k, code, states) AS (VALUES (1,'address-lookup-failure','lookup-error'),"
    "(2,'tlsa-lookup-failure','lookup-error'),(3,'dnssec-bogus','lookup-error'),"
    "(4,'cname-loop','lookup-error unreachable'),(5,'tlsa-host-no-address','unreachable'),"
    "(6,'smtp-connect-failure','unreachable'),(7,'smtp-rate-limited','unreachable fail'),"
    "(8,'smtp-timeout','unreachable fail'),(9,'smtp-protocol-error','unreachable fail'),"
    "(10,'no-starttls-with-tlsa','fail'),(11,'starttls-rejected','fail'),(12,'tls-handshake-failure','fail'),"
    "(13,'tlsa-mismatch','fail'),(14,'dane-ta-name-mismatch','fail'),(15,'dane-ta-certificate-expired','fail'))";
constexpr const char* kNoCause = "(no cause named)";

// The run's failing host rows, and (host row, cause) for each cause a host names.
constexpr const char* kFailing =
    "failing AS MATERIALIZED (SELECT id, name, dane FROM hosts WHERE run_id = ?1 AND dane IN "
    "('fail', 'lookup-error', 'unreachable'))";
constexpr const char* kNamed =
    "named AS MATERIALIZED (SELECT DISTINCT fh.id, c.code FROM failing fh JOIN host_findings hf ON hf.host_id = "
    "fh.id JOIN causes c ON c.code = hf.code AND instr(' ' || c.states || ' ', ' ' || fh.dane || ' ') > 0 "
    "WHERE c.code <> 'smtp-rate-limited' OR EXISTS (SELECT 1 FROM probes p WHERE p.host_id = fh.id AND "
    "p.rate_limited AND 'rejected' IN (p.greeting_outcome, p.ehlo_outcome, p.starttls_outcome)))";

std::string causeRows() {
  return std::string(
             "cause_rows AS (SELECT n.code AS cause, fh.id, fh.name, fh.dane FROM named n JOIN failing fh ON fh.id = "
             "n.id UNION ALL SELECT '") +
         kNoCause + "', id, name, dane FROM failing WHERE id NOT IN (SELECT id FROM named))";
}

// The bases: distinct failing host names, and the distinct domains they serve.
constexpr const char* kBase =
    "base AS MATERIALIZED (SELECT (SELECT count(DISTINCT name) FROM failing) AS hosts, "
    "(SELECT count(DISTINCT mx.domain_id) FROM failing fh JOIN mx ON mx.host_id = fh.id) AS domains)";

Table causesTable(const Source& s) {
  Table t = table("failure_causes", "Why hosts fail",
                  "MX hosts a DANE sender defers mail to (states fail, lookup-error, unreachable) by the finding "
                  "that names the cause, per distinct host name and weighted by the domains they serve; a host "
                  "with several causes counts under each (shares may add up to more than 1). `(no cause named)`: "
                  "failing hosts without one. Domains whose MX lookup failed (dns-error) have no host: see the "
                  "verdicts and mx-servfail.",
                  hostColumns({text("cause", "the finding code naming the cause, or (no cause named)")},
                              "failing MX hosts", "domains with a failing MX host"));
  chart(t, {"cause"}, "domains", "domains");
  const std::string rows = causeRows();
  s.fill(t, withCtes({kCauses, kFailing, kNamed, rows.c_str(), kBase,
                      "agg AS (SELECT r.cause, count(DISTINCT r.name) AS hosts, count(DISTINCT mx.domain_id) AS "
                      "domains FROM cause_rows r LEFT JOIN mx ON mx.host_id = r.id GROUP BY r.cause)",
                      "all_causes AS (SELECT k, code FROM causes UNION ALL SELECT 99, '(no cause named)')"}) +
                "SELECT a.code, coalesce(agg.hosts, 0), 1.0 * coalesce(agg.hosts, 0) / NULLIF(base.hosts, 0), "
                "coalesce(agg.domains, 0), 1.0 * coalesce(agg.domains, 0) / NULLIF(base.domains, 0) FROM all_causes "
                "a LEFT JOIN agg ON agg.cause = a.code, base ORDER BY a.k");
  return t;
}

Table byStateTable(const Source& s) {
  Table t = table("failure_causes_by_state", "Why hosts fail, by host state",
                  "The failing MX hosts by state and cause (only the pairs seen), per distinct host name, weighted "
                  "by the domains they serve.",
                  hostColumns({text("state", "the contract's host DANE state"),
                               text("cause", "the finding code naming the cause, or (no cause named)")},
                              "failing MX hosts", "domains with a failing MX host"));
  chart(t, {"state", "cause"}, "hosts", "MX hosts");
  const std::string rows = causeRows();
  s.fill(t, withCtes({kHostStateValues, kCauses, kFailing, kNamed, rows.c_str(), kBase,
                      "agg AS (SELECT r.dane, r.cause, count(DISTINCT r.name) AS hosts, count(DISTINCT mx.domain_id) "
                      "AS domains FROM cause_rows r LEFT JOIN mx ON mx.host_id = r.id GROUP BY r.dane, r.cause)"}) +
                "SELECT agg.dane, agg.cause, agg.hosts, 1.0 * agg.hosts / NULLIF(base.hosts, 0), agg.domains, "
                "1.0 * agg.domains / NULLIF(base.domains, 0) FROM agg JOIN states st ON st.state = agg.dane "
                "LEFT JOIN causes c ON c.code = agg.cause, base ORDER BY st.k, coalesce(c.k, 99)");
  return t;
}

}  // namespace

Section causesSection(const Source& s) {
  Section section{"causes", "Why hosts fail", {}};
  section.tables.push_back(causesTable(s));
  section.tables.push_back(byStateTable(s));
  return section;
}

}  // namespace danescan::report
