// tests/unit/storage/merge_test.cc — merging shard databases: the union of the shards, hosts
// stored once, overlapping or foreign inputs refused with nothing written.
#include "storage/merge.h"

#include <gtest/gtest.h>

#include <cstdlib>
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

// A shard's run as a scan with --shard records it.
struct ShardRun {
  std::string shard = "1/2";  // empty: a scan without --shard
  std::string options = R"({"no_probe":false,"timeout_ms":2000,"concurrency":256})";
  std::string list_sha256 = "aa11";
  bool completed = true;
  std::string started_at = "2026-12-01T10:00:00.000Z";
  std::string finished_at = "2026-12-01T11:00:00.000Z";
  int64_t duplicates = 1;
  bool lists = true;  // false: a run that never ended (SIGKILL), no lists stored
};

// Writes the sample records whose index `pick` accepts into a new database.
template <class Pick>
std::string shard(const TempDir& dir, const std::string& name, Pick pick, const ShardRun& run) {
  const auto path = dir.file(name);
  std::string error;
  RunInfo info{"test", "scan --shard " + run.shard, run.options};
  if (!run.shard.empty()) info.shard = run.shard;
  info.started_at = run.started_at;
  auto writer = Writer::open(path, info, OpenMode::Create, error);
  EXPECT_NE(writer, nullptr) << error;
  const auto records = sampleRecords();
  for (size_t i = 0; i < records.size(); ++i) {
    if (pick(i)) writer->submit(DomainRecord(records[i]));
  }
  RunEnd end;
  if (run.lists) {
    end.lists_json = listsJson({ListRecord{"/lists/top.txt", run.list_sha256, 100, 10, 2, run.duplicates, true}});
    end.invalid_lines = 2;
    end.duplicate_lines = run.duplicates;
  }
  end.finished_at = run.finished_at;
  writer->finish(run.completed, end);
  return path;
}

template <class Pick>
std::string shard(const TempDir& dir, const std::string& name, Pick pick, bool completed = true) {
  ShardRun run;
  run.shard = name == "b.sqlite" ? "2/2" : "1/2";
  run.completed = completed;
  return shard(dir, name, pick, run);
}

bool even(size_t i) { return i % 2 == 0; }
bool odd(size_t i) { return i % 2 == 1; }

