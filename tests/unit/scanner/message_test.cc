// The DNS message codec against messages that ldns builds in the test, including hostile ones.
#include "scanner/dns/message.h"

#include <ldns/ldns.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace danescan::scanner::dns {
namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const noexcept { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

PktPtr wireToPkt(const std::vector<uint8_t>& wire) {
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&pkt, wire.data(), wire.size()), LDNS_STATUS_OK);
  return PktPtr(pkt);
}

// A response to `qname qtype` with the given answer records (zone-file lines).
std::vector<uint8_t> makeResponse(uint16_t id, const char* qname, ldns_rr_type qtype, unsigned rcode,
                                  std::vector<const char*> answers, bool ad = false) {
  ldns_pkt* raw = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&raw, qname, qtype, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
  PktPtr pkt(raw);
  ldns_pkt_set_id(pkt.get(), id);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_ad(pkt.get(), ad);
  ldns_pkt_set_rcode(pkt.get(), static_cast<uint8_t>(rcode));
  for (const char* line : answers) {
    ldns_rr* rr = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&rr, line, 3600, nullptr, nullptr), LDNS_STATUS_OK) << line;
    ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, rr);
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt.get(), &size), LDNS_STATUS_OK);
  std::vector<uint8_t> out(wire, wire + size);
  std::free(wire);
  return out;
}

// parseResponseRecords(), checked against what a scan stores: parseResponse()'s answer_wire,
// read back with answerRecords(), gives the same records (so every case below also covers the
// stored wire form), and the two parses agree on everything else.
Response parseOk(const std::vector<uint8_t>& wire) {
  std::string error;
  auto parsed = parseResponseRecords(wire.data(), wire.size(), error);
  EXPECT_TRUE(parsed.has_value()) << error;
  if (!parsed) return Response{};
  auto lean = parseResponse(wire.data(), wire.size(), error);
  EXPECT_TRUE(lean.has_value()) << error;
  if (lean) {
    EXPECT_EQ(answerRecords(lean->answer_wire), parsed->answer);
    EXPECT_TRUE(lean->answer.empty());
    lean->answer = parsed->answer;
    EXPECT_EQ(lean->answer_wire, parsed->answer_wire);
    EXPECT_EQ(lean->mx, parsed->mx);
    EXPECT_EQ(lean->tlsa, parsed->tlsa);
    EXPECT_EQ(lean->addresses, parsed->addresses);
    EXPECT_EQ(lean->cnames, parsed->cnames);
  }
  return *parsed;
}

TEST(BuildQuery, SetsIdQuestionDoBitUdpSizeAndCd) {
  const auto wire = buildQuery(0x1234, Question{"_25._tcp.mx.example.test", 52}, QueryOptions{true, true, 1232});
  auto pkt = wireToPkt(wire);
  ASSERT_TRUE(pkt);
  EXPECT_EQ(ldns_pkt_id(pkt.get()), 0x1234);
  EXPECT_FALSE(ldns_pkt_qr(pkt.get()));
  EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
  EXPECT_TRUE(ldns_pkt_cd(pkt.get()));
  EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
  const ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0);
  EXPECT_EQ(ldns_rr_get_type(q), LDNS_RR_TYPE_TLSA);
  char* owner = ldns_rdf2str(ldns_rr_owner(q));
  EXPECT_STREQ(owner, "_25._tcp.mx.example.test.");
  std::free(owner);
}

TEST(BuildQuery, WithoutCdLeavesItClear) {
  auto pkt = wireToPkt(buildQuery(7, Question{"example.test", 15}, QueryOptions{}));
  ASSERT_TRUE(pkt);
  EXPECT_FALSE(ldns_pkt_cd(pkt.get()));
}

TEST(BuildQuery, RejectsANameLdnsCannotEncode) {
  EXPECT_TRUE(buildQuery(1, Question{std::string(64, 'a') + ".test", 1}, QueryOptions{}).empty());
}

