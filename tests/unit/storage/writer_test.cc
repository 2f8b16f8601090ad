// tests/unit/storage/writer_test.cc — the writer: records come back exactly as submitted, shared
// hosts are stored once, batching commits everything, resume continues a run, and bad files give
// clear errors instead of crashes.
#include "storage/writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "storage/database.h"
#include "storage/reader.h"
#include "tests/unit/storage/sample_records.h"

namespace danescan::storage {
namespace {

using testing::sampleRecords;
using testing::sqlInt;
using testing::TempDir;

RunInfo runInfo() { return RunInfo{"0.1.0-test", "danescan scan list.txt --db scan.sqlite", R"({"no_probe":true})"}; }

std::unique_ptr<Writer> openWriter(const std::string& path, OpenMode mode = OpenMode::Create) {
  std::string error;
  auto writer = Writer::open(path, runInfo(), mode, error);
  EXPECT_NE(writer, nullptr) << error;
  return writer;
}

std::vector<DomainRecord> readAll(const std::string& path, Reader::Detail detail = Reader::Detail::Full) {
  std::string error;
  auto reader = Reader::open(path, error);
  EXPECT_NE(reader, nullptr) << error;
  std::vector<DomainRecord> all;
  if (!reader) return all;
  const auto run = reader->run(std::nullopt, error);
  EXPECT_TRUE(run.has_value());
  EXPECT_TRUE(reader->forEachDomain(
      run->id, detail, [&](const DomainRecord& d) { all.push_back(d); }, error))
      << error;
  return all;
}

TEST(WriterTest, RecordsComeBackAsSubmitted) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  auto writer = openWriter(path);
  ASSERT_NE(writer, nullptr);
  auto records = sampleRecords();
  records.front().rank = 42;  // from a rank,domain list; the others are from plain lists (NULL)
  // Submitted out of order: the reader returns domain-name order.
  for (auto it = records.rbegin(); it != records.rend(); ++it) writer->submit(DomainRecord(*it));
  writer->finish(true);
  EXPECT_EQ(writer->error(), "");
  EXPECT_EQ(writer->committed(), records.size());
  EXPECT_EQ(writer->backlog(), 0u);

  const auto back = readAll(path);
  ASSERT_EQ(back.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(back[i], records[i]) << records[i].domain;

  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM runs WHERE status = 'completed' AND finished_at IS NOT NULL"), 1);
  EXPECT_EQ(sqlInt(path, "PRAGMA user_version"), 4);  // 2: probe evidence and probe_certs; 3: runs.health, shard, lists, invalid/duplicate lines, domains.delivery_*, domains.rank; 4: queries.answer as wire bytes (BLOB)
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM queries WHERE typeof(answer) <> 'blob'"), 0);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM domains WHERE rank = 42"), 1);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM domains WHERE rank IS NULL"), static_cast<int64_t>(records.size()) - 1);
  // The indexes for reading are built when the run finishes.
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN ('domains_verdict', "
                         "'hosts_name', 'hosts_dane', 'mx_host', 'tlsa_records_usage', 'findings_code', 'queries_rcode', "
                         "'queries_host', 'queries_domain')"),
            9);
}

// While a run writes, the indexes only reading needs are not maintained (they cost a hot scan
// a seventh of its instructions); an interrupted run builds them when it finishes too.
TEST(WriterTest, TheRunRecordsItsShardAndListsAndAResumeKeepsThemUntilItEnds) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  std::string error;
  RunInfo info = runInfo();
  info.shard = "2/8";
  auto writer = Writer::open(path, info, OpenMode::Create, error);
  ASSERT_NE(writer, nullptr) << error;
  RunEnd end;
  end.lists_json = listsJson({ListRecord{"a.txt", "ab12", 40, 5, 1, 2, true}, ListRecord{"-", "", 0, 0, 0, 0, false}});
  end.invalid_lines = 1;
  end.duplicate_lines = 2;
  writer->finish(false, end);
  writer.reset();

  auto reader = Reader::open(path, error);
  ASSERT_NE(reader, nullptr) << error;
  auto run = reader->run(std::nullopt, error);
  ASSERT_TRUE(run) << error;
  EXPECT_EQ(run->shard, "2/8");
  EXPECT_EQ(run->invalid_lines, 1);
  EXPECT_EQ(run->duplicate_lines, 2);
  ASSERT_EQ(run->lists.size(), 2u);
  EXPECT_EQ(run->lists[0], (ListRecord{"a.txt", "ab12", 40, 5, 1, 2, true}));
  EXPECT_EQ(run->lists[1], (ListRecord{"-", "", 0, 0, 0, 0, false}));
  ASSERT_TRUE(reader->resumableRun(error));
  EXPECT_EQ(reader->resumableRun(error)->id, run->id);
  reader.reset();

  // A resume that ends without saying anything of the lists keeps what the run had.
  writer = Writer::open(path, runInfo(), OpenMode::Resume, error);
  ASSERT_NE(writer, nullptr) << error;
  writer->finish(true);
  writer.reset();
  EXPECT_EQ(sqlInt(path, "SELECT json_array_length(lists) FROM runs"), 2);
  EXPECT_EQ(sqlInt(path, "SELECT invalid_lines FROM runs WHERE shard = '2/8'"), 1);
}

