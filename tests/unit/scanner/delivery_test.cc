// The contract's delivery object (export-jsonl.md "Delivery"), each case derived by hand from
// the rules in scanner/pipeline/delivery.h and tests/lab/README.md "Delivery".
#include "scanner/pipeline/delivery.h"

#include <gtest/gtest.h>

namespace danescan::scanner::pipeline {
namespace {

using H = HostState;
using A = AddressProbe;
using D = Delivery;

DeliveryHost host(int preference, H state, std::vector<A> addresses) {
  DeliveryHost h;
  h.preference = preference;
  h.state = state;
  h.addresses = std::move(addresses);
  return h;
}

DeliveryOutcome of(std::vector<DeliveryHost> hosts) {
  const auto d = domainDelivery(MxOutcome::Records, hosts);
  EXPECT_TRUE(d.has_value());
  return d.value_or(DeliveryOutcome{D::Unknown, D::Unknown});
}

DeliveryOutcome both(D d) { return DeliveryOutcome{d, d}; }

TEST(Delivery, NamesRoundTrip) {
  for (D d : {D::Deliver, D::Fallback, D::Defer, D::Unknown}) EXPECT_EQ(deliveryFromString(toString(d)), d);
  EXPECT_EQ(toString(D::Fallback), "fallback");
  EXPECT_FALSE(deliveryFromString("deferred"));
}

TEST(Delivery, NullForNoMailAndDeferWhenTheMxLookupFailed) {
  EXPECT_FALSE(domainDelivery(MxOutcome::NoDomain, {}));
  EXPECT_FALSE(domainDelivery(MxOutcome::NullMx, {}));
  EXPECT_FALSE(domainDelivery(MxOutcome::NoMailHost, {host(0, H::NoTlsa, {})}));
  EXPECT_FALSE(domainDelivery(MxOutcome::Records, {}));
  EXPECT_EQ(domainDelivery(MxOutcome::Failed, {}), both(D::Defer));
}

TEST(Delivery, OneHostAcceptsOrNot) {
  EXPECT_EQ(of({host(10, H::Pass, {A::Authenticated})}), both(D::Deliver));
  EXPECT_EQ(of({host(10, H::Insecure, {A::NotProbed})}), both(D::Deliver));
  EXPECT_EQ(of({host(10, H::NoTlsa, {A::NotProbed})}), both(D::Deliver));
  EXPECT_EQ(of({host(10, H::Fail, {A::NoTls})}), both(D::Defer));
  EXPECT_EQ(of({host(10, H::Fail, {A::Encrypted})}), both(D::Defer));
  EXPECT_EQ(of({host(10, H::Unreachable, {A::Unreachable})}), both(D::Defer));
  EXPECT_EQ(of({host(10, H::Unreachable, {})}), both(D::Defer));  // TLSA, no address
  EXPECT_EQ(of({host(10, H::LookupError, {A::NotProbed})}), both(D::Defer));  // TLSA lookup failed
  EXPECT_EQ(of({host(10, H::Unprobed, {A::NotProbed})}), both(D::Unknown));
}

TEST(Delivery, AHostWithoutAddressesNeverAccepts) {
  EXPECT_EQ(of({host(10, H::Insecure, {})}), both(D::Defer));
  EXPECT_EQ(of({host(10, H::Insecure, {}), host(20, H::NoTlsa, {A::NotProbed})}), both(D::Fallback));
}

TEST(Delivery, PreferenceGroups) {
  // Every most-preferred host passed over, a less preferred one accepts.
  EXPECT_EQ(of({host(10, H::Fail, {A::NoTls}), host(20, H::Pass, {A::Authenticated})}), both(D::Fallback));
  // One of two most-preferred hosts accepts: deliver, in any order.
  EXPECT_EQ(of({host(10, H::Fail, {A::NoTls}), host(10, H::Pass, {A::Authenticated})}), both(D::Deliver));
  EXPECT_EQ(of({host(20, H::Fail, {A::NoTls}), host(10, H::Pass, {A::Authenticated})}), both(D::Deliver));
  // Fallback across several failing groups.
  EXPECT_EQ(of({host(10, H::Fail, {A::NoTls}), host(20, H::LookupError, {A::NotProbed}),
                host(30, H::Insecure, {A::NotProbed})}),
            both(D::Fallback));
  EXPECT_EQ(of({host(10, H::Fail, {A::NoTls}), host(20, H::Unreachable, {A::Unreachable})}), both(D::Defer));
}

TEST(Delivery, UnknownOnlyWhereAnUnprobedHostDecides) {
  // The most-preferred host is unprobed: deliver if it authenticates, fallback otherwise.
  EXPECT_EQ(of({host(10, H::Unprobed, {A::NotProbed}), host(20, H::Pass, {A::Authenticated})}), both(D::Unknown));
  // An accepting most-preferred host decides whatever the unprobed ones would do.
  EXPECT_EQ(of({host(10, H::Pass, {A::Authenticated}), host(10, H::Unprobed, {A::NotProbed}),
                host(20, H::Unprobed, {A::NotProbed})}),
            both(D::Deliver));
  // Fallback or defer, depending on the unprobed backup.
  EXPECT_EQ(of({host(10, H::Fail, {A::NoTls}), host(20, H::Unprobed, {A::NotProbed})}), both(D::Unknown));
  // Fallback either way: the unprobed backup does not decide.
  EXPECT_EQ(of({host(10, H::Fail, {A::NoTls}), host(20, H::Unprobed, {A::NotProbed}),
                host(30, H::Pass, {A::Authenticated})}),
            both(D::Fallback));
}

TEST(Delivery, PostfixDefersTheInsecureAliasWhoseCnameQueryFailed) {
  DeliveryHost seed = host(10, H::Insecure, {A::NotProbed});
  seed.postfix_cname_error = true;
  EXPECT_EQ(of({seed}), (DeliveryOutcome{D::Deliver, D::Defer}));
  EXPECT_EQ(of({seed, host(20, H::Pass, {A::Authenticated})}), (DeliveryOutcome{D::Deliver, D::Fallback}));
}

TEST(Delivery, PostfixTakesAnyAuthenticatedAddressOfAFailingHost) {
  // The contract's fail: one reachable address did not authenticate; Postfix tries the next.
  EXPECT_EQ(of({host(10, H::Fail, {A::Authenticated, A::Encrypted})}), (DeliveryOutcome{D::Defer, D::Deliver}));
  EXPECT_EQ(of({host(10, H::Pass, {A::Unreachable, A::Authenticated})}), both(D::Deliver));
}

TEST(Delivery, PostfixTriesOnlyFiveAddresses) {
  // Six unreachable most-preferred addresses use up smtp_mx_address_limit before the backup.
  const std::vector<A> two{A::Unreachable, A::Unreachable};
  const std::vector<DeliveryHost> hosts{host(10, H::Unreachable, two), host(10, H::Unreachable, two),
                                        host(10, H::Unreachable, two), host(20, H::Pass, {A::Authenticated})};
  EXPECT_EQ(of(hosts), (DeliveryOutcome{D::Fallback, D::Defer}));
  // Four addresses first: one try left for a backup group of two, one of which authenticates:
  // the shuffle decides.
  const std::vector<DeliveryHost> cut{host(10, H::Unreachable, {A::Unreachable, A::Unreachable, A::Unreachable, A::Unreachable}),
                                      host(20, H::Fail, {A::Authenticated, A::NoTls})};
  EXPECT_EQ(of(cut), (DeliveryOutcome{D::Defer, D::Unknown}));
  // The same with a limit of 6: both backup addresses are tried.
  EXPECT_EQ(domainDelivery(MxOutcome::Records, cut, 6), (DeliveryOutcome{D::Defer, D::Fallback}));
  // A TLSA lookup error still uses up the addresses (smtp_connect.c counts before the policy).
  const std::vector<DeliveryHost> errors{host(10, H::LookupError, {A::NotProbed, A::NotProbed, A::NotProbed}),
                                         host(10, H::LookupError, {A::NotProbed, A::NotProbed}),
                                         host(20, H::NoTlsa, {A::NotProbed})};
  EXPECT_EQ(of(errors), (DeliveryOutcome{D::Fallback, D::Defer}));
}

TEST(Delivery, PostfixMakesUnusableTlsaMandatoryTls) {
  EXPECT_EQ(of({host(10, H::UnusableTlsa, {A::NotProbed})}), both(D::Deliver));
  EXPECT_EQ(of({host(10, H::UnusableTlsa, {A::Encrypted})}), both(D::Deliver));
  EXPECT_EQ(of({host(10, H::UnusableTlsa, {A::NoTls})}), (DeliveryOutcome{D::Deliver, D::Defer}));
}

TEST(Delivery, PostfixKeepsTheAddressesOfTheFamilyThatResolved) {
  DeliveryHost half = host(10, H::LookupError, {A::NotProbed});  // A answered, AAAA SERVFAIL
  half.address_lookup_failed = true;
  EXPECT_EQ(of({half}), (DeliveryOutcome{D::Defer, D::Unknown}));
  DeliveryHost none = host(10, H::LookupError, {});
  none.address_lookup_failed = true;
  EXPECT_EQ(of({none, host(20, H::Pass, {A::Authenticated})}), both(D::Fallback));
}

TEST(Delivery, HostFactsFromTheContractHostObject) {
  storage::HostRecord r;
  r.host = "mx.example.test";
  r.preference = 20;
  r.dane = "fail";
  r.addr_rcode = "NOERROR";
  r.addr_secure = true;
  r.cname_rcode = "NOERROR";
  r.addresses = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "2001:db8::1"};
  auto probe = [](std::string address, bool connected, bool tls, std::string dane) {
    storage::ProbeRecord p;
    p.address = std::move(address);
    p.connected = connected;
    p.tls_ok = tls;
    p.dane = std::move(dane);
    return p;
  };
  r.probes = {probe("192.0.2.1", true, true, "pass"), probe("192.0.2.2", true, true, "fail"),
              probe("192.0.2.3", true, false, "fail"), probe("2001:db8::1", false, false, "fail")};
  DeliveryHost h = deliveryHost(r);
  EXPECT_EQ(h.preference, 20);
  EXPECT_EQ(h.state, H::Fail);
  EXPECT_FALSE(h.address_lookup_failed);
  EXPECT_FALSE(h.postfix_cname_error);
  EXPECT_EQ(h.addresses, (std::vector<A>{A::Authenticated, A::Encrypted, A::NoTls, A::NotProbed, A::Unreachable}));

  // outlook-direct: not an alias, so Postfix sends no CNAME query.
  storage::HostRecord direct;
  direct.dane = "insecure";
  direct.addr_rcode = "NOERROR";
  direct.cname_rcode = "SERVFAIL";
  direct.addresses = {"192.0.2.5"};
  EXPECT_FALSE(deliveryHost(direct).postfix_cname_error);
  // outlook-chain: an alias with insecure address records.
  storage::HostRecord chain = direct;
  chain.cname_chain = {"target.example.test"};
  EXPECT_TRUE(deliveryHost(chain).postfix_cname_error);
  chain.addr_secure = true;  // a secure chain: no CNAME query
  EXPECT_FALSE(deliveryHost(chain).postfix_cname_error);
  storage::HostRecord failed = direct;
  failed.addr_rcode = "TIMEOUT";
  EXPECT_TRUE(deliveryHost(failed).address_lookup_failed);
  failed.addr_rcode = "NXDOMAIN";
  EXPECT_FALSE(deliveryHost(failed).address_lookup_failed);
}

}  // namespace
}  // namespace danescan::scanner::pipeline