TEST(ParseResponse, CopiesFlagsQuestionAndTypedMx) {
  const auto wire = makeResponse(99, "Example.TEST.", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR,
                                 {"example.test. 300 IN MX 20 MX2.example.test.", "example.test. 300 IN MX 10 mx1.example.test."},
                                 true);
  const Response r = parseOk(wire);
  EXPECT_EQ(r.id, 99);
  EXPECT_EQ(r.rcode, 0u);
  EXPECT_TRUE(r.authentic_data);
  EXPECT_FALSE(r.truncated);
  ASSERT_TRUE(r.question.has_value());
  EXPECT_EQ(*r.question, (Question{"example.test", 15}));
  EXPECT_EQ(r.mx, (std::vector<MxRecord>{{20, "mx2.example.test"}, {10, "mx1.example.test"}}));
  ASSERT_EQ(r.answer.size(), 2u);
  EXPECT_EQ(r.answer[0], (Record{"example.test", 15, 300, "20 mx2.example.test"}));
}

TEST(ParseResponse, NullMxHasAnEmptyExchange) {
  const Response r = parseOk(makeResponse(1, "nullmx.test.", LDNS_RR_TYPE_MX, 0, {"nullmx.test. 60 IN MX 0 ."}));
  EXPECT_EQ(r.mx, (std::vector<MxRecord>{{0, ""}}));
}

TEST(ParseResponse, TlsaRecordsInContractPresentation) {
  const Response r = parseOk(makeResponse(
      2, "_25._tcp.mx.test.", LDNS_RR_TYPE_TLSA, 0,
      {"_25._tcp.mx.test. 60 IN TLSA 3 1 1 0A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A"}));
  ASSERT_EQ(r.tlsa.size(), 1u);
  EXPECT_EQ(r.tlsa[0].usage, 3);
  EXPECT_EQ(r.tlsa[0].selector, 1);
  EXPECT_EQ(r.tlsa[0].matching_type, 1);
  EXPECT_EQ(r.tlsa[0].presentation(), "3 1 1 0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a");
}

TEST(ParseResponse, FollowsTheCnameChainInOrderAndCollectsAddresses) {
  const Response r = parseOk(makeResponse(3, "mx.a.test.", LDNS_RR_TYPE_A, 0,
                                          {"b.c.test. 60 IN CNAME host.d.test.", "mx.a.test. 60 IN CNAME B.c.test.",
                                           "host.d.test. 60 IN A 127.25.0.10", "host.d.test. 60 IN A 127.25.0.11"}));
  EXPECT_EQ(r.cnameChain("mx.a.test"), (std::vector<std::string>{"b.c.test", "host.d.test"}));
  EXPECT_EQ(r.addresses, (std::vector<std::string>{"127.25.0.10", "127.25.0.11"}));
  EXPECT_TRUE(r.cnameChain("other.test").empty());
}

TEST(ParseResponse, StopsAtACnameLoop) {
  const Response r = parseOk(makeResponse(4, "x.test.", LDNS_RR_TYPE_A, 0,
                                          {"x.test. 60 IN CNAME y.test.", "y.test. 60 IN CNAME x.test."}));
  EXPECT_EQ(r.cnameChain("x.test"), (std::vector<std::string>{"y.test"}));
}

TEST(ParseResponse, KeepsRcodeNamesAsTheContractPrintsThem) {
  EXPECT_EQ(rcodeName(0), "NOERROR");
  EXPECT_EQ(rcodeName(2), "SERVFAIL");
  EXPECT_EQ(rcodeName(3), "NXDOMAIN");
  EXPECT_EQ(rcodeName(4), "NOTIMP");
  EXPECT_EQ(rcodeName(5), "REFUSED");
  EXPECT_EQ(rcodeName(16), "BADVERS");
  EXPECT_EQ(rcodeName(23), "RCODE23");
  EXPECT_EQ(parseOk(makeResponse(5, "x.test.", LDNS_RR_TYPE_A, LDNS_RCODE_SERVFAIL, {})).rcode, 2u);
}

TEST(ParseResponse, ReadsExtendedDnsErrors) {
  auto wire = makeResponse(6, "bogus.test.", LDNS_RR_TYPE_A, LDNS_RCODE_SERVFAIL, {});
  auto pkt = wireToPkt(wire);
  ASSERT_TRUE(pkt);
  ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
  ldns_edns_option_list* options = ldns_edns_option_list_new();
  const uint8_t ede[] = {0, 6, 'b', 'a', 'd'};  // INFO-CODE 6 "DNSSEC Bogus", EXTRA-TEXT "bad"
  ldns_edns_option_list_push(options, ldns_edns_new_from_data(LDNS_EDNS_EDE, sizeof ede, ede));
  ldns_pkt_set_edns_option_list(pkt.get(), options);
  uint8_t* raw = nullptr;
  size_t size = 0;
  ASSERT_EQ(ldns_pkt2wire(&raw, pkt.get(), &size), LDNS_STATUS_OK);
  std::vector<uint8_t> with_ede(raw, raw + size);
  std::free(raw);
  const Response r = parseOk(with_ede);
  EXPECT_EQ(r.extended_errors, (std::vector<ExtendedError>{{6, "bad"}}));
}

