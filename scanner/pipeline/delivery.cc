// scanner/pipeline/delivery.cc — see delivery.h.
#include "scanner/pipeline/delivery.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <string>
#include <utility>

namespace danescan::scanner::pipeline {
namespace {

constexpr std::array<std::pair<Delivery, std::string_view>, 4> kDeliveries{{
    {Delivery::Deliver, "deliver"},
    {Delivery::Fallback, "fallback"},
    {Delivery::Defer, "defer"},
    {Delivery::Unknown, "unknown"},
}};

enum class Item { Accept, Reject, Unknown };
enum class Group { Accept, Reject, Maybe };

// One preference group, of which only `budget` items are tried, in an order the sender chooses
// (Postfix shuffles equal-preference addresses): Accept when every choice reaches an accepting
// item, Reject when none can, Maybe otherwise.
Group judgeGroup(const std::vector<Item>& items, size_t budget) {
  const size_t n = items.size();
  const size_t tried = std::min(n, budget);
  const auto accepting = static_cast<size_t>(std::count(items.begin(), items.end(), Item::Accept));
  const auto unknown = static_cast<size_t>(std::count(items.begin(), items.end(), Item::Unknown));
  if (tried > 0 && accepting > n - tried) return Group::Accept;  // every choice of `tried` holds one
  if (tried > 0 && accepting + unknown > 0) return Group::Maybe;
  return Group::Reject;
}

// The groups in preference order (every MX preference has a group, empty or not).
Delivery walk(const std::vector<std::vector<Item>>& groups, size_t budget) {
  bool maybe = false;
  for (size_t i = 0; i < groups.size(); ++i) {
    const Group g = judgeGroup(groups[i], budget);
    budget -= std::min(budget, groups[i].size());
    if (i == 0) {
      if (g == Group::Accept) return Delivery::Deliver;
      if (g == Group::Maybe) return Delivery::Unknown;  // deliver, or something else
      continue;
    }
    // Fallback whatever an earlier backup group would have done: it could only fall back too.
    if (g == Group::Accept) return Delivery::Fallback;
    if (g == Group::Maybe) maybe = true;
  }
  return maybe ? Delivery::Unknown : Delivery::Defer;
}

Item rfc7672Host(const DeliveryHost& h) {
  switch (h.state) {
    case HostState::Fail:
    case HostState::LookupError:
    case HostState::Unreachable:
      return Item::Reject;
    case HostState::Unprobed:
      return Item::Unknown;
    case HostState::Insecure:
    case HostState::NoTlsa:
    case HostState::UnusableTlsa:
    case HostState::Pass:
      break;
  }
  return h.addresses.empty() ? Item::Reject : Item::Accept;
}

Item postfixAddress(const DeliveryHost& h, AddressProbe probe) {
  // tls_dane.c tls_dane_resolve -> qname_secure: the failed CNAME query is a TLSA lookup error,
  // which smtp_tls_policy.c dane_init turns into "4.7.5 TLSA lookup error" for this host.
  if (h.postfix_cname_error) return Item::Reject;
  switch (h.state) {
    case HostState::Insecure:
    case HostState::NoTlsa:
      return Item::Accept;  // "may": opportunistic TLS
    case HostState::UnusableTlsa:
      // dane_incompat(DANE_CANTAUTH): "encrypt", TLS is mandatory. Without a probe the scan
      // cannot tell; like the rfc7672 policy, the host is taken to accept.
      return probe == AddressProbe::NoTls || probe == AddressProbe::Unreachable ? Item::Reject : Item::Accept;
    case HostState::LookupError:
      // An address lookup that failed for one family only: dns_lookup_rv keeps the other
      // family's addresses, and their TLSA lookups were not made by the scan.
      return h.address_lookup_failed ? Item::Unknown : Item::Reject;
    case HostState::Unprobed:
      return Item::Unknown;
    case HostState::Pass:
    case HostState::Fail:
    case HostState::Unreachable:
      // Postfix tries the next address after a failure: an address that authenticated accepts,
      // whatever the others did.
      return probe == AddressProbe::Authenticated ? Item::Accept
             : probe == AddressProbe::NotProbed   ? Item::Unknown
                                                  : Item::Reject;
  }
  return Item::Reject;
}

}  // namespace

std::string_view toString(Delivery delivery) {
  for (const auto& [d, name] : kDeliveries) {
    if (d == delivery) return name;
  }
  return "?";
}

std::optional<Delivery> deliveryFromString(std::string_view text) {
  for (const auto& [d, name] : kDeliveries) {
    if (name == text) return d;
  }
  return std::nullopt;
}

DeliveryHost deliveryHost(const storage::HostRecord& host) {
  DeliveryHost out;
  out.preference = host.preference;
  out.state = hostStateFromString(host.dane).value_or(HostState::LookupError);
  out.address_lookup_failed = host.addr_rcode != "NOERROR" && host.addr_rcode != "NXDOMAIN";
  out.postfix_cname_error = !host.cname_chain.empty() && !host.addr_secure && host.cname_rcode &&
                            *host.cname_rcode != "NOERROR";
  for (const std::string& address : host.addresses) {
    AddressProbe probe = AddressProbe::NotProbed;
    for (const storage::ProbeRecord& p : host.probes) {
      if (p.address != address) continue;
      probe = !p.connected         ? AddressProbe::Unreachable
              : !p.tls_ok          ? AddressProbe::NoTls
              : p.dane == "pass"   ? AddressProbe::Authenticated
                                   : AddressProbe::Encrypted;
    }
    out.addresses.push_back(probe);
  }
  return out;
}

std::optional<DeliveryOutcome> domainDelivery(MxOutcome mx, const std::vector<DeliveryHost>& hosts,
                                              size_t postfix_address_limit) {
  switch (mx) {
    case MxOutcome::NoDomain:
    case MxOutcome::NullMx:
    case MxOutcome::NoMailHost:
      return std::nullopt;
    case MxOutcome::Failed:
      return DeliveryOutcome{Delivery::Defer, Delivery::Defer};
    case MxOutcome::Records:
      break;
  }
  if (hosts.empty()) return std::nullopt;
  std::map<int, std::pair<std::vector<Item>, std::vector<Item>>> groups;  // preference -> rfc, postfix
  for (const DeliveryHost& h : hosts) {
    auto& [rfc, postfix] = groups[h.preference];
    rfc.push_back(rfc7672Host(h));
    for (AddressProbe a : h.addresses) postfix.push_back(postfixAddress(h, a));
  }
  std::vector<std::vector<Item>> rfc, postfix;
  for (auto& [preference, items] : groups) {
    rfc.push_back(std::move(items.first));
    postfix.push_back(std::move(items.second));
  }
  return DeliveryOutcome{walk(rfc, std::numeric_limits<size_t>::max()), walk(postfix, postfix_address_limit)};
}

}  // namespace danescan::scanner::pipeline
