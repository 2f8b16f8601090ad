// tests/unit/report/report_test.cc — every section of the report on a database written from known
// records (report_records.h). Expected figures are derived by hand from those records; the
// comments say how. Then the formats: JSON parses and has every table, CSV loads with Python's
// csv module, Markdown and HTML escape a hostile name, text escapes a terminal control sequence.
#include "report/report.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/unit/report/report_records.h"

namespace danescan::report {
namespace {

using storage::testing::TempDir;

class ReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    std::string error;
    ASSERT_TRUE(testing::writeScan(dir_->file("scan.sqlite"), testing::reportRecords(), error)) << error;
    ASSERT_TRUE(testing::writeScan(dir_->file("old.sqlite"), testing::olderRecords(), error)) << error;
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
  // The row whose first cells are `keys` (text cells compared as text, numbers as numbers).
  static const Row* row(const Table& t, std::vector<std::string> keys) {
    for (const auto& r : t.rows) {
      bool match = true;
      for (size_t i = 0; i < keys.size() && match; ++i) {
        if (const auto* text = std::get_if<std::string>(&r[i])) {
          match = *text == keys[i];
        } else if (const auto* n = std::get_if<int64_t>(&r[i])) {
          match = std::to_string(*n) == keys[i];
        } else {
          match = keys[i] == "NULL";
        }
      }
      if (match) return &r;
    }
    return nullptr;
  }
  // Integer cells of the row `keys` in the columns `columns`.
  static std::vector<int64_t> ints(const std::string& id, std::vector<std::string> keys,
                                   std::vector<std::string> columns) {
    const Table& t = table(id);
    const Row* r = row(t, keys);
    if (!r) {
      ADD_FAILURE() << id << ": no row " << ::testing::PrintToString(keys);
      return {};
    }
    std::vector<int64_t> out;
    for (const auto& name : columns) {
      const int i = t.column(name);
      const auto* n = i < 0 ? nullptr : std::get_if<int64_t>(&(*r)[static_cast<size_t>(i)]);
      out.push_back(n ? *n : -1);
    }
    return out;
  }
  static double shareOf(const std::string& id, std::vector<std::string> keys, const std::string& column) {
    const Table& t = table(id);
    const Row* r = row(t, keys);
    if (!r) return -1;
    const auto* d = std::get_if<double>(&(*r)[static_cast<size_t>(t.column(column))]);
    return d ? *d : -1;
  }
  static std::string render(std::string_view format) {
    std::ostringstream out;
    EXPECT_TRUE(write(*report_, format, out));
    return out.str();
  }

