// tests/unit/report/causes_test.cc — the "Why hosts fail" section (issue 13) on a scan of its own,
// so that the other report tests keep their figures: failing hosts with one cause, with the
// rate-limited cases told apart, a failing host naming no cause, a passing host with a finding
// that would be a cause elsewhere, and a host serving two domains. Figures derived by hand below.
#include "report/report.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/unit/report/report_records.h"

namespace danescan::report {
namespace {

using storage::DomainRecord;
using storage::HostRecord;
using storage::ProbeRecord;
using storage::testing::TempDir;
using testing::hostNamed;

DomainRecord failing(std::string name, HostRecord host) {
  DomainRecord d = storage::testing::domain(std::move(name), "dane-fail", "NOERROR", true);
  d.findings = host.host_findings;
  d.mx = {std::move(host)};
  return d;
}

ProbeRecord probe(bool rate_limited, std::string greeting) {
  ProbeRecord p;
  p.address = "192.0.2.50";
  p.dane = "fail";
  p.connect.outcome = "ok";
  p.greeting.outcome = std::move(greeting);
  p.connected = p.greeting.outcome == "ok";
  p.rate_limited = rate_limited;
  p.attempts = rate_limited ? 2 : 1;
  return p;
}

// Hosts (state: findings) -> domains:
//   mx.limited      unreachable: smtp-rate-limited, 421 on the retry too  -> a.example, b.example
//   mx.retried      fail: smtp-rate-limited, the retry got past the 421     -> c.example (no cause named)
//   mx.refused      unreachable: smtp-connect-failure                       -> d.example
//   mx.silent       fail: no finding                                        -> e.example (no cause named)
//   mx.dns          lookup-error: address-lookup-failure, dnssec-bogus      -> f.example
//   mx.half         pass: smtp-connect-failure (one address of two)         -> g.example (not failing)
// So 5 failing host names serving 6 domains.
std::vector<DomainRecord> records() {
  std::vector<DomainRecord> all;
  HostRecord limited = hostNamed("mx.limited.example", "unreachable", true);
  limited.host_findings = {"smtp-rate-limited"};
  limited.probes = {probe(true, "rejected")};
  all.push_back(failing("a.example", limited));
  all.push_back(failing("b.example", limited));
  HostRecord retried = hostNamed("mx.retried.example", "fail", true);
  retried.host_findings = {"smtp-rate-limited"};
  retried.probes = {probe(true, "ok")};
  all.push_back(failing("c.example", retried));
  HostRecord refused = hostNamed("mx.refused.example", "unreachable", true);
  refused.host_findings = {"smtp-connect-failure"};
  refused.probes = {probe(false, "")};
  refused.probes[0].connect.outcome = "refused";
  all.push_back(failing("d.example", refused));
  HostRecord silent = hostNamed("mx.silent.example", "fail", true);
  silent.probes = {probe(false, "ok")};
  all.push_back(failing("e.example", silent));
  HostRecord dns = hostNamed("mx.dns.example", "lookup-error", true);
  dns.addresses.clear();
  dns.addr_rcode = "SERVFAIL";
  dns.host_findings = {"address-lookup-failure", "dnssec-bogus"};
  all.push_back(failing("f.example", dns));
  HostRecord half = hostNamed("mx.half.example", "pass", true);
  half.host_findings = {"smtp-connect-failure"};
  DomainRecord ok = storage::testing::domain("g.example", "dane-ok", "NOERROR", true);
  ok.findings = half.host_findings;
  ok.mx = {half};
  all.push_back(ok);
  return all;
}

class CausesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    std::string error;
    ASSERT_TRUE(testing::writeScan(dir_->file("scan.sqlite"), records(), error)) << error;
    report_ = new Report;
    ASSERT_TRUE(build(Options{dir_->file("scan.sqlite"), ""}, *report_, error)) << error;
  }
  static void TearDownTestSuite() {
    delete report_;
    delete dir_;
  }
  static const Table* find(const std::string& id) {
    for (const auto& section : report_->sections) {
      for (const auto& t : section.tables) {
        if (t.id == id) return &t;
      }
    }
    return nullptr;
  }
  // "cause=hosts/domains" per row (or "state/cause=..."), for one readable comparison.
  static std::vector<std::string> summary(const std::string& id, int labels) {
    std::vector<std::string> out;
    const Table* t = find(id);
    if (t == nullptr) return {"no table " + id};
    for (const Row& r : t->rows) {
      std::string line;
      for (int i = 0; i < labels; ++i) line += (i ? "/" : "") + std::get<std::string>(r[static_cast<size_t>(i)]);
      line += "=" + std::to_string(std::get<int64_t>(r[static_cast<size_t>(t->column("hosts"))])) + "/" +
              std::to_string(std::get<int64_t>(r[static_cast<size_t>(t->column("domains"))]));
      out.push_back(line);
    }
    return out;
  }
  static TempDir* dir_;
  static Report* report_;
};

TempDir* CausesTest::dir_ = nullptr;
Report* CausesTest::report_ = nullptr;

TEST_F(CausesTest, EveryCauseInOrderWithHostsAndDomains) {
  EXPECT_EQ(summary("failure_causes", 1),
            (std::vector<std::string>{"address-lookup-failure=1/1", "tlsa-lookup-failure=0/0", "dnssec-bogus=1/1",
                                      "cname-loop=0/0", "tlsa-host-no-address=0/0", "smtp-connect-failure=1/1",
                                      "smtp-rate-limited=1/2", "smtp-timeout=0/0", "smtp-protocol-error=0/0",
                                      "no-starttls-with-tlsa=0/0", "starttls-rejected=0/0",
                                      "tls-handshake-failure=0/0", "tlsa-mismatch=0/0", "dane-ta-name-mismatch=0/0",
                                      "dane-ta-certificate-expired=0/0", "(no cause named)=2/2"}));
  const Table* t = find("failure_causes");
  ASSERT_NE(t, nullptr);
  // Shares of the 5 failing host names and the 6 domains they serve.
  const Row& rl = t->rows[6];
  EXPECT_NEAR(std::get<double>(rl[static_cast<size_t>(t->column("host_share"))]), 1.0 / 5, 1e-12);
  EXPECT_NEAR(std::get<double>(rl[static_cast<size_t>(t->column("domain_share"))]), 2.0 / 6, 1e-12);
  EXPECT_EQ(t->chart.value, t->column("domains"));
}

TEST_F(CausesTest, ByStateListsThePairsSeen) {
  EXPECT_EQ(summary("failure_causes_by_state", 2),
            (std::vector<std::string>{"lookup-error/address-lookup-failure=1/1", "lookup-error/dnssec-bogus=1/1",
                                      "fail/(no cause named)=2/2", "unreachable/smtp-connect-failure=1/1",
                                      "unreachable/smtp-rate-limited=1/2"}));
  const Table* t = find("failure_causes_by_state");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->chart.value, t->column("hosts"));
}

TEST_F(CausesTest, EveryFormatShowsTheSection) {
  for (std::string_view format : {"text", "md", "json", "csv", "html"}) {
    std::ostringstream out;
    ASSERT_TRUE(write(*report_, format, out)) << format;
    EXPECT_NE(out.str().find(format == "text" || format == "md" ? "Why hosts fail, by host state" : "failure_causes"),
              std::string::npos)
        << format;
    EXPECT_NE(out.str().find("smtp-rate-limited"), std::string::npos) << format;
  }
  std::ostringstream html;
  ASSERT_TRUE(write(*report_, "html", html));
  EXPECT_NE(html.str().find("<section id=\"causes\">"), std::string::npos);
}

}  // namespace
}  // namespace danescan::report
