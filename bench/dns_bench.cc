// bench/dns_bench.cc — throughput of the DNS message codec (scanner/dns/message.h): building
// the queries the scanner sends (MX, TLSA) and parsing the answers a validating resolver gives
// back for them. Items are messages. The answers are built once with ldns, in the shape unbound
// sends them to a DO query (minimal responses: the answer section with its RRSIGs and an OPT
// record): an MX RRset of 2 records, an A answer through a 2-step CNAME chain, a TLSA RRset of
// 2 records, a SERVFAIL carrying an Extended DNS Error with unbound's kind of text, and an
// NXDOMAIN with its signed NSEC3 proof in the authority section.
// message.h (and with it <optional>) comes before ldns.h: ldns's headers define a `bool` macro
// that breaks libstdc++'s <optional> when it is included after them.
#include "scanner/dns/message.h"

#include <benchmark/benchmark.h>
#include <ldns/ldns.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace danescan::scanner::dns {
namespace {

// ECDSAP256SHA256 signatures are 64 bytes; these are fixed arbitrary bytes (the codec does not
// verify signatures, the resolver did).
constexpr const char* kSig1 = "uCRNAomB1pOve0Vq+O+kytY9KC4Z/xSULCRuUNk1HSJwSoAqccNYC2Nw3kzrKTwySoQjNCVX1OXDhDjw42kQ7g==";
constexpr const char* kSig2 = "e1S2aDbB+90T0kQdnhQ03GLKZ3+2j1/makZLqt7NvQBXb41rWsO8yAhEt9ULHMZgNES758/Pj8CqHuPGNtnjOQ==";
constexpr const char* kSig3 = "+rhIybZXqFPuN8Ccv90UnQs4B7GR3em2I8zZUoHdGHBbSMibFQOQOEW7pXU5RTUf5rRUhSdg9zUpzwHKj2ncyg==";

std::string rrsig(const std::string& owner, const char* covered, int labels, const std::string& signer, const char* sig) {
  return owner + " 3600 IN RRSIG " + covered + " 13 " + std::to_string(labels) +
         " 3600 20270227000000 20261129000000 40312 " + signer + " " + sig;
}

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "dns_bench: %s: %s\n", what, detail.c_str());
  std::exit(1);
}

// The wire form of a response to `qname qtype` as unbound sends it to a DO query: RD RA, AD as
// given, the answer records (zone-file lines), an OPT record (1232, DO) with optional EDE.
std::vector<uint8_t> response(const char* qname, ldns_rr_type qtype, uint8_t rcode, bool ad,
                              const std::vector<std::string>& answers, const std::vector<uint8_t>& ede = {},
                              const std::vector<std::string>& authority = {}) {
  ldns_pkt* pkt = nullptr;
  if (ldns_pkt_query_new_frm_str(&pkt, qname, qtype, LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK) fail("query", qname);
  ldns_pkt_set_id(pkt, 0x4242);
  ldns_pkt_set_qr(pkt, true);
  ldns_pkt_set_ra(pkt, true);
  ldns_pkt_set_ad(pkt, ad);
  ldns_pkt_set_rcode(pkt, rcode);
  for (const std::string& line : answers) {
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, line.c_str(), 3600, nullptr, nullptr) != LDNS_STATUS_OK) fail("record", line);
    ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
  }
  for (const std::string& line : authority) {
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, line.c_str(), 3600, nullptr, nullptr) != LDNS_STATUS_OK) fail("record", line);
    ldns_pkt_push_rr(pkt, LDNS_SECTION_AUTHORITY, rr);
  }
  ldns_pkt_set_edns_udp_size(pkt, 1232);
  ldns_pkt_set_edns_do(pkt, true);
  if (!ede.empty()) {
    ldns_edns_option_list* options = ldns_edns_option_list_new();
    ldns_edns_option_list_push(options, ldns_edns_new_from_data(LDNS_EDNS_EDE, ede.size(), ede.data()));
    ldns_pkt_set_edns_option_list(pkt, options);
  }
  uint8_t* raw = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&raw, pkt, &size) != LDNS_STATUS_OK) fail("pkt2wire", qname);
  std::vector<uint8_t> out(raw, raw + size);
  std::free(raw);
  ldns_pkt_free(pkt);
  return out;
}

std::vector<uint8_t> mxAnswer() {
  const std::string d = "example-shop.signed-a.bench.";
  return response(d.c_str(), LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR, true,
                  {d + " 3600 IN MX 10 mx1.mailhost-17.provider.bench.",
                   d + " 3600 IN MX 20 mx2.mailhost-17.provider.bench.",
                   rrsig(d, "MX", 3, "signed-a.bench.", kSig1)});
}

// An MX host that is an alias: two CNAMEs (each signed) to the address, as for provider hosts.
std::vector<uint8_t> cnameAnswer() {
  const std::string h = "mail.example-shop.signed-a.bench.";
  const std::string m = "example-shop-bench.mail.provider-cloud.bench.";
  const std::string t = "mx-eu-3.in.provider-cloud.bench.";
  return response(h.c_str(), LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true,
                  {h + " 3600 IN CNAME " + m, rrsig(h, "CNAME", 4, "signed-a.bench.", kSig1),
                   m + " 300 IN CNAME " + t, rrsig(m, "CNAME", 5, "provider-cloud.bench.", kSig2),
                   t + " 60 IN A 127.54.7.33", rrsig(t, "A", 5, "provider-cloud.bench.", kSig3)});
}

