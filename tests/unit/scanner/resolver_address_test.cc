#include "scanner/dns/resolver_address.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace danescan::scanner::dns
