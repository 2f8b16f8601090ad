// tests/unit/report/providers_test.cc — the sections `providers` (providers.cc) and `rollover`
// (rollover.cc) on scans written from the records below; every expected figure is derived by
// hand from them in the comments.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "report/report.h"
#include "tests/unit/report/report_records.h"

namespace danescan::report {
namespace {

using storage::DomainRecord;
using storage::HostRecord;
using storage::PeerCertRecord;
using storage::ProbeRecord;
using storage::testing::domain;
using storage::testing::TempDir;

// A host with usable TLSA records, probed once; `leaf` the SHA-256 of the certificate it showed.
HostRecord daneHost(const std::string& name, const std::string& dane, std::vector<std::string> tlsa,
                    const std::string& leaf, std::vector<std::string> findings) {
  HostRecord h = testing::hostNamed(name, dane, true);
  h.tlsa_base = name;
  h.tlsa_rcode = "NOERROR";
  h.tlsa = std::move(tlsa);
  h.host_findings = std::move(findings);
  if (!leaf.empty()) {
    ProbeRecord p;
    p.address = h.addresses[0];
    p.connected = p.starttls = p.tls_ok = true;
    p.dane = dane == "pass" ? "pass" : "fail";
    if (dane == "pass") p.matched = h.tlsa[0];
    p.chain = {PeerCertRecord{leaf, leaf + "-spki", "CN=" + name, "CN=" + name, "EC", 256, {}, "", ""}};
    h.probes = {p};
  }
  return h;
}

DomainRecord withHosts(std::string name, std::string verdict, bool mx_secure, std::vector<HostRecord> hosts,
                       std::optional<uint64_t> rank) {
  DomainRecord d = domain(std::move(name), std::move(verdict), "NOERROR", mx_secure);
  d.mx = std::move(hosts);
  for (const auto& h : d.mx) d.findings.insert(d.findings.end(), h.host_findings.begin(), h.host_findings.end());
  std::sort(d.findings.begin(), d.findings.end());
  d.findings.erase(std::unique(d.findings.begin(), d.findings.end()), d.findings.end());
  d.rank = rank;
  return d;
}

const std::string kTlsaA = "3 1 1 " + std::string(64, 'a');
const std::string kTlsaB = "3 1 1 " + std::string(64, 'b');
const std::string kTlsaC = "3 1 1 " + std::string(64, 'c');

// Providers: bigmail.net (mx1 fail: tlsa-mismatch and single-tlsa-record; mx2 pass),
// small.example (one host, lookup-error: dnssec-bogus and tlsa-lookup-failure, a tie),
// ok.example (pass), and the rollover hosts (rollover.example, tlsa.example, stuck.example,
// fresh.example), each failing with tlsa-mismatch.
std::vector<DomainRecord> current() {
  const HostRecord mx1 = daneHost("mx1.bigmail.net", "fail", {kTlsaA}, "f1", {"single-tlsa-record", "tlsa-mismatch"});
  const HostRecord mx2 = daneHost("mx2.bigmail.net", "pass", {kTlsaA, kTlsaB}, "f2", {});
  const HostRecord small = daneHost("mx.small.example", "lookup-error", {}, "", {"dnssec-bogus", "tlsa-lookup-failure"});
  const HostRecord ok = daneHost("mx.ok.example", "pass", {kTlsaA, kTlsaB}, "f3", {});
  // Rollover hosts: a new certificate under the same TLSA (failed rollover); new TLSA, same
  // certificate; no match in the older scan either; not in the older scan.
  const HostRecord rolled = daneHost("mx.rollover.example", "fail", {kTlsaA, kTlsaB}, "new-leaf", {"tlsa-mismatch"});
  const HostRecord retlsa = daneHost("mx.tlsa.example", "fail", {kTlsaC, kTlsaB}, "same-leaf", {"tlsa-mismatch"});
  const HostRecord stuck = daneHost("mx.stuck.example", "fail", {kTlsaA, kTlsaB}, "stuck-leaf", {"tlsa-mismatch"});
  const HostRecord fresh = daneHost("mx.fresh.example", "fail", {kTlsaA, kTlsaB}, "fresh-leaf", {"tlsa-mismatch"});
  return {
      withHosts("d1.com", "dane-fail", true, {mx1}, 5),
      withHosts("d2.com", "dane-fail", true, {mx1, mx2}, 500),
      withHosts("d3.org", "dane-ok", true, {mx2}, 5000),
      withHosts("d4.org", "dane-fail", true, {small}, 50000),
      withHosts("d5.org", "insecure", false, {mx1}, std::nullopt),  // not DANE-protected: not broken
      withHosts("d6.net", "dane-fail", true, {small}, 2000),
      withHosts("d7.com", "dane-ok", true, {ok}, 1500000),  // ranked beyond the top 1M
      withHosts("r1.example", "dane-fail", true, {rolled}, std::nullopt),
      withHosts("r2.example", "dane-fail", true, {rolled}, std::nullopt),
      withHosts("r3.example", "dane-fail", true, {retlsa}, std::nullopt),
      withHosts("r4.example", "dane-fail", true, {stuck}, std::nullopt),
      withHosts("r5.example", "dane-fail", true, {fresh}, std::nullopt),
  };
}

std::vector<DomainRecord> older() {
  return {
      withHosts("r1.example", "dane-ok", true,
                {daneHost("mx.rollover.example", "pass", {kTlsaA, kTlsaB}, "old-leaf", {})}, std::nullopt),
      withHosts("r3.example", "dane-ok", true, {daneHost("mx.tlsa.example", "pass", {kTlsaA}, "same-leaf", {})},
                std::nullopt),
      withHosts("r4.example", "dane-fail", true,
                {daneHost("mx.stuck.example", "fail", {kTlsaA, kTlsaB}, "old-stuck-leaf", {"tlsa-mismatch"})},
                std::nullopt),
  };
}

class ProvidersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    std::string error;
    ASSERT_TRUE(testing::writeScan(dir_->file("scan.sqlite"), current(), error)) << error;
    ASSERT_TRUE(testing::writeScan(dir_->file("old.sqlite"), older(), error)) << error;
    report_ = new Report;
    ASSERT_TRUE(build(Options{dir_->file("scan.sqlite"), dir_->file("old.sqlite")}, *report_, error)) << error;
  }
  static void TearDownTestSuite() {
    delete report_;
    delete dir_;
  }
  static const Table& table(const std::string& id) {
    for (const auto& section : report_->sections) {
      for (const auto& t : section.tables) {
        if (t.id == id) return t;
      }
    }
    ADD_FAILURE() << "no table " << id;
    static const Table empty;
    return empty;
  }
  // Every row as text, cells '|'-joined (NULL empty, shares with two decimals).
  static std::vector<std::string> rows(const std::string& id) {
    std::vector<std::string> out;
    for (const auto& r : table(id).rows) {
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        if (i) line += "|";
        if (const auto* t = std::get_if<std::string>(&r[i])) line += *t;
        if (const auto* n = std::get_if<int64_t>(&r[i])) line += std::to_string(*n);
        if (const auto* d = std::get_if<double>(&r[i])) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.2f", *d);
          line += buf;
        }
      }
      out.push_back(line);
    }
    return out;
  }
  static TempDir* dir_;
  static Report* report_;
};

