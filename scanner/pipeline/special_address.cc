#include "scanner/pipeline/special_address.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace danescan::scanner::pipeline {
namespace {

struct Range {
  const char* prefix;
  unsigned length;
};

// IANA IPv4 Special-Purpose Address Registry, entries with "Globally Reachable: False" (or N/A),
// plus multicast (RFC 5771) and the reserved block (RFC 1112, with the limited broadcast).
constexpr std::array<Range, 15> kV4{{
    {"0.0.0.0", 8},         // "this network" (RFC 791)
    {"10.0.0.0", 8},        // private (RFC 1918)
    {"100.64.0.0", 10},     // shared address space, CGN (RFC 6598)
    {"127.0.0.0", 8},       // loopback (RFC 1122)
    {"169.254.0.0", 16},    // link-local (RFC 3927)
    {"172.16.0.0", 12},     // private (RFC 1918)
    {"192.0.0.0", 24},      // IETF protocol assignments (RFC 6890)
    {"192.0.2.0", 24},      // documentation TEST-NET-1 (RFC 5737)
    {"192.88.99.0", 24},    // deprecated 6to4 relay anycast (RFC 7526)
    {"192.168.0.0", 16},    // private (RFC 1918)
    {"198.18.0.0", 15},     // benchmarking (RFC 2544)
    {"198.51.100.0", 24},   // documentation TEST-NET-2 (RFC 5737)
    {"203.0.113.0", 24},    // documentation TEST-NET-3 (RFC 5737)
    {"224.0.0.0", 4},       // multicast (RFC 5771)
    {"240.0.0.0", 4},       // reserved (RFC 1112), includes 255.255.255.255
}};

// IANA IPv6 Special-Purpose Address Registry, not globally reachable, plus multicast and the
// deprecated site-local block.
constexpr std::array<Range, 15> kV6{{
    {"::", 128},            // unspecified (RFC 4291)
    {"::1", 128},           // loopback (RFC 4291)
    {"::ffff:0:0", 96},     // IPv4-mapped (RFC 4291)
    {"64:ff9b:1::", 48},    // local-use IPv4/IPv6 translation (RFC 8215)
    {"100::", 64},          // discard-only (RFC 6666)
    {"2001::", 32},         // TEREDO (RFC 4380)
    {"2001:2::", 48},       // benchmarking (RFC 5180)
    {"2001:10::", 28},      // deprecated ORCHID (RFC 4843)
    {"2001:db8::", 32},     // documentation (RFC 3849)
    {"3fff::", 20},         // documentation (RFC 9637)
    {"5f00::", 16},         // segment routing SIDs (RFC 9602)
    {"fc00::", 7},          // unique local (RFC 4193)
    {"fe80::", 10},         // link-local (RFC 4291)
    {"fec0::", 10},         // deprecated site-local (RFC 3879)
    {"ff00::", 8},          // multicast (RFC 4291)
}};

bool prefixMatches(const uint8_t* address, const uint8_t* prefix, unsigned length) {
  const unsigned bytes = length / 8;
  if (std::memcmp(address, prefix, bytes) != 0) return false;
  const unsigned bits = length % 8;
  if (bits == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits));
  return (address[bytes] & mask) == (prefix[bytes] & mask);
}

template <size_t N, size_t Size>
bool inTable(const std::array<Range, N>& table, int family, const uint8_t (&address)[Size]) {
  for (const Range& range : table) {
    uint8_t prefix[Size]{};
    if (inet_pton(family, range.prefix, prefix) != 1) continue;  // the table is constant: cannot happen
    if (prefixMatches(address, prefix, range.length)) return true;
  }
  return false;
}

}  // namespace

bool isSpecialAddress(std::string_view address) {
  const std::string text(address);
  uint8_t v4[4]{};
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) return inTable(kV4, AF_INET, v4);
  uint8_t v6[16]{};
  if (inet_pton(AF_INET6, text.c_str(), v6) == 1) return inTable(kV6, AF_INET6, v6);
  return false;
}

}  // namespace danescan::scanner::pipeline
