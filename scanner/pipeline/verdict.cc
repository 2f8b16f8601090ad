#include "scanner/pipeline/verdict.h"

#include <algorithm>
#include <array>
#include <utility>

namespace danescan::scanner::pipeline {
namespace {

constexpr std::array<std::pair<HostState, std::string_view>, 8> kHostStates{{
    {HostState::Insecure, "insecure"},
    {HostState::NoTlsa, "no-tlsa"},
    {HostState::UnusableTlsa, "unusable-tlsa"},
    {HostState::LookupError, "lookup-error"},
    {HostState::Pass, "pass"},
    {HostState::Fail, "fail"},
    {HostState::Unreachable, "unreachable"},
    {HostState::Unprobed, "unprobed"},
}};

constexpr std::array<std::pair<Verdict, std::string_view>, 9> kVerdicts{{
    {Verdict::NoMail, "no-mail"},
    {Verdict::DnsError, "dns-error"},
    {Verdict::Insecure, "insecure"},
    {Verdict::DaneFail, "dane-fail"},
    {Verdict::DaneUnusable, "dane-unusable"},
    {Verdict::DaneUnprobed, "dane-unprobed"},
    {Verdict::DaneOk, "dane-ok"},
    {Verdict::DanePartial, "dane-partial"},
    {Verdict::DnssecNoTlsa, "dnssec-no-tlsa"},
}};

template <class Table, class Key>
std::string_view lookupName(const Table& table, Key key) {
  for (const auto& [k, name] : table) {
    if (k == key) return name;
  }
  return "?";
}

template <class Table>
auto lookupKey(const Table& table, std::string_view name) -> std::optional<typename Table::value_type::first_type> {
  for (const auto& [k, n] : table) {
    if (n == name) return k;
  }
  return std::nullopt;
}

}  // namespace

std::string_view toString(HostState state) { return lookupName(kHostStates, state); }
std::string_view toString(Verdict verdict) { return lookupName(kVerdicts, verdict); }
std::optional<HostState> hostStateFromString(std::string_view text) { return lookupKey(kHostStates, text); }
std::optional<Verdict> verdictFromString(std::string_view text) { return lookupKey(kVerdicts, text); }

Verdict domainVerdict(const DomainFacts& facts) {
  const auto& hosts = facts.hosts;
  auto any = [&](std::initializer_list<HostState> states) {
    return std::any_of(hosts.begin(), hosts.end(), [&](HostState h) {
      return std::find(states.begin(), states.end(), h) != states.end();
    });
  };
  auto all = [&](HostState state) { return std::all_of(hosts.begin(), hosts.end(), [&](HostState h) { return h == state; }); };

  switch (facts.mx) {
    case MxOutcome::NoDomain:
    case MxOutcome::NullMx:
    case MxOutcome::NoMailHost:
      return Verdict::NoMail;
    case MxOutcome::Failed:
      return Verdict::DnsError;
    case MxOutcome::Records:
      break;
  }
  if (hosts.empty()) return Verdict::NoMail;
  // An unsigned MX RRset can be replaced by an attacker: DANE does not protect the domain,
  // whatever its hosts publish (RFC 7672 section 2.2.1).
  if (!facts.mx_secure || all(HostState::Insecure)) return Verdict::Insecure;
  if (any({HostState::Fail, HostState::LookupError, HostState::Unreachable})) return Verdict::DaneFail;
  if (any({HostState::UnusableTlsa})) return Verdict::DaneUnusable;
  if (any({HostState::Unprobed})) return Verdict::DaneUnprobed;
  if (all(HostState::Pass)) return Verdict::DaneOk;
  if (any({HostState::Pass})) return Verdict::DanePartial;
  return Verdict::DnssecNoTlsa;
}

}  // namespace danescan::scanner::pipeline
