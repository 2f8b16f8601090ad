// scanner/pipeline/domain_lookup.h — one domain as an I/O-free state machine: the MX step
// (RFC 5321 section 5.1, RFC 7505, RFC 7672 section 2.2.1), then the host objects, which the
// driver looks up with HostLookup (or takes from its cache) and hands back with addHost(); then
// the DomainRecord: hosts in preference order (ties by name), findings sorted and unique, the
// verdict from domainVerdict(), the delivery object from domainDelivery() (delivery.h).
//
// MX rules: NXDOMAIN -> no-mail; a null MX ("0 .", the only record) -> no-mail with mx [];
// NOERROR without MX records -> implicit MX (the domain itself, preference 0; no-mail when that
// host has no address, its host object kept); anything else (SERVFAIL, REFUSED, TIMEOUT, ...)
// -> dns-error with mx-servfail, after the CD=1 repeat of a SERVFAIL (dnssec-bogus when it gets
// an answer). Exchanges that are not valid host names (host_name.h) get a host object with
// addr_rcode "NOTQUERIED", no addresses, dane insecure, and mx-invalid-name; duplicates count
// once, at their best preference. A timed-out MX lookup (no answer within every attempt) also
// carries mx-timeout. At most LookupOptions::max_mx_hosts valid exchanges are looked up, the
// most preferred first (ties by name); more give mx-limit-reached and the rest are left out.
#pragma once

#include "scanner/pipeline/lookup_step.h"
#include "storage/records.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace danescan::scanner::pipeline {

class DomainLookup {
 public:
  // `domain` normalised (inputs::normaliseDomain).
  DomainLookup(std::string domain, LookupOptions options);

  // Produce / consume for the domain's own queries (the MX query and its CD=1 repeat).
  [[nodiscard]] std::vector<QueryRequest> takeRequests();
  void consume(uint32_t id, const dns::QueryResult& result);

  // After the MX step: the valid host names to look up, each once, in preference order (ties by
  // name; empty when the domain needs none). Returned once; then addHost() for each of them, in
  // any order.
  [[nodiscard]] bool mxDone() const noexcept { return mx_done_; }
  [[nodiscard]] std::vector<std::string> takeHostsToLookUp();
  // A finished host lookup for one of the names above (a copy from a cache is fine: the
  // preference is set here).
  void addHost(storage::HostRecord host);
  // A finding of the domain that the driver learns (e.g. mx-limit-reached when it probes fewer
  // addresses than the hosts have).
  void addFinding(std::string code) { record_.findings.push_back(std::move(code)); }

  [[nodiscard]] bool done() const noexcept { return mx_done_ && hosts_wanted_.empty(); }
  // The finished domain object. Call once, when done().
  [[nodiscard]] storage::DomainRecord takeRecord();

 private:
  void afterMx();

  std::string domain_;
  LookupOptions options_;
  storage::DomainRecord record_;
  QueryRequest mx_request_;
  std::optional<dns::QueryResult> mx_result_;
  std::optional<QueryRequest> cd_request_;
  std::optional<dns::QueryResult> cd_result_;
  std::vector<QueryRequest> to_send_;
  bool mx_done_ = false;
  bool null_mx_ = false;
  bool failed_ = false;
  std::map<std::string, int> preferences_;     // valid exchange -> best preference
  std::vector<storage::HostRecord> hosts_;     // finished host objects (invalid ones included)
  std::vector<std::string> hosts_to_look_up_;  // handed out by takeHostsToLookUp()
  std::vector<std::string> hosts_wanted_;      // still missing
};

}  // namespace danescan::scanner::pipeline