// Version 3 kept answers as text; version 4 keeps them as wire bytes. A version 3 file is refused
// by every opener (writer, export, report, merge: all go through openDatabase), not misread.
TEST(WriterTest, AVersionThreeDatabaseIsRefusedByWriterAndReaders) {
  TempDir dir;
  const auto path = dir.file("v3.sqlite");
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE runs(id INTEGER); PRAGMA application_id = 1145130565; PRAGMA user_version = 3;",
               nullptr, nullptr, nullptr);
  sqlite3_close(db);
  std::string error;
  EXPECT_EQ(Writer::open(path, runInfo(), OpenMode::Resume, error), nullptr);
  EXPECT_NE(error.find("schema version 3, this build reads version 4 (an older scan"), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(openDatabase(path, Access::ReadOnly, error), nullptr);
  EXPECT_NE(error.find("schema version 3, this build reads version 4"), std::string::npos) << error;
}

TEST(WriterTest, AVersionTwoDatabaseIsRefusedWithBothVersions) {
  TempDir dir;
  const auto path = dir.file("old.sqlite");
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE runs(id INTEGER); PRAGMA application_id = 1145130565; PRAGMA user_version = 2;",
               nullptr, nullptr, nullptr);
  sqlite3_close(db);
  std::string error;
  EXPECT_EQ(Writer::open(path, runInfo(), OpenMode::Create, error), nullptr);
  EXPECT_NE(error.find("schema version 2, this build reads version 4"), std::string::npos) << error;
}

TEST(WriterTest, ReadIndexesAreBuiltWhenTheRunFinishes) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  auto writer = openWriter(path);
  ASSERT_NE(writer, nullptr);
  const char* kCount = "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'queries_rcode'";
  for (auto& d : sampleRecords()) writer->submit(std::move(d));
  EXPECT_EQ(sqlInt(path, kCount), 0);
  writer->finish(false);
  EXPECT_EQ(writer->error(), "");
  EXPECT_EQ(sqlInt(path, kCount), 1);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM runs WHERE status = 'interrupted'"), 1);
}

TEST(WriterTest, ContractDetailLeavesQueriesOut) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  auto writer = openWriter(path);
  ASSERT_NE(writer, nullptr);
  for (auto& d : sampleRecords()) writer->submit(std::move(d));
  writer->finish(true);
  for (const auto& d : readAll(path, Reader::Detail::Contract)) {
    EXPECT_TRUE(d.queries.empty());
    for (const auto& h : d.mx) {
      EXPECT_TRUE(h.queries.empty());
      for (const auto& p : h.probes) EXPECT_TRUE(p.chain.empty()) << "certificates are evidence, not contract";
    }
  }
  // The certificates are there for a full read, one row each, SANs as a JSON array.
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM probe_certs"), 4);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM probe_certs, json_each(probe_certs.sans) WHERE value = 'DNS:mx.dane.example'"), 2);
}

TEST(WriterTest, SharedHostIsStoredOnceWithItsQueriesOnce) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  auto writer = openWriter(path);
  ASSERT_NE(writer, nullptr);
  for (auto& d : sampleRecords()) writer->submit(std::move(d));
  writer->finish(true);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM hosts WHERE name = 'mx.shared-provider.example'"), 1);
  EXPECT_EQ(sqlInt(path,
                   "SELECT count(*) FROM mx JOIN hosts ON hosts.id = mx.host_id "
                   "WHERE hosts.name = 'mx.shared-provider.example'"),
            2);
  EXPECT_EQ(sqlInt(path,
                   "SELECT count(*) FROM queries JOIN hosts ON hosts.id = queries.host_id "
                   "WHERE hosts.name = 'mx.shared-provider.example'"),
            3);
  // Reports aggregate in SQL: TLSA parameters, EDE codes, findings attributed to hosts.
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM tlsa_records WHERE at = 'base' AND usage = 3"), 4);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM queries, json_each(queries.ede) WHERE json_each.value = 22"), 1);
  EXPECT_EQ(sqlInt(path,
                   "SELECT count(*) FROM findings JOIN hosts ON hosts.id = findings.host_id "
                   "WHERE code = 'mx-is-cname' AND hosts.name = 'mx.alias.example'"),
            1);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM findings WHERE code = 'mx-servfail' AND host_id IS NULL"), 1);
}

