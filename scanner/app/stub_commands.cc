// scanner/app/stub_commands.cc — the commands whose engines are still to be built (issue 6).
// Their options are those of ../shared/contract/cli.md, parsed and validated now so that scripts
// get the contract's usage errors; running one says plainly that it is not implemented yet and
// exits 1, so no caller can mistake it for a completed scan.
#include <cstdio>
#include <string>
#include <vector>

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
