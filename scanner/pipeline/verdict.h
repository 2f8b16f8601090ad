// scanner/pipeline/verdict.h — the contract's host DANE states and domain verdicts
// (../shared/contract/export-jsonl.md) as enums, and the domain verdict as a pure function of
// the MX lookup and the host states. The precedence list of the contract is the code below.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace danescan::scanner::pipeline {

enum class HostState { Insecure, NoTlsa, UnusableTlsa, LookupError, Pass, Fail, Unreachable, Unprobed };

enum class Verdict { NoMail, DnsError, Insecure, DaneFail, DaneUnusable, DaneUnprobed, DaneOk, DanePartial, DnssecNoTlsa };

[[nodiscard]] std::string_view toString(HostState state);
[[nodiscard]] std::string_view toString(Verdict verdict);
[[nodiscard]] std::optional<HostState> hostStateFromString(std::string_view text);
[[nodiscard]] std::optional<Verdict> verdictFromString(std::string_view text);

enum class MxOutcome {
  Records,    // an MX RRset with at least one usable exchange, or an implicit MX
  NoDomain,   // NXDOMAIN
  NullMx,     // RFC 7505 "0 ."
  NoMailHost, // no MX RRset and no address for the domain itself
  Failed,     // SERVFAIL, REFUSED, timeout, ...
};

struct DomainFacts {
  MxOutcome mx = MxOutcome::Records;
  bool mx_secure = false;  // the MX RRset (or its denial) validated
  std::vector<HostState> hosts;
};

// The first row of the contract's precedence list that applies.
[[nodiscard]] Verdict domainVerdict(const DomainFacts& facts);

}  // namespace danescan::scanner::pipeline