// parseResponse() keeps the text ldns printed for each name it met (ldns prints one vsnprintf()
// per byte); the text must be what ldns_rdf2str() gives, normalised, for every byte a label can
// hold, whether printed now or remembered.
TEST(ParseResponse, PrintsNamesExactlyAsLdnsDoes) {
  std::srand(7);
  const auto randomName = [] {
    std::vector<uint8_t> wire;
    const int labels = 1 + std::rand() % 4;
    for (int l = 0; l < labels; ++l) {
      const int len = 1 + std::rand() % 12;
      wire.push_back(static_cast<uint8_t>(len));
      for (int i = 0; i < len; ++i) {
        // Half the bytes from the whole range (escapes, upper case, 8-bit), half printable.
        wire.push_back(static_cast<uint8_t>(std::rand() % 2 ? std::rand() % 256 : 0x21 + std::rand() % 94));
      }
    }
    wire.push_back(0);
    return wire;
  };
  const auto expected = [](const ldns_rdf* rdf) {
    char* text = ldns_rdf2str(rdf);
    std::string out = normaliseOwner(text ? text : "");
    std::free(text);
    return out;
  };
  for (int round = 0; round < 200; ++round) {
    ldns_pkt* raw = nullptr;
    ASSERT_EQ(ldns_pkt_query_new_frm_str(&raw, "q.test.", LDNS_RR_TYPE_CNAME, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
    PktPtr pkt(raw);
    ldns_pkt_set_qr(pkt.get(), true);
    std::vector<std::pair<std::string, std::string>> want;
    for (int i = 0; i < 4; ++i) {
      const auto owner = randomName();
      const auto target = randomName();
      ldns_rr* rr = ldns_rr_new();
      ldns_rr_set_type(rr, LDNS_RR_TYPE_CNAME);
      ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
      ldns_rr_set_owner(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, owner.size(), owner.data()));
      ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, target.size(), target.data()));
      want.emplace_back(expected(ldns_rr_owner(rr)), expected(ldns_rr_rdf(rr, 0)));
      ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, rr);
    }
    uint8_t* wire = nullptr;
    size_t size = 0;
    ASSERT_EQ(ldns_pkt2wire(&wire, pkt.get(), &size), LDNS_STATUS_OK);
    std::vector<uint8_t> bytes(wire, wire + size);
    std::free(wire);
    const Response r = parseOk(bytes);
    ASSERT_EQ(r.answer.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(r.answer[i].owner, want[i].first);
      EXPECT_EQ(r.answer[i].rdata, want[i].second);
    }
  }
}

// The remembered names are bounded (emptied when full): past that bound, names met before and
// names that differ only in case or in one byte still print as ldns prints them.
TEST(ParseResponse, RemembersNamesWithoutMixingThemUp) {
  const auto response = [](const std::string& owner, const std::string& target) {
    ldns_pkt* raw = nullptr;
    EXPECT_EQ(ldns_pkt_query_new_frm_str(&raw, "q.test.", LDNS_RR_TYPE_CNAME, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
    PktPtr pkt(raw);
    ldns_pkt_set_qr(pkt.get(), true);
    ldns_rr* rr = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&rr, (owner + " 60 IN CNAME " + target).c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK);
    ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, rr);
    uint8_t* wire = nullptr;
    size_t size = 0;
    EXPECT_EQ(ldns_pkt2wire(&wire, pkt.get(), &size), LDNS_STATUS_OK);
    std::vector<uint8_t> bytes(wire, wire + size);
    std::free(wire);
    return parseOk(bytes);
  };
  for (int round = 0; round < 2; ++round) {  // the second round meets every name again
    for (int i = 0; i < 40000; i += 1 + (round ? 997 : 0)) {
      const std::string n = std::to_string(i);
      const Response r = response("Host" + n + ".Example.TEST.", "host" + n + "x.example.test.");
      ASSERT_EQ(r.answer.size(), 1u);
      ASSERT_EQ(r.answer[0].owner, "host" + n + ".example.test");
      ASSERT_EQ(r.answer[0].rdata, "host" + n + "x.example.test");
    }
  }
  const Response upper = response("A.B.TEST.", "a.b.test.");
  EXPECT_EQ(upper.answer[0].owner, "a.b.test");
  EXPECT_EQ(upper.answer[0].rdata, "a.b.test");
  const Response other = response("a.c.test.", "a\\.b.test.");
  EXPECT_EQ(other.answer[0].owner, "a.c.test");
  EXPECT_EQ(other.answer[0].rdata, "a\\.b.test");
}

