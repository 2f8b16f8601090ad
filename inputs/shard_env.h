// inputs/shard_env.h — `--shard auto`: which shard K/N this process is, taken from the
// environment that a batch scheduler gives each of its tasks (docs/distributed.md).
//
// Engines and their index conventions (danescan's K is 1-based, ../shared/contract/cli.md):
//   GNU parallel          PARALLEL_SEQ (1-based job sequence number)   K = PARALLEL_SEQ
//   Kubernetes Indexed Job JOB_COMPLETION_INDEX (0-based)              K = index + 1
//   Slurm job array        SLURM_ARRAY_TASK_ID, _MIN, _STEP, _COUNT     K = (ID - MIN) / STEP + 1
// N is `--shards N`, else DANESCAN_SHARDS; for Slurm, SLURM_ARRAY_TASK_COUNT gives it (and a
// given --shards/DANESCAN_SHARDS must agree with it). GNU parallel and Kubernetes do not tell
// a task how many tasks there are, so there N must be given.
//
// Precedence when several engines' index variables are set: PARALLEL_SEQ, then
// JOB_COMPLETION_INDEX, then SLURM_ARRAY_TASK_ID — the launcher nearest to danescan first (GNU
// parallel runs inside a pod or a Slurm task, not the other way round; sbatch copies the
// submitting shell's environment). The ones not used are named in AutoShard::ignored.
//
// A variable set to the empty string counts as unset. Everything else that is not a plain
// decimal number, an index outside 1..N, or an N that is missing or 0 is an error naming the
// variable. Pure: the environment comes in through `lookup`, so tests need not touch the
// process's own.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "inputs/domain_stream.h"

namespace danescan::inputs {

// getenv-like: the value of a variable, or nullptr when it is not set.
using EnvLookup = std::function<const char*(const char* name)>;

inline constexpr const char* kShardsEnv = "DANESCAN_SHARDS";

struct AutoShard {
  Shard shard;
  std::string origin;                // e.g. "PARALLEL_SEQ=3, DANESCAN_SHARDS=4"
  std::vector<std::string> ignored;  // other engines' index variables that were also set
};

// `shards_option` is the value of --shards (nullopt when not given). On failure returns nullopt
// and says why in `error`, naming the variable or option at fault.
[[nodiscard]] std::optional<AutoShard> resolveAutoShard(const EnvLookup& lookup,
                                                        std::optional<uint32_t> shards_option,
                                                        std::string& error);

}  // namespace danescan::inputs
