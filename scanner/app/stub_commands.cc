// scanner/app/stub_commands.cc — the commands whose engines are still to be built (issue 5).
// Their options are those of ../shared/contract/cli.md, parsed and validated now so that scripts
// get the contract's usage errors; running one says plainly that it is not implemented yet and
// exits 1, so no caller can mistake it for a completed scan.
#include <cstdio>
#include <string>
#include <vector>

#include "report/report.h"
#include "scanner/app/commands.h"
#include "scanner/dns/resolver_address.h"

namespace danescan::app {
namespace {

Runner notYet(std::string command, std::string issue) {
  return [command = std::move(command), issue = std::move(issue)] {
    std::fprintf(stderr, "danescan %s: not implemented yet (%s)\n", command.c_str(), issue.c_str());
    return kExitFailed;
  };
}

}  // namespace

CLI::Validator resolverValidator() {
  return CLI::Validator(
      [](std::string& value) {
        std::string error;
        return scanner::dns::ResolverAddress::parse(value, error) ? std::string() : error;
      },
      "ADDR[:PORT]");
}

void addReportCommand(CLI::App& app, Runner& run) {
  auto db = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  auto out = std::make_shared<std::string>();
  std::vector<std::string> formats(report::formats().begin(), report::formats().end());
  CLI::App* cmd = app.add_subcommand("report", "Misconfiguration statistics of a scan.");
  cmd->add_option("--db", *db, "Scan database")->required();
  cmd->add_option("--format", *format, "Output format")->check(CLI::IsMember(formats))->capture_default_str();
  cmd->add_option("--out", *out, "Write to FILE instead of standard output");
  cmd->callback([db, format, out, &run] { run = notYet("report", "issue 5: reports"); });
}

}  // namespace danescan::app
