// HostLookup driven by scripted answers: one test per rule of RFC 7672 section 2.2 and the
// catalogue decisions (tests/lab/README.md), mostly mirroring a lab scenario.
#include "scanner/pipeline/host_lookup.h"

#include "scripted_dns.h"

#include <gtest/gtest.h>

namespace danescan::scanner::pipeline {
namespace {

using namespace testing;

const std::string K1(4 * 16, 'a');          // SHA-256 sized association data
const std::string K2 = std::string(64, 'b');
const std::string K3 = std::string(64, 'c');
const std::string kShort(62, 'a');          // one byte short for SHA-256: malformed

std::string tlsaRr(const std::string& owner, const std::string& rdata) { return owner + ". 3600 IN TLSA " + rdata; }

// A host with a secure A record (and secure NODATA for AAAA and CNAME).
void secureHost(Script& s, const std::string& name, const std::string& ip) {
  s.rr(name, CNAME, "NOERROR", true);
  s.rr(name, A, "NOERROR", true, {name + ". 3600 IN A " + ip});
  s.rr(name, AAAA, "NOERROR", true);
}

void insecureHost(Script& s, const std::string& name, const std::string& ip) {
  s.rr(name, CNAME, "NOERROR", false);
  s.rr(name, A, "NOERROR", false, {name + ". 3600 IN A " + ip});
  s.rr(name, AAAA, "NOERROR", false);
}

void secureTlsa(Script& s, const std::string& base, const std::vector<std::string>& rdatas) {
  std::vector<std::string> rrs;
  for (const auto& r : rdatas) rrs.push_back(tlsaRr("_25._tcp." + base, r));
  s.rr("_25._tcp." + base, TLSA, "NOERROR", true, rrs);
}

storage::HostRecord expected(const std::string& host) {
  storage::HostRecord h;
  h.host = host;
  h.addr_rcode = "NOERROR";
  h.cname_rcode = "NOERROR";
  return h;
}

TEST(HostLookup, SecureHostWithUsableTlsaIsUnprobed) {
  Script s;
  secureHost(s, "mx.dane-ok.test", "192.0.2.43");
  secureTlsa(s, "mx.dane-ok.test", {"3 1 1 " + K1, "3 1 1 " + K2});
  const auto h = runHost("mx.dane-ok.test", s, {.allow_special_addresses = true});

  auto want = expected("mx.dane-ok.test");
  want.addr_secure = true;
  want.addresses = {"192.0.2.43"};
  want.tlsa_base = "mx.dane-ok.test";
  want.tlsa_rcode = "NOERROR";
  want.tlsa = {"3 1 1 " + K1, "3 1 1 " + K2};
  want.dane = "unprobed";
  EXPECT_EQ(contractOnly(h), want);
  // The CNAME query goes first, A and AAAA beside it, then TLSA.
  EXPECT_EQ(s.asked(), (std::vector<std::string>{"mx.dane-ok.test CNAME", "mx.dane-ok.test A", "mx.dane-ok.test AAAA",
                                                 "_25._tcp.mx.dane-ok.test TLSA"}));
  EXPECT_FALSE(h.cname_secure);  // secure NODATA: not an alias
}

TEST(HostLookup, RecordsTheEvidenceOfEveryQuery) {
  Script s;
  secureHost(s, "mx.a.test", "192.0.2.1");
  s.on("_25._tcp.mx.a.test", TLSA, answer("_25._tcp.mx.a.test", TLSA, "SERVFAIL", false, {}, {6}));
  s.rr("_25._tcp.mx.a.test", TLSA, "NOERROR", false, {tlsaRr("_25._tcp.mx.a.test", "3 1 1 " + K1)}, true);
  const auto h = runHost("mx.a.test", s, {.allow_special_addresses = true});
  ASSERT_EQ(h.queries.size(), 5u);
  EXPECT_EQ(h.queries[0].purpose, "cname");
  EXPECT_EQ(h.queries[1].purpose, "a");
  EXPECT_EQ(h.queries[1].rcode, "NOERROR");
  EXPECT_TRUE(h.queries[1].ad);
  EXPECT_EQ(dns::answerText(h.queries[1].answer_wire), "mx.a.test. 3600 IN A 192.0.2.1");
  EXPECT_EQ(h.queries[1].resolver, "127.53.1.1:53");
  EXPECT_EQ(h.queries[1].attempts, 1u);
  EXPECT_EQ(h.queries[2].purpose, "aaaa");
  EXPECT_EQ(h.queries[3].purpose, "tlsa");
  EXPECT_EQ(h.queries[3].rcode, "SERVFAIL");
  EXPECT_EQ(h.queries[3].ede, (std::vector<uint16_t>{6}));
  EXPECT_FALSE(h.queries[3].cd);
  EXPECT_EQ(h.queries[4].purpose, "tlsa+cd");
  EXPECT_TRUE(h.queries[4].cd);
  EXPECT_EQ(h.queries[4].rcode, "NOERROR");
  EXPECT_EQ(h.queries[4].type, TLSA);
}

TEST(HostLookup, AliasWithTlsaOnlyAtTheAliasTriesTheOriginalAfterASecureNxdomain) {
  // alias-only.test: the chain is secure, _25._tcp.mail is securely absent.
  Script s;
  s.rr("mx.alias-only.test", CNAME, "NOERROR", true, {"mx.alias-only.test. 3600 IN CNAME mail.alias-only.test."});
  s.rr("mx.alias-only.test", A, "NOERROR", true,
       {"mx.alias-only.test. 3600 IN CNAME mail.alias-only.test.", "mail.alias-only.test. 3600 IN A 192.0.2.41"});
  s.rr("mx.alias-only.test", AAAA, "NOERROR", true, {"mx.alias-only.test. 3600 IN CNAME mail.alias-only.test."});
  s.rr("_25._tcp.mail.alias-only.test", TLSA, "NXDOMAIN", true);
  secureTlsa(s, "mx.alias-only.test", {"3 1 1 " + K1, "3 1 1 " + K2});
  const auto h = runHost("mx.alias-only.test", s, {.allow_special_addresses = true});

  auto want = expected("mx.alias-only.test");
  want.cname_chain = {"mail.alias-only.test"};
  want.addr_secure = true;
  want.addresses = {"192.0.2.41"};
  want.tlsa_base = "mx.alias-only.test";
  want.tlsa_rcode = "NOERROR";
  want.tlsa = {"3 1 1 " + K1, "3 1 1 " + K2};
  want.dane = "unprobed";
  want.host_findings = {"mx-is-cname", "tlsa-alias-only"};
  EXPECT_EQ(contractOnly(h), want);
  EXPECT_EQ(h.tlsa_other_base, "mail.alias-only.test");
  EXPECT_EQ(h.tlsa_other_rcode, "NXDOMAIN");
  // The expanded name first.
  EXPECT_EQ(s.asked()[3], "_25._tcp.mail.alias-only.test TLSA");
  EXPECT_EQ(s.asked()[4], "_25._tcp.mx.alias-only.test TLSA");
}

void secureAlias(Script& s, const std::string& alias, const std::string& target, const std::string& ip) {
  const std::string cname = alias + ". 3600 IN CNAME " + target + ".";
  s.rr(alias, CNAME, "NOERROR", true, {cname});
  s.rr(alias, A, "NOERROR", true, {cname, target + ". 3600 IN A " + ip});
  s.rr(alias, AAAA, "NOERROR", true, {cname});
}

TEST(HostLookup, CanonicalEndFoundLooksUpTheOtherEndForTheFindingsOnly) {
  Script s;
  secureAlias(s, "mx.c.test", "mail.c.test", "192.0.2.42");
  secureTlsa(s, "mail.c.test", {"3 1 1 " + K1, "3 1 1 " + K2});
  s.rr("_25._tcp.mx.c.test", TLSA, "NXDOMAIN", true);
  const auto h = runHost("mx.c.test", s, {.allow_special_addresses = true});
  EXPECT_EQ(h.tlsa_base, "mail.c.test");
  EXPECT_EQ(h.dane, "unprobed");
  EXPECT_EQ(h.host_findings, (std::vector<std::string>{"mx-is-cname", "tlsa-canonical-only"}));
  EXPECT_EQ(h.tlsa_other_base, "mx.c.test");
  EXPECT_EQ(h.tlsa_other_rcode, "NXDOMAIN");
  EXPECT_EQ(h.queries.back().purpose, "tlsa-other");
}

TEST(HostLookup, BothEndsDifferAsSetsButNotInOrder) {
  Script s;
  secureAlias(s, "mx.d.test", "mail.d.test", "192.0.2.38");
  secureTlsa(s, "mail.d.test", {"3 1 1 " + K1, "3 1 1 " + K2});
  secureTlsa(s, "mx.d.test", {"3 1 1 " + K2, "3 1 1 " + K3});
  auto h = runHost("mx.d.test", s, {.allow_special_addresses = true});
  EXPECT_EQ(h.tlsa_base, "mail.d.test");
  EXPECT_EQ(h.tlsa_other, (std::vector<std::string>{"3 1 1 " + K2, "3 1 1 " + K3}));
  EXPECT_EQ(h.host_findings, (std::vector<std::string>{"mx-is-cname", "tlsa-alias-canonical-differ"}));

  Script same;
  secureAlias(same, "mx.e.test", "mail.e.test", "192.0.2.39");
  secureTlsa(same, "mail.e.test", {"3 1 1 " + K1, "3 1 1 " + K2});
  secureTlsa(same, "mx.e.test", {"3 1 1 " + K2, "3 1 1 " + K1});
  h = runHost("mx.e.test", same, {.allow_special_addresses = true});
  EXPECT_EQ(h.host_findings, (std::vector<std::string>{"mx-is-cname"}));
}

TEST(HostLookup, LookupErrorAtTheExpandedNameStopsTheSearch) {
  Script s;
  secureAlias(s, "mx.f.test", "mail.f.test", "192.0.2.50");
  s.rr("_25._tcp.mail.f.test", TLSA, "SERVFAIL", false);
  s.rr("_25._tcp.mail.f.test", TLSA, "SERVFAIL", false, {}, true);
  const auto h = runHost("mx.f.test", s, {.allow_special_addresses = true});

  auto want = expected("mx.f.test");
  want.cname_chain = {"mail.f.test"};
  want.addr_secure = true;
  want.addresses = {"192.0.2.50"};
  want.tlsa_rcode = "SERVFAIL";
  want.dane = "lookup-error";
  want.host_findings = {"mx-is-cname", "tlsa-lookup-failure"};
  EXPECT_EQ(contractOnly(h), want);
  EXPECT_FALSE(s.wasAsked("_25._tcp.mx.f.test", TLSA));  // the original name is not tried
  EXPECT_TRUE(s.wasAsked("_25._tcp.mail.f.test", TLSA, true));
}

TEST(HostLookup, TimeoutOfTheTlsaLookupIsALookupErrorWithoutCdRepeat) {
  Script s;
  secureHost(s, "mx.g.test", "192.0.2.51");
  s.on("_25._tcp.mx.g.test", TLSA, timeout());
  const auto h = runHost("mx.g.test", s, {.allow_special_addresses = true});
  EXPECT_EQ(h.dane, "lookup-error");
  EXPECT_EQ(h.tlsa_rcode, "TIMEOUT");
  EXPECT_EQ(h.host_findings, (std::vector<std::string>{"tlsa-lookup-failure"}));
  EXPECT_EQ(s.asked().size(), 4u);
}

TEST(HostLookup, BogusTlsaIsALookupErrorWithDnssecBogus) {
  // tlsa-bogus.test: SERVFAIL (EDE 6), the CD=1 repeat returns the records.
  Script s;
  secureHost(s, "mx.tlsa-bogus.test", "192.0.2.69");
  s.on("_25._tcp.mx.tlsa-bogus.test", TLSA, answer("_25._tcp.mx.tlsa-bogus.test", TLSA, "SERVFAIL", false, {}, {6}));
  s.rr("_25._tcp.mx.tlsa-bogus.test", TLSA, "NOERROR", false, {tlsaRr("_25._tcp.mx.tlsa-bogus.test", "3 1 1 " + K1)}, true);
  const auto h = runHost("mx.tlsa-bogus.test", s, {.allow_special_addresses = true});
  auto want = expected("mx.tlsa-bogus.test");
  want.addr_secure = true;
  want.addresses = {"192.0.2.69"};
  want.tlsa_rcode = "SERVFAIL";
  want.dane = "lookup-error";
  want.host_findings = {"dnssec-bogus", "tlsa-lookup-failure"};
  EXPECT_EQ(contractOnly(h), want);
}

TEST(HostLookup, InsecureChainWithSecureCnameUsesOnlyTheOriginalName) {
  // alias-into-unsigned.test: A answer AD=0, explicit CNAME AD=1.
  Script s;
  const std::string cname = "mx.h.test. 3600 IN CNAME host1.unsigned.test.";
  s.rr("mx.h.test", CNAME, "NOERROR", true, {cname});
  s.rr("mx.h.test", A, "NOERROR", false, {cname, "host1.unsigned.test. 3600 IN A 192.0.2.31"});
  s.rr("mx.h.test", AAAA, "NOERROR", false, {cname});
  secureTlsa(s, "mx.h.test", {"3 1 1 " + K1, "3 1 1 " + K2});
  s.rr("_25._tcp.host1.unsigned.test", TLSA, "NXDOMAIN", false);  // informational other end
  const auto h = runHost("mx.h.test", s, {.allow_special_addresses = true});

  auto want = expected("mx.h.test");
  want.cname_chain = {"host1.unsigned.test"};
  want.addresses = {"192.0.2.31"};
  want.tlsa_base = "mx.h.test";
  want.tlsa_rcode = "NOERROR";
  want.tlsa = {"3 1 1 " + K1, "3 1 1 " + K2};
  want.dane = "unprobed";
  want.host_findings = {"mx-is-cname", "tlsa-alias-only"};
  EXPECT_EQ(contractOnly(h), want);
  EXPECT_TRUE(h.cname_secure);
  EXPECT_EQ(h.tlsa_other_base, "host1.unsigned.test");
  EXPECT_EQ(h.queries[3].purpose, "tlsa");
  EXPECT_EQ(h.queries[3].name, "_25._tcp.mx.h.test");
  EXPECT_EQ(h.queries[4].purpose, "tlsa-other");
}

TEST(HostLookup, OutlookAliasNoTlsaAndAFailedOtherEndGivesNoAliasFinding) {
  // outlook-alias.test and outlook-alias-tlsa.test: the other end's SERVFAIL changes nothing.
  for (bool with_tlsa : {false, true}) {
    Script s;
    const std::string cname = "mx.o.test. 3600 IN CNAME o-test.mail.protection.outlook.test.";
    s.rr("mx.o.test", CNAME, "NOERROR", true, {cname});
    s.rr("mx.o.test", A, "NOERROR", false, {cname, "o-test.mail.protection.outlook.test. 3600 IN A 192.0.2.34"});
    s.rr("mx.o.test", AAAA, "NOERROR", false, {cname});
    if (with_tlsa) {
      secureTlsa(s, "mx.o.test", {"3 1 1 " + K1, "3 1 1 " + K2});
    } else {
      s.rr("_25._tcp.mx.o.test", TLSA, "NXDOMAIN", true);
    }
    s.rr("_25._tcp.o-test.mail.protection.outlook.test", TLSA, "SERVFAIL", false);
    s.rr("_25._tcp.o-test.mail.protection.outlook.test", TLSA, "SERVFAIL", false, {}, true);
    const auto h = runHost("mx.o.test", s, {.allow_special_addresses = true});
    EXPECT_EQ(h.dane, with_tlsa ? "unprobed" : "no-tlsa");
    EXPECT_EQ(h.tlsa_rcode, with_tlsa ? "NOERROR" : "NXDOMAIN");
    EXPECT_EQ(h.tlsa_base, with_tlsa ? std::optional<std::string>("mx.o.test") : std::nullopt);
    EXPECT_EQ(h.host_findings, (std::vector<std::string>{"mx-is-cname"}));
    EXPECT_EQ(h.tlsa_other_rcode, "SERVFAIL");
  }
}

TEST(HostLookup, InsecureHostGetsOnlyAnInformationalTlsaLookup) {
  // unsigned-with-tlsa.test: the records are found but not used.
  Script s;
  insecureHost(s, "mx.u.test", "192.0.2.75");
  s.rr("_25._tcp.mx.u.test", TLSA, "NOERROR", false, {tlsaRr("_25._tcp.mx.u.test", "3 1 1 " + K1)});
  auto h = runHost("mx.u.test", s, {.allow_special_addresses = true});
  auto want = expected("mx.u.test");
  want.addresses = {"192.0.2.75"};
  want.dane = "insecure";
  want.host_findings = {"tlsa-in-insecure-zone"};
  EXPECT_EQ(contractOnly(h), want);
  EXPECT_EQ(h.queries.back().purpose, "tlsa-insecure");

  // unsigned.test: nothing published, no finding.
  Script none;
  insecureHost(none, "mx.v.test", "192.0.2.76");
  none.rr("_25._tcp.mx.v.test", TLSA, "NXDOMAIN", false);
  h = runHost("mx.v.test", none, {.allow_special_addresses = true});
  EXPECT_EQ(h.dane, "insecure");
  EXPECT_EQ(h.tlsa_rcode, std::nullopt);
  EXPECT_TRUE(h.host_findings.empty());
}

TEST(HostLookup, OutlookDirectCnameQueryFailureIsHarmless) {
  // outlook-direct.test: NOTIMP -> SERVFAIL for CNAME (also with CD=1), TLSA SERVFAIL.
  Script s;
  const std::string host = "d-test.mail.protection.outlook.test";
  s.rr(host, CNAME, "SERVFAIL", false);
  s.rr(host, CNAME, "SERVFAIL", false, {}, true);
  s.rr(host, A, "NOERROR", false, {host + ". 10 IN A 192.0.2.33"});
  s.rr(host, AAAA, "NOERROR", false);
  s.rr("_25._tcp." + host, TLSA, "SERVFAIL", false);
  s.rr("_25._tcp." + host, TLSA, "SERVFAIL", false, {}, true);
  const auto h = runHost(host, s, {.allow_special_addresses = true});
  auto want = expected(host);
  want.cname_rcode = "SERVFAIL";
  want.addresses = {"192.0.2.33"};
  want.dane = "insecure";
  want.host_findings = {"cname-query-failure"};
  EXPECT_EQ(contractOnly(h), want);
}

TEST(HostLookup, OutlookChainIsInsecureWithCnameQueryFailureAndMxIsCname) {
  Script s;
  const std::string host = "c-test.mail.protection.outlook.test";
  const std::string cname = host + ". 0 IN CNAME c-test-01.mail.protection.outlook.test.";
  s.rr(host, CNAME, "SERVFAIL", false);
  s.rr(host, CNAME, "SERVFAIL", false, {}, true);
  s.rr(host, A, "NOERROR", false, {cname, "c-test-01.mail.protection.outlook.test. 10 IN A 192.0.2.36"});
  s.rr(host, AAAA, "NOERROR", false, {cname});
  s.rr("_25._tcp." + host, TLSA, "SERVFAIL", false);
  s.rr("_25._tcp." + host, TLSA, "SERVFAIL", false, {}, true);
  const auto h = runHost(host, s, {.allow_special_addresses = true});
  auto want = expected(host);
  want.cname_chain = {"c-test-01.mail.protection.outlook.test"};
  want.cname_rcode = "SERVFAIL";
  want.addresses = {"192.0.2.36"};
  want.dane = "insecure";
  want.host_findings = {"cname-query-failure", "mx-is-cname"};
  EXPECT_EQ(contractOnly(h), want);
  EXPECT_EQ(s.asked()[0], host + " CNAME");  // never after A/AAAA
}

TEST(HostLookup, BogusAddressesAreALookupErrorWithoutTlsaLookup) {
  // addr-bogus.test: A, AAAA and CNAME SERVFAIL; CD=1 returns data.
  Script s;
  const std::string host = "mx.addr-bogus.test";
  for (uint16_t type : {CNAME, A, AAAA}) s.on(host, type, answer(host, type, "SERVFAIL", false, {}, {6}));
  s.rr(host, CNAME, "NOERROR", false, {}, true);
  s.rr(host, A, "NOERROR", false, {host + ". 3600 IN A 192.0.2.37"}, true);
  s.rr(host, AAAA, "NOERROR", false, {}, true);
  const auto h = runHost(host, s, {.allow_special_addresses = true});
  auto want = expected(host);
  want.addr_rcode = "SERVFAIL";
  want.cname_rcode = "SERVFAIL";
  want.dane = "lookup-error";
  want.host_findings = {"address-lookup-failure", "dnssec-bogus"};
  EXPECT_EQ(contractOnly(h), want);
  EXPECT_EQ(s.asked().size(), 6u);
  EXPECT_EQ(h.queries[3].purpose, "cname+cd");
}

TEST(HostLookup, DeadHostZoneTimesOut) {
  // host-dead.test: no CD repeat after a timeout; the failed address lookup is the cause.
  Script s;
  for (uint16_t type : {CNAME, A, AAAA}) s.on("mx.dead.test", type, timeout());
  const auto h = runHost("mx.dead.test", s);
  auto want = expected("mx.dead.test");
  want.addr_rcode = "TIMEOUT";
  want.cname_rcode = "TIMEOUT";
  want.dane = "lookup-error";
  want.host_findings = {"address-lookup-failure"};
  EXPECT_EQ(contractOnly(h), want);
  EXPECT_EQ(s.asked().size(), 3u);
}

TEST(HostLookup, AddressRcodeIsTheWorseOfAAndAaaa) {
  Script s;
  s.rr("mx.w.test", CNAME, "NOERROR", true);
  s.rr("mx.w.test", A, "NOERROR", true, {"mx.w.test. 60 IN A 192.0.2.9"});
  s.rr("mx.w.test", AAAA, "SERVFAIL", false);
  s.rr("mx.w.test", AAAA, "SERVFAIL", false, {}, true);
  auto h = runHost("mx.w.test", s, {.allow_special_addresses = true});
  EXPECT_EQ(h.addr_rcode, "SERVFAIL");
  EXPECT_EQ(h.dane, "lookup-error");
  EXPECT_FALSE(h.addr_secure);
  EXPECT_EQ(h.host_findings, (std::vector<std::string>{"address-lookup-failure"}));  // AAAA alone failed

  // NXDOMAIN beats NOERROR; a secure NXDOMAIN host is looked up like any other.
  Script nx;
  nx.rr("mx.x.test", CNAME, "NXDOMAIN", true);
  nx.rr("mx.x.test", A, "NXDOMAIN", true);
  nx.rr("mx.x.test", AAAA, "NXDOMAIN", true);
  nx.rr("_25._tcp.mx.x.test", TLSA, "NXDOMAIN", true);
  h = runHost("mx.x.test", nx);
  EXPECT_EQ(h.addr_rcode, "NXDOMAIN");
  EXPECT_TRUE(h.addr_secure);
  EXPECT_EQ(h.dane, "no-tlsa");
  EXPECT_TRUE(h.host_findings.empty());  // NXDOMAIN is an answer, not a failed lookup
}

TEST(HostLookup, SecureHostWithoutTlsaIsNoTlsa) {
  Script s;
  secureHost(s, "mx.no-tlsa.test", "192.0.2.58");
  s.rr("_25._tcp.mx.no-tlsa.test", TLSA, "NXDOMAIN", true);
  const auto h = runHost("mx.no-tlsa.test", s);
  auto want = expected("mx.no-tlsa.test");
  want.addr_secure = true;
  want.addresses = {"192.0.2.58"};
  want.tlsa_rcode = "NXDOMAIN";
  want.dane = "no-tlsa";
  want.host_findings = {"mx-special-address"};  // 192.0.2.0/24 is documentation space
  EXPECT_EQ(contractOnly(h), want);
}

TEST(HostLookup, InsecureTlsaAnswerUnderASecureNameIsNoTlsa) {
  // tlsa-insecure-cname.test: _25._tcp.<host> is a signed CNAME into an unsigned zone; the
  // contract's no-tlsa covers a TLSA RRset that is itself insecure (RFC 7672 section 2.2).
  Script s;
  secureHost(s, "mx.i.test", "192.0.2.5");
  s.rr("_25._tcp.mx.i.test", TLSA, "NOERROR", false, {tlsaRr("_25._tcp.mx.i.test", "3 1 1 " + K1)});
  const auto h = runHost("mx.i.test", s, {.allow_special_addresses = true});
  EXPECT_EQ(h.dane, "no-tlsa");
  EXPECT_EQ(h.tlsa_rcode, "NOERROR");
  EXPECT_EQ(h.tlsa_base, std::nullopt);
  EXPECT_TRUE(h.tlsa.empty());
  EXPECT_TRUE(h.host_findings.empty());
}

TEST(HostLookup, InsecureTlsaAtTheExpandedNameTriesTheOriginalName) {
  // As a securely absent RRset: the original name of a secure alias is the next base.
  Script s;
  const std::string host = "mx.ie.test", target = "mail.ie.test";
  s.rr(host, CNAME, "NOERROR", true, {host + ". 3600 IN CNAME " + target + "."});
  s.rr(host, A, "NOERROR", true, {host + ". 3600 IN CNAME " + target + ".", target + ". 3600 IN A 192.0.2.6"});
  s.rr(host, AAAA, "NOERROR", true, {host + ". 3600 IN CNAME " + target + "."});
  s.rr("_25._tcp." + target, TLSA, "NOERROR", false, {tlsaRr("_25._tcp." + target, "3 1 1 " + K2)});
  secureTlsa(s, host, {"3 1 1 " + K1, "3 1 1 " + K3});
  const auto h = runHost(host, s, {.allow_special_addresses = true});
  EXPECT_EQ(h.dane, "unprobed");
  EXPECT_EQ(h.tlsa_base, host);
  EXPECT_EQ(h.tlsa, (std::vector<std::string>{"3 1 1 " + K1, "3 1 1 " + K3}));
}

TEST(HostLookup, SpecialAddressesGiveAFindingUnlessAllowed) {
  for (bool allow : {false, true}) {
    Script s;
    s.rr("mx.s.test", CNAME, "NOERROR", true);
    s.rr("mx.s.test", A, "NOERROR", true, {"mx.s.test. 60 IN A 127.25.0.43"});
    s.rr("mx.s.test", AAAA, "NOERROR", true, {"mx.s.test. 60 IN AAAA 2a00:1450::1"});
    secureTlsa(s, "mx.s.test", {"3 1 1 " + K1, "3 1 1 " + K2});
    const auto h = runHost("mx.s.test", s, {.allow_special_addresses = allow});
    EXPECT_EQ(h.addresses, (std::vector<std::string>{"127.25.0.43", "2a00:1450::1"}));
    EXPECT_EQ(h.dane, "unprobed");  // strict mode: still unprobed (catalogue decision)
    EXPECT_EQ(h.host_findings, allow ? std::vector<std::string>{} : std::vector<std::string>{"mx-special-address"});
  }
  // An insecure host with such an address carries it too.
  Script insecure;
  insecureHost(insecure, "mx.t.test", "10.1.2.3");
  insecure.rr("_25._tcp.mx.t.test", TLSA, "NXDOMAIN", false);
  EXPECT_EQ(runHost("mx.t.test", insecure).host_findings, (std::vector<std::string>{"mx-special-address"}));
  // A global address does not.
  Script global;
  insecureHost(global, "mx.g2.test", "8.8.8.8");
  global.rr("_25._tcp.mx.g2.test", TLSA, "NXDOMAIN", false);
  EXPECT_TRUE(runHost("mx.g2.test", global).host_findings.empty());
}

TEST(HostLookup, AddressesAreAThenAaaaEachInNumericOrder) {
  Script s;
  s.rr("mx.m.test", CNAME, "NOERROR", false);
  s.rr("mx.m.test", A, "NOERROR", false,
       {"mx.m.test. 60 IN A 192.0.2.61", "mx.m.test. 60 IN A 192.0.2.9", "mx.m.test. 60 IN A 192.0.2.60", "mx.m.test. 60 IN A 192.0.2.9"});
  s.rr("mx.m.test", AAAA, "NOERROR", false, {"mx.m.test. 60 IN AAAA 2001:db8::10", "mx.m.test. 60 IN AAAA 2001:db8::9"});
  s.rr("_25._tcp.mx.m.test", TLSA, "NXDOMAIN", false);
  const auto h = runHost("mx.m.test", s, {.allow_special_addresses = true});
  EXPECT_EQ(h.addresses, (std::vector<std::string>{"192.0.2.9", "192.0.2.60", "192.0.2.61", "2001:db8::9", "2001:db8::10"}));
}

TEST(HostLookup, UsableTlsaWithoutAnyAddressIsUnreachable) {
  // tlsa-no-address.test: A and AAAA are secure NODATA.
  Script s;
  s.rr("mx.n.test", CNAME, "NOERROR", true);
  s.rr("mx.n.test", A, "NOERROR", true);
  s.rr("mx.n.test", AAAA, "NOERROR", true);
  secureTlsa(s, "mx.n.test", {"3 1 1 " + K1, "3 1 1 " + K2});
  const auto h = runHost("mx.n.test", s);
  EXPECT_EQ(h.dane, "unreachable");
  EXPECT_TRUE(h.addresses.empty());
  EXPECT_EQ(h.tlsa_base, "mx.n.test");
  EXPECT_EQ(h.host_findings, (std::vector<std::string>{"tlsa-host-no-address"}));

  // NXDOMAIN for the addresses (TLSA under an empty non-terminal's sibling) says the same.
  Script nx;
  nx.rr("mx.nx.test", CNAME, "NXDOMAIN", true);
  nx.rr("mx.nx.test", A, "NXDOMAIN", true);
  nx.rr("mx.nx.test", AAAA, "NXDOMAIN", true);
  secureTlsa(nx, "mx.nx.test", {"3 1 1 " + K1, "3 1 1 " + K2});
  EXPECT_EQ(runHost("mx.nx.test", nx).host_findings, (std::vector<std::string>{"tlsa-host-no-address"}));
  // Unusable records only: no sender would try the host, so no finding.
  Script unusable;
  unusable.rr("mx.nu.test", CNAME, "NOERROR", true);
  unusable.rr("mx.nu.test", A, "NOERROR", true);
  unusable.rr("mx.nu.test", AAAA, "NOERROR", true);
  secureTlsa(unusable, "mx.nu.test", {"1 1 1 " + K1, "1 1 1 " + K2});
  const auto u = runHost("mx.nu.test", unusable);
  EXPECT_EQ(u.dane, "unusable-tlsa");
  EXPECT_EQ(u.host_findings, (std::vector<std::string>{"pkix-usage-in-smtp"}));
}

struct UsabilityCase {
  const char* name;
  std::vector<std::string> rdatas;
  const char* dane;
  std::vector<std::string> findings;
};

TEST(HostLookup, TlsaUsabilityFindingsAsATable) {
  std::vector<std::string> thirteen;
  for (int i = 0; i < 13; ++i) thirteen.push_back("3 1 1 " + std::string(62, 'a') + (i < 10 ? "0" : "1") + std::to_string(i % 10));
  const std::vector<UsabilityCase> cases = {
      {"pkix-only", {"1 1 1 " + K1, "0 0 1 " + K2}, "unusable-tlsa", {"pkix-usage-in-smtp"}},
      {"malformed-only", {"3 1 1 " + kShort, "3 2 1 " + K1}, "unusable-tlsa", {"tlsa-malformed"}},
      {"mixed-usable", {"3 1 1 " + K1, "3 1 255 " + K1, "1 1 1 " + K1}, "unprobed", {"pkix-usage-in-smtp", "tlsa-malformed"}},
      {"single", {"3 1 1 " + K1}, "unprobed", {"single-tlsa-record"}},
      {"single-unusable", {"0 0 1 " + K1}, "unusable-tlsa", {"pkix-usage-in-smtp", "single-tlsa-record"}},
      {"too-many", thirteen, "unprobed", {"tlsa-too-many-records"}},
      {"twelve", std::vector<std::string>(thirteen.begin(), thirteen.begin() + 12), "unprobed", {}},
      {"dane-ta", {"2 1 1 " + K1, "2 1 1 " + K2}, "unprobed", {}},
  };
  for (const auto& c : cases) {
    Script s;
    secureHost(s, "mx.u.test", "192.0.2.62");
    secureTlsa(s, "mx.u.test", c.rdatas);
    const auto h = runHost("mx.u.test", s, {.allow_special_addresses = true});
    EXPECT_EQ(h.dane, c.dane) << c.name;
    EXPECT_EQ(h.host_findings, c.findings) << c.name;
    std::vector<std::string> rrset = c.rdatas;
    std::sort(rrset.begin(), rrset.end());
    EXPECT_EQ(h.tlsa, rrset) << c.name;  // the whole RRset, usable or not, sorted
  }
}

TEST(HostLookup, IgnoresUnknownAndRepeatedResults) {
  HostLookup lookup("mx.r.test", {});
  auto requests = lookup.takeRequests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_TRUE(lookup.takeRequests().empty());
  const auto a = answer("mx.r.test", A, "NOERROR", false, {"mx.r.test. 60 IN A 192.0.2.1"});
  lookup.consume(requests[1].id, a);
  lookup.consume(requests[1].id, a);
  lookup.consume(999, a);
  EXPECT_FALSE(lookup.done());
  lookup.consume(requests[0].id, answer("mx.r.test", CNAME, "NOERROR", false));
  lookup.consume(requests[2].id, answer("mx.r.test", AAAA, "NOERROR", false));
  auto next = lookup.takeRequests();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].purpose, "tlsa-insecure");
  lookup.consume(next[0].id, answer("_25._tcp.mx.r.test", TLSA, "NXDOMAIN", false));
  EXPECT_TRUE(lookup.done());
  EXPECT_EQ(lookup.record().dane, "insecure");
}

}  // namespace
}  // namespace danescan::scanner::pipeline
