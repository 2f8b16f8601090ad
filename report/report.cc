// report/report.cc — builds the report model from the database and dispatches to a renderer.
#include "report/report.h"

#include "report/methods.h"
#include "report/providers.h"
#include "report/sections.h"
#include "report/source.h"

namespace danescan::report {

const std::vector<std::string_view>& formats() {
  static const std::vector<std::string_view> kFormats{"text", "md", "json", "csv", "html"};
  return kFormats;
}

bool build(const Options& options, Report& report, std::string& error) {
  auto source = Source::open(options.db, options.compare_db, error);
  if (!source) return false;
  try {
    const std::string run = std::to_string(source->runs().run);
    report.about.clear();
    report.about.emplace_back("database", options.db);
    report.about.emplace_back("run", run);
    report.about.emplace_back("started_at", source->text("SELECT started_at FROM runs WHERE id = ?1"));
    report.about.emplace_back("finished_at", source->text("SELECT coalesce(finished_at, '') FROM runs WHERE id = ?1"));
    report.about.emplace_back("status", source->text("SELECT status FROM runs WHERE id = ?1"));
    report.about.emplace_back("danescan_version", source->text("SELECT version FROM runs WHERE id = ?1"));
    if (source->comparing()) {
      report.about.emplace_back("compared_with", options.compare_db);
      report.about.emplace_back("compared_run", std::to_string(*source->runs().old_run));
      report.about.emplace_back("compared_started_at", source->text("SELECT started_at FROM old.runs WHERE id = ?2"));
    }
    report.sections.clear();
    report.sections.push_back(methodsSection(*source));
    // A comparison across runs that differ in a result-changing option says so at the top.
    for (const std::string& warning : optionDifferenceWarnings(report.sections.back())) report.about.emplace_back("warning", warning);
    report.sections.push_back(headlineSection(*source));
    report.sections.push_back(findingsSection(*source));
    report.sections.push_back(causesSection(*source));
    report.sections.push_back(providersSection(*source));
    report.sections.push_back(cnameSection(*source));
    report.sections.push_back(deliverySection(*source));
    report.sections.push_back(tlsaSection(*source));
    report.sections.push_back(certificatesSection(*source));
    report.sections.push_back(dnsSection(*source));
    if (source->comparing()) report.sections.push_back(compareSection(*source));
    if (source->comparing()) report.sections.push_back(rolloverSection(*source));
  } catch (const storage::SqliteError& e) {
    error = options.db + ": " + e.what();
    return false;
  }
  return true;
}

bool write(const Report& report, std::string_view format, std::ostream& out) {
  if (format == "text") {
    writeText(report, out);
  } else if (format == "md") {
    writeMarkdown(report, out);
  } else if (format == "json") {
    writeJson(report, out);
  } else if (format == "csv") {
    writeCsv(report, out);
  } else if (format == "html") {
    writeHtml(report, out);
  } else {
    return false;
  }
  return true;
}

}  // namespace danescan::report