std::vector<uint8_t> tlsaAnswer() {
  const std::string n = "_25._tcp.mx1.mailhost-17.provider.bench.";
  return response(n.c_str(), LDNS_RR_TYPE_TLSA, LDNS_RCODE_NOERROR, true,
                  {n + " 3600 IN TLSA 3 1 1 6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                   n + " 3600 IN TLSA 3 1 1 4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a",
                   rrsig(n, "TLSA", 5, "provider.bench.", kSig1)});
}

std::vector<uint8_t> servfailAnswer() {
  const std::string text =
      "validation failure <_25._tcp.mx.bogus-7.signed-b.bench. TLSA IN>: signature crypto failed "
      "from 127.54.0.3 for DS signed-b.bench. while building chain of trust";
  std::vector<uint8_t> ede{0, 6};  // INFO-CODE 6, DNSSEC Bogus
  ede.insert(ede.end(), text.begin(), text.end());
  return response("_25._tcp.mx.bogus-7.signed-b.bench.", LDNS_RR_TYPE_TLSA, LDNS_RCODE_SERVFAIL, false, {}, ede);
}

// The most common answer of a cold TLSA lookup: the name does not exist, proven with NSEC3
// (closest encloser, next closer, wildcard) and the SOA, all signed, in the authority section.
std::vector<uint8_t> nxdomainNsec3Answer() {
  const std::string z = "sc0.bench.";
  auto nsec3 = [&](const char* hash, const char* next, const char* types) {
    return std::string(hash) + "." + z + " 3600 IN NSEC3 1 0 0 - " + next + " " + types;
  };
  return response("_25._tcp.mx.dom53003.sc0.bench.", LDNS_RR_TYPE_TLSA, LDNS_RCODE_NXDOMAIN, true, {}, {},
                  {z + " 3600 IN SOA ns.sc0.bench. hostmaster.sc0.bench. 1 3600 600 86400 3600",
                   rrsig(z, "SOA", 2, z, kSig1),
                   nsec3("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "0pa7k1m5c0g5tqtq0k9c4r2h6d6n8v1s", "A RRSIG"),
                   rrsig("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom." + z, "NSEC3", 3, z, kSig2),
                   nsec3("35mthgpgcu1qg68fab165klnsnk3dpvl", "36b2f6b6l2d3h8j8k0j2b0q9r7d3l1c4", "MX RRSIG"),
                   rrsig("35mthgpgcu1qg68fab165klnsnk3dpvl." + z, "NSEC3", 3, z, kSig3),
                   nsec3("r53bq7cc2uvmubfu5ocmm6pers9tk9en", "r5f0e1b6s1i0v3v0q7t7c7c2l2k0c5v6", "NS SOA RRSIG DNSKEY NSEC3PARAM"),
                   rrsig("r53bq7cc2uvmubfu5ocmm6pers9tk9en." + z, "NSEC3", 3, z, kSig1)});
}

void BM_BuildQuery(benchmark::State& state, Question question) {
  uint16_t id = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    auto wire = buildQuery(++id, question, QueryOptions{});
    bytes += wire.size();
    benchmark::DoNotOptimize(wire);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK_CAPTURE(BM_BuildQuery, Mx, Question{"example-shop.signed-a.bench", static_cast<uint16_t>(RrType::MX)});
BENCHMARK_CAPTURE(BM_BuildQuery, Tlsa, Question{"_25._tcp.mx1.mailhost-17.provider.bench", static_cast<uint16_t>(RrType::TLSA)});

void BM_ParseResponse(benchmark::State& state, std::vector<uint8_t> (*make)(), size_t expect_answers) {
  const std::vector<uint8_t> wire = make();
  std::string error;
  {  // the case measures what it says: a successful parse with all its records
    auto r = parseResponse(wire.data(), wire.size(), error);
    if (!r || answerRecords(r->answer_wire).size() != expect_answers) fail("parse check", error.empty() ? "answer count" : error);
  }
  for (auto _ : state) {
    auto r = parseResponse(wire.data(), wire.size(), error);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
  state.counters["msg_bytes"] = static_cast<double>(wire.size());
}
BENCHMARK_CAPTURE(BM_ParseResponse, Mx2Rrsig, &mxAnswer, 3);
BENCHMARK_CAPTURE(BM_ParseResponse, ACnameChain, &cnameAnswer, 6);
BENCHMARK_CAPTURE(BM_ParseResponse, Tlsa2Rrsig, &tlsaAnswer, 3);
BENCHMARK_CAPTURE(BM_ParseResponse, ServfailEde, &servfailAnswer, 0);
BENCHMARK_CAPTURE(BM_ParseResponse, NxdomainNsec3, &nxdomainNsec3Answer, 0);

}  // namespace
}  // namespace danescan::scanner::dns

BENCHMARK_MAIN();
