#include "scanner/pipeline/host_name.h"

#include <vector>

namespace danescan::scanner::pipeline {

bool isValidMxHostName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;  // the root, or too long
  std::vector<std::string_view> labels;
  size_t start = 0;
  for (;;) {
    const size_t dot = name.find('.', start);
    labels.push_back(name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels.size() < 2) return false;  // a TLD (single label)
  bool all_numeric = true;
  for (std::string_view label : labels) {
    if (label.empty() || label.size() > 63) return false;
    bool numeric = true;
    for (char c : label) {
      const bool digit = c >= '0' && c <= '9';
      const bool ok = digit || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
      if (!ok) return false;  // escapes (\032), brackets, colons, upper case never reach here valid
      numeric = numeric && digit;
    }
    all_numeric = all_numeric && numeric;
  }
  // An IP literal written as a name ("127.25.0.10."), or any name with an all-numeric TLD, which
  // no registry delegates (RFC 3696 section 2).
  const bool numeric_tld = [&] {
    for (char c : labels.back()) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  }();
  return !all_numeric && !numeric_tld;
}

}  // namespace danescan::scanner::pipeline
