// scanner/app/main.cc — entry point of `danescan`: builds the command tree, parses, runs.
#include <cstdio>
#include <iostream>
#include <string>

#include "scanner/app/commands.h"

int main(int argc, char** argv) {
  using namespace danescan::app;
  CLI::App app{
      "danescan — a network-wide survey of DANE for SMTP (RFC 7672).\n"
      "Reads domain lists, follows MX, CNAME, address and TLSA records through a validating\n"
      "resolver, probes STARTTLS with OpenSSL's DANE verification and stores the evidence in\n"
      "SQLite for export and reports.",
      "danescan"};
  app.set_version_flag("--version", std::string("danescan ") + DANESCAN_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  app.footer("Run 'danescan COMMAND --help' for a command's options.");

  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);

  Runner run;
  addScanCommand(app, run, command_line);
  addListCommand(app, run);
  addExportCommand(app, run);
  addReportCommand(app, run);
  addMergeCommand(app, run, command_line);
  addBenchCommand(app, run);
  addCheckCommand(app, run, command_line);

  // CLI11 reports an unknown command as "A subcommand is required"; name it instead.
  const auto known = [&](const char* name) {
    for (const CLI::App* sub : app.get_subcommands({})) {
      if (sub->check_name(name)) return true;
    }
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !known(argv[1])) {
    std::cerr << "danescan: unknown command '" << argv[1] << "'\n"
              << "Run 'danescan --help' for the list of commands.\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();  // delegates to the subcommand that was asked for help
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion&) {
    std::cout << app.version() << '\n';
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::cerr << "danescan: " << e.what() << '\n'
              << "Run 'danescan --help' or 'danescan COMMAND --help' for usage.\n";
    return kExitUsage;
  }
  return run ? run() : kExitUsage;
}
