// report/report.h — the statistics report of a scan database (issue 5): headline,
// misconfigurations, CNAME'd MX hosts, TLSA records, certificates, DNS health and, given an older
// scan, what changed. Everything is computed in SQL on a read-only connection (storage/ opens and
// checks the file); the result is one model (model.h) written in the format asked for.
// report/README.md documents every table and the JSON and CSV shapes.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "report/model.h"

namespace danescan::report {

// The formats `danescan report --format` accepts, as the command-line contract names them.
[[nodiscard]] const std::vector<std::string_view>& formats();

struct Options {
  std::string db;          // the scan database; its latest run is reported
  std::string compare_db;  // empty, or an older scan to compare with (its latest run)
};

// Builds the report. False with `error` set when a database cannot be opened, is not a danescan
// database of this schema version, has no run, or a query fails.
[[nodiscard]] bool build(const Options& options, Report& report, std::string& error);

// Writes `report` in `format` (one of formats()). False when the format is unknown.
[[nodiscard]] bool write(const Report& report, std::string_view format, std::ostream& out);

// The renderers (render_*.cc).
void writeText(const Report& report, std::ostream& out);
void writeMarkdown(const Report& report, std::ostream& out);
void writeJson(const Report& report, std::ostream& out);
void writeCsv(const Report& report, std::ostream& out);
void writeHtml(const Report& report, std::ostream& out);

}  // namespace danescan::report
