// DomainLookup (the MX step and the domain object) with its hosts, driven by scripted answers.
#include "scanner/pipeline/domain_lookup.h"

#include "scanner/pipeline/host_name.h"
#include "scanner/pipeline/special_address.h"
#include "scripted_dns.h"

#include <gtest/gtest.h>

namespace danescan::scanner::pipeline {
namespace {

using namespace testing;

const std::string K1(64, 'a');
const std::string K2(64, 'b');

void secureDaneHost(Script& s, const std::string& name, const std::string& ip) {
  s.rr(name, CNAME, "NOERROR", true);
  s.rr(name, A, "NOERROR", true, {name + ". 3600 IN A " + ip});
  s.rr(name, AAAA, "NOERROR", true);
  s.rr("_25._tcp." + name, TLSA, "NOERROR", true,
       {"_25._tcp." + name + ". 3600 IN TLSA 3 1 1 " + K1, "_25._tcp." + name + ". 3600 IN TLSA 3 1 1 " + K2});
}

void insecureHost(Script& s, const std::string& name, const std::string& ip) {
  s.rr(name, CNAME, "NOERROR", false);
  s.rr(name, A, "NOERROR", false, {name + ". 3600 IN A " + ip});
  s.rr(name, AAAA, "NOERROR", false);
  s.rr("_25._tcp." + name, TLSA, "NXDOMAIN", false);
}

TEST(DomainLookup, NxdomainIsNoMailAndItsDenialCanBeSecure) {
  Script s;
  s.rr("nxdomain.test", MX, "NXDOMAIN", true);
  const auto d = runDomain("nxdomain.test", s);
  EXPECT_EQ(d.verdict, "no-mail");
  EXPECT_EQ(d.mx_rcode, "NXDOMAIN");
  EXPECT_TRUE(d.mx_secure);
  EXPECT_FALSE(d.implicit_mx);
  EXPECT_TRUE(d.mx.empty());
  EXPECT_TRUE(d.findings.empty());
  ASSERT_EQ(d.queries.size(), 1u);
  EXPECT_EQ(d.queries[0].purpose, "mx");
}

TEST(DomainLookup, NullMxIsNoMailWithoutHostsOrFinding) {
  Script s;
  s.rr("null-mx.test", MX, "NOERROR", true, {"null-mx.test. 3600 IN MX 0 ."});
  const auto d = runDomain("null-mx.test", s);
  EXPECT_EQ(d.verdict, "no-mail");
  EXPECT_TRUE(d.mx_secure);
  EXPECT_TRUE(d.mx.empty());
  EXPECT_TRUE(d.findings.empty());
  EXPECT_EQ(s.asked().size(), 1u);
}

// The delivery object comes with the record: null for no-mail; for two hosts of different
// preference whose DANE host is unprobed (no probes in these tests) and whose backup is
// insecure, the unprobed most-preferred host decides: unknown under both policies.
TEST(DomainLookup, DeliveryIsFilledAndNullForNoMail) {
  Script nx;
  nx.rr("nxdomain.test", MX, "NXDOMAIN", true);
  EXPECT_FALSE(runDomain("nxdomain.test", nx).delivery);
  Script s;
  s.rr("two.test", MX, "NOERROR", true, {"two.test. 3600 IN MX 10 mx.two.test.", "two.test. 3600 IN MX 20 backup.two.test."});
  secureDaneHost(s, "mx.two.test", "192.0.2.1");
  insecureHost(s, "backup.two.test", "192.0.2.2");
  const auto d = runDomain("two.test", s);
  ASSERT_EQ(d.mx.size(), 2u);
  EXPECT_EQ(d.mx[0].dane, "unprobed");
  ASSERT_TRUE(d.delivery);
  EXPECT_EQ(*d.delivery, (storage::DeliveryRecord{"unknown", "unknown"}));
  Script b;
  b.rr("backup.test", MX, "NOERROR", true, {"backup.test. 3600 IN MX 10 mx.backup.test."});
  insecureHost(b, "mx.backup.test", "192.0.2.3");
  EXPECT_EQ(runDomain("backup.test", b).delivery, (storage::DeliveryRecord{"deliver", "deliver"}));
}

TEST(DomainLookup, RootBesideOtherExchangesIsAnInvalidName) {
  Script s;
  s.rr("r.test", MX, "NOERROR", true, {"r.test. 3600 IN MX 0 .", "r.test. 3600 IN MX 10 mx.r.test."});
  secureDaneHost(s, "mx.r.test", "192.0.2.1");
  const auto d = runDomain("r.test", s, {.allow_special_addresses = true});
  ASSERT_EQ(d.mx.size(), 2u);
  EXPECT_EQ(d.mx[0].host, ".");
  EXPECT_EQ(d.mx[0].addr_rcode, "NOTQUERIED");
  EXPECT_EQ(d.findings, (std::vector<std::string>{"mx-invalid-name"}));
}

TEST(DomainLookup, ImplicitMxUsesTheDomainWithPreferenceZero) {
  Script s;
  s.rr("implicit-mx.test", MX, "NOERROR", true);
  secureDaneHost(s, "implicit-mx.test", "192.0.2.49");
  const auto d = runDomain("implicit-mx.test", s, {.allow_special_addresses = true});
  EXPECT_EQ(d.verdict, "dane-unprobed");
  EXPECT_TRUE(d.implicit_mx);
  ASSERT_EQ(d.mx.size(), 1u);
  EXPECT_EQ(d.mx[0].host, "implicit-mx.test");
  EXPECT_EQ(d.mx[0].preference, 0);
  EXPECT_EQ(d.mx[0].tlsa_base, "implicit-mx.test");
}

TEST(DomainLookup, NoMxAndNoAddressIsNoMailWithTheHostKept) {
  // no-mx-no-address.test
  Script s;
  const std::string name = "no-mx-no-address.test";
  s.rr(name, MX, "NOERROR", true);
  s.rr(name, CNAME, "NOERROR", true);
  s.rr(name, A, "NOERROR", true);
  s.rr(name, AAAA, "NOERROR", true);
  s.rr("_25._tcp." + name, TLSA, "NXDOMAIN", true);
  const auto d = runDomain(name, s);
  EXPECT_EQ(d.verdict, "no-mail");
  EXPECT_TRUE(d.implicit_mx);
  ASSERT_EQ(d.mx.size(), 1u);
  EXPECT_EQ(d.mx[0].dane, "no-tlsa");
  EXPECT_EQ(d.mx[0].tlsa_rcode, "NXDOMAIN");
  EXPECT_TRUE(d.mx[0].addr_secure);
  EXPECT_TRUE(d.findings.empty());
}

TEST(DomainLookup, InvalidExchangesAreRecordedButNotQueried) {
  // mx-invalid-name.test plus a TLD and a name with a space.
  Script s;
  s.rr("mx-invalid-name.test", MX, "NOERROR", true,
       {"mx-invalid-name.test. 3600 IN MX 10 mx.mx-invalid-name.test.", "mx-invalid-name.test. 3600 IN MX 20 127.25.0.10.",
        "mx-invalid-name.test. 3600 IN MX 30 com.", "mx-invalid-name.test. 3600 IN MX 40 a\\032b.test."});
  secureDaneHost(s, "mx.mx-invalid-name.test", "192.0.2.55");
  const auto d = runDomain("mx-invalid-name.test", s, {.allow_special_addresses = true});
  EXPECT_EQ(d.verdict, "dane-unprobed");  // dane-partial once probes pass
  ASSERT_EQ(d.mx.size(), 4u);
  EXPECT_EQ(d.mx[0].host, "mx.mx-invalid-name.test");
  storage::HostRecord literal;
  literal.host = "127.25.0.10";
  literal.preference = 20;
  literal.addr_rcode = "NOTQUERIED";
  literal.dane = "insecure";
  literal.host_findings = {"mx-invalid-name"};
  EXPECT_EQ(d.mx[1], literal);
  EXPECT_EQ(d.mx[2].host, "com");
  EXPECT_EQ(d.mx[3].addr_rcode, "NOTQUERIED");
  EXPECT_EQ(d.findings, (std::vector<std::string>{"mx-invalid-name"}));
  EXPECT_FALSE(s.wasAsked("127.25.0.10", A));
}

TEST(DomainLookup, MxServfailWithDataUnderCdIsBogus) {
  // mx-expired-sigs.test / mx-ds-mismatch.test
  Script s;
  s.on("mx-expired-sigs.test", MX, answer("mx-expired-sigs.test", MX, "SERVFAIL", false, {}, {7}));
  s.rr("mx-expired-sigs.test", MX, "NOERROR", false, {"mx-expired-sigs.test. 3600 IN MX 10 mx.mx-expired-sigs.test."}, true);
  const auto d = runDomain("mx-expired-sigs.test", s);
  EXPECT_EQ(d.verdict, "dns-error");
  EXPECT_EQ(d.mx_rcode, "SERVFAIL");
  EXPECT_FALSE(d.mx_secure);
  EXPECT_TRUE(d.mx.empty());
  EXPECT_EQ(d.findings, (std::vector<std::string>{"dnssec-bogus", "mx-servfail"}));
  ASSERT_EQ(d.queries.size(), 2u);
  EXPECT_EQ(d.queries[0].ede, (std::vector<uint16_t>{7}));
  EXPECT_EQ(d.queries[1].purpose, "mx+cd");
  EXPECT_TRUE(d.queries[1].cd);
}

TEST(DomainLookup, MxServfailAlsoUnderCdIsOnlyMxServfail) {
  Script s;
  s.rr("mx-servfail.test", MX, "SERVFAIL", false);
  s.rr("mx-servfail.test", MX, "SERVFAIL", false, {}, true);
  const auto d = runDomain("mx-servfail.test", s);
  EXPECT_EQ(d.verdict, "dns-error");
  EXPECT_EQ(d.findings, (std::vector<std::string>{"mx-servfail"}));
}

TEST(DomainLookup, MxTimeoutAndRefusedAreDnsErrors) {
  Script s;
  s.on("mx-timeout.test", MX, timeout());
  auto d = runDomain("mx-timeout.test", s);
  EXPECT_EQ(d.verdict, "dns-error");
  EXPECT_EQ(d.mx_rcode, "TIMEOUT");
  // No answer at all: mx-timeout beside mx-servfail (which names any failure of the MX lookup).
  EXPECT_EQ(d.findings, (std::vector<std::string>{"mx-servfail", "mx-timeout"}));
  EXPECT_EQ(s.asked().size(), 1u);  // no CD repeat without a SERVFAIL

  Script r;
  r.rr("mx-refused.test", MX, "REFUSED", false);
  d = runDomain("mx-refused.test", r);
  EXPECT_EQ(d.verdict, "dns-error");
  EXPECT_EQ(d.mx_rcode, "REFUSED");
  EXPECT_EQ(d.findings, (std::vector<std::string>{"mx-servfail"}));  // an answer: no mx-timeout
}

TEST(DomainLookup, HostsInPreferenceOrderTiesByNameDuplicatesOnce) {
  // two-hosts.test, plus a duplicate exchange.
  Script s;
  s.rr("two-hosts.test", MX, "NOERROR", true,
       {"two-hosts.test. 3600 IN MX 10 b.two-hosts.test.", "two-hosts.test. 3600 IN MX 10 a.two-hosts.test.",
        "two-hosts.test. 3600 IN MX 20 mx1.provider.test.", "two-hosts.test. 3600 IN MX 30 A.two-hosts.test."});
  secureDaneHost(s, "a.two-hosts.test", "192.0.2.73");
  secureDaneHost(s, "b.two-hosts.test", "192.0.2.74");
  secureDaneHost(s, "mx1.provider.test", "192.0.2.30");
  const auto d = runDomain("two-hosts.test", s, {.allow_special_addresses = true});
  ASSERT_EQ(d.mx.size(), 3u);
  EXPECT_EQ(d.mx[0].host, "a.two-hosts.test");
  EXPECT_EQ(d.mx[0].preference, 10);
  EXPECT_EQ(d.mx[1].host, "b.two-hosts.test");
  EXPECT_EQ(d.mx[2].host, "mx1.provider.test");
  EXPECT_EQ(d.mx[2].preference, 20);
  EXPECT_EQ(d.verdict, "dane-unprobed");
  EXPECT_TRUE(d.findings.empty());
}

TEST(DomainLookup, UnsignedMxToASecureHostIsInsecure) {
  // unsigned-to-dane.test: the host keeps its TLSA, the verdict does not.
  Script s;
  s.rr("unsigned-to-dane.test", MX, "NOERROR", false, {"unsigned-to-dane.test. 3600 IN MX 10 mx1.provider.test."});
  secureDaneHost(s, "mx1.provider.test", "192.0.2.30");
  const auto d = runDomain("unsigned-to-dane.test", s, {.allow_special_addresses = true});
  EXPECT_EQ(d.verdict, "insecure");
  EXPECT_FALSE(d.mx_secure);
  EXPECT_EQ(d.mx[0].dane, "unprobed");
}

TEST(DomainLookup, PartialWithAnInsecureBackupAndStrictSpecialAddresses) {
  // partial.test in no-probe and strict modes.
  for (bool allow : {true, false}) {
    Script s;
    s.rr("partial.test", MX, "NOERROR", true,
         {"partial.test. 3600 IN MX 10 mx.partial.test.", "partial.test. 3600 IN MX 20 host2.unsigned-provider.test."});
    secureDaneHost(s, "mx.partial.test", "127.25.0.59");
    insecureHost(s, "host2.unsigned-provider.test", "127.25.0.32");
    const auto d = runDomain("partial.test", s, {.allow_special_addresses = allow});
    EXPECT_EQ(d.verdict, "dane-unprobed");
    EXPECT_EQ(d.mx[0].dane, "unprobed");
    EXPECT_EQ(d.mx[1].dane, "insecure");
    EXPECT_EQ(d.findings, allow ? std::vector<std::string>{} : std::vector<std::string>{"mx-special-address"});
  }
}

TEST(DomainLookup, FindingsAreSortedAndUnique) {
  Script s;
  s.rr("f.test", MX, "NOERROR", true, {"f.test. 3600 IN MX 10 1.2.3.4.", "f.test. 3600 IN MX 20 5.6.7.8."});
  const auto d = runDomain("f.test", s);
  EXPECT_EQ(d.findings, (std::vector<std::string>{"mx-invalid-name"}));
  EXPECT_EQ(d.verdict, "insecure");  // every host insecure
}

TEST(HostName, ValidAndInvalidExchanges) {
  for (const char* ok : {"mx.example.test", "a-b.example.test", "_srv.example.test", "xn--bcher-kva.example", "1mail.example.test",
                         "mx.123.example"}) {
    EXPECT_TRUE(isValidMxHostName(ok)) << ok;
  }
  for (const char* bad : {"", "com", "127.25.0.10", "1.2.3.4.5", "mx.example.123", "a\\032b.test", "[1.2.3.4]", "::1",
                          "a..b.test", "mx.exa mple.test"}) {
    EXPECT_FALSE(isValidMxHostName(bad)) << bad;
  }
  EXPECT_FALSE(isValidMxHostName(std::string(64, 'a') + ".test"));
}

TEST(SpecialAddress, TableOfIanaRanges) {
  for (const char* special : {"0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.25.0.10", "169.254.1.1",
                              "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.1.1", "198.18.0.1",
                              "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.1.1.1", "240.0.0.1",
                              "255.255.255.255", "::", "::1", "::ffff:192.0.2.1", "::ffff:8.8.8.8", "fc00::1", "fd12::1",
                              "fe80::1", "2001:db8::25", "ff02::1", "100::1", "2001:2::1", "3fff::1", "64:ff9b:1::1"}) {
    EXPECT_TRUE(isSpecialAddress(special)) << special;
  }
  for (const char* global : {"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.0", "172.32.0.1", "198.20.0.1", "223.255.255.255",
                             "2a00:1450:4001::1", "2001:4860::8888", "64:ff9b::808:808", "not-an-address", ""}) {
    EXPECT_FALSE(isSpecialAddress(global)) << global;
  }
}

}  // namespace
}  // namespace danescan::scanner::pipeline
