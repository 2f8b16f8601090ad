// tests/unit/report/report_records.h — the scan the report tests read: storage's sample records
// (tests/unit/storage/sample_records.h) plus cases the report has sections for (a second domain on
// the DANE host, a DANE-TA match, an expired leaf, an outlook-like failed CNAME query, a TLSA
// lookup failure with a bogus CD repeat, a hostile host name), and an older scan to compare with.
// report_test.cc derives every expected figure by hand from these records.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/records.h"
#include "storage/writer.h"
#include "tests/unit/storage/sample_records.h"

namespace danescan::report::testing {

using storage::DomainRecord;
using storage::HostRecord;
using storage::testing::domain;
using storage::testing::query;

// A spreadsheet formula, markup, a terminal escape, a right-to-left override (U+202E) and a C1
// CSI (U+009B) in a host name, as a hostile zone could publish.
inline const std::string kHostileHost = "=1+2<img src=x onerror=alert(1)>\x1b[2J\xe2\x80\xae\xc2\x9b.evil.example";
inline const std::string kHostileDomain = "<script>alert(1)</script>.example";

inline std::string daysFromNow(int days) {
  return storage::utcTime(std::chrono::system_clock::now() + std::chrono::hours(24 * days));
}

inline HostRecord hostNamed(std::string name, std::string dane, bool addr_secure) {
  HostRecord h;
  h.host = std::move(name);
  h.preference = 10;
  h.addr_rcode = "NOERROR";
  h.addr_secure = addr_secure;
  h.addresses = {"192.0.2.50"};
  h.dane = std::move(dane);
  return h;
}

inline std::vector<DomainRecord> reportRecords() {
  std::vector<DomainRecord> all = storage::testing::sampleRecords();
  for (auto& d : all) {
    if (d.domain == "dane.example") {
      // Leaf valid for 200 more days; the second address matched the DANE-TA record at depth 1.
      for (auto& p : d.mx[0].probes) p.chain[0].not_after = daysFromNow(200);
      auto& ta = d.mx[0].probes[1];
      ta.matched = d.mx[0].tlsa[1];
      ta.matched_depth = 1;
    }
    if (d.domain == "weird.example") {
      // An expired RSA leaf presented before the handshake broke.
      storage::PeerCertRecord leaf{"ee", "ff", "CN=weird.example", "CN=Weird CA",   "RSA",
                                   2048, {},   daysFromNow(-400),  daysFromNow(-10)};
      d.mx[0].probes[0].chain = {leaf};
    }
  }
  DomainRecord dane2 = all[2];  // the same DANE host serves a second domain
  dane2.domain = "dane2.example";
  dane2.line = 8;
  dane2.queries = {query("mx", dane2.domain, 15, "NOERROR", true)};
  all.push_back(dane2);
  {
    // Outlook-like: a host that is not an alias, insecure addresses, the explicit CNAME query fails.
    DomainRecord d = domain("outlook.example", "insecure", "NOERROR", true);
    d.line = 9;
    HostRecord h = hostNamed("mx.protection.outlook.example", "insecure", false);
    h.cname_rcode = "SERVFAIL";
    h.host_findings = {"cname-query-failure"};
    // An opportunistic probe (--probe-all): TLS without usable TLSA, dane n/a. Its ED25519 leaf is
    // not a DANE host's certificate.
    storage::ProbeRecord p;
    p.address = "192.0.2.50";
    p.connected = p.starttls = p.tls_ok = true;
    p.dane = "n/a";
    p.tls_version = "TLSv1.3";
    p.chain = {storage::PeerCertRecord{"12", "34", "CN=mx.protection.outlook.example", "CN=Public CA", "ED25519", 253,
                                       {}, daysFromNow(-30), daysFromNow(60)}};
    h.probes = {p};
    h.queries = {query("a", h.host, 1, "NOERROR", false), query("cname", h.host, 5, "SERVFAIL", false)};
    d.mx = {h};
    d.findings = {"cname-query-failure"};
    all.push_back(d);
  }
  {
    // A TLSA lookup failure in a signed zone: SERVFAIL with EDE 6, the CD=1 repeat answered.
    DomainRecord d = domain("bogus.example", "dane-fail", "NOERROR", true);
    d.line = 10;
    HostRecord h = hostNamed("mx.bogus.example", "lookup-error", true);
    h.cname_rcode = "NOERROR";
    h.cname_secure = true;
    h.tlsa_rcode = "SERVFAIL";
    h.host_findings = {"dnssec-bogus", "tlsa-lookup-failure"};
    storage::QueryRecord tlsa = query("tlsa", "_25._tcp.mx.bogus.example", 52, "SERVFAIL", false);
    tlsa.ede = {6};
    storage::QueryRecord cd = query("tlsa+cd", "_25._tcp.mx.bogus.example", 52, "NOERROR", false);
    cd.cd = true;
    h.queries = {query("a", h.host, 1, "NOERROR", true), tlsa, cd};
    d.mx = {h};
    d.findings = {"dnssec-bogus", "tlsa-lookup-failure"};
    all.push_back(d);
  }
  {
    DomainRecord d = domain(kHostileDomain, "insecure", "NOERROR", false);
    d.line = 11;
    HostRecord h = hostNamed(kHostileHost, "insecure", false);
    h.addr_rcode = "NOTQUERIED";
    h.addresses.clear();
    h.host_findings = {"mx-invalid-name"};
    d.mx = {h};
    d.findings = {"mx-invalid-name"};
    d.queries.clear();  // keeps the query count of the tests simple: 11 domains, 10 MX queries
    all.push_back(d);
  }
  return all;
}

// The older scan: dane2 was insecure at the shared provider, weird passed, bogus failed as now,
// and a domain that is gone from the new list.
inline std::vector<DomainRecord> olderRecords() {
  std::vector<DomainRecord> now = reportRecords();
  std::vector<DomainRecord> old;
  for (const auto& d : now) {
    if (d.domain == "bogus.example") old.push_back(d);
    if (d.domain == "dane2.example") {
      DomainRecord o = storage::testing::domain("dane2.example", "insecure", "NOERROR", true);
      o.mx = {storage::testing::sharedInsecureHost()};
      old.push_back(o);
    }
    if (d.domain == "weird.example") {
      DomainRecord o = d;
      o.verdict = "dane-ok";
      o.findings.clear();
      o.mx[0].dane = "pass";
      o.mx[0].host_findings.clear();
      o.mx[0].probes[0].dane = "pass";
      o.mx[0].probes[0].tls_ok = true;
      old.push_back(o);
    }
  }
  old.push_back(storage::testing::domain("oldonly.example", "no-mail", "NXDOMAIN", true));
  return old;
}

inline bool writeScan(const std::string& path, const std::vector<DomainRecord>& records, std::string& error) {
  auto writer = storage::Writer::open(path, storage::RunInfo{"test", "test", "{}"}, storage::OpenMode::Create, error);
  if (!writer) return false;
  for (const auto& d : records) writer->submit(DomainRecord(d));
  writer->finish(true);
  error = writer->error();
  return error.empty();
}

}  // namespace danescan::report::testing
