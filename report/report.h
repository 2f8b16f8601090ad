// report/report.h — statistics over a scan database (issue 5). Only the list of formats exists yet.
#pragma once

#include <string_view>
#include <vector>

namespace danescan::report {

// The formats `danescan report --format` accepts, as the command-line contract names them.
[[nodiscard]] const std::vector<std::string_view>& formats();

}  // namespace danescan::report