TempDir* ProvidersTest::dir_ = nullptr;
Report* ProvidersTest::report_ = nullptr;

using Rows = std::vector<std::string>;

TEST_F(ProvidersTest, ProvidersRankedByFailingDomains) {
  // Columns: rank, provider, hosts, domains, failing_hosts, failing_domains, failing_share,
  // main_cause, cause_domains.
  // rollover.example: one host, 2 domains (r1, r2), both failing. bigmail.net: d1, d2 failing
  // through mx1 (d5 is insecure, so not broken), 4 served (d1, d2, d3, d5); its cause
  // tlsa-mismatch (single-tlsa-record is no cause). small.example: d4, d6; dnssec-bogus and
  // tlsa-lookup-failure tie at 2, byte order picks dnssec-bogus. Ties on 2 failing: most served
  // first (bigmail 4, small 2, rollover 2), then by name. The one-domain hosts follow; ok.example
  // breaks nothing and is not listed.
  EXPECT_EQ(rows("providers"), (Rows{"1|bigmail.net|2|4|1|2|0.50|tlsa-mismatch|2",
                                     "2|rollover.example|1|2|1|2|1.00|tlsa-mismatch|2",
                                     "3|small.example|1|2|1|2|1.00|dnssec-bogus|2",
                                     "4|fresh.example|1|1|1|1|1.00|tlsa-mismatch|1",
                                     "5|stuck.example|1|1|1|1|1.00|tlsa-mismatch|1",
                                     "6|tlsa.example|1|1|1|1|1.00|tlsa-mismatch|1"}));
}

