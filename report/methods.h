// report/methods.h — the methods box, the first section of every report (methods.cc).
#pragma once

#include "report/model.h"
#include "report/source.h"

#include <string>
#include <vector>

namespace danescan::report {

// Section `methods`: table `methods` (item, setting) and, with --compare, `option_differences`.
[[nodiscard]] Section methodsSection(const Source& source);
// One line per result-changing option in which the compared runs differ (empty without --compare).
[[nodiscard]] std::vector<std::string> optionDifferenceWarnings(const Section& methods);

}  // namespace danescan::report