// Every field of a signed answer prints as ldns prints it (RRSIG: type, numbers, times, signer,
// base64), joined by spaces.
TEST(ParseResponse, PrintsRdataAsLdnsDoes) {
  const char* rrsig =
      "mx.example.test. 3600 IN RRSIG A 13 3 3600 20270227011742 20261129001742 44158 Example.TEST. "
      "kzEarSyApyFp4mvYZCAapFPY4rZu4qli957MBfz2RrUAMxZCy+HVs4ZqQp5iAv7Xw6Fi7QEfbCHFkxLoZTeGRg==";
  const Response r = parseOk(makeResponse(1, "mx.example.test.", LDNS_RR_TYPE_A, 0,
                                          {"mx.example.test. 60 IN A 192.0.2.1", rrsig,
                                           "mx.example.test. 60 IN AAAA 2001:db8::1"}));
  ASSERT_EQ(r.answer.size(), 3u);
  // Field by field against ldns_rdf2str() of the same message.
  const auto wire = makeResponse(1, "mx.example.test.", LDNS_RR_TYPE_A, 0,
                                 {"mx.example.test. 60 IN A 192.0.2.1", rrsig, "mx.example.test. 60 IN AAAA 2001:db8::1",
                                  "mx.example.test. 60 IN MX 10 Mail.Example.TEST.",
                                  "_25._tcp.mx.example.test. 60 IN TLSA 3 1 1 ABCDEF0123",
                                  "mx.example.test. 60 IN RRSIG TYPE65000 8 3 4294967295 20270227011742 "
                                  "20261129001742 65535 example.test. AAAA"});
  auto pkt = wireToPkt(wire);
  const Response all = parseOk(wire);
  ASSERT_EQ(all.answer.size(), 6u);
  for (size_t i = 0; i < all.answer.size(); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), i);
    std::string want;
    for (size_t f = 0; f < ldns_rr_rd_count(rr); ++f) {
      char* text = ldns_rdf2str(ldns_rr_rdf(rr, f));
      if (f) want += ' ';
      want += ldns_rdf_get_type(ldns_rr_rdf(rr, f)) == LDNS_RDF_TYPE_DNAME ? normaliseOwner(text) : std::string(text);
      std::free(text);
    }
    EXPECT_EQ(all.answer[i].rdata, want) << i;
  }
  EXPECT_EQ(r.answer[0].rdata, "192.0.2.1");
  EXPECT_EQ(r.answer[1].rdata,
            "A 13 3 3600 20270227011742 20261129001742 44158 example.test "
            "kzEarSyApyFp4mvYZCAapFPY4rZu4qli957MBfz2RrUAMxZCy+HVs4ZqQp5iAv7Xw6Fi7QEfbCHFkxLoZTeGRg==");
  EXPECT_EQ(r.answer[2].rdata, "2001:db8::1");
}

