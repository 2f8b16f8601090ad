// storage/merge.h — `danescan merge OUT SHARD...`: the databases of one list scanned with
// --shard K/N on several machines, combined into one run in a new database.
//
// Rules (SCHEMA.md, "Merge"): OUT must not exist; every input must be a danescan database with at
// least one run, and its latest run is the one taken; a domain found in two inputs is an error
// (shards of one list are disjoint, so overlap means a wrong set of files) and nothing is written;
// hosts are stored once per distinct observation, as in a scan; the merged run is 'completed'
// only when every input run was, and its options record where each part came from.
#pragma once

#include <string>
#include <vector>

namespace danescan::storage {

struct MergeInfo {
  std::string version;       // the danescan version doing the merge
  std::string command_line;  // for the merged run's record
};

// False with `error` set on any failure; OUT is then removed (it did not exist before).
[[nodiscard]] bool merge(const std::string& out_path, const std::vector<std::string>& shard_paths,
                         const MergeInfo& info, std::string& error);

}  // namespace danescan::storage
