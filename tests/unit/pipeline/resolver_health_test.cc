// resolver_health.h: the silent-resolver verdict and the sliding-window health monitor (issue 11).
#include "scanner/pipeline/resolver_health.h"

#include <gtest/gtest.h>

namespace danescan::scanner::pipeline {
namespace {

using K = ResultKind;

void feed(HealthMonitor& m, K kind, int n) {
  for (int i = 0; i < n; ++i) m.record(kind);
}

// `n` results of which every `every`-th is `kind`, the rest Ok.
void sprinkle(HealthMonitor& m, K kind, int every, int n) {
  for (int i = 1; i <= n; ++i) m.record(i % every == 0 ? kind : K::Ok);
}

TEST(HealthMonitor, AHealthyRunWithAFewFailuresWarnsNever) {
  HealthMonitor m;
  sprinkle(m, K::Timeout, 50, 5000);   // 2 %
  sprinkle(m, K::Servfail, 10, 5000);  // 10 %: a lab's broken zones, evenly spread
  EXPECT_TRUE(m.warnings().empty());
  EXPECT_EQ(m.activeText(), "");
  EXPECT_FALSE(m.json());
}

TEST(HealthMonitor, NoWarningOnTheSmallNumbersAtTheStart) {
  HealthMonitor m;
  feed(m, K::Timeout, 60);  // 30 % of the first window: not "mostly failures"
  feed(m, K::Ok, 3000);
  EXPECT_TRUE(m.warnings().empty());
}

TEST(HealthMonitor, AJumpOpensOneWarningThatClosesWhenTheResolverRecovers) {
  HealthMonitor m;
  sprinkle(m, K::Timeout, 100, 1000);  // 1 % baseline
  feed(m, K::Timeout, 500);            // the resolver died
  ASSERT_EQ(m.warnings().size(), 1u);
  const HealthWarning& w = m.warnings()[0];
  EXPECT_EQ(w.kind, K::Timeout);
  EXPECT_FALSE(w.at_start);
  // Opens once the window holds baseline + 20 % of timeouts: about 40 results in.
  EXPECT_GT(w.at_query, 1000u);
  EXPECT_LT(w.at_query, 1100u);
  EXPECT_NEAR(w.baseline, 0.01, 0.005);
  EXPECT_FALSE(w.until_query);
  EXPECT_NE(m.activeText().find("timeouts 100% of the last 200 queries"), std::string::npos) << m.activeText();
  feed(m, K::Ok, 1000);  // back
  ASSERT_EQ(m.warnings().size(), 1u);
  ASSERT_TRUE(m.warnings()[0].until_query);
  EXPECT_GT(*m.warnings()[0].until_query, 1500u);
  EXPECT_DOUBLE_EQ(m.warnings()[0].share, 1.0);
  EXPECT_EQ(m.activeText(), "");
  const auto json = m.json();
  ASSERT_TRUE(json);
  EXPECT_NE(json->find("\"kind\":\"timeout-jump\""), std::string::npos) << *json;
  ASSERT_EQ(m.summaryLines().size(), 1u);
  EXPECT_NE(m.summaryLines()[0].find("back to normal at query"), std::string::npos) << m.summaryLines()[0];
}

TEST(HealthMonitor, AResolverThatFailsFromTheStartWarnsAtTheStartOnly) {
  HealthMonitor m;
  feed(m, K::Servfail, 3000);
  ASSERT_EQ(m.warnings().size(), 1u);
  EXPECT_TRUE(m.warnings()[0].at_start);
  EXPECT_EQ(m.warnings()[0].kind, K::Servfail);
  EXPECT_EQ(m.warnings()[0].at_query, 200u);
  EXPECT_EQ(m.summaryLines()[0], "SERVFAILs were 100% of the first 200 queries, until the end");
}

TEST(HealthMonitor, ARiseWithinTheNoiseIsNoJump) {
  HealthMonitor m;
  sprinkle(m, K::Servfail, 5, 2000);   // 20 %
  sprinkle(m, K::Servfail, 3, 2000);   // 33 %: below 20 % + 20 %
  EXPECT_TRUE(m.warnings().empty());
}

TEST(ResolverSilent, OnlyWhenNothingEverAnsweredAndARetryWentUnansweredAtEveryResolver) {
  dns::ClientStats s;
  s.udp_timeouts = 300;
  s.most_timeouts_in_a_query = 1;
  s.resolvers_timed_out = 1;
  EXPECT_FALSE(resolverSilent(s, 1, 3));  // first attempts only: maybe a slow start
  EXPECT_TRUE(resolverSilent(s, 1, 1));   // with one attempt a query has nothing more to try
  s.most_timeouts_in_a_query = 2;
  EXPECT_TRUE(resolverSilent(s, 1, 3));
  EXPECT_FALSE(resolverSilent(s, 2, 3));  // the second resolver has not been tried
  s.resolvers_timed_out = 2;
  EXPECT_TRUE(resolverSilent(s, 2, 3));
  s.responses = 1;                        // one answer of any rcode: alive
  EXPECT_FALSE(resolverSilent(s, 2, 3));
}

TEST(Classify, TimeoutsAndServfailsAreTheFailures) {
  dns::QueryResult r;
  r.outcome = dns::QueryOutcome::Timeout;
  EXPECT_EQ(classify(r), K::Timeout);
  r.outcome = dns::QueryOutcome::NetworkError;
  EXPECT_EQ(classify(r), K::Timeout);
  r.outcome = dns::QueryOutcome::Answered;
  r.rcode = "SERVFAIL";
  EXPECT_EQ(classify(r), K::Servfail);
  r.rcode = "NXDOMAIN";
  EXPECT_EQ(classify(r), K::Ok);
}

}  // namespace
}  // namespace danescan::scanner::pipeline
