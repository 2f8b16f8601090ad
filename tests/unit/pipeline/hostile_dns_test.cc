// The lookups under hostile DNS data (issue 11, section 5): more MX hosts than the scan looks
// up, TLSA names too long to exist, CNAME loops, and resolver-rotated TLSA RRsets. Scripted
// answers, no sockets.
#include "scanner/pipeline/domain_lookup.h"
#include "scanner/pipeline/host_lookup.h"
#include "scripted_dns.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace danescan::scanner::pipeline {
namespace {

using namespace testing;

const std::string K1(64, 'a');
const std::string K2(64, 'b');
const std::string K3(64, 'c');

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

void secureHost(Script& s, const std::string& name, const std::string& ip) {
  s.rr(name, CNAME, "NOERROR", true);
  s.rr(name, A, "NOERROR", true, {name + ". 3600 IN A " + ip});
  s.rr(name, AAAA, "NOERROR", true);
}

// A name of 251 characters (253 octets on the wire): valid, but _25._tcp.<it> has 262 octets.
std::string longName(const std::string& zone) {
  const std::string name = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                           std::string(251 - 3 * 64 - 1 - zone.size(), 'd') + "." + zone;
  EXPECT_EQ(name.size(), 251u);
  return name;
}

size_t tlsaQuestions(const Script& s) {
  return std::count_if(s.asked().begin(), s.asked().end(), [](const std::string& q) { return q.find(" TLSA") != std::string::npos; });
}

// --- MX hosts per domain ---------------------------------------------------------------------

// 15 exchanges (preferences 150 down to 10, two tied at 50): the ten most preferred, ties by
// name, are looked up; the other five never get a question; mx-limit-reached says so.
TEST(HostileDns, MoreMxHostsThanTheLimitLooksUpTheMostPreferredOnly) {
  Script s;
  std::vector<std::string> mx;
  for (int i = 1; i <= 14; ++i) mx.push_back("many.test. 3600 IN MX " + std::to_string((15 - i) * 10) + " h" + std::to_string(i) + ".many.test.");
  mx.push_back("many.test. 3600 IN MX 50 h0.many.test.");  // ties with h10 (preference 50)
  s.rr("many.test", MX, "NOERROR", true, mx);
  for (int i = 0; i <= 14; ++i) secureHost(s, "h" + std::to_string(i) + ".many.test", "192.0.2." + std::to_string(i + 1));
  for (int i = 0; i <= 14; ++i) s.rr("_25._tcp.h" + std::to_string(i) + ".many.test", TLSA, "NXDOMAIN", true);
  const auto d = runDomain("many.test", s, {.allow_special_addresses = true, .max_mx_hosts = 10});
  ASSERT_EQ(d.mx.size(), 10u);
  // hN has preference (15 - N) * 10, h0 ties with h10 at 50 and comes first by name.
  const std::vector<std::string> want = {"h14", "h13", "h12", "h11", "h0", "h10", "h9", "h8", "h7", "h6"};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(d.mx[i].host, want[i] + ".many.test") << i;
  EXPECT_TRUE(has(d.findings, "mx-limit-reached"));
  for (const char* cut : {"h1", "h2", "h3", "h4", "h5"}) EXPECT_FALSE(s.wasAsked(std::string(cut) + ".many.test", A)) << cut;
  EXPECT_EQ(d.verdict, "dnssec-no-tlsa");
}

TEST(HostileDns, AsManyMxHostsAsTheLimitIsNoFinding) {
  Script s;
  s.rr("three.test", MX, "NOERROR", true,
       {"three.test. 3600 IN MX 10 a.three.test.", "three.test. 3600 IN MX 20 b.three.test.", "three.test. 3600 IN MX 30 c.three.test."});
  for (const char* h : {"a", "b", "c"}) {
    secureHost(s, std::string(h) + ".three.test", "192.0.2.9");
    s.rr("_25._tcp." + std::string(h) + ".three.test", TLSA, "NXDOMAIN", true);
  }
  const auto d = runDomain("three.test", s, {.allow_special_addresses = true, .max_mx_hosts = 3});
  EXPECT_EQ(d.mx.size(), 3u);
  EXPECT_FALSE(has(d.findings, "mx-limit-reached"));
  const auto cut = [&] {
    Script t = s;
    return runDomain("three.test", t, {.allow_special_addresses = true, .max_mx_hosts = 2});
  }();
  ASSERT_EQ(cut.mx.size(), 2u);
  EXPECT_EQ(cut.mx[1].host, "b.three.test");
  EXPECT_TRUE(has(cut.findings, "mx-limit-reached"));
}

// --- TLSA names too long -----------------------------------------------------------------------

// The case: no query is sent for the unencodable name, so nothing is stored as a
// TIMEOUT with 0 attempts; the secure host is no-tlsa and the domain dnssec-no-tlsa, not dane-fail.
TEST(HostileDns, SecureHostWhoseTlsaNameIsTooLongIsNoTlsaWithoutALookup) {
  const std::string host = longName("long.test");
  Script s;
  s.rr("long.test", MX, "NOERROR", true, {"long.test. 3600 IN MX 10 " + host + "."});
  secureHost(s, host, "192.0.2.7");
  const auto d = runDomain("long.test", s, {.allow_special_addresses = true});
  ASSERT_EQ(d.mx.size(), 1u);
  const auto& h = d.mx[0];
  EXPECT_EQ(h.dane, "no-tlsa");
  EXPECT_FALSE(h.tlsa_rcode.has_value());  // no lookup was made
  EXPECT_FALSE(h.tlsa_base.has_value());
  EXPECT_EQ(h.host_findings, (std::vector<std::string>{"tlsa-name-too-long"}));
  EXPECT_EQ(tlsaQuestions(s), 0u);
  for (const auto& q : h.queries) EXPECT_NE(q.rcode, "TIMEOUT") << q.name;
  EXPECT_EQ(d.verdict, "dnssec-no-tlsa");
  EXPECT_EQ(d.findings, (std::vector<std::string>{"tlsa-name-too-long"}));
}

TEST(HostileDns, InsecureHostWithATooLongTlsaNameSkipsTheInformationalLookup) {
  const std::string host = longName("long.test");
  Script s;
  s.rr(host, CNAME, "NOERROR", false);
  s.rr(host, A, "NOERROR", false, {host + ". 3600 IN A 192.0.2.7"});
  s.rr(host, AAAA, "NOERROR", false);
  const auto h = runHost(host, s, {.allow_special_addresses = true});
  EXPECT_EQ(h.dane, "insecure");
  EXPECT_EQ(h.host_findings, (std::vector<std::string>{"tlsa-name-too-long"}));
  EXPECT_EQ(tlsaQuestions(s), 0u);
}

// A secure alias whose expanded name is too long: that base has no TLSA RRset, so the original
// name is the next base (as when securely absent) and its records decide.
TEST(HostileDns, TooLongExpandedNameFallsBackToTheOriginalName) {
  const std::string target = longName("far.test");
  Script s;
  s.rr("mx.alias.test", CNAME, "NOERROR", true, {"mx.alias.test. 3600 IN CNAME " + target + "."});
  s.rr("mx.alias.test", A, "NOERROR", true, {"mx.alias.test. 3600 IN CNAME " + target + ".", target + ". 3600 IN A 192.0.2.8"});
  s.rr("mx.alias.test", AAAA, "NOERROR", true, {"mx.alias.test. 3600 IN CNAME " + target + "."});
  s.rr("_25._tcp.mx.alias.test", TLSA, "NOERROR", true, {"_25._tcp.mx.alias.test. 3600 IN TLSA 3 1 1 " + K1});
  const auto h = runHost("mx.alias.test", s, {.allow_special_addresses = true});
  EXPECT_EQ(h.dane, "unprobed");
  EXPECT_EQ(h.tlsa_base, "mx.alias.test");
  EXPECT_TRUE(has(h.host_findings, "tlsa-name-too-long"));
  EXPECT_FALSE(has(h.host_findings, "tlsa-lookup-failure"));
  EXPECT_EQ(tlsaQuestions(s), 1u);
}

// --- CNAME loops -------------------------------------------------------------------------------

// unbound answers SERVFAIL (also with CD=1) to the address queries of a looping alias; the
// explicit CNAME queries show the loop: mx -> loop -> mx.
TEST(HostileDns, ServfailAtALoopingAliasIsACnameLoop) {
  Script s;
  s.rr("mx.loop.test", CNAME, "NOERROR", true, {"mx.loop.test. 3600 IN CNAME loop.loop.test."});
  s.rr("loop.loop.test", CNAME, "NOERROR", true, {"loop.loop.test. 3600 IN CNAME mx.loop.test."});
  for (uint16_t type : {A, AAAA}) {
    s.rr("mx.loop.test", type, "SERVFAIL", false);
    s.rr("mx.loop.test", type, "SERVFAIL", false, {}, true);
  }
  const auto h = runHost("mx.loop.test", s);
  EXPECT_EQ(h.dane, "lookup-error");
  EXPECT_TRUE(has(h.host_findings, "cname-loop"));
  EXPECT_TRUE(s.wasAsked("loop.loop.test", CNAME));
  EXPECT_EQ(tlsaQuestions(s), 0u);
}

// A resolver that returns the loop itself (NOERROR, no address): cname-loop, no TLSA lookup at
// a name of the loop.
TEST(HostileDns, ALoopInTheAnswerIsACnameLoop) {
  Script s;
  const std::vector<std::string> loop = {"mx.loop.test. 3600 IN CNAME loop.loop.test.", "loop.loop.test. 3600 IN CNAME mx.loop.test."};
  s.rr("mx.loop.test", CNAME, "NOERROR", true, {loop[0]});
  s.rr("mx.loop.test", A, "NOERROR", true, loop);
  s.rr("mx.loop.test", AAAA, "NOERROR", true, loop);
  const auto h = runHost("mx.loop.test", s);
  EXPECT_EQ(h.dane, "lookup-error");
  EXPECT_TRUE(has(h.host_findings, "cname-loop"));
  EXPECT_TRUE(h.addresses.empty());
  EXPECT_EQ(tlsaQuestions(s), 0u);
}

// A chain longer than the scanner follows (c0 -> c1 -> ... never ending) is cut after 16 links.
TEST(HostileDns, AnEndlessChainIsFollowedABoundedWayAndIsACnameLoop) {
  Script s;
  s.rr("mx.long.test", CNAME, "NOERROR", true, {"mx.long.test. 3600 IN CNAME c0.long.test."});
  for (int i = 0; i < 40; ++i) {
    const std::string from = "c" + std::to_string(i) + ".long.test";
    s.rr(from, CNAME, "NOERROR", true, {from + ". 3600 IN CNAME c" + std::to_string(i + 1) + ".long.test."});
  }
  for (uint16_t type : {A, AAAA}) {
    s.rr("mx.long.test", type, "SERVFAIL", false);
    s.rr("mx.long.test", type, "SERVFAIL", false, {}, true);
  }
  HostLookup lookup("mx.long.test", {});
  for (int rounds = 0; !lookup.done() && rounds < 100; ++rounds) {
    for (const QueryRequest& r : lookup.takeRequests()) lookup.consume(r.id, s.reply(r.question, r.cd));
  }
  ASSERT_TRUE(lookup.done());
  const auto h = lookup.takeRecord();
  EXPECT_TRUE(has(h.host_findings, "cname-loop"));
  EXPECT_EQ(h.dane, "lookup-error");
  EXPECT_FALSE(s.wasAsked("c20.long.test", CNAME));
  EXPECT_LE(s.asked().size(), 3u + 2u + 16u);
}

// A chain that ends (the target has no CNAME) under a SERVFAIL is a broken server, not a loop.
TEST(HostileDns, AnEndingChainUnderServfailIsNoCnameLoop) {
  Script s;
  s.rr("mx.broken.test", CNAME, "NOERROR", true, {"mx.broken.test. 3600 IN CNAME mx.far.test."});
  s.rr("mx.far.test", CNAME, "NOERROR", true);
  for (uint16_t type : {A, AAAA}) {
    s.rr("mx.broken.test", type, "SERVFAIL", false);
    s.rr("mx.broken.test", type, "SERVFAIL", false, {}, true);
  }
  const auto h = runHost("mx.broken.test", s);
  EXPECT_EQ(h.dane, "lookup-error");
  EXPECT_FALSE(has(h.host_findings, "cname-loop"));
}

// --- Deterministic TLSA RRsets -----------------------------------------------------------------

// A resolver rotates an RRset's order; the host object keeps it sorted, so identical data gives
// identical records (and export lines) whatever the order.
TEST(HostileDns, TlsaRecordsAreSortedWhateverTheAnswerOrder) {
  auto run = [](std::vector<std::string> rdatas) {
    Script s;
    secureHost(s, "mx.rot.test", "192.0.2.5");
    std::vector<std::string> rrs;
    for (const auto& r : rdatas) rrs.push_back("_25._tcp.mx.rot.test. 3600 IN TLSA " + r);
    s.rr("_25._tcp.mx.rot.test", TLSA, "NOERROR", true, rrs);
    return runHost("mx.rot.test", s, {.allow_special_addresses = true}).tlsa;
  };
  const std::vector<std::string> sorted = {"2 1 1 " + K3, "3 1 1 " + K1, "3 1 1 " + K2};
  EXPECT_EQ(run({"3 1 1 " + K2, "2 1 1 " + K3, "3 1 1 " + K1}), sorted);
  EXPECT_EQ(run({"3 1 1 " + K1, "3 1 1 " + K2, "2 1 1 " + K3}), sorted);
}

}  // namespace
}  // namespace danescan::scanner::pipeline
