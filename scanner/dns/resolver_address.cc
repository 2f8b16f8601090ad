#include "scanner/dns/resolver_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace danescan::scanner::dns {
namespace {

bool isIp(const std::string& text, bool v6) {
  unsigned char buf[16];
  return inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), buf) == 1;
}

std::optional<uint16_t> parsePort(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

std::optional<ResolverAddress> ResolverAddress::parse(std::string_view text, std::string& error) {
  ResolverAddress out;
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      error = "'" + std::string(text) + "': missing ']' after the IPv6 address";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        error = "'" + std::string(text) + "': expected ':PORT' after ']'";
        return std::nullopt;
      }
      port = rest.substr(1);
      if (port.empty()) {
        error = "'" + std::string(text) + "': empty port";
        return std::nullopt;
      }
    }
    out.ipv6 = true;
  } else if (text.find(':') != text.rfind(':')) {
    out.ipv6 = true;  // bare IPv6 address: several colons, no port
  } else if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) {
      error = "'" + std::string(text) + "': empty port";
      return std::nullopt;
    }
  }
  out.ip = std::string(host);
  if (!isIp(out.ip, out.ipv6)) {
    error = "'" + std::string(text) + "' is not an IP address (resolver names are not looked up)";
    return std::nullopt;
  }
  if (!port.empty()) {
    const auto value = parsePort(port);
    if (!value) {
      error = "'" + std::string(text) + "': port must be a number from 1 to 65535";
      return std::nullopt;
    }
    out.port = *value;
  }
  return out;
}

std::string ResolverAddress::toString() const {
  return (ipv6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

bool sameSocketAddress(const sockaddr* a, const sockaddr_storage& b) {
  if (a->sa_family != b.ss_family) return false;
  if (a->sa_family == AF_INET) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(a);
    const auto* y = reinterpret_cast<const sockaddr_in*>(&b);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    const auto* x = reinterpret_cast<const sockaddr_in6*>(a);
    const auto* y = reinterpret_cast<const sockaddr_in6*>(&b);
    return x->sin6_port == y->sin6_port && std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return false;
}

}  // namespace danescan::scanner::dns
