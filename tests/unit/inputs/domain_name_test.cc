// tests/unit/inputs/domain_name_test.cc — normaliseDomain(): every normalisation rule and every
// rejection reason, as tables. Expected A-labels are published values (RFC 3492 / UTS #46
// examples and well-known registered names), not output of this code.
#include <gtest/gtest.h>

#include <string>

#include "inputs/domain_stream.h"

namespace danescan::inputs {
namespace {

struct Accepted {
  std::string raw;
  std::string expected;
};

struct Rejected {
  std::string raw;
  std::string reason;
};

std::string repeat(char c, size_t n) { return std::string(n, c); }

// Labels of 63 octets: three of them and one of `last` octets, joined by dots.
std::string nameOfLength(size_t total) {
  // 3 * 63 + 3 dots = 192 octets before the last label.
  return repeat('a', 63) + "." + repeat('b', 63) + "." + repeat('c', 63) + "." +
         repeat('d', total - 192);
}

class NormaliseAccepts : public ::testing::TestWithParam<Accepted> {};

TEST_P(NormaliseAccepts, GivesTheCanonicalName) {
  std::string error;
  const auto name = normaliseDomain(GetParam().raw, error);
  ASSERT_TRUE(name.has_value()) << "rejected with: " << error;
  EXPECT_EQ(*name, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, NormaliseAccepts,
    ::testing::Values(
        // Already canonical.
        Accepted{"example.com", "example.com"},
        // Lower case.
        Accepted{"Example.COM", "example.com"}, Accepted{"MAIL.EXAMPLE.ORG", "mail.example.org"},
        // One trailing dot is the absolute form of the same name.
        Accepted{"example.com.", "example.com"},
        // Surrounding whitespace, including a CR left by CRLF.
        Accepted{"  example.com\t", "example.com"}, Accepted{"example.com\r", "example.com"},
        // Digits, hyphen, underscore are allowed anywhere in a label.
        Accepted{"_dmarc.example.com", "_dmarc.example.com"},
        Accepted{"_mta-sts.example.com", "_mta-sts.example.com"},
        Accepted{"1-2-3.example", "1-2-3.example"},
        Accepted{"-leading-hyphen.example", "-leading-hyphen.example"},
        // A single label is a name.
        Accepted{"localhost", "localhost"},
        // Limits are inclusive: 63-octet label, 253-octet name (254 with the trailing dot).
        Accepted{repeat('x', 63) + ".example", repeat('x', 63) + ".example"},
        Accepted{nameOfLength(253), nameOfLength(253)},
        Accepted{nameOfLength(253) + ".", nameOfLength(253)},
        // An A-label passes through unchanged (ASCII is not sent through libidn2).
        Accepted{"xn--bcher-kva.example", "xn--bcher-kva.example"},
        Accepted{"XN--BCHER-KVA.Example", "xn--bcher-kva.example"},
        // U-labels become A-labels (RFC 3492 / libidn2 documentation example).
        Accepted{"bücher.example", "xn--bcher-kva.example"},
        Accepted{"Bücher.example", "xn--bcher-kva.example"},
        Accepted{"BÜCHER.EXAMPLE.", "xn--bcher-kva.example"},
        // NFC first: 'u' + U+0308 COMBINING DIAERESIS is the same name as 'ü'.
        Accepted{"bu\xCC\x88"
                 "cher.example",
                 "xn--bcher-kva.example"},
        // UTS #46 maps the ideographic full stop U+3002 to a dot.
        Accepted{"bücher\xE3\x80\x82"
                 "example",
                 "xn--bcher-kva.example"},
        // Non-transitional: sharp s and final sigma keep their own A-labels (UTS #46 section 4).
        Accepted{"faß.de", "xn--fa-hia.de"}, Accepted{"straße.de", "xn--strae-oqa.de"},
        // IDN and underscore labels mixed.
        Accepted{"_dmarc.bücher.example", "_dmarc.xn--bcher-kva.example"},
        // IDNA2008 disallows symbols; the transitional fallback keeps registered names working.
        Accepted{"☃.net", "xn--n3h.net"}, Accepted{"☃.net.", "xn--n3h.net"},
        // The fallback is per label: a symbol in another label leaves "ß" non-transitional,
        // as in "faß.de" (a whole-name fallback would give "fass"). Only the label that holds
        // the symbol is mapped the transitional way (there "ß" becomes "ss", UTS #46 table).
        Accepted{"faß.☃.de", "xn--fa-hia.xn--n3h.de"},
        Accepted{"☃.faß.de", "xn--n3h.xn--fa-hia.de"},
        Accepted{"faß\xE3\x80\x82☃\xEF\xBC\x8E"
                 "de",
                 "xn--fa-hia.xn--n3h.de"},
        Accepted{"faß☃.de", "xn--fass-8g3b.de"},
        // A numeric label is fine anywhere but last.
        Accepted{"123.example", "123.example"}, Accepted{"example.1a", "example.1a"}));

class NormaliseRejects : public ::testing::TestWithParam<Rejected> {};

TEST_P(NormaliseRejects, SaysWhy) {
  std::string error;
  const auto name = normaliseDomain(GetParam().raw, error);
  EXPECT_FALSE(name.has_value()) << "accepted as " << name.value_or("");
  EXPECT_EQ(error, GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, NormaliseRejects,
    ::testing::Values(
        Rejected{"", "empty name"}, Rejected{" \t\r", "empty name"},
        Rejected{".", "root name \".\""}, Rejected{" . ", "root name \".\""},
        // Only one trailing dot is stripped; a second one leaves an empty last label.
        Rejected{"..", "empty label"}, Rejected{"example.com..", "empty label"},
        Rejected{".example.com", "empty label"}, Rejected{"mail..example.com", "empty label"},
        Rejected{repeat('x', 64) + ".example", "label longer than 63 octets"},
        Rejected{"example." + repeat('x', 64), "label longer than 63 octets"},
        Rejected{nameOfLength(254), "name longer than 253 octets"},
        Rejected{nameOfLength(254) + ".", "name longer than 253 octets"},
        // Characters outside letters, digits, '-', '_'.
        Rejected{"*.example.com", "invalid character '*'"},
        Rejected{"ex!ample.com", "invalid character '!'"},
        Rejected{"a,b.example", "invalid character ','"},
        Rejected{"a/b.example", "invalid character '/'"},
        Rejected{"mail example.com", "invalid character 0x20"},
        Rejected{"it's.example", "invalid character 0x27"},
        Rejected{"bell\x07.example", "invalid character 0x07"},
        Rejected{"del\x7f.example", "invalid character 0x7f"},
        Rejected{std::string("exa\0mple.com", 12), "NUL byte"},
        // The same rules in a name that also has non-ASCII labels.
        Rejected{"b*ücher.example", "invalid character '*'"},
        Rejected{std::string("bü\0cher.example", 16), "NUL byte"},
        Rejected{"bücher..example", "empty label"},
        // The first fault in reading order wins; a label's length counts where it ends.
        Rejected{"*" + repeat('x', 70) + ".example", "invalid character '*'"},
        Rejected{repeat('x', 70) + ".*.example", "label longer than 63 octets"},
        // IDN: a U-label whose A-label would exceed 63 octets.
        Rejected{repeat('a', 60) + "ü.example", "label longer than 63 octets"},
        // Bytes that are not UTF-8 (Latin-1 'ü').
        Rejected{"b\xFC"
                 "cher.example",
                 "invalid UTF-8"},
        // No top-level domain is all-numeric (RFC 3696 section 2): IP literals, bare numbers.
        Rejected{"1.2.3.4", "numeric top-level label"}, Rejected{"1", "numeric top-level label"},
        Rejected{"127.25.0.10.", "numeric top-level label"},
        Rejected{"example.123", "numeric top-level label"},
        Rejected{"bücher.42", "numeric top-level label"},
        // A fault earlier in reading order still wins.
        Rejected{"a..1", "empty label"}));

// IDNA2008 rules libidn2 enforces: hyphen at a U-label's edge, a joiner out of context. Only
// our prefix is ours to promise; the rest is libidn2's idn2_strerror() text, which may change.
TEST(NormaliseDomain, OtherIdnErrorsCarryTheIdnPrefix) {
  for (const std::string& raw : {std::string("-ü.example"), std::string("a\xE2\x80\x8D"
                                                                          "b\xC3\xBC.example"),
                                std::string("-☃.example")}) {
    std::string error;
    EXPECT_FALSE(normaliseDomain(raw, error).has_value()) << raw;
    EXPECT_EQ(error.rfind("IDN: ", 0), 0u) << raw << ": " << error;
    EXPECT_GT(error.size(), 5u) << raw;
  }
}

TEST(NormaliseDomain, ToleratesSurroundingWhitespaceButNotInside) {
  std::string error;
  EXPECT_EQ(normaliseDomain("\t Example.com. \r\n", error), "example.com");
  EXPECT_FALSE(normaliseDomain("example .com", error).has_value());
  EXPECT_EQ(error, "invalid character 0x20");
}

TEST(NormaliseDomain, IsIdempotent) {
  for (const std::string raw :
       {"Bücher.Example.", "_DMARC.example.com", "☃.net", "faß.de", "faß.☃.de"}) {
    std::string error;
    const auto once = normaliseDomain(raw, error);
    ASSERT_TRUE(once.has_value()) << raw << ": " << error;
    EXPECT_EQ(normaliseDomain(*once, error), once) << raw;
  }
}

}  // namespace
}  // namespace danescan::inputs
