// smtp::ReplyParser (multi-line replies, bounds, garbage), the EHLO keyword helpers, and the TLS
// probe's pure helpers: TLSA parsing and usability, and the Prober's cache key.
#include "scanner/smtp/reply_parser.h"

#include "scanner/tls/prober.h"
#include "scanner/tls/smtp_probe.h"

#include <gtest/gtest.h>

#include <string>

namespace danescan::scanner {
namespace {

using smtp::ParseStatus;
using smtp::ReplyParser;

// Feeds `data` in pieces of `step` bytes; returns the status after the last piece that was
// consumed (stops at the first non-NeedMore status) and the bytes left over.
ParseStatus feedAll(ReplyParser& parser, const std::string& data, size_t step, std::string* rest = nullptr) {
  size_t pos = 0;
  ParseStatus status = ParseStatus::NeedMore;
  while (pos < data.size()) {
    const std::string piece = data.substr(pos, step);
    size_t consumed = 0;
    status = parser.feed(piece, consumed);
    pos += consumed;
    if (status != ParseStatus::NeedMore) break;
  }
  if (rest) *rest = data.substr(pos);
  return status;
}

TEST(ReplyParser, SingleLine) {
  ReplyParser parser(512, 4096);
  EXPECT_EQ(feedAll(parser, "220 mx.example ESMTP\r\n", 1000), ParseStatus::Done);
  EXPECT_EQ(parser.reply(), (smtp::Reply{220, {"mx.example ESMTP"}}));
}

TEST(ReplyParser, MultiLineFedByteByByte) {
  const std::string ehlo = "250-mx.example greets you\r\n250-PIPELINING\r\n250-starttls\r\n250 8BITMIME\r\n";
  for (size_t step : {size_t{1}, size_t{3}, size_t{7}, ehlo.size()}) {
    ReplyParser parser(512, 4096);
    std::string rest;
    ASSERT_EQ(feedAll(parser, ehlo, step, &rest), ParseStatus::Done) << step;
    EXPECT_EQ(rest, "");
    EXPECT_EQ(parser.reply(), (smtp::Reply{250, {"mx.example greets you", "PIPELINING", "starttls", "8BITMIME"}}));
    EXPECT_TRUE(smtp::offersStartTls(parser.reply()));  // keywords are case-insensitive
    EXPECT_EQ(smtp::ehloKeywords(parser.reply()), (std::vector<std::string>{"PIPELINING", "STARTTLS", "8BITMIME"}));
  }
}

TEST(ReplyParser, StartTlsInTheGreetingLineDoesNotCount) {
  ReplyParser parser(512, 4096);
  ASSERT_EQ(feedAll(parser, "250-STARTTLS\r\n250 SIZE 100\r\n", 100), ParseStatus::Done);
  EXPECT_FALSE(smtp::offersStartTls(parser.reply()));  // the first line is the server's name
}

TEST(ReplyParser, BareLfAndCodeOnlyLines) {
  ReplyParser parser(512, 4096);
  ASSERT_EQ(feedAll(parser, "250-a\n250\n", 100), ParseStatus::Done);
  EXPECT_EQ(parser.reply(), (smtp::Reply{250, {"a", ""}}));
}

TEST(ReplyParser, BytesAfterAReplyAreLeftToTheCaller) {
  ReplyParser parser(512, 4096);
  std::string rest;
  ASSERT_EQ(feedAll(parser, "220 go ahead\r\n\x16\x03\x01", 100, &rest), ParseStatus::Done);
  EXPECT_EQ(rest, "\x16\x03\x01");
  parser.reset();
  ASSERT_EQ(feedAll(parser, "421 busy\r\n", 100), ParseStatus::Done);
  EXPECT_EQ(parser.reply().code, 421);
}

TEST(ReplyParser, LineLimitCountsCrLf) {
  const std::string at_limit = "250 " + std::string(10 - 4 - 2, 'x') + "\r\n";  // 10 bytes
  ASSERT_EQ(at_limit.size(), 10u);
  ReplyParser ok(10, 4096);
  EXPECT_EQ(feedAll(ok, at_limit, 1), ParseStatus::Done);
  ReplyParser over(10, 4096);
  EXPECT_EQ(feedAll(over, "250 " + std::string(5, 'x') + "\r\n", 1), ParseStatus::TooLong);
  // Without a line end at all: stops at the limit, not at the end of the data.
  ReplyParser endless(10, 1 << 20);
  std::string rest;
  EXPECT_EQ(feedAll(endless, std::string(100000, 'x'), 4096, &rest), ParseStatus::TooLong);
  EXPECT_GT(rest.size(), 99000u);
}

TEST(ReplyParser, ReplyLimitStopsAnEndlessMultiLineReply) {
  std::string reply;
  for (int i = 0; i < 1000; ++i) reply += "250-X-FILLER " + std::to_string(i) + "\r\n";
  ReplyParser parser(512, 4096);
  std::string rest;
  EXPECT_EQ(feedAll(parser, reply, 1000, &rest), ParseStatus::TooLong);
  EXPECT_EQ(reply.size() - rest.size(), 4097u);  // consumed up to the byte over the limit
  // The error is sticky until reset().
  size_t consumed = 99;
  EXPECT_EQ(parser.feed("250 ok\r\n", consumed), ParseStatus::TooLong);
  EXPECT_EQ(consumed, 0u);
}

TEST(ReplyParser, Garbage) {
  for (const std::string bad : {"hello\r\n", "22\r\n", "220x\r\n", "600 too high\r\n", "120 too low\r\n",
                                "2a0 x\r\n", "250-a\r\n251 b\r\n", "SSH-2.0-OpenSSH\r\n"}) {
    ReplyParser parser(512, 4096);
    EXPECT_EQ(feedAll(parser, bad, 2), ParseStatus::Garbage) << bad;
  }
}

TEST(ReplyParser, SummaryIsOneShortPrintableLine) {
  EXPECT_EQ(smtp::summary(smtp::Reply{421, {"4.7.0 busy", "second"}}), "421 4.7.0 busy");
  EXPECT_EQ(smtp::summary(smtp::Reply{554, {}}), "554");
  EXPECT_EQ(smtp::summary(smtp::Reply{554, {std::string("a\x01\xff", 3)}}), "554 a??");
  EXPECT_EQ(smtp::summary(smtp::Reply{250, {std::string(500, 'y')}}).size(), 120u);
}

const std::string kSha256(64, 'a');  // 32 bytes of 0xaa

TEST(Tlsa, Parse) {
  auto r = tls::parseTlsa("3 1 1 " + kSha256);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->usage, 3);
  EXPECT_EQ(r->selector, 1);
  EXPECT_EQ(r->matching_type, 1);
  EXPECT_EQ(r->data, std::vector<uint8_t>(32, 0xaa));
  EXPECT_EQ(tls::parseTlsa("2 0 1 ABcd")->data, (std::vector<uint8_t>{0xab, 0xcd}));
  for (const std::string bad : {"", "3 1 1", "3 1 1 ", "3 1 1 abc", "3 1 1 zz", "x 1 1 aa", "3 1 1000 aa", "256 1 1 aa"}) {
    EXPECT_FALSE(tls::parseTlsa(bad)) << bad;
  }
}

TEST(Tlsa, Usability) {
  EXPECT_TRUE(tls::hasUsableTlsa({"3 1 1 " + kSha256}));
  EXPECT_TRUE(tls::hasUsableTlsa({"1 1 1 " + kSha256, "2 0 1 " + kSha256}));
  EXPECT_FALSE(tls::hasUsableTlsa({}));
  EXPECT_FALSE(tls::hasUsableTlsa({"1 1 1 " + kSha256, "0 0 1 " + kSha256}));  // PKIX usages
  EXPECT_FALSE(tls::hasUsableTlsa({"3 1 255 " + kSha256, "3 2 1 " + kSha256, "3 1 1 aabb"}));  // malformed
  EXPECT_FALSE(tls::hasUsableDaneTa({"3 1 1 " + kSha256, "2 1 255 " + kSha256}));
  EXPECT_TRUE(tls::hasUsableDaneTa({"3 1 1 " + kSha256, "2 1 1 " + kSha256}));
}

TEST(ProbeKey, SameRRsetInAnyOrderAndCaseIsOneProbe) {
  tls::ProbeTarget a{"127.0.0.1", 25, "mx.example", {"mx.example", "example"}, {"3 1 1 " + kSha256, "3 0 1 " + kSha256}};
  tls::ProbeTarget b = a;
  std::swap(b.tlsa[0], b.tlsa[1]);
  b.tlsa[0] = "3 0 1 " + std::string(64, 'A');
  b.reference_names = {"other.example"};  // DANE-EE only: names do not matter
  EXPECT_EQ(tls::probeKey(a), tls::probeKey(b));
  for (auto change : std::vector<void (*)(tls::ProbeTarget&)>{
           [](tls::ProbeTarget& t) { t.address = "127.0.0.2"; },
           [](tls::ProbeTarget& t) { t.port = 2525; },
           [](tls::ProbeTarget& t) { t.tlsa_base = "mx2.example"; },
           [](tls::ProbeTarget& t) { t.tlsa.pop_back(); },
       }) {
    tls::ProbeTarget c = a;
    change(c);
    EXPECT_NE(tls::probeKey(a), tls::probeKey(c));
  }
}

// The key is the probe: one per address, base and RRset, whatever the reference names, also
// with DANE-TA (the Prober probes again only when a DANE-TA outcome depended on names: the lab
// test lab.probe.catalogue shows it).
TEST(ProbeKey, ReferenceNamesAreNotPartOfTheKey) {
  tls::ProbeTarget a{"127.0.0.1", 25, "mx.example", {"mx.example", "example"}, {"2 1 1 " + kSha256}};
  tls::ProbeTarget b = a;
  b.reference_names = {"mx.example", "other.example"};
  EXPECT_EQ(tls::probeKey(a), tls::probeKey(b));
}

}  // namespace
}  // namespace danescan::scanner
