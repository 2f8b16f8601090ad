// tests/unit/world/relay_model_test.cc — the relay model of the benchmark world's internet mode
// (bench/world/relay_model.h): zone keys as a table, the RTT spread over many keys, determinism
// per seed, the share of slow and rate-limited keys, loss draws, the limiter and the timer wheel.
#include "bench/world/relay_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace danescan::bench::world {
namespace {

TEST(ZoneKey, OneLabelBelowTheWorldsDelegationPoint) {
  const struct {
    const char* name;
    const char* key;
  } cases[] = {
      {".", "."},
      {"bench.", "bench."},
      {"sa0.bench.", "sa0.bench."},
      {"prov3.bench.", "prov3.bench."},
      {"nx17.bench.", "nx17.bench."},  // an NXDOMAIN name directly under bench.
      {"dom7.sa0.bench.", "dom7.sa0.bench."},
      {"x.dom7.sa0.bench.", "dom7.sa0.bench."},
      {"_25._tcp.mx.dom42.sb0.bench.", "dom42.sb0.bench."},
      {"mx.dom3.ca0.bench.", "dom3.ca0.bench."},
      {"nx9.ua1.bench.", "nx9.ua1.bench."},
      {"mx4.prov3.bench.", "prov3.bench."},
      {"_25._tcp.mx4.prov3.bench.", "prov3.bench."},
      {"mx1.uprov0.bench.", "uprov0.bench."},
      {"a.b.provider.bench.", "b.provider.bench."},  // "provider" is not prov<N>: a domain zone
      {"a\\.b.dom1.sa0.bench.", "dom1.sa0.bench."},   // an escaped dot stays in its label
      {"www.example.com.", "example.com."},
      {"com.", "com."},
  };
  for (const auto& c : cases) EXPECT_EQ(zoneKey(c.name), c.key) << c.name;
}

TEST(ZoneKey, PerZoneKeysAreTheWorldsZones) {
  // The internet mode's grain: one key per zone the resolver sees a server for.
  const struct {
    const char* name;
    const char* key;
  } cases[] = {
      {".", "."},
      {"bench.", "bench."},
      {"dom7.sa0.bench.", "sa0.bench."},
      {"_25._tcp.mx.dom42.sb0.bench.", "sb0.bench."},
      {"mx4.prov3.bench.", "prov3.bench."},
      {"nx9.ua1.bench.", "ua1.bench."},
      {"www.example.com.", "example.com."},
  };
  for (const auto& c : cases) EXPECT_EQ(zoneKey(c.name, true), c.key) << c.name;
}

TEST(KeyProfile, NamedKeysAreSlowOrRateLimitedWhateverTheShares) {
  RelayParams p;
  p.slow_share = 0;
  p.ratelimit_share = 0;
  p.slow_keys = {"uprov3.bench."};
  p.ratelimit_keys = {"prov7.bench."};
  const KeyProfile slow = keyProfile("uprov3.bench.", p);
  EXPECT_TRUE(slow.slow);
  EXPECT_FALSE(slow.ratelimited);
  EXPECT_EQ(slow.rtt_ms, p.slow_ms);
  const KeyProfile limited = keyProfile("prov7.bench.", p);
  EXPECT_TRUE(limited.ratelimited);
  EXPECT_FALSE(limited.slow);
  EXPECT_LE(limited.rtt_ms, p.rtt_max_ms);
  const KeyProfile other = keyProfile("prov6.bench.", p);
  EXPECT_FALSE(other.slow || other.ratelimited);
}

TEST(ZoneKey, LabelCount) {
  EXPECT_EQ(labelCount("."), 0u);
  EXPECT_EQ(labelCount("bench."), 1u);
  EXPECT_EQ(labelCount("dom1.sa0.bench."), 3u);
  EXPECT_EQ(labelCount("a\\.b.bench."), 2u);
}

std::vector<KeyProfile> profiles(const RelayParams& p, int n) {
  std::vector<KeyProfile> out;
  for (int i = 0; i < n; ++i) out.push_back(keyProfile("dom" + std::to_string(i) + ".sa0.bench.", p));
  return out;
}

TEST(KeyProfile, RttIsLognormalAroundFortyMillisecondsWithinTenToThreeHundred) {
  RelayParams p;
  p.slow_share = 0;  // slow keys take slow_ms, not their RTT
  auto all = profiles(p, 100000);
  std::vector<uint32_t> rtt;
  for (const auto& k : all) rtt.push_back(k.rtt_ms);
  std::sort(rtt.begin(), rtt.end());
  const uint32_t median = rtt[rtt.size() / 2];
  EXPECT_GE(median, 30u);
  EXPECT_LE(median, 50u);
  EXPECT_GE(rtt.front(), 10u);
  EXPECT_LE(rtt.back(), 300u);
  // A spread, not a constant: a tenth of the keys below 20 ms, a tenth above 90 ms or so.
  EXPECT_LT(rtt[rtt.size() / 10], 25u);
  EXPECT_GT(rtt[rtt.size() * 9 / 10], 80u);
}

TEST(KeyProfile, DeterministicPerSeed) {
  RelayParams a;
  RelayParams b;
  const auto first = profiles(a, 1000);
  const auto again = profiles(a, 1000);
  b.seed = 2;
  const auto other = profiles(b, 1000);
  int differ = 0;
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].rtt_ms, again[i].rtt_ms);
    EXPECT_EQ(first[i].hash, again[i].hash);
    EXPECT_EQ(first[i].slow, again[i].slow);
    EXPECT_EQ(first[i].ratelimited, again[i].ratelimited);
    differ += first[i].rtt_ms != other[i].rtt_ms;
  }
  EXPECT_GT(differ, 900);
}

