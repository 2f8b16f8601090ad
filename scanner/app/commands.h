// scanner/app/commands.h — the subcommands of the `danescan` executable. Each add*Command
// registers its options on the CLI11 app and stores in `run` what executing it means; main()
// owns parsing and turns usage errors into exit code 2 (../shared/contract/cli.md).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace danescan::app {

// Exit codes of the command-line contract.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

using Runner = std::function<int()>;

// `command_line` is the invocation as typed, recorded with a run in the database.
void addListCommand(CLI::App& app, Runner& run);
void addScanCommand(CLI::App& app, Runner& run, const std::string& command_line);
void addExportCommand(CLI::App& app, Runner& run);
void addReportCommand(CLI::App& app, Runner& run);
void addMergeCommand(CLI::App& app, Runner& run, const std::string& command_line);
void addBenchCommand(CLI::App& app, Runner& run);
void addCheckCommand(CLI::App& app, Runner& run, const std::string& command_line);

// Validators shared by several commands; each turns a bad value into a usage error that names it.
[[nodiscard]] CLI::Validator shardValidator();
[[nodiscard]] CLI::Validator resolverValidator();
// For --out FILE: '-' means standard output, as the option's absence does (a transform: the
// command sees an empty path). Not a file named '-'.
[[nodiscard]] CLI::Validator stdoutDash();

// The options scan and check share, one declaration each (same names, checks and help texts):
// the probe's timing (--connect-timeout, --probe-timeout, --probe-deadline, --smtp-retry-delay)
// and the DNS client's (--timeout, --attempts, --late-retry). Values in ms, defaults those of the variables.
void addProbeTimingOptions(CLI::App& cmd, unsigned& connect_timeout_ms, unsigned& stage_timeout_ms,
                           unsigned& probe_deadline_ms, unsigned& retry_delay_ms);
void addQueryTimingOptions(CLI::App& cmd, unsigned& timeout_ms, unsigned& attempts, unsigned& late_retry_ms);

// --shard K/N|auto and --shards N, shared by scan and list (docs/distributed.md).
struct ShardSelection {
  std::string shard;   // as given: "", "K/N" or "auto"
  uint32_t shards = 0;  // --shards N; 0 when not given
};
struct EffectiveShard {
  std::string shard;   // "" (the whole input) or the effective "K/N"
  std::string origin;  // where "auto" found it, e.g. "PARALLEL_SEQ=3, --shards 4"; else ""
};
void addShardOptions(CLI::App& cmd, ShardSelection& selection, const char* shard_help);
// Turns "auto" into K/N from the process environment (inputs/shard_env.h) and says so on stderr
// as `danescan COMMAND: ...` unless quiet. Throws CLI::ValidationError (exit 2) when the
// environment cannot give one, or --shards comes without --shard auto.
[[nodiscard]] EffectiveShard resolveShard(const ShardSelection& selection, const char* command,
                                          bool quiet);

}  // namespace danescan::app
