// scanner/app/stub_commands.cc — the commands whose engines are still to be built (issues 3–6).
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

struct ScanOptions {
  std::vector<std::string> lists;
  std::vector<std::string> resolvers;
  std::string db;
  bool allow_special = false;
  bool no_probe = false;
  int smtp_port = 25;
  int concurrency = 1000;
  bool resume = false;
  std::string shard;
  bool quiet = false;
};

}  // namespace

CLI::Validator resolverValidator() {
  return CLI::Validator(
      [](std::string& value) {
        std::string error;
        return scanner::dns::ResolverAddress::parse(value, error) ? std::string() : error;
      },
      "ADDR[:PORT]");
}

void addScanCommand(CLI::App& app, Runner& run) {
  auto o = std::make_shared<ScanOptions>();
  CLI::App* cmd = app.add_subcommand("scan", "Scan the domains of lists for DANE (RFC 7672) and store the evidence in SQLite.");
  cmd->add_option("LIST", o->lists, "Domain lists (files, '-' for standard input)")->required();
  cmd->add_option("--resolver", o->resolvers,
                  "Validating resolver to query, IP[:PORT] (repeatable; never the system resolver)")
      ->required()
      ->check(resolverValidator());
  cmd->add_option("--db", o->db, "SQLite database to write")->required();
  cmd->add_flag("--allow-special-addresses", o->allow_special,
                "Probe MX addresses in special-purpose ranges (loopback, private, ...)");
  cmd->add_flag("--no-probe", o->no_probe, "DNS only: no SMTP/TLS probes");
  cmd->add_option("--smtp-port", o->smtp_port, "Probe SMTP on this port")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "At most N DNS queries in flight")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_flag("--resume", o->resume, "Continue an interrupted scan in the same database");
  cmd->add_option("--shard", o->shard, "Scan only shard K of N of the input, e.g. 2/8")->check(shardValidator());
  cmd->add_flag("--quiet,-q", o->quiet, "No progress output");
  cmd->footer("Exit status: 0 the scan completed (whatever the verdicts), 1 it failed, 2 usage error.");
  cmd->callback([o, &run] { run = notYet("scan", "issue 3: scanner core"); });
}

void addExportCommand(CLI::App& app, Runner& run) {
  auto db = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("jsonl");
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("export", "Export per-domain results (JSON Lines, one object per domain).");
  cmd->add_option("--db", *db, "Scan database")->required();
  cmd->add_option("--format", *format, "Output format")->check(CLI::IsMember({"jsonl", "csv"}))->capture_default_str();
  cmd->add_option("--out", *out, "Write to FILE instead of standard output");
  cmd->callback([db, format, out, &run] { run = notYet("export", "issue 3: scanner core"); });
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

void addMergeCommand(CLI::App& app, Runner& run) {
  auto out = std::make_shared<std::string>();
  auto shards = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("merge", "Merge the shard databases of one scan into one.");
  cmd->add_option("OUT", *out, "Database to write")->required();
  cmd->add_option("SHARD", *shards, "Shard databases")->required();
  cmd->callback([out, shards, &run] { run = notYet("merge", "issue 3: scanner core"); });
}

void addBenchCommand(CLI::App& app, Runner& run) {
  auto resolvers = std::make_shared<std::vector<std::string>>();
  auto list = std::make_shared<std::string>();
  auto rate = std::make_shared<double>(0);
  auto duration = std::make_shared<double>(10);
  auto ramp = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>("text");
  CLI::App* cmd = app.add_subcommand("bench", "Measure how fast a resolver serves the DANE query mix.");
  cmd->add_option("--resolver", *resolvers, "Resolver to measure, IP[:PORT]")->required()->check(resolverValidator());
  cmd->add_option("--list", *list, "Domain list to draw queries from")->required();
  cmd->add_option("--rate", *rate, "Offered queries per second")->check(CLI::PositiveNumber);
  cmd->add_option("--duration", *duration, "Seconds to run at --rate")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--ramp", *ramp, "Raise the offered rate step by step to find the highest sustained rate");
  cmd->add_option("--format", *format, "Output format")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->callback([resolvers, list, rate, duration, ramp, format, &run] {
    run = notYet("bench", "issue 6: resolver benchmark");
  });
}

}  // namespace danescan::app
