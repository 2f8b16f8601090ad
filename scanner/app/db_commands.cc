// scanner/app/db_commands.cc — `danescan export` and `danescan merge`: thin shells over storage/
// that turn its errors into the command-line contract's messages and exit codes.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "scanner/app/commands.h"
#include "storage/export.h"
#include "storage/merge.h"

namespace danescan::app {
namespace {

struct ExportOptions {
  std::string db;
  std::string format = "jsonl";
  std::string out;
};

int runExport(const ExportOptions& o) {
  // --out is written beside its final name and renamed into place only when the export is
  // complete: a failed export leaves an existing file as it was, never half-written or empty.
  const std::string partial = o.out + ".partial";
  std::ofstream file;
  if (!o.out.empty()) {
    file.open(partial, std::ios::out | std::ios::trunc);
    if (!file) {
      std::fprintf(stderr, "danescan export: cannot write '%s'\n", partial.c_str());
      return kExitFailed;
    }
  }
  std::ostream& out = o.out.empty() ? std::cout : file;
  std::string error;
  bool ok = o.format == "csv" ? storage::exportCsv(o.db, out, error) : storage::exportJsonl(o.db, out, error);
  out.flush();
  ok = ok && out.good();
  if (!o.out.empty()) {
    file.close();
    ok = ok && !file.fail();
    if (ok && std::rename(partial.c_str(), o.out.c_str()) != 0) {
      error = "cannot rename '" + partial + "' to '" + o.out + "'";
      ok = false;
    }
    if (!ok) std::remove(partial.c_str());
  }
  if (!ok) {
    std::fprintf(stderr, "danescan export: %s\n", error.empty() ? "writing the output failed" : error.c_str());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

void addExportCommand(CLI::App& app, Runner& run) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Export per-domain results of a scan database.");
  cmd->add_option("--db", o->db, "Scan database")->required();
  cmd->add_option("--format", o->format,
                  "jsonl: one contract domain object per line (../shared/contract/export-jsonl.md); "
                  "csv: one row per domain (storage/SCHEMA.md)")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Write to FILE instead of standard output ('-': standard output)")->transform(stdoutDash());
  cmd->footer("Exports the latest run of the database, domains in name order.\nExit status: 0 done, 1 failed, 2 usage error.");
  cmd->callback([o, &run] { run = [o] { return runExport(*o); }; });
}

void addMergeCommand(CLI::App& app, Runner& run, const std::string& command_line) {
  auto out = std::make_shared<std::string>();
  auto shards = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("merge", "Merge the shard databases of one scan (--shard K/N) into one.");
  cmd->add_option("OUT", *out, "Database to create (must not exist)")->required();
  cmd->add_option("SHARD", *shards, "Shard databases; the latest run of each is taken")->required();
  cmd->add_flag("--force", *force,
                "Merge even when the shards do not form one survey (missing or repeated K, different N, lists or "
                "result-changing options, unfinished runs); the merged run records what was overridden");
  cmd->footer(
      "The shards must be K/N of one N, each K once and all N present, each run completed, of the same lists\n"
      "(by content hash) and with the same result-changing options (storage/SCHEMA.md, \"Merge\").\n"
      "A domain found in two shards is an error, --force or not.\n"
      "Exit status: 0 done, 1 failed or refused, 2 usage error.");
  cmd->callback([out, shards, force, &run, command_line] {
    run = [out, shards, force, command_line] {
      std::string error;
      storage::MergeNotes notes;
      if (!storage::merge(*out, *shards, storage::MergeInfo{DANESCAN_VERSION, command_line, *force}, error, &notes)) {
        std::fprintf(stderr, "danescan merge: %s\n", error.c_str());
        return kExitFailed;
      }
      for (const auto& o : notes.overridden) std::fprintf(stderr, "danescan merge: --force: %s\n", o.c_str());
      if (!notes.missing.empty()) {
        std::string list;
        for (const auto& m : notes.missing) list += (list.empty() ? "" : ", ") + m;
        std::fprintf(stderr, "danescan merge: the merged run is incomplete ('interrupted'): missing shard(s) %s\n",
                     list.c_str());
      } else if (!notes.completed) {
        std::fprintf(stderr, "danescan merge: the merged run is 'interrupted': not every shard's run completed\n");
      }
      return kExitOk;
    };
  });
}

}  // namespace danescan::app