  static TempDir* dir_;
  static Report* report_;
};

TempDir* ReportTest::dir_ = nullptr;
Report* ReportTest::report_ = nullptr;

using V = std::vector<int64_t>;

// 11 domains: alias (dane-unprobed), broken (dns-error), dane + dane2 (dane-ok, one host), gone
// (no-mail), shared1, shared2, outlook, hostile (insecure), weird, bogus (dane-fail).
TEST_F(ReportTest, Headline) {
  EXPECT_EQ(ints("headline", {"domains scanned"}, {"count"}), V{11});
  EXPECT_EQ(ints("headline", {"domains with mail (verdict not no-mail)"}, {"count"}), V{10});
  // mx_secure and neither no-mail nor dns-error: alias, dane, dane2, shared2, weird, outlook, bogus.
  EXPECT_EQ(ints("headline", {"domains with a DNSSEC-validated MX RRset"}, {"count"}), V{7});
  // A TLSA RRset in use at an MX host: alias, dane, dane2, weird (bogus's lookup failed).
  EXPECT_EQ(ints("headline", {"domains with TLSA records at one or more MX hosts"}, {"count"}), V{4});
  EXPECT_EQ(ints("headline", {"domains with DANE (verdict dane-*)"}, {"count"}), V{5});
  EXPECT_EQ(ints("headline", {"domains DANE-authenticated (dane-ok, dane-partial)"}, {"count"}), V{2});
  EXPECT_NEAR(shareOf("headline", {"domains DANE-authenticated (dane-ok, dane-partial)"}, "share"), 2.0 / 11, 1e-12);
  // mx.alias, mx.dane, mx.shared-provider, mx2.shared-provider, weird, mx.protection.outlook,
  // mx.bogus, the hostile host.
  EXPECT_EQ(ints("headline", {"distinct MX hosts"}, {"count"}), V{8});
  EXPECT_EQ(ints("headline", {"MX hosts with usable TLSA (pass, fail, unreachable, unprobed)"}, {"count"}), V{3});
  EXPECT_NEAR(shareOf("headline", {"MX hosts with usable TLSA (pass, fail, unreachable, unprobed)"}, "share"), 3.0 / 8,
              1e-12);
  EXPECT_EQ(ints("headline", {"MX hosts that pass DANE"}, {"count"}), V{1});
  // alias.example, dane.example, shared-provider.example, weird.example, outlook.example,
  // bogus.example, evil.example.
  EXPECT_EQ(ints("headline", {"distinct providers"}, {"count"}), V{7});
  EXPECT_EQ(ints("headline", {"providers with an MX host with usable TLSA"}, {"count"}), V{3});
}

TEST_F(ReportTest, VerdictsListEveryVerdictInContractOrder) {
  const Table& t = table("verdicts");
  ASSERT_EQ(t.rows.size(), 9u);
  EXPECT_EQ(std::get<std::string>(t.rows[0][0]), "no-mail");
  EXPECT_EQ(std::get<std::string>(t.rows[8][0]), "dane-unprobed");
  EXPECT_EQ(ints("verdicts", {"no-mail"}, {"domains"}), V{1});
  EXPECT_EQ(ints("verdicts", {"dns-error"}, {"domains"}), V{1});
  EXPECT_EQ(ints("verdicts", {"insecure"}, {"domains"}), V{4});
  EXPECT_EQ(ints("verdicts", {"dnssec-no-tlsa"}, {"domains"}), V{0});
  EXPECT_EQ(ints("verdicts", {"dane-ok"}, {"domains"}), V{2});
  EXPECT_EQ(ints("verdicts", {"dane-fail"}, {"domains"}), V{2});
  EXPECT_EQ(ints("verdicts", {"dane-unprobed"}, {"domains"}), V{1});
  EXPECT_NEAR(shareOf("verdicts", {"insecure"}, "share"), 4.0 / 11, 1e-12);
}

TEST_F(ReportTest, HostStatesPerHostAndWeightedByDomains) {
  // Domains with MX hosts: all but broken and gone = 9.
  EXPECT_EQ(ints("host_states", {"insecure"}, {"hosts", "domains"}), (V{4, 4}));  // shared1, shared2, outlook, hostile
  EXPECT_EQ(ints("host_states", {"pass"}, {"hosts", "domains"}), (V{1, 2}));      // one host, two domains
  EXPECT_EQ(ints("host_states", {"fail"}, {"hosts", "domains"}), (V{1, 1}));
  EXPECT_EQ(ints("host_states", {"lookup-error"}, {"hosts", "domains"}), (V{1, 1}));
  EXPECT_EQ(ints("host_states", {"unprobed"}, {"hosts", "domains"}), (V{1, 1}));
  EXPECT_EQ(ints("host_states", {"no-tlsa"}, {"hosts", "domains"}), (V{0, 0}));
  EXPECT_NEAR(shareOf("host_states", {"pass"}, "domain_share"), 2.0 / 9, 1e-12);
  EXPECT_EQ(table("host_states").rows.size(), 8u);
}

TEST_F(ReportTest, FindingCodes) {
  EXPECT_EQ(table("findings").rows.size(), 28u);  // every code of the contract, zeros included
  EXPECT_EQ(ints("findings", {"mx-is-cname"}, {"domains", "hosts"}), (V{1, 1}));
  EXPECT_EQ(ints("findings", {"tlsa-canonical-only"}, {"domains", "hosts"}), (V{1, 1}));
  EXPECT_EQ(ints("findings", {"mx-servfail"}, {"domains", "hosts"}), (V{1, 0}));  // domain-level
  EXPECT_EQ(ints("findings", {"cname-query-failure"}, {"domains", "hosts"}), (V{1, 1}));
  EXPECT_EQ(ints("findings", {"tlsa-lookup-failure"}, {"domains", "hosts"}), (V{1, 1}));
  EXPECT_EQ(ints("findings", {"tls-handshake-failure"}, {"domains", "hosts"}), (V{1, 1}));
  EXPECT_EQ(ints("findings", {"tlsa-mismatch"}, {"domains", "hosts"}), (V{0, 0}));
  EXPECT_NEAR(shareOf("findings", {"mx-servfail"}, "share"), 1.0 / 11, 1e-12);
  const Table& t = table("findings");
  EXPECT_EQ(std::get<std::string>((*row(t, {"tlsa-lookup-failure"}))[static_cast<size_t>(t.column("examples"))]),
            "bogus.example");
  // Top hosts and providers: the one host causing tlsa-lookup-failure.
  const Table& hosts = table("finding_hosts");
  const Row* r = row(hosts, {"cname-query-failure", "1"});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(std::get<std::string>((*r)[2]), "mx.protection.outlook.example");
  EXPECT_EQ(std::get<std::string>((*r)[3]), "outlook.example");
  EXPECT_EQ(ints("finding_providers", {"tls-handshake-failure", "1"}, {"hosts", "domains"}), (V{1, 1}));
  EXPECT_EQ(row(table("finding_hosts"), {"mx-servfail"}), nullptr);  // no host causes it
}

TEST_F(ReportTest, CnameSection) {
  EXPECT_EQ(ints("cname_hosts", {"aliases (CNAME)"}, {"hosts", "domains"}), (V{1, 1}));
  EXPECT_EQ(ints("cname_hosts", {"aliases with a validated chain"}, {"hosts"}), V{1});
  // mx.alias.example -> mx.provider.example; TLSA used at the canonical end, NXDOMAIN at the alias.
  EXPECT_EQ(ints("cname_tlsa_placement", {"canonical-only"}, {"hosts", "domains"}), (V{1, 1}));
  EXPECT_EQ(ints("cname_tlsa_placement", {"alias-only"}, {"hosts"}), V{0});
  EXPECT_EQ(table("cname_tlsa_placement").rows.size(), 7u);
  // CNAME queries: NOERROR for the alias and bogus hosts, SERVFAIL for outlook, none for the rest.
  EXPECT_EQ(ints("cname_queries", {"NOERROR"}, {"failed", "hosts", "alias_hosts", "domains"}), (V{0, 2, 1, 2}));
  EXPECT_EQ(ints("cname_queries", {"SERVFAIL"}, {"failed", "hosts", "alias_hosts", "domains"}), (V{1, 1, 0, 1}));
  // not sent: dane (2 domains), shared, mx2 (shared1, shared2), weird, hostile.
  EXPECT_EQ(ints("cname_queries", {"not sent"}, {"hosts", "domains"}), (V{5, 6}));
  // Seven domains with a validated MX RRset; strict defers bogus, Postfix also outlook.
  EXPECT_EQ(ints("cname_deferral", {"rfc7672-strict"}, {"hosts", "domains_some", "domains_all"}), (V{1, 1, 1}));
  EXPECT_EQ(ints("cname_deferral", {"postfix-like"}, {"hosts", "domains_some", "domains_all"}), (V{2, 2, 2}));
  EXPECT_EQ(ints("cname_deferral", {"postfix-only"}, {"hosts", "domains_some", "domains_all"}), (V{1, 1, 1}));
  EXPECT_NEAR(shareOf("cname_deferral", {"postfix-like"}, "share_some"), 2.0 / 7, 1e-12);
}

TEST_F(ReportTest, TlsaSection) {
  // Base RRsets: alias {3 1 1}, dane {3 1 1, 2 0 1} (one host row, two domains), weird {3 1 1 ff, 3 1 2 ee}.
  EXPECT_EQ(ints("tlsa_parameters", {"3", "DANE-EE", "1", "1"}, {"records", "hosts", "domains"}), (V{3, 3, 4}));
  EXPECT_EQ(ints("tlsa_parameters", {"2", "DANE-TA", "0", "1"}, {"records", "hosts", "domains"}), (V{1, 1, 2}));
  EXPECT_EQ(ints("tlsa_parameters", {"3", "DANE-EE", "1", "2"}, {"records", "hosts", "domains"}), (V{1, 1, 1}));
  EXPECT_EQ(table("tlsa_parameters").rows.size(), 3u);
  EXPECT_EQ(ints("tlsa_rrset_sizes", {"1"}, {"hosts", "domains"}), (V{1, 1}));
  EXPECT_EQ(ints("tlsa_rrset_sizes", {"2"}, {"hosts", "domains"}), (V{2, 3}));
  EXPECT_EQ(ints("tlsa_rrsets", {"with a TLSA RRset"}, {"hosts", "domains"}), (V{3, 4}));
  EXPECT_EQ(ints("tlsa_rrsets", {"single record"}, {"hosts", "domains"}), (V{1, 1}));
  EXPECT_EQ(ints("tlsa_rrsets", {"DANE-EE plus DANE-TA"}, {"hosts", "domains"}), (V{1, 2}));
  EXPECT_EQ(
      ints("tlsa_rrsets", {"rollover-ready (two or more records, or DANE-EE plus DANE-TA)"}, {"hosts", "domains"}),
      (V{2, 3}));
  EXPECT_EQ(ints("tlsa_rrsets", {"two or more usable records"}, {"hosts"}), V{1});  // weird's digests are too short
  EXPECT_EQ(ints("tlsa_rrsets", {"with a malformed record"}, {"hosts", "domains"}), (V{1, 1}));
  EXPECT_EQ(ints("tlsa_rrsets", {"oversized (more than 12 records)"}, {"hosts"}), V{0});
  EXPECT_NEAR(shareOf("tlsa_rrsets", {"single record"}, "host_share"), 1.0 / 3, 1e-12);
  EXPECT_EQ(ints("tlsa_malformed", {"SHA-256 digest of wrong length"}, {"records", "hosts"}), (V{1, 1}));
  EXPECT_EQ(ints("tlsa_malformed", {"SHA-512 digest of wrong length"}, {"records", "hosts"}), (V{1, 1}));
}

TEST_F(ReportTest, CertificatesSection) {
  // dane's two probes present leaf "aa" (EC 256, 200 days left); weird's an expired RSA 2048 leaf.
  EXPECT_EQ(ints("cert_keys", {"EC", "256"}, {"certificates", "hosts", "domains"}), (V{1, 1, 2}));
  EXPECT_EQ(ints("cert_keys", {"RSA", "2048"}, {"certificates", "hosts", "domains"}), (V{1, 1, 1}));
  EXPECT_EQ(ints("cert_ta_issuers", {"CN=Lab CA"}, {"hosts", "domains"}), (V{1, 2}));
  EXPECT_EQ(ints("cert_validity", {"90-365 d"}, {"certificates", "hosts", "domains"}), (V{1, 1, 2}));
  EXPECT_EQ(ints("cert_validity", {"expired"}, {"certificates", "hosts", "domains"}), (V{1, 1, 1}));
  EXPECT_EQ(ints("cert_validity", {"<7 d"}, {"certificates"}), V{0});
  EXPECT_EQ(ints("tls_probes", {"probes"}, {"count"}), V{3});
  EXPECT_EQ(ints("tls_probes", {"TLS handshake completed"}, {"count"}), V{2});
  EXPECT_EQ(ints("tls_probes", {"DANE fail"}, {"count"}), V{1});
  EXPECT_EQ(ints("tls_probes", {"matched a DANE-TA(2) record"}, {"count"}), V{1});
  EXPECT_EQ(ints("tls_probes", {"DANE pass, leaf names do not include the host"}, {"count"}), V{1});
  EXPECT_EQ(ints("tls_probes", {"rate limited (421)"}, {"count"}), V{1});
  // The outlook host's opportunistic probe counts apart, and its certificate is no DANE host's.
  EXPECT_EQ(ints("tls_opportunistic", {"probes"}, {"count"}), V{1});
  EXPECT_EQ(ints("tls_opportunistic", {"TLS handshake completed"}, {"count"}), V{1});
  EXPECT_EQ(ints("tls_opportunistic", {"TLSv1.3"}, {"count"}), V{1});
  for (const auto& row : table("cert_keys").rows) EXPECT_NE(row[0], report::Cell(std::string("ED25519")));
  EXPECT_EQ(ints("cert_validity", {"30-90 d"}, {"certificates"}), V{0});
}

TEST_F(ReportTest, DnsSection) {
  // Domain queries: ten "mx" (the hostile domain has none) and broken's "mx+cd" TIMEOUT. Host
  // queries, each host stored once: alias 3, dane 3, shared 3, mx2 3, weird 1, outlook 2, bogus 3.
  EXPECT_EQ(ints("dns_health", {"queries"}, {"count"}), V{29});
  EXPECT_EQ(ints("dns_health", {"answered over TCP (after TC=1)"}, {"count"}), V{1});  // dane's AAAA
  EXPECT_EQ(ints("dns_health", {"timed out (no answer)"}, {"count"}), V{1});
  EXPECT_EQ(ints("dns_health", {"SERVFAIL"}, {"count"}), V{3});  // broken's MX, outlook's CNAME, bogus's TLSA
  EXPECT_EQ(ints("dns_health", {"with an Extended DNS Error"}, {"count"}), V{2});
  EXPECT_EQ(ints("dns_health", {"CD=1 repeats after a SERVFAIL"}, {"count"}), V{2});
  EXPECT_EQ(ints("dns_health", {"bogus: CD=1 repeat answered NOERROR (the data exists, validation failed)"}, {"count"}),
            V{1});
  EXPECT_EQ(ints("dns_health", {"domains with dnssec-bogus"}, {"count"}), V{1});
  EXPECT_EQ(ints("dns_rcodes", {"mx", "NOERROR"}, {"queries"}), V{8});  // 10 MX queries: broken SERVFAIL, gone NXDOMAIN
  EXPECT_NEAR(shareOf("dns_rcodes", {"mx", "NOERROR"}, "share"), 0.8, 1e-12);
  EXPECT_EQ(ints("dns_rcodes", {"mx+cd", "TIMEOUT"}, {"queries"}), V{1});
  EXPECT_EQ(ints("dns_ede", {"mx", "9"}, {"queries"}), V{1});
  EXPECT_EQ(ints("dns_ede", {"mx", "22"}, {"queries"}), V{1});
  EXPECT_EQ(ints("dns_ede", {"tlsa", "6"}, {"queries"}), V{1});
  // Every answered query took 12 ms (the TIMEOUT, 3000 ms, is left out).
  EXPECT_EQ(ints("dns_latency", {"all"}, {"queries", "p50_ms", "p99_ms", "max_ms"}), (V{28, 12, 12, 12}));
}

TEST_F(ReportTest, CompareSection) {
  // Old scan: dane2 (insecure), weird (dane-ok), bogus (dane-fail), oldonly (no-mail).
  EXPECT_EQ(ints("compare_summary", {"domains in both scans"}, {"count"}), V{3});
  EXPECT_EQ(ints("compare_summary", {"domains only in this scan"}, {"count"}), V{8});
  EXPECT_EQ(ints("compare_summary", {"domains only in the compared scan"}, {"count"}), V{1});
  EXPECT_EQ(ints("compare_summary", {"verdict changed"}, {"count"}), V{2});
  EXPECT_EQ(ints("compare_summary", {"gained DANE"}, {"count"}), V{1});
  EXPECT_EQ(ints("compare_summary", {"lost DANE"}, {"count"}), V{0});
  EXPECT_EQ(ints("compare_summary", {"became dane-fail"}, {"count"}), V{1});
  EXPECT_EQ(ints("compare_verdicts", {"insecure", "dane-ok"}, {"domains"}), V{1});
  EXPECT_EQ(ints("compare_verdicts", {"dane-ok", "dane-fail"}, {"domains"}), V{1});
  EXPECT_EQ(ints("compare_findings", {"tls-handshake-failure"}, {"new", "fixed", "kept"}), (V{1, 0, 0}));
  EXPECT_EQ(ints("compare_findings", {"tlsa-lookup-failure"}, {"new", "fixed", "kept"}), (V{0, 0, 1}));
  // Providers: weird.example pass -> fail; new providers absent -> their state; the shared
  // provider stays insecure (not listed).
  const Table& p = table("compare_providers");
  ASSERT_EQ(p.rows.size(), 5u);
  EXPECT_EQ(std::get<std::string>(p.rows[0][0]), "dane.example");
  EXPECT_EQ(std::get<std::string>(p.rows[0][1]), "absent");
  EXPECT_EQ(std::get<std::string>(p.rows[0][2]), "pass");
  const Row* weird = row(p, {"weird.example"});
  ASSERT_NE(weird, nullptr);
  EXPECT_EQ(std::get<std::string>((*weird)[1]), "pass");
  EXPECT_EQ(std::get<std::string>((*weird)[2]), "fail");
  EXPECT_EQ(row(p, {"shared-provider.example"}), nullptr);
}

TEST_F(ReportTest, JsonParsesWithEveryTable) {
  const std::string path = dir_->file("report.json");
  std::ofstream(path) << render("json");
  const std::string check =
      "python3 -c \"import json,sys; j=json.load(open(sys.argv[1])); t=j['tables']; "
      // 27 tables, with methods (2 with --compare), causes (2), delivery (3), providers (3) and rollover (2).
      "assert len(t) == 39, len(t); assert len(t['delivery']['rows']) == 8; "
      "assert t['verdicts']['rows'][0] == {'verdict': 'no-mail', 'domains': 1, 'share': 1/11}, "
      "t['verdicts']['rows'][0]; "
      "assert all(len(r) == len(v['columns']) for v in t.values() for r in v['rows']); "
      "assert any('<img src=x' in r['host'] for r in t['finding_hosts']['rows'])\" " +
      path;
  EXPECT_EQ(std::system(check.c_str()), 0);
}

TEST_F(ReportTest, CsvLoadsWithOneHeader) {
  const std::string path = dir_->file("report.csv");
  std::ofstream(path) << render("csv");
  const std::string check =
      "python3 -c \"import csv,sys; rows=list(csv.DictReader(open(sys.argv[1], newline=''))); "
      "v=[r for r in rows if r['table'] == 'verdicts']; assert len(v) == 9, len(v); "
      "assert v[4]['verdict'] == 'dane-ok' and v[4]['domains'] == '2' and v[4]['hosts'] == '', v[4]; "
      "assert all(r['section'] and r['table'] for r in rows)\" " +
      path;
  EXPECT_EQ(std::system(check.c_str()), 0);
}

TEST_F(ReportTest, HostileNamesAreEscaped) {
  const std::string html = render("html");
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("=1+2&lt;img src=x onerror=alert(1)&gt;\\x1b[2J\\u202e\\u009b.evil.example"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;.example"), std::string::npos);
  EXPECT_NE(html.find("<rect class=\"bar\""), std::string::npos);
  EXPECT_EQ(html.find("://"), std::string::npos) << "no link or fetch to anywhere";
  const std::string md = render("md");
  for (size_t at = md.find('<'); at != std::string::npos; at = md.find('<', at + 1)) {
    EXPECT_EQ(md[at - 1], '\\') << "an unescaped < in the Markdown at " << at;
  }
  EXPECT_NE(md.find("\\<img src=x onerror=alert(1)\\>"), std::string::npos);
  const std::string text = render("text");
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos) << "a raw right-to-left override";
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << "a raw C1 CSI";
  EXPECT_NE(text.find("\\x1b[2J\\u202e\\u009b.evil.example"), std::string::npos);
  for (const char* format : {"md", "html"}) {
    const std::string other = render(format);
    EXPECT_EQ(other.find("\xe2\x80\xae"), std::string::npos) << format;
    EXPECT_EQ(other.find("\xc2\x9b"), std::string::npos) << format;
  }
}

// The page's policy names its one style and its one script by their SHA-256 (derived here with
// Python's hashlib from the page itself): no 'unsafe-inline', so nothing else could run.
TEST_F(ReportTest, HtmlPolicyAllowsOnlyTheStyleAndScriptItCarries) {
  const std::string path = dir_->file("policy.html");
  std::ofstream(path) << render("html");
  const std::string check =
      "python3 -c \"import base64,hashlib,re,sys; page=open(sys.argv[1], encoding='utf-8').read(); "
      "policy=re.search(r'http-equiv=.Content-Security-Policy. content=.([^>]*).>', page).group(1); "
      "assert 'unsafe' not in policy, policy; "
      "h=lambda t: \\\"'sha256-\\\" + base64.b64encode(hashlib.sha256(t.encode()).digest()).decode() + \\\"'\\\"; "
      "styles=re.findall(r'<style>(.*?)</style>', page, re.S); scripts=re.findall(r'<script>(.*?)</script>', page, re.S); "
      "assert len(styles) == 1 and len(scripts) == 1, (len(styles), len(scripts)); "
      "assert 'style-src ' + h(styles[0]) + ';' in policy, policy; "
      "assert 'script-src ' + h(scripts[0]) + ';' in policy, policy; "
      "assert policy.startswith(\\\"default-src 'none';\\\"), policy\" " +
      path;
  EXPECT_EQ(std::system(check.c_str()), 0);
}

// A cell a spreadsheet would run as a formula starts with an apostrophe; nothing else changes.
TEST_F(ReportTest, CsvCellsNeverStartAFormula) {
  const std::string path = dir_->file("formula.csv");
  std::ofstream(path) << render("csv");
  const std::string check =
      "python3 -c \"import csv,sys; rows=list(csv.reader(open(sys.argv[1], newline=''))); "
      "cells=[c for r in rows for c in r]; "
      "num=lambda c: c.lstrip('-').replace('.', '', 1).isdigit(); "
      "assert not [c for c in cells if c[:1] in ('=', '+', '@') or (c[:1] == '-' and c != '-' and not num(c))], 'formula'; "
      "hostile=[c for c in cells if '<img' in c]; "
      "assert hostile and all(c.startswith(\\\"'=1+2<img src=x\\\") for c in hostile), hostile; "
      "assert any(c == 'dane-ok' for c in cells)\" " +
      path;
  EXPECT_EQ(std::system(check.c_str()), 0);
}

TEST_F(ReportTest, WithoutCompareThereIsNoCompareSection) {
  Report plain;
  std::string error;
  ASSERT_TRUE(build(Options{dir_->file("scan.sqlite"), ""}, plain, error)) << error;
  EXPECT_EQ(plain.sections.size(), 10u);     // with methods, causes, delivery and providers
  EXPECT_EQ(report_->sections.size(), 12u);  // with `compare` and `rollover`
}

TEST(ReportErrorsTest, MissingForeignAndOtherVersionDatabasesAreRefused) {
  TempDir dir;
  Report r;
  std::string error;
  EXPECT_FALSE(build(Options{dir.file("none.sqlite"), ""}, r, error));
  EXPECT_NE(error.find("no such file"), std::string::npos) << error;

  std::ofstream(dir.file("text.db")) << "not sqlite at all, just text that is long enough to be a header";
  error.clear();
  EXPECT_FALSE(build(Options{dir.file("text.db"), ""}, r, error));
  EXPECT_NE(error.find("text.db"), std::string::npos) << error;

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file("other.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "CREATE TABLE t(x); PRAGMA application_id = 1145130565; PRAGMA user_version = 1;", nullptr, nullptr,
               nullptr);
  sqlite3_close(db);
  error.clear();
  EXPECT_FALSE(build(Options{dir.file("other.sqlite"), ""}, r, error));
  EXPECT_NE(error.find("schema version 1"), std::string::npos) << error;

  // A good database compared with a missing one names the missing one.
  ASSERT_TRUE(testing::writeScan(dir.file("scan.sqlite"), testing::reportRecords(), error)) << error;
  error.clear();
  EXPECT_FALSE(build(Options{dir.file("scan.sqlite"), dir.file("old.sqlite")}, r, error));
  EXPECT_NE(error.find("old.sqlite"), std::string::npos) << error;
}

}  // namespace
}  // namespace danescan::report
