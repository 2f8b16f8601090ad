// tests/unit/report/methods_test.cc — the methods box (report/methods.cc) on two runs written here
// with known options, lists and times: every item a reader needs, in every format, and with
// --compare the result-changing options that differ (and only those), named at the top too.
#include "report/report.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/unit/report/report_records.h"

namespace danescan::report {
namespace {

using storage::testing::TempDir;

bool writeRun(const std::string& path, const std::string& options, const std::string& started, const std::string& finished,
              std::string& error) {
  storage::RunInfo info{"9.8.7", "danescan scan", options};
  info.started_at = started;
  auto writer = storage::Writer::open(path, info, storage::OpenMode::Create, error);
  if (!writer) return false;
  for (const auto& d : testing::reportRecords()) writer->submit(storage::DomainRecord(d));
  storage::RunEnd end;
  end.lists_json = R"([{"path":"top.csv","sha256":"ab","bytes":10,"lines":1000,"invalid":3,"duplicates":2,"complete":true}])";
  end.invalid_lines = 3;
  end.duplicate_lines = 2;
  end.finished_at = finished;
  writer->finish(true, end);
  error = writer->error();
  return error.empty();
}

std::map<std::string, std::string> items(const Report& report) {
  std::map<std::string, std::string> out;
  for (const auto& section : report.sections) {
    for (const auto& t : section.tables) {
      if (t.id != "methods") continue;
      for (const Row& r : t.rows) out[std::get<std::string>(r[0])] += std::get<std::string>(r[1]);
    }
  }
  return out;
}

TEST(MethodsTest, TheBoxNamesWhatChangesResultsAndComesFirst) {
  TempDir dir;
  std::string error;
  const std::string now = dir.file("now.sqlite");
  ASSERT_TRUE(writeRun(now,
                       R"({"lists":["top.csv"],"resolvers":["127.0.0.1:53"],"no_probe":true,"allow_special_addresses":false,)"
                       R"("timeout_ms":2000,"concurrency":"auto","qps":0})",
                       "2026-12-01T10:00:00.000Z", "2026-12-01T10:02:05.000Z", error))
      << error;
  Report report;
  ASSERT_TRUE(build(Options{now, ""}, report, error)) << error;
  ASSERT_FALSE(report.sections.empty());
  EXPECT_EQ(report.sections.front().id, "methods");
  const auto box = items(report);
  EXPECT_EQ(box.at("danescan version"), "9.8.7");
  EXPECT_EQ(box.at("status"), "completed");
  EXPECT_EQ(box.at("duration"), "125 s");
  EXPECT_EQ(box.at("list"), "top.csv: 1000 lines, 3 invalid, 2 duplicates");
  EXPECT_EQ(box.at("resolvers"), "127.0.0.1:53");
  EXPECT_EQ(box.at("probes"), "off (--no-probe)");
  EXPECT_EQ(box.at("option timeout_ms"), "2000");
  EXPECT_EQ(box.at("option allow_special_addresses"), "false");
  // How fast or from where is no method: not listed as an option.
  EXPECT_EQ(box.count("option concurrency"), 0u);
  EXPECT_EQ(box.count("option qps"), 0u);
  for (std::string_view format : formats()) {
    std::ostringstream out;
    ASSERT_TRUE(write(report, format, out));
    EXPECT_NE(out.str().find("top.csv: 1000 lines, 3 invalid, 2 duplicates"), std::string::npos) << format;
  }
}

TEST(MethodsTest, CompareWarnsAboutResultChangingOptionsOnly) {
  TempDir dir;
  std::string error;
  const std::string old_db = dir.file("old.sqlite"), now = dir.file("now.sqlite");
  ASSERT_TRUE(writeRun(old_db, R"({"no_probe":false,"timeout_ms":2000,"concurrency":256})", "2026-11-01T00:00:00.000Z",
                       "2026-11-01T00:01:00.000Z", error))
      << error;
  ASSERT_TRUE(writeRun(now, R"({"no_probe":true,"timeout_ms":2000,"concurrency":"auto"})", "2026-12-01T00:00:00.000Z",
                       "2026-12-01T00:01:00.000Z", error))
      << error;
  Report report;
  ASSERT_TRUE(build(Options{now, old_db}, report, error)) << error;
  std::vector<std::string> warnings;
  for (const auto& [key, value] : report.about) {
    if (key == "warning") warnings.push_back(value);
  }
  EXPECT_EQ(warnings, (std::vector<std::string>{"option no_probe differs: true in this scan, false in the compared one"}));
  for (std::string_view format : formats()) {
    std::ostringstream out;
    ASSERT_TRUE(write(report, format, out));
    const std::string text = out.str();
    // Markdown escapes the underscore; CSV names tables by id, the others by title.
    EXPECT_TRUE(text.find("no_probe") != std::string::npos || text.find("no\\_probe") != std::string::npos) << format;
    EXPECT_NE(text.find(format == "csv" ? "option_differences" : "Options that differ from the compared scan"), std::string::npos)
        << format;
  }
}

}  // namespace
}  // namespace danescan::report
