// storage/run_options.cc — the harmless-option list and the comparison (run_options.h).
#include "storage/run_options.h"

#include <algorithm>
#include <map>

#include "storage/database.h"

namespace danescan::storage {

const std::vector<std::string_view>& harmlessOptions() {
  // Pace and parallelism change how long a scan takes, not what a server or resolver answers
  // (a resolver's rate limit aside, which --qps exists to stay under). Resolvers: shards of one
  // survey run on machines with a validating resolver each. The EHLO name: each machine should
  // send its own (a name that resolves to it). Lists and shard are checked on their own (by
  // content hash and K/N); resume is bookkeeping, and so are a merge's records of its inputs
  // (`forced` and `missing_shards`, which do say something about the results, are compared).
  static const std::vector<std::string_view> kHarmless{
      "concurrency", "qps", "tls_concurrency", "per_address", "resolvers", "ehlo_name",
      "concurrency_max", "lists", "shard", "shard_origin", "quiet", "resume", "merged_from", "merged_at", "shards",
  };
  return kHarmless;
}

bool changesResults(std::string_view key) {
  const auto& harmless = harmlessOptions();
  return std::find(harmless.begin(), harmless.end(), key) == harmless.end();
}

std::vector<OptionMember> optionMembers(const std::string& json) {
  std::vector<OptionMember> members;
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close_v2(raw);
    return members;
  }
  DbPtr db(raw);
  try {
    // The value as canonical JSON text whatever its type (json_each gives SQL values for atoms).
    Statement s(db.get(),
                "SELECT key, CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN 'null' "
                "WHEN 'text' THEN json_quote(value) ELSE CAST(value AS TEXT) END "
                "FROM json_each(?1) WHERE json_type(?1) = 'object'");
    s.bind(1, json);
    while (s.step()) members.emplace_back(s.text(0), s.text(1));
  } catch (const SqliteError&) {
    members.clear();  // not JSON: no members, so every option reads "absent"
  }
  return members;
}

std::vector<OptionDifference> resultOptionDifferences(const std::string& a_json, const std::string& b_json) {
  std::map<std::string, std::pair<std::string, std::string>> both;
  for (auto& [key, value] : optionMembers(a_json)) both[key].first = value;
  for (auto& [key, value] : optionMembers(b_json)) both[key].second = value;
  std::vector<OptionDifference> out;
  for (auto& [key, values] : both) {
    if (!changesResults(key) || values.first == values.second) continue;
    out.push_back(OptionDifference{key, values.first.empty() ? "absent" : values.first,
                                   values.second.empty() ? "absent" : values.second});
  }
  return out;
}

}  // namespace danescan::storage
