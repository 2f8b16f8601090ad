// Domain verdicts, one case per row of the contract's precedence list and its edges.
#include "scanner/pipeline/verdict.h"

#include <gtest/gtest.h>

namespace danescan::scanner::pipeline {
namespace {

using H = HostState;
using V = Verdict;

V verdict(MxOutcome mx, bool secure, std::vector<H> hosts) { return domainVerdict(DomainFacts{mx, secure, std::move(hosts)}); }
V secureMx(std::vector<H> hosts) { return verdict(MxOutcome::Records, true, std::move(hosts)); }

TEST(DomainVerdict, NoMailForNxdomainNullMxAndNoHost) {
  EXPECT_EQ(verdict(MxOutcome::NoDomain, true, {}), V::NoMail);
  EXPECT_EQ(verdict(MxOutcome::NullMx, true, {}), V::NoMail);
  EXPECT_EQ(verdict(MxOutcome::NoMailHost, true, {}), V::NoMail);
  EXPECT_EQ(verdict(MxOutcome::Records, true, {}), V::NoMail);
}

TEST(DomainVerdict, DnsErrorWhenTheMxLookupFailed) { EXPECT_EQ(verdict(MxOutcome::Failed, false, {}), V::DnsError); }

TEST(DomainVerdict, InsecureMxWinsOverEverythingTheHostsDo) {
  EXPECT_EQ(verdict(MxOutcome::Records, false, {H::Pass, H::Fail}), V::Insecure);
  EXPECT_EQ(secureMx({H::Insecure, H::Insecure}), V::Insecure);
}

TEST(DomainVerdict, FailLookupErrorAndUnreachableMakeDaneFail) {
  EXPECT_EQ(secureMx({H::Pass, H::Fail}), V::DaneFail);
  EXPECT_EQ(secureMx({H::LookupError, H::Insecure}), V::DaneFail);
  EXPECT_EQ(secureMx({H::Unreachable, H::UnusableTlsa}), V::DaneFail);
}

TEST(DomainVerdict, UnusableBeforeUnprobedBeforeOk) {
  EXPECT_EQ(secureMx({H::UnusableTlsa, H::Unprobed, H::Pass}), V::DaneUnusable);
  EXPECT_EQ(secureMx({H::Unprobed, H::Pass}), V::DaneUnprobed);
  EXPECT_EQ(secureMx({H::Pass, H::Pass}), V::DaneOk);
}

TEST(DomainVerdict, PartialWhenSomeHostsHaveNoTlsa) {
  EXPECT_EQ(secureMx({H::Pass, H::NoTlsa}), V::DanePartial);
  EXPECT_EQ(secureMx({H::Pass, H::Insecure}), V::DanePartial);
}

TEST(DomainVerdict, SignedWithoutTlsa) {
  EXPECT_EQ(secureMx({H::NoTlsa}), V::DnssecNoTlsa);
  EXPECT_EQ(secureMx({H::NoTlsa, H::Insecure}), V::DnssecNoTlsa);
}

TEST(Names, RoundTripTheContractsSpelling) {
  EXPECT_EQ(toString(H::UnusableTlsa), "unusable-tlsa");
  EXPECT_EQ(toString(V::DnssecNoTlsa), "dnssec-no-tlsa");
  EXPECT_EQ(hostStateFromString("lookup-error"), H::LookupError);
  EXPECT_EQ(verdictFromString("dane-partial"), V::DanePartial);
  EXPECT_FALSE(verdictFromString("dane-maybe").has_value());
}

}  // namespace
}  // namespace danescan::scanner::pipeline
