// scanner/dns/resolver_address.h — the `--resolver ADDR[:PORT]` value: an IP address and a port.
// Parsing is strict (a usage error names what is wrong); names are not accepted, because looking
// one up would mean asking the system resolver, which a scan must never do.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace danescan::scanner::dns {

struct ResolverAddress {
  std::string ip;     // presentation form, e.g. "127.53.1.1" or "::1"
  uint16_t port = 53;
  bool ipv6 = false;

  // Accepts "A.B.C.D", "A.B.C.D:PORT", "IPV6", "[IPV6]", "[IPV6]:PORT".
  [[nodiscard]] static std::optional<ResolverAddress> parse(std::string_view text, std::string& error);
  [[nodiscard]] std::string toString() const;  // "127.53.1.1:53", "[::1]:53"
  bool operator==(const ResolverAddress&) const = default;
};

// True when `from` (where a datagram came from) is `to` (where the query went): family, address
// and port. Answers from anywhere else are not the resolver's.
[[nodiscard]] bool sameSocketAddress(const sockaddr* from, const sockaddr_storage& to);

}  // namespace danescan::scanner::dns
