// The question sources: a dnsperf file read as dnsperf reads it, and the DANE mix of a domain
// list, driven by scripted answers (no sockets).
#include "scanner/loadgen/question_source.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace danescan::scanner::loadgen {
namespace {

using dns::Question;
constexpr uint16_t kMx = 15, kA = 1, kAaaa = 28, kCname = 5, kTlsa = 52;

std::string writeTemp(const std::string& text) {
  char path[] = "/tmp/loadgen_test_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(QuestionFile, ReadsDnsperfLinesAndCycles) {
  const std::string path = writeTemp("; comment\n\nExample.COM. MX\n_25._tcp.mx.example.com TLSA\n# another\nmx.example.com aaaa\n");
  std::string error;
  auto file = QuestionFile::load(path, error);
  ASSERT_TRUE(file) << error;
  ASSERT_EQ(file->size(), 3u);
  const std::vector<Question> want{{"example.com", kMx}, {"_25._tcp.mx.example.com", kTlsa}, {"mx.example.com", kAaaa}};
  for (int round = 0; round < 2; ++round) {
    for (const Question& q : want) EXPECT_EQ(file->next(), q);
  }
  file->beginPass(1);
  EXPECT_FALSE(file->passDone());
  for (size_t i = 0; i < 3; ++i) (void)file->next();
  EXPECT_TRUE(file->passDone());
  std::remove(path.c_str());
}

TEST(QuestionFile, RejectsBadLinesWithTheirPlace) {
  std::string error;
  const std::string bad_type = writeTemp("a.example MX\nb.example NOSUCHTYPE\n");
  EXPECT_FALSE(QuestionFile::load(bad_type, error));
  EXPECT_EQ(error, bad_type + ":2: unknown type 'NOSUCHTYPE'");
  const std::string missing = writeTemp("a.example\n");
  EXPECT_FALSE(QuestionFile::load(missing, error));
  EXPECT_EQ(error, missing + ":1: expected 'name type'");
  EXPECT_FALSE(QuestionFile::load("/nonexistent/q.txt", error));
  EXPECT_EQ(error, "cannot read question file '/nonexistent/q.txt'");
  std::remove(bad_type.c_str());
  std::remove(missing.c_str());
}

dns::Response mxAnswer(std::vector<std::string> exchanges, unsigned rcode = 0) {
  dns::Response r;
  r.rcode = rcode;
  for (auto& e : exchanges) r.mx.push_back(dns::MxRecord{10, e});
  return r;
}

TEST(DaneMix, AsksWhatAScanAsksInItsOrder) {
  DaneMix mix({"a.example", "b.example", "c.example", "d.example", "e.example"});
  mix.beginPass(0);
  EXPECT_EQ(mix.next(), (Question{"a.example", kMx}));
  EXPECT_EQ(mix.next(), (Question{"b.example", kMx}));
  // a: two hosts; the host questions go before the next domain's MX.
  const dns::Response a = mxAnswer({"mx1.example.net", "mx2.example.net"});
  mix.onOutcome({"a.example", kMx}, &a);
  const std::vector<Question> hosts{{"mx1.example.net", kCname}, {"mx1.example.net", kA}, {"mx1.example.net", kAaaa},
                                    {"_25._tcp.mx1.example.net", kTlsa}, {"mx2.example.net", kCname}, {"mx2.example.net", kA},
                                    {"mx2.example.net", kAaaa}, {"_25._tcp.mx2.example.net", kTlsa}};
  for (const Question& q : hosts) EXPECT_EQ(mix.next(), q);
  EXPECT_EQ(mix.next(), (Question{"c.example", kMx}));
  EXPECT_EQ(mix.next(), (Question{"d.example", kMx}));
  EXPECT_EQ(mix.next(), (Question{"e.example", kMx}));
  // b shares a host with a (asked once); c has no MX records (implicit MX: the domain itself);
  // d is NXDOMAIN; e is lost; the list is used up.
  const dns::Response b = mxAnswer({"mx1.example.net"});
  mix.onOutcome({"b.example", kMx}, &b);
  EXPECT_FALSE(mix.passDone());
  const dns::Response c = mxAnswer({});
  mix.onOutcome({"c.example", kMx}, &c);
  const dns::Response d = mxAnswer({}, 3);
  mix.onOutcome({"d.example", kMx}, &d);
  const std::vector<Question> implicit{{"c.example", kCname}, {"c.example", kA}, {"c.example", kAaaa}, {"_25._tcp.c.example", kTlsa}};
  for (const Question& q : implicit) EXPECT_EQ(mix.next(), q);
  EXPECT_EQ(mix.next(), std::nullopt);  // e's answer may still name hosts
  EXPECT_FALSE(mix.passDone());
  mix.onOutcome({"e.example", kMx}, nullptr);
  EXPECT_TRUE(mix.passDone());
  EXPECT_EQ(mix.script().size(), 5u + 8u + 4u);
  // Pass 0 is over: nothing more until the next pass, which is exactly the script, once.
  EXPECT_EQ(mix.next(), std::nullopt);
  mix.beginPass(1);
  std::vector<Question> pass2;
  while (auto q = mix.next()) pass2.push_back(*q);
  EXPECT_EQ(pass2, mix.script());
  EXPECT_TRUE(mix.passDone());
}

TEST(DaneMix, ATimedRunCyclesTheListWhileItsLastAnswersAreAwaited) {
  // A fixed rate or a ramp never calls beginPass: when the list is used up the script starts
  // again at once, even though MX answers that may name hosts are still awaited (a list that
  // waits for them would offer nothing, and the bench would blame the client); hosts learned
  // from a late answer join the mix, and the repeated MX question teaches nothing twice.
  DaneMix mix({"a.example", "b.example"});
  EXPECT_EQ(mix.next(), (Question{"a.example", kMx}));
  EXPECT_EQ(mix.next(), (Question{"b.example", kMx}));
  const dns::Response a = mxAnswer({"mx.example.net"});
  EXPECT_TRUE(mix.wantsRecords({"a.example", kMx}));
  mix.onOutcome({"a.example", kMx}, &a);
  for (int i = 0; i < 4; ++i) EXPECT_NE(mix.next(), std::nullopt);  // mx.example.net's four questions
  // The list is used up and b's answer has not come: the script so far, from its start.
  const std::vector<Question> first_six = mix.script();
  ASSERT_EQ(first_six.size(), 6u);
  for (int round = 0; round < 3; ++round) {
    for (const Question& q : first_six) EXPECT_EQ(mix.next(), q);
  }
  // b's answer comes late and names a new host: its questions are asked next and join the cycle.
  const dns::Response b = mxAnswer({"mx.example.org"});
  EXPECT_TRUE(mix.wantsRecords({"b.example", kMx}));
  mix.onOutcome({"b.example", kMx}, &b);
  EXPECT_EQ(mix.next(), (Question{"mx.example.org", kCname}));
  for (int i = 0; i < 3; ++i) (void)mix.next();
  EXPECT_EQ(mix.script().size(), 10u);
  // An answer to a repeated MX question teaches nothing (b is no longer awaited).
  EXPECT_FALSE(mix.wantsRecords({"b.example", kMx}));
  const dns::Response other = mxAnswer({"mx.example.com"});
  mix.onOutcome({"b.example", kMx}, &other);
  std::vector<Question> cycle;
  for (int i = 0; i < 20; ++i) cycle.push_back(*mix.next());
  for (const Question& q : cycle) EXPECT_NE(q.name, "mx.example.com");
  EXPECT_EQ(mix.script().size(), 10u);
}

TEST(DaneMix, NullMxAndInvalidExchangesHaveNoHosts) {
  DaneMix mix({"null.example"});
  mix.beginPass(0);
  (void)mix.next();
  const dns::Response null_mx = mxAnswer({""});
  mix.onOutcome({"null.example", kMx}, &null_mx);
  EXPECT_TRUE(mix.passDone());
  EXPECT_EQ(mix.script().size(), 1u);
}

}  // namespace
}  // namespace danescan::scanner::loadgen
