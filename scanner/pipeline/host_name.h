// scanner/pipeline/host_name.h — whether an MX exchange can name a mail host (RFC 5321 section
// 2.3.5 / RFC 7505): a multi-label LDH name (underscores tolerated, as resolvers do), not an IP
// literal, not the root, not a TLD. Such exchanges are recorded but never resolved.
#pragma once

#include <string_view>

namespace danescan::scanner::pipeline {

// `name` is normalised (lower case, no trailing dot; "" is the root).
[[nodiscard]] bool isValidMxHostName(std::string_view name);

}  // namespace danescan::scanner::pipeline
