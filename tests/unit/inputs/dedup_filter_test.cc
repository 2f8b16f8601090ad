// tests/unit/inputs/dedup_filter_test.cc — the fingerprint set: membership, growth, and the one
// fingerprint (0) that shares its slot value with "empty".
#include "inputs/dedup_filter.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace danescan::inputs {
namespace {

// splitmix64 as a generator of well-spread, distinct test fingerprints.
uint64_t spread(uint64_t i) {
  uint64_t z = i + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

TEST(DedupFilter, RemembersWhatItSaw) {
  DedupFilter filter;
  EXPECT_TRUE(filter.insert(42));
  EXPECT_FALSE(filter.insert(42));
  EXPECT_TRUE(filter.insert(43));
  EXPECT_EQ(filter.size(), 2u);
}

TEST(DedupFilter, ZeroIsAFingerprintLikeAnyOther) {
  DedupFilter filter;
  EXPECT_TRUE(filter.insert(0));
  EXPECT_FALSE(filter.insert(0));
  EXPECT_EQ(filter.size(), 1u);
}

TEST(DedupFilter, GrowsKeepingEveryEntryAndTheLoadBound) {
  DedupFilter filter;
  constexpr uint64_t kCount = 300000;
  for (uint64_t i = 0; i < kCount; ++i) ASSERT_TRUE(filter.insert(spread(i))) << i;
  for (uint64_t i = 0; i < kCount; ++i) ASSERT_FALSE(filter.insert(spread(i))) << i;
  EXPECT_EQ(filter.size(), kCount);
  // At most 3/4 full, at least 3/8 after a doubling: 8 bytes a slot, 11-22 bytes a name.
  EXPECT_LE(filter.size() * 4, filter.capacity() * 3);
  EXPECT_GE(filter.size() * 8, filter.capacity() * 3);
}

// The longest probe chain of 10000 fingerprints whose low bits are fixed by `low_mask`.
uint64_t longestRunWithLowBits(uint64_t low_mask) {
  DedupFilter filter;
  for (uint64_t i = 0; i < 10000; ++i) EXPECT_TRUE(filter.insert(spread(i) & ~low_mask)) << i;
  EXPECT_EQ(filter.size(), 10000u);
  return filter.longestRun();
}

TEST(DedupFilter, FingerprintsThatDifferOnlyInHighBitsDoNotCluster) {
  // When sharding, every fingerprint in a stream has the same value mod N (here N = 2^10 and
  // 2^12: the low 10 or 12 bits are equal); slots come from the high bits, so the probe chains
  // must stay as short as for fully spread fingerprints. 10000 entries in 16384 slots: linear
  // probing at that load gives a longest run of about 40; slots taken from the low bits give
  // runs of about 700 and 2600 here.
  EXPECT_LT(longestRunWithLowBits(0), 100u);
  EXPECT_LT(longestRunWithLowBits(1023), 100u);
  EXPECT_LT(longestRunWithLowBits(4095), 100u);
}

}  // namespace
}  // namespace danescan::inputs
