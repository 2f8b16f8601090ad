#include "scanner/pipeline/host_lookup.h"

#include "scanner/pipeline/special_address.h"
#include "scanner/pipeline/verdict.h"
#include "scanner/tls/tlsa_usability.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <set>

namespace danescan::scanner::pipeline {
namespace {

constexpr uint16_t kA = static_cast<uint16_t>(dns::RrType::A);
constexpr uint16_t kAaaa = static_cast<uint16_t>(dns::RrType::AAAA);
constexpr uint16_t kCname = static_cast<uint16_t>(dns::RrType::CNAME);
constexpr uint16_t kTlsa = static_cast<uint16_t>(dns::RrType::TLSA);
constexpr size_t kTooManyTlsa = 12;  // some large senders give up past about 12 records
// CNAME links followed one query at a time after a failed address lookup before the chain is
// called too long to follow (unbound gives up after 11 restarts; glibc after 16 links).
constexpr size_t kMaxCnameLinks = 16;

std::string tlsaName(const std::string& base) { return "_25._tcp." + base; }

// `_25._tcp.<base>` can be a DNS name: at most 255 octets on the wire. Asked of the encoder the
// resolver client uses, so "too long" here is exactly "the client could not send it".
bool tlsaNameFits(const std::string& base) {
  return !dns::buildQuery(0, dns::Question{tlsaName(base), kTlsa}, dns::QueryOptions{}).empty();
}

// The target of the CNAME record owned by `owner` in an answer, if any.
std::optional<std::string> cnameTarget(const dns::QueryResult& r, const std::string& owner) {
  if (!r.response) return std::nullopt;
  for (const dns::Record& rr : r.response->cnames) {
    if (rr.owner == owner) return rr.rdata;
  }
  return std::nullopt;
}

// An address answer whose CNAME chain from `host` closes on itself (a resolver that returns the
// loop instead of SERVFAIL): Response::cnameChain() stops where the loop closes, so a CNAME
// still leaves the chain's last name.
bool answerLoops(const dns::QueryResult& r, const std::string& host) {
  if (!r.response) return false;
  const std::vector<std::string> chain = r.response->cnameChain(host);
  return cnameTarget(r, chain.empty() ? host : chain.back()).has_value();
}

// Worse of two address rcodes: an error beats NXDOMAIN beats NOERROR (TIMEOUT is an error).
int rcodeRank(const std::string& rcode) { return rcode == "NOERROR" ? 0 : rcode == "NXDOMAIN" ? 1 : 2; }

// Addresses of one answer in numeric order, without repeats: resolvers rotate RRsets, and a
// stable order makes runs comparable (probes go in address order).
std::vector<std::string> sortedAddresses(std::vector<std::string> addresses) {
  auto key = [](const std::string& text) {
    std::array<uint8_t, 17> bytes{};
    if (inet_pton(AF_INET, text.c_str(), bytes.data() + 1) == 1) return bytes;
    bytes[0] = 1;
    if (inet_pton(AF_INET6, text.c_str(), bytes.data() + 1) != 1) bytes[0] = 2;
    return bytes;
  };
  std::sort(addresses.begin(), addresses.end(), [&](const std::string& x, const std::string& y) {
    const auto kx = key(x), ky = key(y);
    return kx != ky ? kx < ky : x < y;
  });
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  return addresses;
}

std::vector<std::string> tlsaPresentations(const dns::QueryResult& r) {
  std::vector<std::string> out;
  if (r.rcode != "NOERROR" || !r.response) return out;
  for (const dns::TlsaRecord& t : r.response->tlsa) out.push_back(t.presentation());
  return out;
}

}  // namespace

HostLookup::HostLookup(std::string host, LookupOptions options) : host_(std::move(host)), options_(options) {
  record_.host = host_;
  // The CNAME query goes first, never after the A/AAAA queries (see the file header).
  cname_ = ask("cname", host_, kCname);
  a_ = ask("a", host_, kA);
  aaaa_ = ask("aaaa", host_, kAaaa);
}

std::optional<size_t> HostLookup::askTlsa(std::string purpose, const std::string& base) {
  if (!tlsaNameFits(base)) {
    // No lookup failed: no TLSA record can exist at a name that long.
    addFinding("tlsa-name-too-long");
    return std::nullopt;
  }
  return ask(std::move(purpose), tlsaName(base), kTlsa);
}

size_t HostLookup::ask(std::string purpose, std::string name, uint16_t type) {
  const size_t index = lookups_.size();
  Lookup lookup;
  lookup.request = QueryRequest{static_cast<uint32_t>(index * 2), std::move(purpose), dns::Question{std::move(name), type}, false};
  lookup.evidence = record_.queries.size();
  storage::QueryRecord placeholder;
  placeholder.purpose = lookup.request.purpose;
  placeholder.name = lookup.request.question.name;
  placeholder.type = type;
  record_.queries.push_back(std::move(placeholder));
  to_send_.push_back(lookup.request);
  lookups_.push_back(std::move(lookup));
  return index;
}

std::vector<QueryRequest> HostLookup::takeRequests() {
  std::vector<QueryRequest> out;
  out.swap(to_send_);
  return out;
}

void HostLookup::consume(uint32_t id, const dns::QueryResult& result) {
  const size_t index = id / 2;
  if (done() || index >= lookups_.size()) return;
  Lookup& lookup = lookups_[index];
  if (id % 2 == 0) {
    if (lookup.result) return;
    lookup.result = result;
    record_.queries[lookup.evidence] = makeQueryRecord(lookup.request, result);
    if (isServfail(result)) {
      // RFC 8914 codes are in the evidence; the CD=1 repeat tells bogus data from a broken server.
      QueryRequest repeat{id + 1, lookup.request.purpose + "+cd", lookup.request.question, true};
      lookup.cd_evidence = record_.queries.size();
      storage::QueryRecord placeholder;
      placeholder.purpose = repeat.purpose;
      placeholder.name = repeat.question.name;
      placeholder.type = repeat.question.type;
      placeholder.cd = true;
      record_.queries.push_back(std::move(placeholder));
      to_send_.push_back(repeat);
      lookup.cd_request = std::move(repeat);
    }
  } else {
    if (!lookup.cd_request || lookup.cd_result) return;
    lookup.cd_result = result;
    record_.queries[lookup.cd_evidence] = makeQueryRecord(*lookup.cd_request, result);
  }
  if (outstanding() == 0) advance();
}

size_t HostLookup::outstanding() const {
  size_t n = 0;
  for (const Lookup& l : lookups_) {
    if (!l.result) ++n;
    if (l.cd_request && !l.cd_result) ++n;
  }
  return n;
}

bool HostLookup::bogus(const Lookup& lookup) const { return lookup.cd_result && cdRepeatShowsBogus(*lookup.cd_result); }

std::string HostLookup::expandedName() const {
  return record_.cname_chain.empty() ? host_ : record_.cname_chain.back();
}

void HostLookup::addFinding(std::string code) { record_.host_findings.push_back(std::move(code)); }

HostLookup::TlsaOutcome HostLookup::tlsaOutcome(const Lookup& lookup) const {
  const dns::QueryResult& r = *lookup.result;
  if (!completedRcode(r.rcode)) return TlsaOutcome::Failed;  // a SERVFAIL is never "no TLSA"
  if (!hasAd(r)) return TlsaOutcome::Insecure;
  if (r.rcode == "NOERROR" && !r.response->tlsa.empty()) return TlsaOutcome::Found;
  return TlsaOutcome::Absent;  // NXDOMAIN or NODATA with AD: securely absent
}

void HostLookup::advance() {
  switch (phase_) {
    case Phase::Address:
      afterAddress();
      return;
    case Phase::CnameFollow:
      followCname();
      return;
    case Phase::TlsaExpanded: {
      const Lookup& expanded = lookups_[*tlsa_expanded_];
      const TlsaOutcome outcome = tlsaOutcome(expanded);
      if ((outcome == TlsaOutcome::Absent || outcome == TlsaOutcome::Insecure) && !record_.cname_chain.empty()) {
        // Securely absent (or an insecure RRset, which is not used) at the expanded name: the
        // original name is the next base.
        tlsa_original_ = askTlsa("tlsa", host_);
        if (tlsa_original_) {
          phase_ = Phase::TlsaOriginal;
          return;
        }
      }
      decideTlsa(expanded, expandedName());
      if (outcome == TlsaOutcome::Found && !record_.cname_chain.empty()) {
        other_ = askTlsa("tlsa-other", host_);
        if (other_) {
          phase_ = Phase::Finishing;
          return;
        }
      }
      finish();
      return;
    }
    case Phase::TlsaOriginal:
      decideTlsa(lookups_[*tlsa_original_], host_);
      finish();
      return;
    case Phase::Finishing:
      finish();
      return;
    case Phase::Done:
      return;
  }
}

void HostLookup::afterAddress() {
  const dns::QueryResult& a = *lookups_[*a_].result;
  const dns::QueryResult& aaaa = *lookups_[*aaaa_].result;
  const dns::QueryResult& cname = *lookups_[*cname_].result;

  record_.addr_rcode = rcodeRank(aaaa.rcode) > rcodeRank(a.rcode) ? aaaa.rcode : a.rcode;
  const bool addr_ok = completedRcode(record_.addr_rcode);
  if (a.response) record_.cname_chain = a.response->cnameChain(host_);
  if (record_.cname_chain.empty() && aaaa.response) record_.cname_chain = aaaa.response->cnameChain(host_);
  for (const dns::QueryResult* r : {&a, &aaaa}) {
    if (completedRcode(r->rcode) && r->response) {
      const std::vector<std::string> sorted = sortedAddresses(r->response->addresses);
      record_.addresses.insert(record_.addresses.end(), sorted.begin(), sorted.end());
    }
  }
  // AD on both answers covers every CNAME of the chain too (unbound validates the whole answer).
  record_.addr_secure = addr_ok && hasAd(a) && hasAd(aaaa);

  record_.cname_rcode = cname.rcode;
  bool cname_record = false;
  if (cname.response) {
    for (const dns::Record& rr : cname.response->cnames) cname_record = cname_record || rr.owner == host_;
  }
  record_.cname_secure = cname.rcode == "NOERROR" && hasAd(cname) && cname_record;
  const bool alias = !record_.cname_chain.empty();

  if (alias || cname_record) addFinding("mx-is-cname");
  if (!completedRcode(cname.rcode) && addr_ok) addFinding("cname-query-failure");
  if (!options_.allow_special_addresses &&
      std::any_of(record_.addresses.begin(), record_.addresses.end(), [](const std::string& ip) { return isSpecialAddress(ip); })) {
    addFinding("mx-special-address");
  }
  if (bogus(lookups_[*a_]) || bogus(lookups_[*aaaa_]) || bogus(lookups_[*cname_])) addFinding("dnssec-bogus");

  if (addr_ok && record_.addresses.empty() && (answerLoops(a, host_) || answerLoops(aaaa, host_))) {
    // The resolver returned the loop itself: the host has no address, and never will.
    addFinding("cname-loop");
    lookup_error_ = true;
    finish();
    return;
  }
  if (!addr_ok) {
    // A DANE sender defers mail to a host whose addresses it cannot look up. When the host is an
    // alias and the failure is not bogus data, the chain is followed one CNAME query at a time to
    // tell a loop (unbound answers SERVFAIL to one) from a broken server.
    addFinding("address-lookup-failure");
    lookup_error_ = true;
    const std::optional<std::string> next = cnameTarget(cname, host_);
    if (next && record_.cname_rcode == "NOERROR" && !bogus(lookups_[*a_]) && !bogus(lookups_[*aaaa_])) {
      cname_seen_ = {host_};
      cname_follow_ = ask("cname-follow", *next, kCname);
      phase_ = Phase::CnameFollow;
      return;
    }
    finish();
    return;
  }
  if (record_.addr_secure) {
    tlsa_expanded_ = askTlsa("tlsa", expandedName());
    if (tlsa_expanded_) {
      phase_ = Phase::TlsaExpanded;
      return;
    }
    // Too long at the expanded name: no TLSA RRset there, as if securely absent (the expanded
    // and the original name are both secure), so the original name is the next base.
    if (alias) {
      tlsa_original_ = askTlsa("tlsa", host_);
      if (tlsa_original_) {
        phase_ = Phase::TlsaOriginal;
        return;
      }
    }
    no_tlsa_name_ = true;
    finish();
  } else if (alias && record_.cname_secure) {
    // RFC 7672 section 2.2.3: the chain is insecure but the alias's own CNAME validated, so the
    // original name is the only TLSA base; the expanded end is looked up for the findings only.
    tlsa_original_ = askTlsa("tlsa", host_);
    other_ = askTlsa("tlsa-other", expandedName());
    if (!tlsa_original_) {
      no_tlsa_name_ = true;
      if (other_) {
        phase_ = Phase::Finishing;
        return;
      }
      finish();
      return;
    }
    phase_ = Phase::TlsaOriginal;
  } else {
    informational_ = askTlsa("tlsa-insecure", host_);
    if (!informational_) {
      finish();
      return;
    }
    phase_ = Phase::Finishing;
  }
}

void HostLookup::followCname() {
  const Lookup& step = lookups_[*cname_follow_];
  const std::string& name = step.request.question.name;
  cname_seen_.push_back(name);
  const std::optional<std::string> next = cnameTarget(*step.result, name);
  if (!next || step.result->rcode != "NOERROR") {
    finish();  // the chain ends (or fails): the address failure has another cause
    return;
  }
  if (std::find(cname_seen_.begin(), cname_seen_.end(), *next) != cname_seen_.end() || cname_seen_.size() >= kMaxCnameLinks) {
    addFinding("cname-loop");
    finish();
    return;
  }
  cname_follow_ = ask("cname-follow", *next, kCname);
}

void HostLookup::decideTlsa(const Lookup& lookup, const std::string& base) {
  deciding_ = static_cast<size_t>(&lookup - lookups_.data());
  deciding_base_ = base;
}

void HostLookup::finish() {
  phase_ = Phase::Done;
  HostState state = HostState::Insecure;

  // The other end of a CNAME chain (for the findings only).
  std::optional<size_t> other;
  std::string other_base;
  if (deciding_ && !record_.cname_chain.empty()) {
    if (*deciding_ == tlsa_expanded_) {
      other = other_;
      other_base = host_;
    } else if (tlsa_expanded_) {
      other = tlsa_expanded_;
      other_base = expandedName();
    } else {
      other = other_;
      other_base = expandedName();
    }
  }
  if (other && lookups_[*other].result) {
    const dns::QueryResult& r = *lookups_[*other].result;
    record_.tlsa_other_base = other_base;
    record_.tlsa_other_rcode = r.rcode;
    record_.tlsa_other = tlsaPresentations(r);
    std::sort(record_.tlsa_other.begin(), record_.tlsa_other.end());
  }

  if (lookup_error_) {
    state = HostState::LookupError;
  } else if (!deciding_ && no_tlsa_name_) {
    state = HostState::NoTlsa;  // secure, and every TLSA base name too long (tlsa-name-too-long)
  } else if (!deciding_) {
    state = HostState::Insecure;
    if (informational_ && !tlsaPresentations(*lookups_[*informational_].result).empty()) addFinding("tlsa-in-insecure-zone");
  } else {
    const Lookup& decided = lookups_[*deciding_];
    const dns::QueryResult& r = *decided.result;
    record_.tlsa_rcode = r.rcode;
    switch (tlsaOutcome(decided)) {
      case TlsaOutcome::Failed:
        // A lookup error at the expanded name stops the search: the original name is not tried.
        state = HostState::LookupError;
        addFinding("tlsa-lookup-failure");
        if (bogus(decided)) addFinding("dnssec-bogus");
        break;
      case TlsaOutcome::Insecure:
        // A TLSA answer that did not validate (e.g. _25._tcp.<host> is a signed CNAME into an
        // unsigned zone) is not used (RFC 7672 section 2.2): the host name is secure, so the
        // contract's no-tlsa, as for a securely absent RRset.
        state = HostState::NoTlsa;
        break;
      case TlsaOutcome::Absent:
        state = HostState::NoTlsa;
        break;
      case TlsaOutcome::Found: {
        record_.tlsa_base = deciding_base_;
        bool usable = false;
        for (const dns::TlsaRecord& t : r.response->tlsa) {
          record_.tlsa.push_back(t.presentation());
          switch (tls::classifyTlsa(t)) {
            case tls::TlsaUsability::Usable: usable = true; break;
            case tls::TlsaUsability::PkixUsage: addFinding("pkix-usage-in-smtp"); break;
            case tls::TlsaUsability::Malformed:
            case tls::TlsaUsability::UnknownUsage: addFinding("tlsa-malformed"); break;
          }
        }
        // The RRset as a set: resolvers rotate its order, and identical data must give identical
        // exports (also in the probe cache's key, tls::probeKey()).
        std::sort(record_.tlsa.begin(), record_.tlsa.end());
        if (record_.tlsa.size() == 1) addFinding("single-tlsa-record");
        if (record_.tlsa.size() > kTooManyTlsa) addFinding("tlsa-too-many-records");
        // No probe yet: usable records make the host unprobed, or unreachable without addresses.
        state = !usable ? HostState::UnusableTlsa : record_.addresses.empty() ? HostState::Unreachable : HostState::Unprobed;
        // The address lookups completed (else lookup-error above) and found nothing.
        if (usable && record_.addresses.empty()) addFinding("tlsa-host-no-address");
        break;
      }
    }
    // Compare the two ends only when both lookups completed (tests/lab/README.md decision).
    if (other && lookups_[*other].result && completedRcode(r.rcode) && completedRcode(lookups_[*other].result->rcode)) {
      std::vector<std::string> decided_set = tlsaPresentations(r);
      std::vector<std::string> other_set = tlsaPresentations(*lookups_[*other].result);
      const bool decided_is_alias = deciding_base_ == host_;
      std::set<std::string> alias_end(decided_is_alias ? decided_set.begin() : other_set.begin(),
                                      decided_is_alias ? decided_set.end() : other_set.end());
      std::set<std::string> canonical_end(decided_is_alias ? other_set.begin() : decided_set.begin(),
                                          decided_is_alias ? other_set.end() : decided_set.end());
      if (!alias_end.empty() && canonical_end.empty()) addFinding("tlsa-alias-only");
      if (alias_end.empty() && !canonical_end.empty()) addFinding("tlsa-canonical-only");
      if (!alias_end.empty() && !canonical_end.empty() && alias_end != canonical_end) addFinding("tlsa-alias-canonical-differ");
    }
  }
  record_.dane = std::string(toString(state));
  std::sort(record_.host_findings.begin(), record_.host_findings.end());
  record_.host_findings.erase(std::unique(record_.host_findings.begin(), record_.host_findings.end()), record_.host_findings.end());
}

}  // namespace danescan::scanner::pipeline