TEST(WriterTest, AHostObservedDifferentlyIsKeptAsASecondVersion) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  auto writer = openWriter(path);
  ASSERT_NE(writer, nullptr);
  auto records = sampleRecords();
  DomainRecord a = records[4];  // shared1
  DomainRecord b = records[4];
  b.domain = "shared3.example";
  b.mx[0].addresses = {"198.51.100.9"};
  b.mx[0].queries.clear();  // queries do not make a host different
  DomainRecord c = records[4];
  c.domain = "shared4.example";
  c.mx[0].queries.clear();
  writer->submit(DomainRecord(a));
  writer->submit(DomainRecord(b));
  writer->submit(DomainRecord(c));
  writer->finish(true);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM hosts WHERE name = 'mx.shared-provider.example'"), 2);
  const auto back = readAll(path);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[1].mx[0].addresses, std::vector<std::string>{"198.51.100.9"});
  EXPECT_EQ(back[2].mx[0].queries, a.mx[0].queries);  // the first observation's evidence
}

TEST(WriterTest, ADuplicateDomainIsKeptOnce) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  auto writer = openWriter(path);
  ASSERT_NE(writer, nullptr);
  auto records = sampleRecords();
  writer->submit(DomainRecord(records[2]));
  DomainRecord again = records[2];
  again.verdict = "dane-fail";
  writer->submit(std::move(again));
  writer->finish(true);
  EXPECT_EQ(writer->error(), "");
  EXPECT_EQ(writer->duplicates(), 1u);
  const auto back = readAll(path);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].verdict, "dane-ok");
}

TEST(WriterTest, TenThousandRecordsAreAllCommitted) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  auto writer = openWriter(path);
  ASSERT_NE(writer, nullptr);
  const auto records = sampleRecords();
  for (int i = 0; i < 10000; ++i) {
    DomainRecord d = records[static_cast<size_t>(i) % records.size()];
    d.domain = "d" + std::to_string(i) + ".example";
    writer->submit(std::move(d));
  }
  writer->finish(true);
  EXPECT_EQ(writer->error(), "");
  EXPECT_EQ(writer->committed(), 10000u);
  EXPECT_EQ(writer->backlog(), 0u);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM domains"), 10000);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM hosts WHERE name = 'mx.shared-provider.example'"), 1);
}

TEST(WriterTest, ARecordIsCommittedWithinTheBatchIntervalWithoutFinish) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  auto writer = openWriter(path);
  ASSERT_NE(writer, nullptr);
  writer->submit(DomainRecord(sampleRecords()[0]));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (writer->committed() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(writer->committed(), 1u);
  // Visible to another connection while the writer is still open (WAL).
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM domains"), 1);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM runs WHERE status = 'running'"), 1);
}

TEST(WriterTest, ResumeContinuesTheInterruptedRun) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  auto records = sampleRecords();
  int64_t run = 0;
  {
    auto writer = openWriter(path);
    ASSERT_NE(writer, nullptr);
    run = writer->runId();
    for (size_t i = 0; i < 3; ++i) writer->submit(DomainRecord(records[i]));
    writer->finish(false);
  }
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM runs WHERE status = 'interrupted'"), 1);

  auto writer = openWriter(path, OpenMode::Resume);
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->runId(), run);
  std::vector<std::string> done;
  std::string error;
  ASSERT_TRUE(finishedDomains(
      path, run, [&](std::string_view name) { done.emplace_back(name); }, error))
      << error;
  std::sort(done.begin(), done.end());
  EXPECT_EQ(done, (std::vector<std::string>{"alias.example", "broken.example", "dane.example"}));
  for (size_t i = 3; i < 5; ++i) writer->submit(DomainRecord(records[i]));
  writer->finish(true);

  EXPECT_EQ(readAll(path).size(), 5u);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(sqlInt(path, "SELECT resumed FROM runs WHERE status = 'completed'"), 1);
}