std::string sqlText(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::string value = "<no row>";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    value = text ? reinterpret_cast<const char*>(text) : "<null>";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

// Merges a and b; expects a refusal naming `reason`, with nothing written, and then a --force merge
// that records it. Returns the forced merge's database.
std::string expectRefusedThenForced(const TempDir& dir, const std::string& a, const std::string& b,
                                    const std::string& reason) {
  const auto out = dir.file("refused.sqlite");
  std::string error;
  EXPECT_FALSE(merge(out, {a, b}, MergeInfo{"test", "danescan merge"}, error));
  EXPECT_NE(error.find("do not form one survey"), std::string::npos) << error;
  EXPECT_NE(error.find(reason), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(out));

  const auto forced = dir.file("forced-" + std::to_string(std::rand()) + ".sqlite");
  MergeNotes notes;
  error.clear();
  EXPECT_TRUE(merge(forced, {a, b}, MergeInfo{"test", "danescan merge --force", true}, error, &notes)) << error;
  EXPECT_FALSE(notes.overridden.empty());
  bool named = false;
  for (const auto& o : notes.overridden) named = named || o.find(reason) != std::string::npos;
  EXPECT_TRUE(named) << reason;
  // What was overridden is recorded with the run.
  EXPECT_GE(sqlInt(forced, "SELECT json_array_length(options, '$.forced') FROM runs"), 1);
  std::string like;  // the reason as an SQL string literal's content
  for (char c : reason) like += c == '\'' ? std::string("''") : std::string(1, c);
  EXPECT_EQ(sqlInt(forced, "SELECT count(*) FROM runs, json_each(runs.options, '$.forced') WHERE instr(value, '" + like +
                               "') > 0"),
            1);
  return forced;
}

TEST(MergeTest, TheMergeIsTheUnionOfTheShards) {
  TempDir dir;
  // shared1 and shared2 land in different shards: their host must still be stored once.
  const auto a = shard(dir, "a.sqlite", even);
  const auto b = shard(dir, "b.sqlite", odd);
  const auto out = dir.file("merged.sqlite");
  std::string error;
  MergeNotes notes;
  ASSERT_TRUE(merge(out, {a, b}, MergeInfo{"test", "danescan merge"}, error, &notes)) << error;
  EXPECT_TRUE(notes.overridden.empty());
  EXPECT_TRUE(notes.missing.empty());
  EXPECT_TRUE(notes.completed);

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

TEST(MergeTest, AnUnfinishedShardIsRefusedAndForcedGivesAnInterruptedRun) {
  TempDir dir;
  const auto a = shard(dir, "a.sqlite", [](size_t i) { return i < 3; });
  const auto b = shard(
      dir, "b.sqlite", [](size_t i) { return i >= 3; }, false);
  const auto out = expectRefusedThenForced(dir, a, b, "is 'interrupted', not completed");
  EXPECT_EQ(sqlInt(out, "SELECT count(*) FROM runs WHERE status = 'interrupted'"), 1);
}

TEST(MergeTest, AShardOfAnotherCountIsRefused) {
  TempDir dir;
  ShardRun three;
  three.shard = "2/3";
  const auto a = shard(dir, "a.sqlite", even);
  const auto b = shard(dir, "b3.sqlite", odd, three);
  expectRefusedThenForced(dir, a, b, "different N");
}

TEST(MergeTest, TheSameShardNumberTwiceIsRefused) {
  TempDir dir;
  const auto a = shard(dir, "a.sqlite", even);
  const auto b = shard(dir, "a2.sqlite", odd);  // also "1/2"
  const auto out = dir.file("merged.sqlite");
  std::string error;
  EXPECT_FALSE(merge(out, {a, b}, MergeInfo{"test", "danescan merge"}, error));
  EXPECT_NE(error.find("shard 1/2 is given twice"), std::string::npos) << error;
  EXPECT_NE(error.find("shard(s) missing: 2/2"), std::string::npos) << error;  // every reason, not the first
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(MergeTest, AMissingShardIsRefusedAndForcedGivesAnIncompleteRunThatNamesIt) {
  TempDir dir;
  ShardRun one, three;
  one.shard = "1/3";
  three.shard = "3/3";
  const auto a = shard(dir, "a.sqlite", even, one);
  const auto c = shard(dir, "c.sqlite", odd, three);
  const auto out = expectRefusedThenForced(dir, a, c, "shard(s) missing: 2/3");
  EXPECT_EQ(sqlText(out, "SELECT status FROM runs"), "interrupted");
  EXPECT_EQ(sqlText(out, "SELECT json_extract(options, '$.missing_shards') FROM runs"), R"(["2/3"])");

  MergeNotes notes;
  std::string error;
  ASSERT_TRUE(merge(dir.file("again.sqlite"), {a, c}, MergeInfo{"test", "merge", true}, error, &notes)) << error;
  EXPECT_EQ(notes.missing, std::vector<std::string>{"2/3"});
  EXPECT_FALSE(notes.completed);
}

TEST(MergeTest, AWholeScanIsNotAShard) {
  TempDir dir;
  ShardRun whole;
  whole.shard = "";
  const auto a = shard(dir, "a.sqlite", even);
  const auto b = shard(dir, "whole.sqlite", odd, whole);
  expectRefusedThenForced(dir, a, b, "is not a shard");
}

TEST(MergeTest, ListsWithTheSamePathButOtherContentAreRefused) {
  TempDir dir;
  ShardRun other;
  other.shard = "2/2";
  other.list_sha256 = "bb22";
  const auto a = shard(dir, "a.sqlite", even);
  const auto b = shard(dir, "b.sqlite", odd, other);
  expectRefusedThenForced(dir, a, b, "list 1 differs");
}

TEST(MergeTest, AShardThatNeverEndedHasNoListsToCompare) {
  TempDir dir;
  ShardRun killed;
  killed.shard = "2/2";
  killed.lists = false;
  const auto a = shard(dir, "a.sqlite", even);
  const auto b = shard(dir, "b.sqlite", odd, killed);
  expectRefusedThenForced(dir, a, b, "recorded no lists");
}

TEST(MergeTest, AProbedAndAnUnprobedShardAreRefused) {
  TempDir dir;
  ShardRun dns_only;
  dns_only.shard = "2/2";
  dns_only.options = R"({"no_probe":true,"timeout_ms":2000,"concurrency":256})";
  const auto a = shard(dir, "a.sqlite", even);
  const auto b = shard(dir, "b.sqlite", odd, dns_only);
  expectRefusedThenForced(dir, a, b, "option no_probe differs: false in");
}

TEST(MergeTest, OnlyResultChangingOptionsMustAgree) {
  TempDir dir;
  // Pace, resolvers and EHLO name are each machine's own; an option this build does not know is
  // taken as result-changing.
  ShardRun other_pace;
  other_pace.shard = "2/2";
  other_pace.options =
      R"({"no_probe":false,"timeout_ms":2000,"concurrency":64,"qps":10.0,"resolvers":["127.0.0.2"],"ehlo_name":"b.example"})";
  const auto a = shard(dir, "a.sqlite", even);
  const auto b = shard(dir, "b.sqlite", odd, other_pace);
  std::string error;
  EXPECT_TRUE(merge(dir.file("merged.sqlite"), {a, b}, MergeInfo{"test", "merge"}, error)) << error;

  ShardRun unknown;
  unknown.shard = "2/2";
  unknown.options = R"({"no_probe":false,"timeout_ms":2000,"concurrency":256,"max_mx_hosts":5})";
  const auto c = shard(dir, "c.sqlite", odd, unknown);
  expectRefusedThenForced(dir, a, c, "option max_mx_hosts differs: absent in");

  ShardRun timeout;
  timeout.shard = "2/2";
  timeout.options = R"({"no_probe":false,"timeout_ms":500,"concurrency":256})";
  const auto d = shard(dir, "d.sqlite", odd, timeout);
  expectRefusedThenForced(dir, a, d, "option timeout_ms differs: 2000 in");
}

TEST(MergeTest, TheMergedRunKeepsTheShardsScanTimesAndListCounts) {
  TempDir dir;
  ShardRun first, second;
  first.started_at = "2026-12-01T10:00:00.000Z";
  first.finished_at = "2026-12-01T12:30:00.000Z";
  first.duplicates = 3;
  second.shard = "2/2";
  second.started_at = "2026-12-01T09:15:00.000Z";
  second.finished_at = "2026-12-01T11:00:00.000Z";
  second.duplicates = 4;
  const auto a = shard(dir, "a.sqlite", even, first);
  const auto b = shard(dir, "b.sqlite", odd, second);
  const auto out = dir.file("merged.sqlite");
  std::string error;
  ASSERT_TRUE(merge(out, {a, b}, MergeInfo{"test", "merge"}, error)) << error;
  EXPECT_EQ(sqlText(out, "SELECT started_at FROM runs"), "2026-12-01T09:15:00.000Z");  // the earliest start
  EXPECT_EQ(sqlText(out, "SELECT finished_at FROM runs"), "2026-12-01T12:30:00.000Z");  // the latest end
  // The merge's own time is in the options, and is not the scan's.
  EXPECT_GT(sqlText(out, "SELECT json_extract(options, '$.merged_at.started_at') FROM runs"), "2026-12-02");
  EXPECT_EQ(sqlText(out, "SELECT shard FROM runs"), "<null>");
  EXPECT_EQ(sqlInt(out, "SELECT invalid_lines FROM runs"), 2);      // every shard reads every line
  EXPECT_EQ(sqlInt(out, "SELECT duplicate_lines FROM runs"), 3 + 4);  // each counts its own names'
  EXPECT_EQ(sqlInt(out, "SELECT json_extract(lists, '$[0].duplicates') FROM runs"), 7);
  EXPECT_EQ(sqlText(out, "SELECT json_extract(lists, '$[0].sha256') FROM runs"), "aa11");
  // The shards' options that matter are the merged run's (the report's methods box reads them).
  EXPECT_EQ(sqlText(out, "SELECT json_extract(options, '$.timeout_ms') FROM runs"), "2000");
  EXPECT_EQ(sqlText(out, "SELECT json_extract(options, '$.merged_from[1].shard') FROM runs"), "2/2");
}

TEST(MergeTest, OverlappingShardsAreRefused) {
  TempDir dir;
  const auto a = shard(dir, "a.sqlite", [](size_t i) { return i < 4; });
  const auto b = shard(dir, "b.sqlite", [](size_t i) { return i >= 3; });
  const auto out = dir.file("merged.sqlite");
  std::string error;
  // Not even with --force: a domain stored twice cannot be one survey.
  EXPECT_FALSE(merge(out, {a, b}, MergeInfo{"test", "danescan merge", true}, error));
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