TEST(KeyProfile, ShareOfSlowAndRateLimitedKeys) {
  RelayParams p;
  int slow = 0;
  int limited = 0;
  for (const auto& k : profiles(p, 100000)) {
    slow += k.slow;
    limited += k.ratelimited;
    EXPECT_FALSE(k.slow && k.ratelimited);
    if (k.slow) {
      EXPECT_EQ(k.rtt_ms, p.slow_ms);
    }
  }
  EXPECT_NEAR(slow, 500, 100);  // 0.5 %
  EXPECT_NEAR(limited, 500, 100);
}

TEST(KeyProfile, RootAndTldAreNeverSlowOrLimited) {
  RelayParams p;
  p.slow_share = 0.5;
  p.ratelimit_share = 0.5;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    p.seed = seed;
    for (const char* key : {".", "bench."}) {
      const auto k = keyProfile(key, p);
      EXPECT_FALSE(k.slow || k.ratelimited) << key << " seed " << seed;
    }
  }
}

TEST(KeyProfile, FixedRttForTests) {
  RelayParams p;
  p.rtt_fixed_ms = 50;
  p.slow_share = 0;
  p.ratelimit_share = 0;
  for (const auto& k : profiles(p, 1000)) {
    EXPECT_EQ(k.rtt_ms, 50u);
    EXPECT_FALSE(k.slow || k.ratelimited);
  }
  EXPECT_EQ(p.maxDelayMs(), 50u);
}

TEST(LossDraw, Probabilities) {
  LossDraw never(1, 0.0);
  LossDraw always(1, 1.0);
  LossDraw one_percent(1, 0.01);
  int lost = 0;
  for (int i = 0; i < 100000; ++i) {
    EXPECT_FALSE(never.drop());
    EXPECT_TRUE(always.drop());
    lost += one_percent.drop();
  }
  EXPECT_NEAR(lost, 1000, 150);
  LossDraw a(7, 0.5);
  LossDraw b(7, 0.5);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(a.drop(), b.drop());
}

TEST(RateLimiter, PerKeyPerSecond) {
  RateLimiter limiter(20);
  int allowed = 0;
  for (int i = 0; i < 50; ++i) allowed += limiter.allow(1, 5000 + i);
  EXPECT_EQ(allowed, 20);
  EXPECT_TRUE(limiter.allow(2, 5100));     // another key has its own budget
  EXPECT_TRUE(limiter.allow(1, 6000));     // the next second starts afresh
}

TEST(DelayWheel, HandsOutItemsWhenDueInOrder) {
  DelayWheel<int> wheel(300);
  wheel.schedule(1000, 1040, 40);
  wheel.schedule(1000, 1010, 10);
  wheel.schedule(1000, 1300, 300);
  wheel.schedule(1000, 999, 1);  // already due: next millisecond
  std::vector<int> out;
  auto take = [&](int v) { out.push_back(v); };
  wheel.advance(1009, take);
  EXPECT_EQ(out, (std::vector<int>{1}));
  wheel.advance(1040, take);
  EXPECT_EQ(out, (std::vector<int>{1, 10, 40}));
  EXPECT_EQ(wheel.size(), 1u);
  wheel.advance(5000, take);  // a stall longer than the ring: everything left is due
  EXPECT_EQ(out, (std::vector<int>{1, 10, 40, 300}));
  EXPECT_TRUE(wheel.empty());
  wheel.schedule(6000, 6020, 20);  // an empty wheel restarts at `now`
  wheel.advance(6019, take);
  EXPECT_EQ(out.size(), 4u);
  wheel.advance(6020, take);
  EXPECT_EQ(out.back(), 20);
}

}  // namespace
}  // namespace danescan::bench::world
