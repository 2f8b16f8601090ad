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

TEST(DedupFilter, FingerprintsThatDifferOnlyInLowBitsStaySeparate) {
  // When sharding, every fingerprint in a stream has the same value mod N; slots come from the
  // high bits, so this must not pile them into one probe chain (it would still be correct).
  DedupFilter filter;
  for (uint64_t i = 0; i < 10000; ++i) ASSERT_TRUE(filter.insert(spread(i) & ~uint64_t{7}));
  EXPECT_EQ(filter.size(), 10000u);
}

}  // namespace
}  // namespace danescan::inputs
