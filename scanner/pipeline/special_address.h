// scanner/pipeline/special_address.h — special-purpose IP addresses that a survey must not
// connect to (loopback, private, link-local, documentation, ...): a table taken from the IANA
// IPv4 and IPv6 Special-Purpose Address Registries (the ranges marked not globally reachable),
// plus multicast and the reserved 240/4 block. Addresses are parsed with inet_pton.
#pragma once

#include <string_view>

namespace danescan::scanner::pipeline {

// True for an address in one of the special-purpose ranges; false for a global address and for
// text that is not an IPv4 or IPv6 address.
[[nodiscard]] bool isSpecialAddress(std::string_view address);

}  // namespace danescan::scanner::pipeline
