// tests/unit/storage/sample_records.h — hand-built DomainRecords covering the contract's shapes
// (secure DANE host, alias host with a chain, an insecure host shared by two domains, no mail, a
// DNS error with a timeout and EDE codes, hostile strings), and a temporary directory per test.
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "storage/records.h"

namespace danescan::storage::testing {

// A fresh directory under $TMPDIR, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "danescan-storage-XXXXXX").string();
    if (!mkdtemp(pattern.data())) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline QueryRecord query(std::string purpose, std::string name, uint16_t type, std::string rcode, bool ad) {
  QueryRecord q;
  q.purpose = std::move(purpose);
  q.name = std::move(name);
  q.type = type;
  q.rcode = std::move(rcode);
  q.ad = ad;
  q.elapsed_ms = 12;
  q.attempts = 1;
  q.resolver = "127.53.1.1:53";
  return q;
}

inline HostRecord sharedInsecureHost() {
  HostRecord h;
  h.host = "mx.shared-provider.example";
  h.preference = 10;
  h.addr_rcode = "NOERROR";
  h.addr_secure = false;
  h.addresses = {"198.51.100.7"};
  h.dane = "insecure";
  h.queries = {query("a", h.host, 1, "NOERROR", false), query("aaaa", h.host, 28, "NOERROR", false),
               query("cname", h.host, 5, "NOERROR", false)};
  h.queries[0].answer_wire = std::string("\x02mx\x0f" "shared-provider\x07" "example\x00\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc6\x33\x64\x07", 42);
  return h;
}

inline DomainRecord domain(std::string name, std::string verdict, std::string mx_rcode, bool mx_secure) {
  DomainRecord d;
  d.domain = std::move(name);
  d.verdict = std::move(verdict);
  d.mx_rcode = std::move(mx_rcode);
  d.mx_secure = mx_secure;
  d.source = "list.txt";
  d.queries = {query("mx", d.domain, 15, d.mx_rcode, mx_secure)};
  return d;
}

// In domain-name order, which is the export's order.
inline std::vector<DomainRecord> sampleRecords() {
  std::vector<DomainRecord> all;

  {  // An alias MX host: TLSA only at the CNAME-expanded name, DNS-only scan.
    DomainRecord d = domain("alias.example", "dane-unprobed", "NOERROR", true);
    d.line = 1;
    HostRecord h;
    h.host = "mx.alias.example";
    h.preference = 5;
    h.cname_chain = {"mx.provider.example"};
    h.addr_rcode = "NOERROR";
    h.addr_secure = true;
    h.cname_rcode = "NOERROR";
    h.cname_secure = true;
    h.addresses = {"192.0.2.20"};
    h.tlsa_base = "mx.provider.example";
    h.tlsa_rcode = "NOERROR";
    h.tlsa = {"3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
    h.dane = "unprobed";
    h.tlsa_other_base = "mx.alias.example";
    h.tlsa_other_rcode = "NXDOMAIN";
    h.host_findings = {"mx-is-cname", "single-tlsa-record", "tlsa-canonical-only"};
    h.queries = {query("a", h.host, 1, "NOERROR", true),
                 query("tlsa", "_25._tcp.mx.provider.example", 52, "NOERROR", true),
                 query("tlsa-other", "_25._tcp.mx.alias.example", 52, "NXDOMAIN", true)};
    d.mx = {h};
    d.findings = {"mx-is-cname", "single-tlsa-record", "tlsa-canonical-only"};
    d.delivery = DeliveryRecord{"unknown", "unknown"};
    all.push_back(d);
  }
  {  // The MX lookup failed: SERVFAIL with EDE codes, then the CD=1 repeat timed out.
    DomainRecord d = domain("broken.example", "dns-error", "SERVFAIL", false);
    d.line = 2;
    d.queries[0].ede = {9, 22};
    d.queries[0].ede_text = "no \"DNSKEY\"; unreachable\nauthority";
    QueryRecord cd = query("mx+cd", d.domain, 15, "TIMEOUT", false);
    cd.cd = true;
    cd.attempts = 3;
    cd.elapsed_ms = 3000;
    cd.resolver.clear();
    cd.error = "no answer after 3 attempts";
    d.queries.push_back(cd);
    d.findings = {"mx-servfail"};
    d.delivery = DeliveryRecord{"defer", "defer"};
    all.push_back(d);
  }
  {  // A secure DANE host with two TLSA records, both addresses probed and matched.
    DomainRecord d = domain("dane.example", "dane-ok", "NOERROR", true);
    d.line = 3;
    HostRecord h;
    h.host = "mx.dane.example";
    h.preference = 10;
    h.addr_rcode = "NOERROR";
    h.addr_secure = true;
    h.addresses = {"192.0.2.1", "2001:db8::1"};
    h.tlsa_base = "mx.dane.example";
    h.tlsa_rcode = "NOERROR";
    h.tlsa = {"3 1 1 aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899",
              "2 0 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"};
    h.dane = "pass";
    for (const auto& address : h.addresses) {
      ProbeRecord p;
      p.address = address;
      p.connected = p.starttls = p.tls_ok = true;
      p.dane = "pass";
      p.matched = h.tlsa[0];
      // The evidence: every stage, the TLS parameters, a two-certificate chain.
      p.port = 25;
      p.tlsa_base = "mx.dane.example";
      p.connect = {"ok", 1};
      p.greeting = {"ok", 2};
      p.ehlo = {"ok", 3};
      p.starttls_stage = {"ok", 4};
      p.handshake = {"ok", 5};
      p.tls_version = "TLSv1.3";
      p.cipher = "TLS_AES_256_GCM_SHA384";
      p.matched_depth = 0;
      p.verify_code = 0;
      p.verify_text = "ok";
      p.leaf_names_match = address == "192.0.2.1";
      p.attempts = 1;
      p.elapsed_ms = 17;
      PeerCertRecord leaf{"aa", "bb", "CN=mx.dane.example", "CN=Lab CA", "EC", 256,
                          {"DNS:mx.dane.example", "IP:192.0.2.1"}, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"};
      PeerCertRecord ca{"cc", "dd", "CN=Lab CA", "CN=Lab CA", "RSA", 2048, {}, "2025-01-01T00:00:00Z", "2035-01-01T00:00:00Z"};
      p.chain = {leaf, ca};
      h.probes.push_back(p);
    }
    h.queries = {query("a", h.host, 1, "NOERROR", true), query("aaaa", h.host, 28, "NOERROR", true),
                 query("tlsa", "_25._tcp.mx.dane.example", 52, "NOERROR", true)};
    h.queries[1].tcp = true;
    d.mx = {h};
    d.delivery = DeliveryRecord{"deliver", "deliver"};
    all.push_back(d);
  }
  {  // No mail: NXDOMAIN.
    DomainRecord d = domain("gone.example", "no-mail", "NXDOMAIN", true);
    d.line = 4;
    all.push_back(d);
  }
  {  // Two domains on one insecure provider host; the second also has a backup host.
    DomainRecord d = domain("shared1.example", "insecure", "NOERROR", false);
    d.line = 5;
    d.mx = {sharedInsecureHost()};
    d.delivery = DeliveryRecord{"deliver", "deliver"};
    all.push_back(d);
    DomainRecord e = domain("shared2.example", "insecure", "NOERROR", true);
    e.line = 6;
    HostRecord backup = sharedInsecureHost();
    backup.host = "mx2.shared-provider.example";
    backup.addresses = {"198.51.100.8"};
    HostRecord first = sharedInsecureHost();
    first.preference = 20;
    backup.preference = 20;
    e.mx = {first, backup};  // a tie, by name
    e.implicit_mx = false;
    e.delivery = DeliveryRecord{"deliver", "deliver"};
    all.push_back(e);
  }
  {  // Hostile text from the network: quotes, control characters, ill-formed UTF-8.
    DomainRecord d = domain("weird.example", "dane-fail", "NOERROR", true);
    d.line = 7;
    d.source = "odd \"list\",\n.txt";
    HostRecord h;
    h.host = "weird.example";
    h.preference = 0;
    h.addr_rcode = "NOERROR";
    h.addr_secure = true;
    h.addresses = {"192.0.2.99"};
    h.tlsa_base = "weird.example";
    h.tlsa_rcode = "NOERROR";
    h.tlsa = {"3 1 1 ff", "3 1 2 ee"};
    h.dane = "fail";
    ProbeRecord p;
    p.address = "192.0.2.99";
    p.connected = p.starttls = true;
    p.dane = "fail";
    p.error = std::string("421 \"busy\"\\ now\nbye\t\x01 caf\xc3\xa9 \xff\xfe end");
    p.handshake = {"error", 40};
    p.rate_limited = true;
    p.attempts = 2;
    h.probes = {p};
    h.host_findings = {"tls-handshake-failure"};
    h.queries = {query("a", h.host, 1, "NOERROR", true)};
    h.queries[0].answer_wire = std::string("\x00\xc0\xaf\xff", 4);  // bytes a reader must keep as they are
    d.implicit_mx = true;
    d.mx = {h};
    d.findings = {"tls-handshake-failure"};
    d.delivery = DeliveryRecord{"defer", "defer"};
    all.push_back(d);
  }
  return all;
}

// The export's lines, written by hand from the contract for the records above.
inline std::vector<std::string> expectedJsonl() {
  return {
      R"({"domain":"alias.example","verdict":"dane-unprobed","mx_rcode":"NOERROR","mx_secure":true,"implicit_mx":false,"mx":[{"host":"mx.alias.example","preference":5,"cname_chain":["mx.provider.example"],"addr_rcode":"NOERROR","addr_secure":true,"cname_rcode":"NOERROR","addresses":["192.0.2.20"],"tlsa_base":"mx.provider.example","tlsa_rcode":"NOERROR","tlsa":["3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],"dane":"unprobed","probes":[]}],"findings":["mx-is-cname","single-tlsa-record","tlsa-canonical-only"],"delivery":{"rfc7672":"unknown","postfix":"unknown"}})",
      R"({"domain":"broken.example","verdict":"dns-error","mx_rcode":"SERVFAIL","mx_secure":false,"implicit_mx":false,"mx":[],"findings":["mx-servfail"],"delivery":{"rfc7672":"defer","postfix":"defer"}})",
      R"({"domain":"dane.example","verdict":"dane-ok","mx_rcode":"NOERROR","mx_secure":true,"implicit_mx":false,"mx":[{"host":"mx.dane.example","preference":10,"cname_chain":[],"addr_rcode":"NOERROR","addr_secure":true,"cname_rcode":null,"addresses":["192.0.2.1","2001:db8::1"],"tlsa_base":"mx.dane.example","tlsa_rcode":"NOERROR","tlsa":["3 1 1 aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899","2 0 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"],"dane":"pass","probes":[{"address":"192.0.2.1","connected":true,"starttls":true,"tls_ok":true,"dane":"pass","matched":"3 1 1 aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899","error":null},{"address":"2001:db8::1","connected":true,"starttls":true,"tls_ok":true,"dane":"pass","matched":"3 1 1 aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899","error":null}]}],"findings":[],"delivery":{"rfc7672":"deliver","postfix":"deliver"}})",
      R"({"domain":"gone.example","verdict":"no-mail","mx_rcode":"NXDOMAIN","mx_secure":true,"implicit_mx":false,"mx":[],"findings":[],"delivery":null})",
      R"({"domain":"shared1.example","verdict":"insecure","mx_rcode":"NOERROR","mx_secure":false,"implicit_mx":false,"mx":[{"host":"mx.shared-provider.example","preference":10,"cname_chain":[],"addr_rcode":"NOERROR","addr_secure":false,"cname_rcode":null,"addresses":["198.51.100.7"],"tlsa_base":null,"tlsa_rcode":null,"tlsa":[],"dane":"insecure","probes":[]}],"findings":[],"delivery":{"rfc7672":"deliver","postfix":"deliver"}})",
      R"({"domain":"shared2.example","verdict":"insecure","mx_rcode":"NOERROR","mx_secure":true,"implicit_mx":false,"mx":[{"host":"mx.shared-provider.example","preference":20,"cname_chain":[],"addr_rcode":"NOERROR","addr_secure":false,"cname_rcode":null,"addresses":["198.51.100.7"],"tlsa_base":null,"tlsa_rcode":null,"tlsa":[],"dane":"insecure","probes":[]},{"host":"mx2.shared-provider.example","preference":20,"cname_chain":[],"addr_rcode":"NOERROR","addr_secure":false,"cname_rcode":null,"addresses":["198.51.100.8"],"tlsa_base":null,"tlsa_rcode":null,"tlsa":[],"dane":"insecure","probes":[]}],"findings":[],"delivery":{"rfc7672":"deliver","postfix":"deliver"}})",
      "{\"domain\":\"weird.example\",\"verdict\":\"dane-fail\",\"mx_rcode\":\"NOERROR\",\"mx_secure\":true,\"implicit_"
      "mx\":true,"
      "\"mx\":[{\"host\":\"weird.example\",\"preference\":0,\"cname_chain\":[],\"addr_rcode\":\"NOERROR\",\"addr_"
      "secure\":true,"
      "\"cname_rcode\":null,\"addresses\":[\"192.0.2.99\"],\"tlsa_base\":\"weird.example\",\"tlsa_rcode\":\"NOERROR\","
      "\"tlsa\":[\"3 1 1 ff\",\"3 1 2 "
      "ee\"],\"dane\":\"fail\",\"probes\":[{\"address\":\"192.0.2.99\",\"connected\":true,"
      "\"starttls\":true,\"tls_ok\":false,\"dane\":\"fail\",\"matched\":null,"
      "\"error\":\"421 \\\"busy\\\"\\\\ now\\nbye\\t\\u0001 caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd end\"}]}],"
      "\"findings\":[\"tls-handshake-failure\"],\"delivery\":{\"rfc7672\":\"defer\",\"postfix\":\"defer\"}}",
  };
}

inline std::vector<std::string> readLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// One integer from SQL on the database at `path` (a second connection, as a report would open).
inline int64_t sqlInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  int64_t value = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace danescan::storage::testing
