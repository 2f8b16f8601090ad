// tests/unit/inputs/source_stats_test.cc — what a stream records of each list for the run
// (SourceStats: the content's SHA-256, its bytes and line counts) and the prefix hash that
// `scan --resume` checks a list against. Expected digests are sha256sum's of the same bytes.
#include <gtest/gtest.h>

#include "inputs/domain_stream.h"
#include "tests/unit/inputs/list_files.h"

namespace danescan::inputs {
namespace {

using testing::ListFiles;

constexpr const char* kFirst = "a.example\nbad..name\nb.example\na.example\n";
// sha256sum of kFirst, of its first 20 bytes, of "c.example\n", of nothing.
constexpr const char* kFirstSha = "2f0a57a1f67c03ccf0b4f1c2f429e9d96c9359031a5d7ef5b47114a2efacb015";
constexpr const char* kFirst20Sha = "417cfc34b0f711be8f5b2f15abc126f6e6d71dc06543241ba28572cacb21ceab";
constexpr const char* kSecondSha = "678ccc3dd251759cf3a8f2d9e262f0f74a021860893d1babea9851c42cdda201";

StreamOptions quietOptions(std::vector<std::string> sources) {
  StreamOptions options;
  options.sources = std::move(sources);
  options.on_error = [](const ListError&) {};
  return options;
}

TEST(SourceStats, EachListHasItsHashAndCounts) {
  ListFiles files;
  const auto first = files.writePlain("first.txt", kFirst);
  const auto second = files.writeGzip("second.txt.gz", "c.example\n");  // hashed as read: decompressed
  DomainStream stream(quietOptions({first, second, files.path("absent.txt")}));
  DomainEntry entry;
  while (stream.next(entry)) {
  }
  const auto sources = stream.sources();
  ASSERT_EQ(sources.size(), 3u);
  EXPECT_EQ(sources[0], (SourceStats{first, kFirstSha, 40, 4, 1, 1, true}));
  EXPECT_EQ(sources[1], (SourceStats{second, kSecondSha, 10, 1, 0, 0, true}));
  EXPECT_EQ(sources[2], (SourceStats{files.path("absent.txt"), "", 0, 0, 0, 0, false}));
}

TEST(SourceStats, ADuplicateAcrossListsCountsInTheListWhereItRepeats) {
  ListFiles files;
  const auto first = files.writePlain("first.txt", "a.example\n");
  const auto second = files.writePlain("second.txt", "a.example\nb.example\n");
  DomainStream stream(quietOptions({first, second}));
  DomainEntry entry;
  while (stream.next(entry)) {
  }
  const auto sources = stream.sources();
  EXPECT_EQ(sources[0].duplicates, 0u);
  EXPECT_EQ(sources[1].duplicates, 1u);
  EXPECT_EQ(stream.stats().duplicates, 1u);
}

TEST(SourceStats, ASourceBeingReadReportsWhatWasReadSoFar) {
  ListFiles files;
  const auto first = files.writePlain("first.txt", kFirst);
  DomainStream stream(quietOptions({first}));
  DomainEntry entry;
  ASSERT_TRUE(stream.next(entry));
  const auto sources = stream.sources();
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_FALSE(sources[0].complete);
  EXPECT_EQ(sources[0].bytes, 40u);  // one fill took the whole small file
  EXPECT_EQ(sources[0].sha256, kFirstSha);
}

TEST(SourceStats, ThePrefixHashIsSha256OfTheFirstBytes) {
  ListFiles files;
  const auto first = files.writePlain("first.txt", kFirst);
  const auto gz = files.writeGzip("first.txt.gz", kFirst);
  std::string error;
  EXPECT_EQ(contentPrefixSha256(first, 20, error), kFirst20Sha) << error;
  EXPECT_EQ(contentPrefixSha256(first, 40, error), kFirstSha) << error;
  EXPECT_EQ(contentPrefixSha256(gz, 40, error), kFirstSha) << error;  // the same content, compressed
  EXPECT_EQ(contentPrefixSha256(first, 41, error), std::nullopt);
  EXPECT_NE(error.find("fewer than the 41 read before"), std::string::npos) << error;
  EXPECT_EQ(contentPrefixSha256(files.path("absent.txt"), 1, error), std::nullopt);
}

}  // namespace
}  // namespace danescan::inputs
