// scanner/pipeline/host_lookup.h — everything the scan learns about one MX host from DNS, as an
// I/O-free state machine: takeRequests() says which queries to send, consume() eats their
// results, and once done() the HostRecord holds the contract's host object, the findings this
// host causes and the evidence of every query. The driver (scanner.h) only moves messages; unit
// tests drive it with scripted answers.
//
// The rules, RFC 7672 section 2.2 with the decisions of tests/lab/README.md:
//  1. CNAME, A and AAAA for the host, sent together and the explicit CNAME query first (unbound
//     answers a CNAME query from a CNAME cached by an A answer). A failed address lookup
//     (SERVFAIL, TIMEOUT, anything but NOERROR/NXDOMAIN) makes the host lookup-error (finding
//     address-lookup-failure); the CNAME query's failure alone never does (finding
//     cname-query-failure).
//  2. TLSA only for a secure host name (section 2.2.3): when the A/AAAA answers validated (the
//     whole chain), _25._tcp.<expanded name> first, then, when that is securely absent and the
//     host is an alias, _25._tcp.<original name>; when only the alias's own CNAME record
//     validated, _25._tcp.<original name> only. A failure there stops the search (lookup-error,
//     tlsa-lookup-failure). An insecure TLSA RRset is not used: it counts as absent (no-tlsa).
//     Usable TLSA records and no address at all: unreachable, tlsa-host-no-address. Otherwise the host is insecure and one informational lookup at
//     _25._tcp.<host> tells whether TLSA records are published in vain (tlsa-in-insecure-zone).
//  3. For an alias, the other end of the chain is looked up too ("tlsa-other") for the
//     tlsa-alias-only / tlsa-canonical-only / tlsa-alias-canonical-differ findings; it never
//     changes the decision.
//  4. Every SERVFAIL is repeated with CD=1 ("<purpose>+cd"): data with CD=1 means bogus
//     (dnssec-bogus, counted for the lookups that decide: address, CNAME, TLSA).
//  5. A TLSA base whose `_25._tcp.` name exceeds 255 octets is not queried (no record can exist
//     there): tlsa-name-too-long, and that base counts as securely absent (no-tlsa when every
//     eligible base is too long). A CNAME loop (in the answer, or found by following the chain
//     with CNAME queries after a SERVFAIL, at most 16 links) gives cname-loop and lookup-error.
//  The TLSA RRset is kept sorted (presentation form), whatever the resolver's order.
// Probes are not made yet: a host with usable TLSA records is unprobed (unreachable when it has
// no address at all).
#pragma once

#include "scanner/pipeline/lookup_step.h"
#include "storage/records.h"

#include <optional>
#include <string>
#include <vector>

namespace danescan::scanner::pipeline {

class HostLookup {
 public:
  // `host` is a valid, normalised MX host name (see host_name.h).
  HostLookup(std::string host, LookupOptions options);

  // Produce: the queries to send now, each returned once. Empty while waiting for answers.
  [[nodiscard]] std::vector<QueryRequest> takeRequests();
  // Consume: the result of a request returned by takeRequests(). Unknown or repeated ids are
  // ignored.
  void consume(uint32_t id, const dns::QueryResult& result);

  [[nodiscard]] bool done() const noexcept { return phase_ == Phase::Done; }
  // The host object (preference 0: the domain sets it). Meaningful once done().
  [[nodiscard]] const storage::HostRecord& record() const noexcept { return record_; }
  [[nodiscard]] storage::HostRecord takeRecord() { return std::move(record_); }

 private:
  enum class Phase { Address, CnameFollow, TlsaExpanded, TlsaOriginal, Finishing, Done };
  enum class TlsaOutcome { Found, Absent, Insecure, Failed };

  struct Lookup {
    QueryRequest request;
    size_t evidence = 0;                         // index of its QueryRecord
    std::optional<dns::QueryResult> result;
    std::optional<QueryRequest> cd_request;
    size_t cd_evidence = 0;
    std::optional<dns::QueryResult> cd_result;
  };

  size_t ask(std::string purpose, std::string name, uint16_t type);
  // A TLSA query at _25._tcp.<base>, or none (nullopt, tlsa-name-too-long) when that name is too long.
  std::optional<size_t> askTlsa(std::string purpose, const std::string& base);
  void followCname();
  void advance();
  void afterAddress();
  void decideTlsa(const Lookup& lookup, const std::string& base);
  void lookUpOtherEnd(const std::string& base);
  void finish();
  [[nodiscard]] TlsaOutcome tlsaOutcome(const Lookup& lookup) const;
  [[nodiscard]] bool bogus(const Lookup& lookup) const;
  [[nodiscard]] std::string expandedName() const;
  [[nodiscard]] size_t outstanding() const;
  void addFinding(std::string code);

  std::string host_;
  LookupOptions options_;
  Phase phase_ = Phase::Address;
  std::vector<Lookup> lookups_;               // id = index * 2 (+1 for the CD repeat)
  std::vector<QueryRequest> to_send_;
  storage::HostRecord record_;
  std::optional<size_t> cname_, a_, aaaa_, tlsa_expanded_, tlsa_original_, other_, informational_;
  // The TLSA lookup that decided, with its base name (null when none decided).
  std::optional<size_t> deciding_;
  std::string deciding_base_;
  bool lookup_error_ = false;
  bool tlsa_insecure_ = false;
  bool no_tlsa_name_ = false;             // secure, but no TLSA base name could be queried
  std::optional<size_t> cname_follow_;    // the CNAME query of the chain being followed
  std::vector<std::string> cname_seen_;   // names of that chain so far
};

}  // namespace danescan::scanner::pipeline
