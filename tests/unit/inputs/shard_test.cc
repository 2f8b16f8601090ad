// tests/unit/inputs/shard_test.cc — K/N parsing, the partition property (every name in exactly
// one shard) and the stability of the hash across builds.
#include "inputs/shard.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "inputs/domain_stream.h"
#include "tests/unit/inputs/list_files.h"

namespace danescan::inputs {
namespace {

// An independent reading of the documented hash: FNV-1a 64, then the splitmix64 finaliser.
uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (const unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}
uint64_t splitmix64Finaliser(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<std::string> manyNames(int count) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.push_back("host" + std::to_string(i) + ".example");
  return names;
}

struct Parsed {
  std::string text;
  uint32_t index;
  uint32_t count;
};

class ShardParses : public ::testing::TestWithParam<Parsed> {};

TEST_P(ShardParses, Valid) {
  std::string error;
  const auto shard = Shard::parse(GetParam().text, error);
  ASSERT_TRUE(shard.has_value()) << error;
  EXPECT_EQ(shard->index, GetParam().index);
  EXPECT_EQ(shard->count, GetParam().count);
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, ShardParses,
    ::testing::Values(Parsed{"1/1", 1, 1}, Parsed{"1/3", 1, 3}, Parsed{"3/3", 3, 3},
                      Parsed{"2/8", 2, 8}, Parsed{"007/10", 7, 10},
                      Parsed{"4294967295/4294967295", 4294967295u, 4294967295u}));

struct Refused {
  std::string text;
  std::string error;
};

class ShardRefuses : public ::testing::TestWithParam<Refused> {};

TEST_P(ShardRefuses, SaysWhy) {
  std::string error;
  EXPECT_FALSE(Shard::parse(GetParam().text, error).has_value());
  EXPECT_EQ(error, GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, ShardRefuses,
    ::testing::Values(
        Refused{"", "empty shard; expected K/N with 1 <= K <= N, e.g. 2/8"},
        Refused{"3", "shard \"3\" has no '/'; expected K/N with 1 <= K <= N, e.g. 2/8"},
        Refused{"0/3", "shard index 0 is outside 1..3"},
        Refused{"4/3", "shard index 4 is outside 1..3"},
        Refused{"1/0", "shard count N must be at least 1"},
        Refused{"0/0", "shard count N must be at least 1"},
        Refused{"a/b", "shard index K in \"a/b\" is not a decimal number below 2^32"},
        Refused{"1/b", "shard count N in \"1/b\" is not a decimal number below 2^32"},
        Refused{"/3", "shard index K in \"/3\" is not a decimal number below 2^32"},
        Refused{"1/", "shard count N in \"1/\" is not a decimal number below 2^32"},
        Refused{"+1/3", "shard index K in \"+1/3\" is not a decimal number below 2^32"},
        Refused{"-1/3", "shard index K in \"-1/3\" is not a decimal number below 2^32"},
        Refused{" 1/3", "shard index K in \" 1/3\" is not a decimal number below 2^32"},
        Refused{"1/3 ", "shard count N in \"1/3 \" is not a decimal number below 2^32"},
        Refused{"1/2/3", "shard count N in \"1/2/3\" is not a decimal number below 2^32"},
        Refused{"1/4294967296",
                "shard count N in \"1/4294967296\" is not a decimal number below 2^32"}));

TEST(Shard, HashIsFnv1aThenSplitmix) {
  // Published FNV-1a 64 test vectors, to pin the reference implementation above.
  ASSERT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  ASSERT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  ASSERT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
  for (const auto& name : manyNames(1000)) {
    EXPECT_EQ(stableNameHash(name), splitmix64Finaliser(fnv1a64(name))) << name;
  }
  EXPECT_EQ(stableNameHash("xn--bcher-kva.example"),
            splitmix64Finaliser(fnv1a64("xn--bcher-kva.example")));
}

TEST(Shard, AssignmentFollowsTheHash) {
  const Shard all{1, 1};
  EXPECT_TRUE(all.contains("example.com"));
  for (const auto& name : manyNames(100)) {
    const uint32_t expected = static_cast<uint32_t>(splitmix64Finaliser(fnv1a64(name)) % 7) + 1;
    for (uint32_t k = 1; k <= 7; ++k) {
      EXPECT_EQ(Shard({k, 7}).contains(name), k == expected) << name << " in " << k << "/7";
    }
  }
}

TEST(Shard, ShardsPartitionTheList) {
  const auto names = manyNames(10000);
  for (const uint32_t n : {1u, 2u, 3u, 7u}) {
    std::multiset<std::string> all;
    std::vector<size_t> sizes;
    for (uint32_t k = 1; k <= n; ++k) {
      size_t size = 0;
      for (const auto& name : names) {
        if (Shard{k, n}.contains(name)) {
          all.insert(name);
          ++size;
        }
      }
      sizes.push_back(size);
    }
    // Union is the list and no name is in two shards: each name exactly once.
    EXPECT_EQ(all, std::multiset<std::string>(names.begin(), names.end())) << "N=" << n;
    // And the split is roughly even (10,000 / N each, within 15 %).
    for (const size_t size : sizes) {
      EXPECT_NEAR(static_cast<double>(size), 10000.0 / n, 1500.0 / n) << "N=" << n;
    }
  }
}

TEST(Shard, StreamShardsPartitionTheListAndCountTheRest) {
  testing::ListFiles files;
  const auto names = manyNames(10000);
  std::string text;
  // Upper case and a trailing dot: shards are taken on the normalised name.
  for (const auto& name : names) text += "Host" + name.substr(4) + ".\n";
  const auto path = files.writeGzip("list.gz", text);
  for (const uint32_t n : {1u, 2u, 3u, 7u}) {
    std::set<std::string> seen;
    size_t total = 0;
    for (uint32_t k = 1; k <= n; ++k) {
      StreamOptions options;
      options.sources = {path};
      options.shard = Shard{k, n};
      const auto result = testing::readAll(std::move(options));
      EXPECT_EQ(result.stats.accepted + result.stats.out_of_shard, 10000u);
      for (const auto& name : result.names()) {
        EXPECT_TRUE(seen.insert(name).second) << name << " in two shards, N=" << n;
        EXPECT_TRUE((Shard{k, n}.contains(name)));
      }
      total += result.entries.size();
    }
    EXPECT_EQ(total, 10000u);
    EXPECT_EQ(seen, std::set<std::string>(names.begin(), names.end()));
  }
}

}  // namespace
}  // namespace danescan::inputs
