// report/sections_delivery.cc — the "Who would defer" section: the contract's `delivery` object
// (export-jsonl.md "Delivery", domains.delivery_rfc7672 / delivery_postfix) counted per sender
// policy, the domains a policy defers, and the domains where the two policies disagree.
#include <string>

#include "report/sections.h"
#include "report/table_spec.h"

namespace danescan::report {

using namespace spec;

namespace {

// The contract's delivery values in its order, per policy.
constexpr const char* kDeliveryRows =
    "kinds(k, sender, delivery) AS (VALUES (1,'rfc7672','deliver'),(2,'rfc7672','fallback'),"
    "(3,'rfc7672','defer'),(4,'rfc7672','unknown'),(5,'postfix','deliver'),(6,'postfix','fallback'),"
    "(7,'postfix','defer'),(8,'postfix','unknown'))";

Table deliveryCounts(const Source& s) {
  Table t = table("delivery", "Who would defer: delivery per sender policy",
                  "Domains by what a DANE-enforcing sender does with their mail (the export's `delivery`): "
                  "`deliver` (a most-preferred MX host accepts), `fallback` (only a less preferred one does), "
                  "`defer` (none does, or the MX lookup failed), `unknown` (an unprobed host decides). "
                  "rfc7672: RFC 7672 applied strictly; postfix: as Postfix 3.x does it (tests/lab/README.md, "
                  "\"Delivery\"). Shares: of the domains with a delivery object (every verdict but no-mail).",
                  {text("sender", "rfc7672 | postfix"), text("delivery", "deliver | fallback | defer | unknown"),
                   count("domains", "domains"), share("share", "domains / domains with a delivery object")});
  chart(t, {"sender", "delivery"}, "domains", "domains");
  s.fill(t, withCtes({kDeliveryRows,
                      "dd AS MATERIALIZED (SELECT delivery_rfc7672 AS r, delivery_postfix AS p FROM domains "
                      "WHERE run_id = ?1 AND delivery_rfc7672 IS NOT NULL)",
                      "c AS (SELECT 'rfc7672' AS sender, r AS delivery, count(*) AS n FROM dd GROUP BY r UNION ALL "
                      "SELECT 'postfix', p, count(*) FROM dd GROUP BY p)"}) +
                "SELECT k.sender, k.delivery, coalesce(c.n, 0), 1.0 * coalesce(c.n, 0) / NULLIF((SELECT count(*) "
                "FROM dd), 0) FROM kinds k LEFT JOIN c ON c.sender = k.sender AND c.delivery = k.delivery "
                "ORDER BY k.k");
  return t;
}

// One row per domain matching `where` (SQL over domains d), by name.
Table domainList(const Source& s, std::string id, std::string title, std::string about, const std::string& where) {
  Table t = table(std::move(id), std::move(title), std::move(about),
                  {text("domain", "the domain"), text("verdict", "its verdict"),
                   text("delivery_rfc7672", "delivery under strict RFC 7672"),
                   text("delivery_postfix", "delivery as Postfix 3.x does it")});
  s.fill(t, "SELECT d.name, d.verdict, d.delivery_rfc7672, d.delivery_postfix FROM domains d WHERE d.run_id = ?1 "
            "AND d.delivery_rfc7672 IS NOT NULL AND (" + where + ") ORDER BY d.name");
  return t;
}

}  // namespace

Section deliverySection(const Source& s) {
  Section section{"delivery", "Who would defer", {}};
  section.tables.push_back(deliveryCounts(s));
  section.tables.push_back(domainList(s, "delivery_deferred", "Domains a DANE sender defers",
                                      "Every domain whose mail a sender defers under at least one policy "
                                      "(delivery `defer`), with both policies' delivery.",
                                      "d.delivery_rfc7672 = 'defer' OR d.delivery_postfix = 'defer'"));
  section.tables.push_back(domainList(s, "delivery_disagree", "Domains where the sender policies disagree",
                                      "Every domain whose delivery under strict RFC 7672 differs from Postfix's "
                                      "(e.g. an insecure alias whose explicit CNAME query fails: Postfix defers; "
                                      "a host with one authenticating address: Postfix delivers).",
                                      "d.delivery_rfc7672 <> d.delivery_postfix"));
  return section;
}

}  // namespace danescan::report
