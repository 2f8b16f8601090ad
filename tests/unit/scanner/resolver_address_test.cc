#include "scanner/dns/resolver_address.h"

#include <gtest/gtest.h>

#include <uv.h>

namespace danescan::scanner::dns {
namespace {

ResolverAddress parseOk(std::string_view text) {
  std::string error;
  auto parsed = ResolverAddress::parse(text, error);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << error;
  return parsed.value_or(ResolverAddress{});
}

std::string parseError(std::string_view text) {
  std::string error;
  auto parsed = ResolverAddress::parse(text, error);
  EXPECT_FALSE(parsed.has_value()) << text;
  return error;
}

TEST(ResolverAddress, AcceptsTheFormsTheContractNames) {
  EXPECT_EQ(parseOk("127.53.1.1"), (ResolverAddress{"127.53.1.1", 53, false}));
  EXPECT_EQ(parseOk("127.53.1.1:5353"), (ResolverAddress{"127.53.1.1", 5353, false}));
  EXPECT_EQ(parseOk("::1"), (ResolverAddress{"::1", 53, true}));
  EXPECT_EQ(parseOk("[::1]"), (ResolverAddress{"::1", 53, true}));
  EXPECT_EQ(parseOk("[2001:db8::53]:8053"), (ResolverAddress{"2001:db8::53", 8053, true}));
}

TEST(ResolverAddress, PrintsAddressAndPort) {
  EXPECT_EQ(parseOk("127.0.0.1").toString(), "127.0.0.1:53");
  EXPECT_EQ(parseOk("[::1]:54").toString(), "[::1]:54");
}

TEST(ResolverAddress, RejectsNamesAndBadPortsWithAReason) {
  EXPECT_NE(parseError("resolver.example").find("not an IP address"), std::string::npos);
  EXPECT_NE(parseError("127.0.0.1:").find("empty port"), std::string::npos);
  EXPECT_NE(parseError("127.0.0.1:0").find("1 to 65535"), std::string::npos);
  EXPECT_NE(parseError("127.0.0.1:65536").find("1 to 65535"), std::string::npos);
  EXPECT_NE(parseError("127.0.0.1:53x").find("1 to 65535"), std::string::npos);
  EXPECT_NE(parseError("[::1").find("missing ']'"), std::string::npos);
  EXPECT_NE(parseError("[::1]53").find("expected ':PORT'"), std::string::npos);
  EXPECT_NE(parseError("[127.0.0.1]:53").find("not an IP address"), std::string::npos);
  EXPECT_NE(parseError("256.1.1.1").find("not an IP address"), std::string::npos);
  EXPECT_NE(parseError("").find("not an IP address"), std::string::npos);
}

// Where a datagram came from against where the query went: family, address and port.
TEST(SameSocketAddress, ComparesFamilyAddressAndPort) {
  const auto v4 = [](const char* ip, int port) {
    sockaddr_storage s{};
    EXPECT_EQ(uv_ip4_addr(ip, port, reinterpret_cast<sockaddr_in*>(&s)), 0);
    return s;
  };
  const auto v6 = [](const char* ip, int port) {
    sockaddr_storage s{};
    EXPECT_EQ(uv_ip6_addr(ip, port, reinterpret_cast<sockaddr_in6*>(&s)), 0);
    return s;
  };
  const sockaddr_storage to4 = v4("127.53.1.1", 53), to6 = v6("::1", 53);
  const auto from = [](const sockaddr_storage& s) { return reinterpret_cast<const sockaddr*>(&s); };
  const sockaddr_storage same4 = v4("127.53.1.1", 53), port4 = v4("127.53.1.1", 54), other4 = v4("127.53.1.2", 53);
  const sockaddr_storage same6 = v6("::1", 53), other6 = v6("::2", 53);
  EXPECT_TRUE(sameSocketAddress(from(same4), to4));
  EXPECT_FALSE(sameSocketAddress(from(port4), to4));
  EXPECT_FALSE(sameSocketAddress(from(other4), to4));
  EXPECT_TRUE(sameSocketAddress(from(same6), to6));
  EXPECT_FALSE(sameSocketAddress(from(other6), to6));
  EXPECT_FALSE(sameSocketAddress(from(same6), to4));
}

}  // namespace
}  // namespace danescan::scanner::dns
