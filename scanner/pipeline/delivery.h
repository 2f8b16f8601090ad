// scanner/pipeline/delivery.h — the contract's `delivery` object (../shared/contract/export-jsonl.md,
// "Delivery"): what a DANE-enforcing sender does with mail to a domain, trying its MX hosts in
// preference order (RFC 5321 section 5.1), under two sender policies, as a pure function of the
// domain's facts. tests/lab/README.md ("Delivery") documents every rule below with its source.
//
// Both policies judge items (hosts or addresses) as accept / reject / unknown and walk the
// preference groups: a most-preferred item accepts -> deliver; the whole most-preferred group is
// passed over and a less preferred item accepts -> fallback; nothing accepts -> defer; an
// `unknown` item that could change that outcome -> unknown.
//   rfc7672  per host, by its DANE state: fail, lookup-error, unreachable and hosts without
//            addresses reject; unprobed is unknown; every other host accepts.
//   postfix  per address, as Postfix 3.x's smtp client does (smtp_connect.c, smtp_addr.c,
//            smtp_tls_policy.c, tls_dane.c): an address accepts when it authenticated (DANE
//            host), or for a host without usable TLSA always, except that an alias whose
//            address records are insecure and whose explicit CNAME query failed is a TLSA lookup
//            error; unusable TLSA means mandatory unauthenticated TLS ("encrypt"): a probed
//            address without TLS rejects; an address lookup that failed for one family leaves
//            the other family's addresses, whose TLSA outcome the scan did not look up: unknown;
//            only the first smtp_mx_address_limit (5) addresses in preference order are tried.
#pragma once

#include "scanner/pipeline/verdict.h"
#include "storage/records.h"

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace danescan::scanner::pipeline {

enum class Delivery { Deliver, Fallback, Defer, Unknown };

[[nodiscard]] std::string_view toString(Delivery delivery);
[[nodiscard]] std::optional<Delivery> deliveryFromString(std::string_view text);

// What one probe of an address showed, for the postfix policy.
enum class AddressProbe {
  NotProbed,      // no probe of this address (DNS-only scan, special-purpose address, no DANE)
  Authenticated,  // connected, TLS completed, DANE pass
  Encrypted,      // connected, TLS completed, not authenticated (no usable TLSA, or DANE fail)
  NoTls,          // connected (220), but no TLS session: no STARTTLS, handshake failure, stall
  Unreachable,    // no TCP connection or no 220 greeting (refused, timeout, 421)
};

// The facts about one MX host that the policies read (from its contract host object).
struct DeliveryHost {
  int preference = 0;
  HostState state = HostState::Insecure;
  bool address_lookup_failed = false;  // addr_rcode neither NOERROR nor NXDOMAIN (NOTQUERIED too)
  // Postfix's explicit CNAME query (tls_dane.c qname_secure): the host is an alias, its address
  // records are insecure, and the CNAME query for it failed.
  bool postfix_cname_error = false;
  std::vector<AddressProbe> addresses;  // one per address, in address order
  bool operator==(const DeliveryHost&) const = default;
};

struct DeliveryOutcome {
  Delivery rfc7672 = Delivery::Defer;
  Delivery postfix = Delivery::Defer;
  bool operator==(const DeliveryOutcome&) const = default;
};

// Postfix's smtp_mx_address_limit default (mail_params.h DEF_SMTP_MXADDR_LIMIT).
inline constexpr size_t kPostfixAddressLimit = 5;

[[nodiscard]] DeliveryHost deliveryHost(const storage::HostRecord& host);

// Null for a no-mail domain (NXDOMAIN, null MX, no mail host, no hosts); defer under both
// policies when the MX lookup failed. `hosts` in any order (grouped by preference here).
[[nodiscard]] std::optional<DeliveryOutcome> domainDelivery(MxOutcome mx, const std::vector<DeliveryHost>& hosts,
                                                            size_t postfix_address_limit = kPostfixAddressLimit);

}  // namespace danescan::scanner::pipeline
