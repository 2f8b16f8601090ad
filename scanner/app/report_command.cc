// scanner/app/report_command.cc — `danescan report`: a thin shell over report/ that turns its
// errors into the command-line contract's messages and exit codes (0 done, 1 failed, 2 usage).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "report/report.h"
#include "scanner/app/commands.h"

namespace danescan::app {
namespace {

struct ReportOptions {
  std::string db;
  std::string format = "text";
  std::string out;
  std::string compare;
};

int runReport(const ReportOptions& o) {
  report::Report model;
  std::string error;
  if (!report::build(report::Options{o.db, o.compare}, model, error)) {
    std::fprintf(stderr, "danescan report: %s\n", error.c_str());
    return kExitFailed;
  }
  // The whole report is rendered before anything is written: --out is replaced only by a
  // complete report (written beside it, then renamed), never left half-written.
  std::ostringstream text;
  if (!report::write(model, o.format, text)) {
    std::fprintf(stderr, "danescan report: unknown format '%s'\n", o.format.c_str());
    return kExitUsage;
  }
  if (o.out.empty()) {
    std::cout << text.str();
    std::cout.flush();
    if (!std::cout) {
      std::fprintf(stderr, "danescan report: writing to standard output failed\n");
      return kExitFailed;
    }
    return kExitOk;
  }
  const std::string partial = o.out + ".partial";
  {
    std::ofstream file(partial, std::ios::out | std::ios::trunc | std::ios::binary);
    file << text.str();
    file.close();
    if (!file) {
      std::remove(partial.c_str());
      std::fprintf(stderr, "danescan report: cannot write '%s'\n", partial.c_str());
      return kExitFailed;
    }
  }
  if (std::rename(partial.c_str(), o.out.c_str()) != 0) {
    std::remove(partial.c_str());
    std::fprintf(stderr, "danescan report: cannot rename '%s' to '%s'\n", partial.c_str(), o.out.c_str());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

void addReportCommand(CLI::App& app, Runner& run) {
  auto o = std::make_shared<ReportOptions>();
  std::vector<std::string> formats(report::formats().begin(), report::formats().end());
  CLI::App* cmd = app.add_subcommand("report", "Misconfiguration statistics of a scan.");
  cmd->add_option("--db", o->db, "Scan database (danescan scan --db); its latest run is reported")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--format", o->format,
                  "text: aligned tables for the terminal; md: Markdown tables; json: one object, every table an "
                  "array of row objects; csv: one row per table row; html: one self-contained page with charts")
      ->check(CLI::IsMember(formats))
      ->type_name("FORMAT")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Write to FILE instead of standard output (replaced only when complete; '-': standard output)")
      ->transform(stdoutDash())
      ->type_name("FILE");
  cmd->add_option("--compare", o->compare,
                  "An older scan database of an overlapping list: adds what changed (DANE gained and lost, new and "
                  "fixed findings, providers whose status changed)")
      ->type_name("OLD.sqlite");
  cmd->footer(
      "Sections: headline (verdicts, DANE share by domains and by MX hosts, providers); misconfigurations\n"
      "(every finding code with top MX hosts, providers and examples); CNAME'd MX hosts (where their TLSA\n"
      "records sit, failed CNAME queries, domains a Postfix-like vs a strict RFC 7672 sender defers); TLSA\n"
      "records (parameters, RRset sizes, rollover readiness, malformed); certificates of DANE hosts; DNS\n"
      "health (rcodes, EDE, TCP, timeouts, latency percentiles); with --compare, the changes.\n"
      "Every failure figure is given per distinct MX host name and weighted by the domains it serves.\n"
      "A provider is an MX host's registered domain (public suffix list). Columns and the JSON/CSV shapes:\n"
      "report/README.md.\n"
      "Examples:\n"
      "  danescan report --db scan.sqlite\n"
      "  danescan report --db scan.sqlite --format html --out report.html\n"
      "  danescan report --db may.sqlite --compare april.sqlite --format md\n"
      "Exit status: 0 done, 1 failed (missing or foreign database, wrong schema version), 2 usage error.");
  cmd->callback([o, &run] { run = [o] { return runReport(*o); }; });
}

}  // namespace danescan::app
