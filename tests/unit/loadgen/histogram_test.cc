// The histogram's percentiles against the exact nearest-rank percentiles of random samples: the
// relative error stays within the bound histogram.h promises, over many orders of magnitude.
#include "scanner/loadgen/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

namespace danescan::scanner::loadgen {
namespace {

constexpr double kBound = 1.0 / (1 << (Histogram::kSubBits + 1));  // half a bucket, relative

uint64_t exactPercentile(std::vector<uint64_t> sorted, double percent) {
  const auto rank = static_cast<size_t>(std::max(1.0, std::ceil(percent / 100.0 * static_cast<double>(sorted.size()))));
  return sorted[rank - 1];
}

TEST(Histogram, BucketsTileTheNumberLine) {
  // Every bucket starts where the one before ends, and a value falls into the bucket holding it.
  for (size_t b = 1; b < 57 * 128; ++b) ASSERT_EQ(Histogram::bucketLow(b), Histogram::bucketLow(b - 1) + Histogram::bucketWidth(b - 1)) << b;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const size_t b = Histogram::bucketOf(v);
    ASSERT_LE(Histogram::bucketLow(b), v);
    ASSERT_LT(v - Histogram::bucketLow(b), Histogram::bucketWidth(b));
    if (v >= 128) {
      ASSERT_LE(static_cast<double>(Histogram::bucketWidth(b)), static_cast<double>(v) / 128.0);
    }
  }
  EXPECT_EQ(Histogram::bucketOf(0), 0u);
  EXPECT_EQ(Histogram::bucketOf(127), 127u);
  EXPECT_EQ(Histogram::bucketOf(128), 128u);
  EXPECT_LT(Histogram::bucketOf(UINT64_MAX), 58u * 128u);
}

struct Distribution {
  const char* name;
  std::function<uint64_t(std::mt19937_64&)> draw;
};

TEST(Histogram, PercentilesWithinTheRelativeErrorBound) {
  const std::vector<Distribution> distributions = {
      {"uniform 10us-10ms", [](std::mt19937_64& r) { return std::uniform_int_distribution<uint64_t>(10000, 10000000)(r); }},
      {"lognormal ~100us", [](std::mt19937_64& r) { return static_cast<uint64_t>(std::lognormal_distribution<double>(11.5, 1.2)(r)); }},
      {"exponential ~2ms", [](std::mt19937_64& r) { return static_cast<uint64_t>(std::exponential_distribution<double>(1 / 2e6)(r)) + 1; }},
      {"small integers", [](std::mt19937_64& r) { return std::uniform_int_distribution<uint64_t>(0, 300)(r); }},
  };
  for (const Distribution& d : distributions) {
    for (size_t n : {1u, 7u, 1000u, 200000u}) {
      std::mt19937_64 rng(n * 31 + 7);
      Histogram h;
      std::vector<uint64_t> samples;
      for (size_t i = 0; i < n; ++i) {
        samples.push_back(d.draw(rng));
        h.record(samples.back());
      }
      std::sort(samples.begin(), samples.end());
      ASSERT_EQ(h.count(), n);
      EXPECT_EQ(h.min(), samples.front());
      EXPECT_EQ(h.max(), samples.back());
      for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
        const double exact = static_cast<double>(exactPercentile(samples, p));
        const double got = static_cast<double>(h.percentile(p));
        // Exact below 128 ns (a bucket per value); otherwise within half a bucket.
        EXPECT_LE(std::abs(got - exact), std::max(0.5, exact * kBound)) << d.name << " n=" << n << " p" << p;
      }
    }
  }
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(5);
  Histogram a, b, all;
  for (int i = 0; i < 5000; ++i) {
    const uint64_t v = rng() % 50000000;
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {50.0, 99.0, 99.9}) EXPECT_EQ(a.percentile(p), all.percentile(p));
}

TEST(Histogram, EmptyIsAllZero) {
  const Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0);
}

}  // namespace
}  // namespace danescan::scanner::loadgen
