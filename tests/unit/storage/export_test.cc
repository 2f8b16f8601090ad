// tests/unit/storage/export_test.cc — the JSON Lines export against lines written by hand from the
// contract (../shared/contract/export-jsonl.md) and against the shared contract checker; the CSV.
#include "storage/export.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "storage/writer.h"
#include "tests/unit/storage/sample_records.h"

namespace danescan::storage {
namespace {

using testing::expectedJsonl;
using testing::readLines;
using testing::sampleRecords;
using testing::TempDir;

std::string writeSample(const TempDir& dir) {
  const auto path = dir.file("scan.sqlite");
  std::string error;
  auto writer = Writer::open(path, RunInfo{"test", "test", "{}"}, OpenMode::Create, error);
  EXPECT_NE(writer, nullptr) << error;
  if (!writer) return path;
  auto records = sampleRecords();
  for (auto it = records.rbegin(); it != records.rend(); ++it) writer->submit(DomainRecord(*it));
  writer->finish(true);
  EXPECT_EQ(writer->error(), "");
  return path;
}

TEST(ExportTest, JsonlMatchesTheContractLineByLine) {
  TempDir dir;
  const auto path = writeSample(dir);
  std::ostringstream out;
  std::string error;
  ASSERT_TRUE(exportJsonl(path, out, error)) << error;
  const auto lines = readLines(out.str());
  const auto expected = expectedJsonl();
  ASSERT_EQ(lines.size(), expected.size());
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i], expected[i]) << "line " << i + 1;
}

TEST(ExportTest, RecordAndDatabaseGiveTheSameLine) {
  const auto records = sampleRecords();
  const auto expected = expectedJsonl();
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(domainJson(records[i]), expected[i]);
}

TEST(ExportTest, PassesTheSharedContractChecker) {
  TempDir dir;
  const auto path = writeSample(dir);
  const auto jsonl = dir.file("scan.jsonl");
  {
    std::ofstream out(jsonl, std::ios::binary);
    std::string error;
    ASSERT_TRUE(exportJsonl(path, out, error)) << error;
  }
  const std::string command =
      std::string(DANESCAN_CHECK_EXPORT) + " " + jsonl + " --strict > " + dir.file("check.log") + " 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << testing::readFile(dir.file("check.log"));
}

TEST(ExportTest, ALaterRunIsExportedUnlessAnotherIsAsked) {
  TempDir dir;
  const auto path = writeSample(dir);
  {
    std::string error;
    auto writer = Writer::open(path, RunInfo{"test", "test", "{}"}, OpenMode::Create, error);
    ASSERT_NE(writer, nullptr) << error;
    writer->submit(DomainRecord(sampleRecords()[3]));
    writer->finish(true);
  }
  std::ostringstream latest, first;
  std::string error;
  ASSERT_TRUE(exportJsonl(path, latest, error)) << error;
  EXPECT_EQ(readLines(latest.str()), std::vector<std::string>{expectedJsonl()[3]});
  ASSERT_TRUE(exportJsonl(path, first, error, 1)) << error;
  EXPECT_EQ(readLines(first.str()).size(), sampleRecords().size());
  std::ostringstream none;
  EXPECT_FALSE(exportJsonl(path, none, error, 7));
  EXPECT_NE(error.find("no run 7"), std::string::npos) << error;
}

TEST(ExportTest, CsvHasOneRowPerDomain) {
  TempDir dir;
  const auto path = writeSample(dir);
  std::ostringstream out;
  std::string error;
  ASSERT_TRUE(exportCsv(path, out, error)) << error;
  const std::vector<std::string> expected = {
      "domain,verdict,mx_rcode,mx_secure,implicit_mx,hosts,findings",
      "alias.example,dane-unprobed,NOERROR,true,false,1,mx-is-cname;single-tlsa-record;tlsa-canonical-only",
      "broken.example,dns-error,SERVFAIL,false,false,0,mx-servfail",
      "dane.example,dane-ok,NOERROR,true,false,1,",
      "gone.example,no-mail,NXDOMAIN,true,false,0,",
      "shared1.example,insecure,NOERROR,false,false,1,",
      "shared2.example,insecure,NOERROR,true,false,2,",
      "weird.example,dane-fail,NOERROR,true,true,1,tls-handshake-failure",
  };
  EXPECT_EQ(readLines(out.str()), expected);
}

TEST(ExportTest, ADamagedDatabaseGivesAnErrorNotACrash) {
  TempDir dir;
  const auto path = writeSample(dir);
  {
    // Keep the header (page 1: a valid SQLite file) and overwrite the pages after it.
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);
    const std::string garbage(64 * 1024, '\xa5');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  std::ostringstream out;
  std::string error;
  EXPECT_FALSE(exportJsonl(path, out, error));
  EXPECT_NE(error.find("malformed"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(exportCsv(path, out, error));
  EXPECT_NE(error, "");
}

TEST(ExportTest, ExportOfABadFileFailsClearly) {
  TempDir dir;
  std::ostringstream out;
  std::string error;
  EXPECT_FALSE(exportJsonl(dir.file("absent.sqlite"), out, error));
  EXPECT_NE(error.find("no such file"), std::string::npos) << error;
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace danescan::storage
