// storage/run_options.h — which recorded run options change a scan's results, and how two runs'
// options differ in them. `merge` refuses shards that differ (SCHEMA.md, "Merge"), and the report's
// `--compare` warns about runs that differ (report/README.md, "methods"), from the same list.
//
// Safe by default: an option key is result-changing unless it is on the short list of harmless
// ones (how fast or where from, not what is observed), so an option added later is compared
// until someone decides otherwise here.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace danescan::storage {

// The keys of a run's `options` that never change what a scan observes, with the reason in
// run_options.cc. Every other key changes results.
[[nodiscard]] const std::vector<std::string_view>& harmlessOptions();
[[nodiscard]] bool changesResults(std::string_view key);

// One top-level member of an options object: key and its value as canonical JSON text.
using OptionMember = std::pair<std::string, std::string>;
// The members of a JSON object, in order (SQLite's json_each). Empty when `json` is not an object.
[[nodiscard]] std::vector<OptionMember> optionMembers(const std::string& json);

struct OptionDifference {
  std::string key;
  std::string a;  // canonical JSON, or "absent"
  std::string b;
};
// The result-changing options whose values differ between two options objects, in key order.
[[nodiscard]] std::vector<OptionDifference> resultOptionDifferences(const std::string& a_json,
                                                                    const std::string& b_json);

}  // namespace danescan::storage
