#include "scanner/pipeline/domain_lookup.h"

#include "scanner/pipeline/delivery.h"
#include "scanner/pipeline/host_name.h"
#include "scanner/pipeline/verdict.h"

#include <algorithm>

namespace danescan::scanner::pipeline {
namespace {

constexpr uint16_t kMx = static_cast<uint16_t>(dns::RrType::MX);

}  // namespace

DomainLookup::DomainLookup(std::string domain, LookupOptions options) : domain_(std::move(domain)), options_(options) {
  record_.domain = domain_;
  mx_request_ = QueryRequest{0, "mx", dns::Question{domain_, kMx}, false};
  to_send_.push_back(mx_request_);
}

std::vector<QueryRequest> DomainLookup::takeRequests() {
  std::vector<QueryRequest> out;
  out.swap(to_send_);
  return out;
}

void DomainLookup::consume(uint32_t id, const dns::QueryResult& result) {
  if (mx_done_) return;
  if (id == 0 && !mx_result_) {
    mx_result_ = result;
    record_.queries.push_back(makeQueryRecord(mx_request_, result));
    if (isServfail(result)) {
      cd_request_ = QueryRequest{1, "mx+cd", mx_request_.question, true};
      to_send_.push_back(*cd_request_);
      return;
    }
  } else if (id == 1 && cd_request_ && !cd_result_) {
    cd_result_ = result;
    record_.queries.push_back(makeQueryRecord(*cd_request_, result));
  } else {
    return;
  }
  afterMx();
}

void DomainLookup::afterMx() {
  mx_done_ = true;
  const dns::QueryResult& mx = *mx_result_;
  record_.mx_rcode = mx.rcode;
  if (!completedRcode(mx.rcode)) {
    failed_ = true;
    record_.findings.push_back("mx-servfail");
    // No answer at all, as opposed to an answer with an error rcode: tells a dead or filtered
    // name server apart from a SERVFAIL in the findings.
    if (mx.outcome == dns::QueryOutcome::Timeout) record_.findings.push_back("mx-timeout");
    if (cd_result_ && cdRepeatShowsBogus(*cd_result_)) record_.findings.push_back("dnssec-bogus");
    return;
  }
  // The MX RRset, or its authenticated denial, validated.
  record_.mx_secure = hasAd(mx);
  if (mx.rcode == "NXDOMAIN") return;
  const std::vector<dns::MxRecord>& records = mx.response->mx;
  if (records.size() == 1 && records[0].exchange.empty()) {
    null_mx_ = true;  // RFC 7505: "0 ." alone
    return;
  }
  if (records.empty()) {
    // RFC 5321 section 5.1: no MX RRset, the domain itself is the mail host.
    record_.implicit_mx = true;
    preferences_[domain_] = 0;
  }
  for (const dns::MxRecord& r : records) {
    if (!isValidMxHostName(r.exchange)) {
      const std::string name = r.exchange.empty() ? "." : r.exchange;
      const bool seen = std::any_of(hosts_.begin(), hosts_.end(), [&](const storage::HostRecord& h) { return h.host == name; });
      if (seen) {
        for (auto& h : hosts_) {
          if (h.host == name) h.preference = std::min(h.preference, static_cast<int>(r.preference));
        }
        continue;
      }
      storage::HostRecord h;
      h.host = name;
      h.preference = r.preference;
      h.addr_rcode = "NOTQUERIED";
      h.dane = std::string(toString(HostState::Insecure));
      h.host_findings.push_back("mx-invalid-name");
      hosts_.push_back(std::move(h));
      continue;
    }
    auto [it, inserted] = preferences_.emplace(r.exchange, r.preference);
    if (!inserted) it->second = std::min(it->second, static_cast<int>(r.preference));
  }
  std::vector<std::pair<int, std::string>> ordered;
  for (const auto& [name, preference] : preferences_) ordered.emplace_back(preference, name);
  std::sort(ordered.begin(), ordered.end());
  if (ordered.size() > options_.max_mx_hosts) {
    // Bounded work per domain: the most preferred hosts only, the cut recorded.
    record_.findings.push_back("mx-limit-reached");
    for (auto it = ordered.begin() + options_.max_mx_hosts; it != ordered.end(); ++it) preferences_.erase(it->second);
    ordered.resize(options_.max_mx_hosts);
  }
  for (const auto& [preference, name] : ordered) {
    hosts_to_look_up_.push_back(name);
    hosts_wanted_.push_back(name);
  }
}

std::vector<std::string> DomainLookup::takeHostsToLookUp() {
  std::vector<std::string> out;
  out.swap(hosts_to_look_up_);
  return out;
}

void DomainLookup::addHost(storage::HostRecord host) {
  auto wanted = std::find(hosts_wanted_.begin(), hosts_wanted_.end(), host.host);
  if (wanted == hosts_wanted_.end()) return;
  hosts_wanted_.erase(wanted);
  host.preference = preferences_[host.host];
  hosts_.push_back(std::move(host));
}

storage::DomainRecord DomainLookup::takeRecord() {
  std::sort(hosts_.begin(), hosts_.end(), [](const storage::HostRecord& x, const storage::HostRecord& y) {
    return x.preference != y.preference ? x.preference < y.preference : x.host < y.host;
  });
  DomainFacts facts;
  facts.mx_secure = record_.mx_secure;
  if (failed_) {
    facts.mx = MxOutcome::Failed;
  } else if (record_.mx_rcode == "NXDOMAIN") {
    facts.mx = MxOutcome::NoDomain;
  } else if (null_mx_) {
    facts.mx = MxOutcome::NullMx;
  } else if (record_.implicit_mx && hosts_.size() == 1 && completedRcode(hosts_[0].addr_rcode) && hosts_[0].addresses.empty()) {
    facts.mx = MxOutcome::NoMailHost;  // no MX and no address: the host object is kept
  } else {
    facts.mx = MxOutcome::Records;
  }
  for (const storage::HostRecord& h : hosts_) {
    facts.hosts.push_back(hostStateFromString(h.dane).value_or(HostState::LookupError));
    record_.findings.insert(record_.findings.end(), h.host_findings.begin(), h.host_findings.end());
  }
  record_.verdict = std::string(toString(domainVerdict(facts)));
  std::vector<DeliveryHost> delivery_hosts;
  for (const storage::HostRecord& h : hosts_) delivery_hosts.push_back(deliveryHost(h));
  if (const auto delivery = domainDelivery(facts.mx, delivery_hosts); delivery && record_.verdict != toString(Verdict::NoMail)) {
    record_.delivery = storage::DeliveryRecord{std::string(toString(delivery->rfc7672)), std::string(toString(delivery->postfix))};
  }
  std::sort(record_.findings.begin(), record_.findings.end());
  record_.findings.erase(std::unique(record_.findings.begin(), record_.findings.end()), record_.findings.end());
  record_.mx = std::move(hosts_);
  return std::move(record_);
}

}  // namespace danescan::scanner::pipeline