TEST(WriterTest, AKilledWriterLosesOnlyUncommittedRecordsAndResumes) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  const auto records = sampleRecords();
  const auto nth = [&](int i) {
    DomainRecord d = records[static_cast<size_t>(i) % records.size()];
    d.domain = "k" + std::to_string(i) + ".example";
    return d;
  };
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child owns its own writer (its thread starts after the fork) and dies mid-batch.
    std::string error;
    auto writer = Writer::open(path, runInfo(), OpenMode::Create, error);
    if (!writer) _exit(2);
    for (int i = 0; i < 100; ++i) writer->submit(nth(i));
    while (writer->committed() < 100) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (int i = 100; i < 150; ++i) writer->submit(nth(i));
    raise(SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM runs WHERE status = 'running'"), 1);
  auto writer = openWriter(path, OpenMode::Resume);
  ASSERT_NE(writer, nullptr);
  std::set<std::string> done;
  std::string error;
  ASSERT_TRUE(finishedDomains(path, writer->runId(), [&](std::string_view n) { done.emplace(n); }, error)) << error;
  EXPECT_GE(done.size(), 100u);
  EXPECT_LE(done.size(), 150u);
  for (int i = 0; i < 150; ++i) {
    DomainRecord d = nth(i);
    if (!done.count(d.domain)) writer->submit(std::move(d));
  }
  writer->finish(true);
  EXPECT_EQ(writer->duplicates(), 0u);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM domains"), 150);
  // Every stored domain is whole: its MX links match its record.
  int64_t links = 0;
  for (int i = 0; i < 150; ++i) links += static_cast<int64_t>(nth(i).mx.size());
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM mx"), links);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM runs WHERE status = 'completed' AND resumed = 1"), 1);
}

TEST(WriterTest, CreateOnAnExistingScanStartsANewRun) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  for (int i = 0; i < 2; ++i) {
    auto writer = openWriter(path);
    ASSERT_NE(writer, nullptr);
    EXPECT_EQ(writer->runId(), i + 1);
    writer->finish(true);
  }
  // A resume after a completed run reuses the last run.
  auto writer = openWriter(path, OpenMode::Resume);
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->runId(), 2);
}

TEST(WriterTest, ResumeWithoutARunIsRefused) {
  TempDir dir;
  std::string error;
  EXPECT_EQ(Writer::open(dir.file("new.sqlite"), runInfo(), OpenMode::Resume, error), nullptr);
  EXPECT_NE(error.find("no such file"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(dir.file("new.sqlite")));  // not created by the attempt

  // A danescan database with no run (its writer was never given one: an empty schema).
  const auto empty = dir.file("empty.sqlite");
  {
    auto writer = openWriter(empty);
    ASSERT_NE(writer, nullptr);
    writer->finish(true);
  }
  {
    sqlite3* db = nullptr;
    sqlite3_open(empty.c_str(), &db);
    sqlite3_exec(db, "DELETE FROM runs", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  error.clear();
  EXPECT_EQ(Writer::open(empty, runInfo(), OpenMode::Resume, error), nullptr);
  EXPECT_NE(error.find("no run"), std::string::npos) << error;
}

TEST(WriterTest, BadFilesGiveClearErrors) {
  TempDir dir;
  std::string error;

  const auto text = dir.file("corrupt.sqlite");
  {
    std::ofstream out(text);
    for (int i = 0; i < 200; ++i) out << "this is a list of domains, not a database\n";
  }
  EXPECT_EQ(Writer::open(text, runInfo(), OpenMode::Create, error), nullptr);
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;

  const auto foreign = dir.file("foreign.sqlite");
  {
    sqlite3* db = nullptr;
    sqlite3_open(foreign.c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE notes (text TEXT)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  error.clear();
  EXPECT_EQ(Writer::open(foreign, runInfo(), OpenMode::Create, error), nullptr);
  EXPECT_NE(error.find("not one written by danescan"), std::string::npos) << error;

  error.clear();
  EXPECT_EQ(Writer::open(dir.file("missing/dir/scan.sqlite"), runInfo(), OpenMode::Create, error), nullptr);
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;

  error.clear();
  EXPECT_EQ(Reader::open(dir.file("absent.sqlite"), error), nullptr);
  EXPECT_NE(error.find("no such file"), std::string::npos) << error;
}

TEST(WriterTest, AWriteErrorIsReportedNotACrash) {
  TempDir dir;
  const auto path = dir.file("scan.sqlite");
  auto writer = openWriter(path);
  ASSERT_NE(writer, nullptr);
  {
    // Sabotage from a second connection between batches: the next insert into probes fails.
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE probes", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto records = sampleRecords();
  writer->submit(DomainRecord(records[2]));  // dane.example has probes
  writer->submit(DomainRecord(records[3]));
  writer->finish(true);
  EXPECT_TRUE(writer->failed());
  EXPECT_NE(writer->error().find("probes"), std::string::npos) << writer->error();
  EXPECT_EQ(writer->committed(), 0u);
  EXPECT_EQ(writer->backlog(), 0u);
  // The failed batch was rolled back whole, and the run is left for a resume.
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM domains"), 0);
  EXPECT_EQ(sqlInt(path, "SELECT count(*) FROM runs WHERE status = 'interrupted'"), 1);
}

}  // namespace
}  // namespace danescan::storage