TEST_F(ProvidersTest, ProvidersPerTld) {
  // com: bigmail serves d1, d2 (both failing); ok.example's d7 is not broken. example: the
  // rollover hosts. net: small.example's d6. org: bigmail serves d3 (ok) and d5 (insecure), so
  // breaks nothing there; small.example's d4.
  EXPECT_EQ(rows("provider_tlds"), (Rows{"com|1|bigmail.net|2|2|1|2|1.00|tlsa-mismatch|2",
                                         "example|1|rollover.example|1|2|1|2|1.00|tlsa-mismatch|2",
                                         "example|2|fresh.example|1|1|1|1|1.00|tlsa-mismatch|1",
                                         "example|3|stuck.example|1|1|1|1|1.00|tlsa-mismatch|1",
                                         "example|4|tlsa.example|1|1|1|1|1.00|tlsa-mismatch|1",
                                         "net|1|small.example|1|1|1|1|1.00|dnssec-bogus|1",
                                         "org|1|small.example|1|1|1|1|1.00|dnssec-bogus|1"}));
}

TEST_F(ProvidersTest, ProvidersPerRankBucket) {
  // Ranks: d1 5, d2 500, d6 2000, d3 5000, d4 50000, d7 1.5M (in no bucket); the rest unranked.
  // top 1k: d1, d2 (bigmail). top 10k: + d3 (bigmail, ok) and d6 (small). top 100k and 1M: + d4.
  EXPECT_EQ(rows("provider_ranks"), (Rows{"top 1k|1|bigmail.net|2|2|1|2|1.00|tlsa-mismatch|2",
                                          "top 10k|1|bigmail.net|2|3|1|2|0.67|tlsa-mismatch|2",
                                          "top 10k|2|small.example|1|1|1|1|1.00|dnssec-bogus|1",
                                          "top 100k|1|bigmail.net|2|3|1|2|0.67|tlsa-mismatch|2",
                                          "top 100k|2|small.example|1|2|1|2|1.00|dnssec-bogus|2",
                                          "top 1M|1|bigmail.net|2|3|1|2|0.67|tlsa-mismatch|2",
                                          "top 1M|2|small.example|1|2|1|2|1.00|dnssec-bogus|2"}));
}

TEST_F(ProvidersTest, RolloverKindsWeightedByDomains) {
  // Failing with tlsa-mismatch now: mx1.bigmail.net (not in the older scan), the four rollover
  // hosts. rollover: same TLSA, new leaf, passed then (2 domains). tlsa: TLSA {A} -> {B, C},
  // same leaf, passed then. stuck: mismatched then too. fresh and mx1: not in the older scan
  // (2 hosts; mx1 serves d1, d2, d5, fresh r5: 4 domains).
  EXPECT_EQ(rows("rollover_summary"), (Rows{"failed rollover: new certificate, stale TLSA|1|2",
                                            "TLSA changed, certificate unchanged|1|1",
                                            "certificate and TLSA changed|0|0", "certificate and TLSA unchanged|0|0",
                                            "no match in the compared scan|1|1", "not in the compared scan|2|4"}));
  EXPECT_EQ(rows("rollover_hosts"),
            (Rows{"failed rollover: new certificate, stale TLSA|mx.rollover.example|rollover.example|2|old-leaf|new-leaf",
                  "TLSA changed, certificate unchanged|mx.tlsa.example|tlsa.example|1|same-leaf|same-leaf"}));
}

TEST_F(ProvidersTest, WithoutCompareThereIsNoRolloverSection) {
  Report plain;
  std::string error;
  ASSERT_TRUE(build(Options{dir_->file("scan.sqlite"), ""}, plain, error)) << error;
  for (const auto& s : plain.sections) EXPECT_NE(s.id, "rollover");
  bool providers = false;
  for (const auto& s : plain.sections) providers = providers || s.id == "providers";
  EXPECT_TRUE(providers);
}

}  // namespace
}  // namespace danescan::report
