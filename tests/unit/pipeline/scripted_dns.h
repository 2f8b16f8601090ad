// Scripted DNS for the pipeline tests: responses built with ldns from zone-file lines and parsed
// by the real codec (as in tests/unit/scanner/message_test.cc), a script that maps questions to
// results, and drivers that run the I/O-free lookups against it. No sockets, no clock.
#pragma once

#include "scanner/dns/message.h"
#include "scanner/dns/resolver_client.h"
#include "scanner/pipeline/domain_lookup.h"
#include "scanner/pipeline/host_lookup.h"

#include <ldns/ldns.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace danescan::scanner::pipeline::testing {

inline constexpr uint16_t A = 1, CNAME = 5, MX = 15, AAAA = 28, TLSA = 52;

inline uint8_t rcodeValue(const std::string& rcode) {
  if (rcode == "NOERROR") return LDNS_RCODE_NOERROR;
  if (rcode == "FORMERR") return LDNS_RCODE_FORMERR;
  if (rcode == "SERVFAIL") return LDNS_RCODE_SERVFAIL;
  if (rcode == "NXDOMAIN") return LDNS_RCODE_NXDOMAIN;
  if (rcode == "NOTIMP") return LDNS_RCODE_NOTIMPL;
  if (rcode == "REFUSED") return LDNS_RCODE_REFUSED;
  ADD_FAILURE() << "unknown rcode " << rcode;
  return LDNS_RCODE_SERVFAIL;
}

// The result of a query for `qname qtype` answered with `rcode`, the AD bit and these answer
// records (zone-file lines, absolute names), via ldns wire form and dns::parseResponse.
inline dns::QueryResult answer(const std::string& qname, uint16_t qtype, const std::string& rcode, bool ad,
                               const std::vector<std::string>& records = {}, std::vector<uint16_t> ede = {}) {
  ldns_pkt* raw = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&raw, (qname + ".").c_str(), static_cast<ldns_rr_type>(qtype), LDNS_RR_CLASS_IN, LDNS_RD),
            LDNS_STATUS_OK);
  std::unique_ptr<ldns_pkt, void (*)(ldns_pkt*)> pkt(raw, ldns_pkt_free);
  ldns_pkt_set_id(pkt.get(), 4242);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_ra(pkt.get(), true);
  ldns_pkt_set_ad(pkt.get(), ad);
  ldns_pkt_set_rcode(pkt.get(), rcodeValue(rcode));
  for (const std::string& line : records) {
    ldns_rr* rr = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&rr, line.c_str(), 3600, nullptr, nullptr), LDNS_STATUS_OK) << line;
    if (rr) ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, rr);
  }
  if (!ede.empty()) {
    ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
    ldns_edns_option_list* options = ldns_edns_option_list_new();
    for (uint16_t code : ede) {
      const uint8_t data[] = {static_cast<uint8_t>(code >> 8), static_cast<uint8_t>(code & 0xff)};
      ldns_edns_option_list_push(options, ldns_edns_new_from_data(LDNS_EDNS_EDE, sizeof data, data));
    }
    ldns_pkt_set_edns_option_list(pkt.get(), options);
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt.get(), &size), LDNS_STATUS_OK);
  std::string error;
  auto parsed = dns::parseResponse(wire, size, error);
  std::free(wire);
  EXPECT_TRUE(parsed.has_value()) << error;
  dns::QueryResult result;
  result.outcome = dns::QueryOutcome::Answered;
  result.response = std::move(parsed);
  result.rcode = rcode;
  result.elapsed_ms = 3;
  result.attempts = 1;
  result.resolver = dns::ResolverAddress{"127.53.1.1", 53, false};
  return result;
}

inline dns::QueryResult timeout() {
  dns::QueryResult result;
  result.outcome = dns::QueryOutcome::Timeout;
  result.rcode = "TIMEOUT";
  result.elapsed_ms = 14000;
  result.attempts = 3;
  result.error = "no answer";
  return result;
}

// Questions -> results. Every question asked is logged; one not in the script fails the test.
class Script {
 public:
  Script& on(const std::string& name, uint16_t type, dns::QueryResult result, bool cd = false) {
    answers_[{name, type, cd}] = std::move(result);
    return *this;
  }
  // Shorthands; names without the trailing dot.
  Script& rr(const std::string& name, uint16_t type, const std::string& rcode, bool ad, std::vector<std::string> records = {},
             bool cd = false) {
    return on(name, type, answer(name, type, rcode, ad, records), cd);
  }

  dns::QueryResult reply(const dns::Question& q, bool cd) {
    asked_.push_back(describe(q, cd));
    auto it = answers_.find({q.name, q.type, cd});
    if (it == answers_.end()) {
      ADD_FAILURE() << "unscripted question " << describe(q, cd);
      return timeout();
    }
    return it->second;
  }
  [[nodiscard]] bool wasAsked(const std::string& name, uint16_t type, bool cd = false) const {
    return std::find(asked_.begin(), asked_.end(), describe({name, type}, cd)) != asked_.end();
  }
  [[nodiscard]] const std::vector<std::string>& asked() const { return asked_; }
  static std::string describe(const dns::Question& q, bool cd) {
    return q.name + " " + dns::rrTypeName(q.type) + (cd ? " +cd" : "");
  }

 private:
  std::map<std::tuple<std::string, uint16_t, bool>, dns::QueryResult> answers_;
  std::vector<std::string> asked_;
};

// Runs a HostLookup to the end; answers are consumed in request order, one batch at a time.
inline storage::HostRecord runHost(const std::string& host, Script& script, LookupOptions options = {}) {
  HostLookup lookup(host, options);
  for (int rounds = 0; !lookup.done() && rounds < 20; ++rounds) {
    auto requests = lookup.takeRequests();
    if (requests.empty()) break;
    for (const QueryRequest& r : requests) lookup.consume(r.id, script.reply(r.question, r.cd));
  }
  EXPECT_TRUE(lookup.done()) << host;
  return lookup.takeRecord();
}

// Runs a DomainLookup and its hosts (each host looked up once).
inline storage::DomainRecord runDomain(const std::string& domain, Script& script, LookupOptions options = {}) {
  DomainLookup lookup(domain, options);
  for (int rounds = 0; !lookup.mxDone() && rounds < 5; ++rounds) {
    for (const QueryRequest& r : lookup.takeRequests()) lookup.consume(r.id, script.reply(r.question, r.cd));
  }
  EXPECT_TRUE(lookup.mxDone());
  for (const std::string& host : lookup.takeHostsToLookUp()) lookup.addHost(runHost(host, script, options));
  EXPECT_TRUE(lookup.done());
  return lookup.takeRecord();
}

// The contract's host object and the findings: the evidence fields cleared.
inline storage::HostRecord contractOnly(storage::HostRecord h) {
  h.queries.clear();
  h.cname_secure = false;
  h.tlsa_other_base.reset();
  h.tlsa_other_rcode.reset();
  h.tlsa_other.clear();
  return h;
}

}  // namespace danescan::scanner::pipeline::testing
