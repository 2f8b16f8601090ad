// storage/records.h — what a scan stores: the contract's domain, host and probe objects
// (../shared/contract/export-jsonl.md) as plain values, plus the evidence behind them (every DNS
// query with its rcode, AD bit, Extended DNS Errors, timing and answer). The scanner fills these;
// the writer stores them; export rebuilds the contract's objects from the database.
//
// Field names follow the contract where the contract has the field. Optional contract fields
// (JSON null) are std::optional. Names are normalised (lower case, no trailing dot).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace danescan::storage {

// One DNS query and its outcome.
struct QueryRecord {
  std::string purpose;  // "mx", "a", "aaaa", "cname", "tlsa", "tlsa-other" (the other end of a
                        // CNAME chain, for the findings), "tlsa-insecure" (informational), with
                        // "+cd" appended for the CD=1 repeat after a SERVFAIL
  std::string name;
  uint16_t type = 0;
  bool cd = false;            // sent with CD=1
  std::string rcode;          // NOERROR, NXDOMAIN, SERVFAIL, ..., or TIMEOUT
  bool ad = false;
  bool tcp = false;           // answered over TCP after TC=1
  std::vector<uint16_t> ede;  // RFC 8914 INFO-CODEs
  std::string ede_text;       // their EXTRA-TEXTs, "; "-separated
  uint32_t elapsed_ms = 0;
  uint32_t attempts = 0;
  std::string resolver;       // "127.53.1.1:53" that answered, empty when none did
  std::string answer;         // answer section, one RR per line, presentation form
  std::string error;          // what went wrong (ignored responses, network errors), or empty
  bool operator==(const QueryRecord&) const = default;
};

// One SMTP/TLS probe of one address (filled by the TLS-probe issue; empty until then).
struct ProbeRecord {
  std::string address;
  bool connected = false;
  bool starttls = false;
  bool tls_ok = false;
  std::string dane = "n/a";  // pass, fail, n/a
  std::optional<std::string> matched;
  std::optional<std::string> error;
  bool operator==(const ProbeRecord&) const = default;
};

struct HostRecord {
  // The contract's host object.
  std::string host;
  int preference = 0;
  std::vector<std::string> cname_chain;
  std::string addr_rcode;
  bool addr_secure = false;
  std::optional<std::string> cname_rcode;
  std::vector<std::string> addresses;
  std::optional<std::string> tlsa_base;
  std::optional<std::string> tlsa_rcode;
  std::vector<std::string> tlsa;  // "U S M hex"
  std::string dane;               // a host DANE state of the contract
  std::vector<ProbeRecord> probes;

  // Evidence beyond the contract.
  bool cname_secure = false;  // the explicit CNAME query was answered with AD=1
  std::optional<std::string> tlsa_other_base;   // the other end of a CNAME chain, when looked up
  std::optional<std::string> tlsa_other_rcode;
  std::vector<std::string> tlsa_other;
  std::vector<std::string> host_findings;       // findings this host causes (the domain carries them)
  std::vector<QueryRecord> queries;             // every query made for this host
  bool operator==(const HostRecord&) const = default;
};

struct DomainRecord {
  // The contract's domain object.
  std::string domain;
  std::string verdict;
  std::string mx_rcode;
  bool mx_secure = false;
  bool implicit_mx = false;
  std::vector<HostRecord> mx;        // preference order, ties by name
  std::vector<std::string> findings; // sorted, unique

  // Where the name came from, and the queries made for the domain itself (MX, its CD repeat).
  std::string source;
  uint64_t line = 0;
  std::vector<QueryRecord> queries;
  bool operator==(const DomainRecord&) const = default;
};

}  // namespace danescan::storage
