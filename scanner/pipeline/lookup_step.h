// scanner/pipeline/lookup_step.h — what the I/O-free lookups (HostLookup, DomainLookup) and the
// driver exchange: a QueryRequest the lookup wants sent, answered later by the QueryResult that
// the resolver client produced for it (Knot Resolver's produce/consume split). Also the evidence
// record of one query, in the form storage keeps it.
#pragma once

#include "scanner/dns/message.h"
#include "scanner/dns/resolver_client.h"
#include "storage/records.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace danescan::scanner::pipeline {

// Options that change what a lookup concludes (the same for a whole run, so host results can be
// cached across domains).
struct LookupOptions {
  bool allow_special_addresses = false;  // --allow-special-addresses: no mx-special-address
  // --max-mx-hosts: MX hosts looked up per domain, the most preferred first (ties by name); the
  // rest are left out of the domain object and it carries mx-limit-reached. A hostile domain
  // could otherwise name thousands of hosts (Postfix bounds this too: smtp_mx_address_limit).
  unsigned max_mx_hosts = 10;
};

struct QueryRequest {
  uint32_t id = 0;          // unique within one lookup; hand it back to consume()
  std::string purpose;      // storage::QueryRecord::purpose ("a", "tlsa", "mx+cd", ...)
  dns::Question question;
  bool cd = false;          // send with CD=1 (the repeat after a SERVFAIL)
};

// Rcode classes of the lookup rules (RFC 7672 section 2.2: a lookup error is not "not found").
[[nodiscard]] inline bool completedRcode(std::string_view rcode) { return rcode == "NOERROR" || rcode == "NXDOMAIN"; }
[[nodiscard]] inline bool isServfail(const dns::QueryResult& r) { return r.rcode == "SERVFAIL"; }
[[nodiscard]] inline bool hasAd(const dns::QueryResult& r) { return r.response && r.response->authentic_data; }
// The CD=1 repeat of a SERVFAIL got an answer: the failure was DNSSEC validation (bogus data),
// not an unreachable or broken server.
[[nodiscard]] inline bool cdRepeatShowsBogus(const dns::QueryResult& cd) { return completedRcode(cd.rcode); }

// The evidence of one query: everything storage records about it.
[[nodiscard]] storage::QueryRecord makeQueryRecord(const QueryRequest& request, const dns::QueryResult& result);

}  // namespace danescan::scanner::pipeline
