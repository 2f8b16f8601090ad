#include "report/report.h"

namespace danescan::report {

const std::vector<std::string_view>& formats() {
  static const std::vector<std::string_view> kFormats{"text", "md", "json", "csv", "html"};
  return kFormats;
}

}  // namespace danescan::report
