// storage/merge.h — `danescan merge OUT SHARD...`: the databases of one list scanned with
// --shard K/N on several machines, combined into one run in a new database.
//
// Rules (SCHEMA.md, "Merge"): OUT must not exist; every input must be a danescan database with at
// least one run, and its latest run is the one taken. The runs must form one survey: shards K/N
// of one N, each K once and all N there, each run completed, the same lists by content hash and
// the same result-changing options (run_options.h); otherwise the merge is refused, unless
// `force`, which merges anyway and records each overridden check in the run's options. A domain
// found in two inputs is an error even then (shards of one list are disjoint, so overlap means a
// wrong set of files) and nothing is written; hosts are stored once per distinct observation, as
// in a scan; the merged run is 'completed' only when every input run was and no shard is
// missing, it keeps the shards' scan times (earliest start, latest end), and its options record
// where each part came from.
#pragma once

#include <string>
#include <vector>

namespace danescan::storage {

struct MergeInfo {
  std::string version;       // the danescan version doing the merge
  std::string command_line;  // for the merged run's record
  bool force = false;        // merge although the checks fail (not an overlap)
};

// What a successful merge has to say: the checks --force overrode, the shards missing.
struct MergeNotes {
  std::vector<std::string> overridden;
  std::vector<std::string> missing;  // "K/N" of each absent shard
  bool completed = false;            // the merged run's status is 'completed'
};

// False with `error` set on any failure; OUT is then removed (it did not exist before). A refusal
// because the inputs do not form one survey lists every failed check, one per line.
[[nodiscard]] bool merge(const std::string& out_path, const std::vector<std::string>& shard_paths,
                         const MergeInfo& info, std::string& error, MergeNotes* notes = nullptr);

}  // namespace danescan::storage
