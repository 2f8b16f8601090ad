// tests/unit/storage/merge_test.cc — merging shard databases: the union of the shards, hosts
// stored once, overlapping or foreign inputs refused with nothing written.
#include "storage/merge.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "storage/export.h"
#include "storage/reader.h"
#include "storage/writer.h"
#include "tests/unit/storage/sample_records.h"

namespace danescan::storage {
namespace {

using testing::expectedJsonl;
using testing::readLines;
using testing::sampleRecords;
using testing::sqlInt;
using testing::TempDir;

// Writes the sample records whose index `pick` accepts into a new database.
template <class Pick>
std::string shard(const TempDir& dir, const std::string& name, Pick pick, bool completed = true) {
  const auto path = dir.file(name);
  std::string error;
  auto writer =
      Writer::open(path, RunInfo{"test", "scan --shard", R"({"shard":")" + name + "\"}"}, OpenMode::Create, error);
  EXPECT_NE(writer, nullptr) << error;
  const auto records = sampleRecords();
  for (size_t i = 0; i < records.size(); ++i) {
    if (pick(i)) writer->submit(DomainRecord(records[i]));
  }
  writer->finish(completed);
  return path;
}

TEST(MergeTest, TheMergeIsTheUnionOfTheShards) {
  TempDir dir;
  // shared1 and shared2 land in different shards: their host must still be stored once.
  const auto a = shard(dir, "a.sqlite", [](size_t i) { return i % 2 == 0; });
  const auto b = shard(dir, "b.sqlite", [](size_t i) { return i % 2 == 1; });
  const auto out = dir.file("merged.sqlite");
  std::string error;
  ASSERT_TRUE(merge(out, {a, b}, MergeInfo{"test", "danescan merge"}, error)) << error;

  std::ostringstream jsonl;
  ASSERT_TRUE(exportJsonl(out, jsonl, error)) << error;
  EXPECT_EQ(readLines(jsonl.str()), expectedJsonl());
  EXPECT_EQ(sqlInt(out, "SELECT count(*) FROM hosts WHERE name = 'mx.shared-provider.example'"), 1);
  EXPECT_EQ(sqlInt(out, "SELECT count(*) FROM runs WHERE status = 'completed'"), 1);
  EXPECT_EQ(sqlInt(out, "SELECT json_array_length(options, '$.merged_from') FROM runs"), 2);

  // Evidence survives the merge, not only the contract's fields.
  auto reader = Reader::open(out, error);
  ASSERT_NE(reader, nullptr) << error;
  std::vector<DomainRecord> back;
  ASSERT_TRUE(reader->forEachDomain(
      reader->run(std::nullopt, error)->id, Reader::Detail::Full, [&](const DomainRecord& d) { back.push_back(d); }, error));
  EXPECT_EQ(back, sampleRecords());
}

TEST(MergeTest, AnInterruptedShardMakesAnInterruptedRun) {
  TempDir dir;
  const auto a = shard(dir, "a.sqlite", [](size_t i) { return i < 3; });
  const auto b = shard(
      dir, "b.sqlite", [](size_t i) { return i >= 3; }, false);
  const auto out = dir.file("merged.sqlite");
  std::string error;
  ASSERT_TRUE(merge(out, {a, b}, MergeInfo{"test", "danescan merge"}, error)) << error;
  EXPECT_EQ(sqlInt(out, "SELECT count(*) FROM runs WHERE status = 'interrupted'"), 1);
}

TEST(MergeTest, OverlappingShardsAreRefused) {
  TempDir dir;
  const auto a = shard(dir, "a.sqlite", [](size_t i) { return i < 4; });
  const auto b = shard(dir, "b.sqlite", [](size_t i) { return i >= 3; });
  const auto out = dir.file("merged.sqlite");
  std::string error;
  EXPECT_FALSE(merge(out, {a, b}, MergeInfo{"test", "danescan merge"}, error));
  EXPECT_NE(error.find("gone.example"), std::string::npos) << error;
  EXPECT_NE(error.find("not disjoint"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(MergeTest, ForeignOrMissingInputsAndAnExistingOutputAreRefused) {
  TempDir dir;
  const auto a = shard(dir, "a.sqlite", [](size_t) { return true; });
  const auto out = dir.file("merged.sqlite");
  std::string error;

  const auto foreign = dir.file("foreign.sqlite");
  {
    sqlite3* db = nullptr;
    sqlite3_open(foreign.c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE notes (text TEXT)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  EXPECT_FALSE(merge(out, {a, foreign}, MergeInfo{}, error));
  EXPECT_NE(error.find("not one written by danescan"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(out));

  error.clear();
  EXPECT_FALSE(merge(out, {a, dir.file("absent.sqlite")}, MergeInfo{}, error));
  EXPECT_NE(error.find("no such file"), std::string::npos) << error;

  error.clear();
  EXPECT_FALSE(merge(a, {a}, MergeInfo{}, error));
  EXPECT_NE(error.find("exists already"), std::string::npos) << error;
}

}  // namespace
}  // namespace danescan::storage