TEST(ParseResponse, RejectsQueriesAndGarbageWithoutCrashing) {
  std::string error;
  const auto query = buildQuery(8, Question{"x.test", 1}, QueryOptions{});
  EXPECT_FALSE(parseResponse(query.data(), query.size(), error).has_value());
  EXPECT_NE(error.find("not a response"), std::string::npos);

  auto wire = makeResponse(9, "x.test.", LDNS_RR_TYPE_A, 0, {"x.test. 60 IN A 127.0.0.1"});
  for (size_t cut = 0; cut < wire.size(); ++cut) {  // every truncation of a valid message
    error.clear();
    (void)parseResponse(wire.data(), cut, error);
  }
  const uint8_t garbage[] = {0xde, 0xad, 0xbe, 0xef, 0x80, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  error.clear();
  EXPECT_FALSE(parseResponse(garbage, sizeof garbage, error).has_value());
  EXPECT_NE(error.find("malformed"), std::string::npos);
  EXPECT_FALSE(parseResponse(wire.data(), 5, error).has_value());
}

// parseResponseHead() is parseResponse() without the answer's values: same header, question and
// EDEs, same verdict on garbage.
TEST(ParseResponseHead, SameHeadWithoutTheRecords) {
  auto wire = makeResponse(10, "Example.TEST.", LDNS_RR_TYPE_MX, 0, {"example.test. 300 IN MX 10 mx.example.test."}, true);
  std::string error;
  const auto head = parseResponseHead(wire.data(), wire.size(), error);
  ASSERT_TRUE(head) << error;
  Response full = parseOk(wire);
  EXPECT_FALSE(full.answer.empty());
  full.answer.clear();
  full.mx.clear();
  EXPECT_EQ(head->id, full.id);
  EXPECT_EQ(head->rcode, full.rcode);
  EXPECT_EQ(head->authentic_data, full.authentic_data);
  EXPECT_EQ(head->question, full.question);
  EXPECT_TRUE(head->answer.empty());
  EXPECT_TRUE(head->mx.empty());
  const auto query = buildQuery(8, Question{"x.test", 1}, QueryOptions{});
  EXPECT_FALSE(parseResponseHead(query.data(), query.size(), error).has_value());
  for (size_t cut = 0; cut < wire.size(); ++cut) (void)parseResponseHead(wire.data(), cut, error);
}

// The stored answer (wire form) prints as the text schema 3 stored: one record a line, owner with
// its dot, TTL, class, type, RDATA as ldns prints it with names normalised; ill-formed bytes end it.
TEST(AnswerText, PrintsTheStoredWireFormAsSchema3Text) {
  auto wire = makeResponse(11, "a.test.", LDNS_RR_TYPE_A, 0,
                           {"A.Test. 300 IN CNAME B.Test.", "b.test. 60 IN A 192.0.2.7", "b.test. 60 IN TXT \"x y\""}, true);
  const Response r = parseOk(wire);
  EXPECT_EQ(answerText(r.answer_wire), "a.test. 300 IN CNAME b.test\nb.test. 60 IN A 192.0.2.7\nb.test. 60 IN TXT \"x y\"");
  EXPECT_EQ(r.cnames, (std::vector<Record>{Record{"a.test", 5, 300, "b.test"}}));
  EXPECT_EQ(answerText(""), "");
  const std::string cut = r.answer_wire.substr(0, r.answer_wire.size() - 3);
  EXPECT_EQ(answerText(cut), "a.test. 300 IN CNAME b.test\nb.test. 60 IN A 192.0.2.7");
  EXPECT_TRUE(answerRecords("\xff\xff\xff").empty());
}

// With the question asked, a response to the same name (in any case) takes the asked text; one
// to another name, or another type, keeps the name ldns printed, so the client can ignore it.
TEST(ParseResponse, ExpectedQuestionIsComparedAsANameNotPrinted) {
  auto wire = makeResponse(12, "MX.Example.TEST.", LDNS_RR_TYPE_A, 0, {"mx.example.test. 60 IN A 192.0.2.9"}, true);
  std::string error;
  const Question same{"mx.example.test", 1};
  auto r = parseResponse(wire.data(), wire.size(), error, &same);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->question, same);
  EXPECT_EQ(r->addresses, (std::vector<std::string>{"192.0.2.9"}));
  const Question other{"mx.example.tes", 1};
  r = parseResponse(wire.data(), wire.size(), error, &other);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->question, (Question{"mx.example.test", 1}));
  const Question other_type{"mx.example.test", 28};
  r = parseResponse(wire.data(), wire.size(), error, &other_type);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->question, (Question{"mx.example.test", 1}));
}

TEST(RrTypeFromName, ReadsMnemonicsAsLdnsDoes) {
  EXPECT_EQ(rrTypeFromName("MX"), std::optional<uint16_t>(15));
  EXPECT_EQ(rrTypeFromName("tlsa"), std::optional<uint16_t>(52));
  EXPECT_EQ(rrTypeFromName("AAAA"), std::optional<uint16_t>(28));
  EXPECT_EQ(rrTypeFromName("TYPE65"), std::optional<uint16_t>(65));
  EXPECT_EQ(rrTypeFromName("NOPE"), std::nullopt);
}

}  // namespace
}  // namespace danescan::scanner::dns
