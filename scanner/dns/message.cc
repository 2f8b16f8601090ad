// scanner/dns/message.cc — the only file of the DNS engine that touches ldns structures.
#include "scanner/dns/message.h"

#include "scanner/c_ptr.h"

#include <ldns/ldns.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string_view>
#include <unordered_map>

namespace danescan::scanner::dns {
namespace {

using PktPtr = CPtr<ldns_pkt, &ldns_pkt_free>;
using CharPtr = CPtr<char, &std::free>;

constexpr uint16_t kEdnsExtendedError = 15;  // RFC 8914

using BufferPtr = CPtr<ldns_buffer, &ldns_buffer_free>;

// Prints `rdf` with ldns into `out` as ldns_rdf2str() would, without its per-field allocation:
// ldns_rdf2str() allocates a 64 KiB buffer (LDNS_MAX_PACKETSIZE) for every field and shrinks it
// with realloc; a scan prints several fields per answer, so one buffer per thread is reused
// instead (it grows on demand). A field ldns cannot print appends nothing.
void appendLdnsText(std::string& out, const ldns_rdf* rdf) {
  thread_local BufferPtr buffer;
  if (!buffer || ldns_buffer_status(buffer.get()) != LDNS_STATUS_OK) buffer.reset(ldns_buffer_new(256));
  if (!buffer) return;
  ldns_buffer_clear(buffer.get());
  if (ldns_rdf2buffer_str(buffer.get(), rdf) != LDNS_STATUS_OK || ldns_buffer_status(buffer.get()) != LDNS_STATUS_OK) return;
  out.append(reinterpret_cast<const char*>(ldns_buffer_begin(buffer.get())), ldns_buffer_position(buffer.get()));
}

struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Appends the presentation form of `rdf` to `out`, names normalised (lower case, no trailing
// dot). Names are printed by ldns (the project's fixed point: ldns owns presentation), which
// prints them a character at a time through vsnprintf: the largest cost of parsing an answer.
// The same few names come back in every answer (a record's owner is its RRSIG's owner and the
// question; MX exchanges and signers are shared by thousands of domains), so each thread keeps
// ldns's text of the names it met, keyed by their uncompressed wire form (ldns_wire2pkt has
// already expanded compression pointers), bounded by emptying it when full.
void appendRdfText(std::string& out, const ldns_rdf* rdf) {
  if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME) {
    appendLdnsText(out, rdf);
    return;
  }
  constexpr size_t kMaxNames = 1 << 15;
  thread_local std::unordered_map<std::string, std::string, NameHash, std::equal_to<>> names;
  const std::string_view wire(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
  if (auto it = names.find(wire); it != names.end()) {
    out += it->second;
    return;
  }
  std::string text;
  appendLdnsText(text, rdf);
  if (text.ends_with('.')) text.pop_back();
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); });
  out += text;
  if (names.size() >= kMaxNames) names.clear();
  names.emplace(wire, std::move(text));
}

std::string rdfText(const ldns_rdf* rdf) {
  std::string out;
  appendRdfText(out, rdf);
  return out;
}

Record toRecord(const ldns_rr* rr) {
  Record out;
  out.owner = rdfText(ldns_rr_owner(rr));
  out.type = static_cast<uint16_t>(ldns_rr_get_type(rr));
  out.ttl = ldns_rr_ttl(rr);
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    if (i) out.rdata.push_back(' ');
    appendRdfText(out.rdata, ldns_rr_rdf(rr, i));
  }
  return out;
}

// Copies the RDATA of the record types the pipeline decides on into plain values. A record whose
// fields do not have the expected form (ldns parsed it, but a hostile server can still send an
// MX with no exchange) is kept in `answer` only.
void addTypedValue(const ldns_rr* rr, Response& out) {
  const size_t count = ldns_rr_rd_count(rr);
  switch (ldns_rr_get_type(rr)) {
    case LDNS_RR_TYPE_MX:
      if (count == 2 && ldns_rdf_get_type(ldns_rr_rdf(rr, 1)) == LDNS_RDF_TYPE_DNAME) {
        out.mx.push_back(MxRecord{ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)), rdfText(ldns_rr_rdf(rr, 1))});
      }
      break;
    case LDNS_RR_TYPE_TLSA:
      if (count == 4) {
        const ldns_rdf* data = ldns_rr_rdf(rr, 3);
        TlsaRecord tlsa{ldns_rdf2native_int8(ldns_rr_rdf(rr, 0)), ldns_rdf2native_int8(ldns_rr_rdf(rr, 1)),
                        ldns_rdf2native_int8(ldns_rr_rdf(rr, 2)), {}};
        tlsa.data.assign(ldns_rdf_data(data), ldns_rdf_data(data) + ldns_rdf_size(data));
        out.tlsa.push_back(std::move(tlsa));
      }
      break;
    case LDNS_RR_TYPE_A:
    case LDNS_RR_TYPE_AAAA:
      if (count == 1) out.addresses.push_back(rdfText(ldns_rr_rdf(rr, 0)));
      break;
    default:
      break;
  }
}

}  // namespace

std::string normaliseOwner(std::string_view presentation) {
  std::string out(presentation);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); });
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

namespace {

std::string rrTypeNameUncached(uint16_t type) {
  CharPtr text(ldns_rr_type2str(static_cast<ldns_rr_type>(type)));
  return text ? std::string(text.get()) : "TYPE" + std::to_string(type);
}

}  // namespace

std::string rrTypeName(uint16_t type) {
  // Every answer record's type is printed into the evidence; ask ldns once per type.
  static const std::array<std::string, 256> kLow = [] {
    std::array<std::string, 256> names;
    for (size_t t = 0; t < names.size(); ++t) names[t] = rrTypeNameUncached(static_cast<uint16_t>(t));
    return names;
  }();
  return type < kLow.size() ? kLow[type] : rrTypeNameUncached(type);
}

std::optional<uint16_t> rrTypeFromName(std::string_view name) {
  const std::string text(name);
  const ldns_rr_type type = ldns_get_rr_type_by_name(text.c_str());
  // ldns answers 0 for a name it does not know; type 0 is reserved anyway.
  if (type == 0) return std::nullopt;
  return static_cast<uint16_t>(type);
}

std::string rcodeName(unsigned rcode) {
  // The contract's names (NOTIMP, not ldns's NOTIMPL).
  static constexpr const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                           "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode < std::size(kNames)) return kNames[rcode];
  if (rcode == 16) return "BADVERS";
  return "RCODE" + std::to_string(rcode);
}

std::optional<uint16_t> messageId(const uint8_t* data, size_t size) {
  if (size < LDNS_HEADER_SIZE) return std::nullopt;
  return static_cast<uint16_t>(LDNS_ID_WIRE(data));
}

uint16_t randomQueryId() {
  thread_local uint8_t pool[512];
  thread_local size_t used = sizeof pool;
  if (used + 2 > sizeof pool) {
    if (RAND_bytes(pool, sizeof pool) != 1) {
      std::fprintf(stderr, "danescan: RAND_bytes failed\n");
      std::abort();  // cannot happen with a working OpenSSL; carrying on would weaken every query
    }
    used = 0;
  }
  const auto id = static_cast<uint16_t>(pool[used] << 8 | pool[used + 1]);
  used += 2;
  return id;
}

std::vector<uint8_t> buildQuery(uint16_t id, const Question& question, const QueryOptions& options) {
  const std::string absolute = question.name.empty() ? "." : question.name + ".";
  ldns_pkt* raw = nullptr;
  if (ldns_pkt_query_new_frm_str(&raw, absolute.c_str(), static_cast<ldns_rr_type>(question.type),
                                 LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK) {
    return {};
  }
  PktPtr pkt(raw);
  ldns_pkt_set_id(pkt.get(), id);
  ldns_pkt_set_cd(pkt.get(), options.checking_disabled);
  ldns_pkt_set_edns_udp_size(pkt.get(), options.udp_size);
  ldns_pkt_set_edns_do(pkt.get(), options.dnssec_ok);
  // ldns_pkt2wire() would allocate a 64 KiB buffer (LDNS_MAX_PACKETSIZE) per query and hand it
  // over whole; one buffer per thread is reused instead.
  thread_local BufferPtr buffer;
  if (!buffer || ldns_buffer_status(buffer.get()) != LDNS_STATUS_OK) buffer.reset(ldns_buffer_new(512));
  if (!buffer) return {};
  ldns_buffer_clear(buffer.get());
  // No compression tree (nullptr): a query holds one name, so there is nothing to compress, and
  // building the tree (an rbtree node and label copies per name suffix) cost more than the rest
  // of the encoding.
  if (ldns_pkt2buffer_wire_compress(buffer.get(), pkt.get(), nullptr) != LDNS_STATUS_OK ||
      ldns_buffer_status(buffer.get()) != LDNS_STATUS_OK) {
    return {};
  }
  const uint8_t* wire = ldns_buffer_begin(buffer.get());
  return std::vector<uint8_t>(wire, wire + ldns_buffer_position(buffer.get()));
}

std::string TlsaRecord::presentation() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = std::to_string(usage) + ' ' + std::to_string(selector) + ' ' + std::to_string(matching_type) + ' ';
  for (uint8_t b : data) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

namespace {

enum class Detail { Head, Evidence, Records };

using RrPtr = CPtr<ldns_rr, &ldns_rr_free>;

// Appends `rr` in uncompressed wire form to `out` (owner, type, class, TTL, RDLENGTH, RDATA), as
// ldns encodes it, through one reused buffer per thread.
void appendWire(std::string& out, const ldns_rr* rr) {
  thread_local BufferPtr buffer;
  if (!buffer || ldns_buffer_status(buffer.get()) != LDNS_STATUS_OK) buffer.reset(ldns_buffer_new(512));
  if (!buffer) return;
  ldns_buffer_clear(buffer.get());
  if (ldns_rr2buffer_wire(buffer.get(), rr, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK ||
      ldns_buffer_status(buffer.get()) != LDNS_STATUS_OK) {
    return;
  }
  out.append(reinterpret_cast<const char*>(ldns_buffer_begin(buffer.get())), ldns_buffer_position(buffer.get()));
}

using RdfPtr = CPtr<ldns_rdf, &ldns_rdf_deep_free>;

// Whether `owner` (from a parsed message) is the name `text` (normalised, no trailing dot), as
// ldns reads and compares names.
bool sameName(const ldns_rdf* owner, const std::string& text) {
  const std::string absolute = text.empty() ? "." : text + ".";
  RdfPtr name(ldns_dname_new_frm_str(absolute.c_str()));
  return name && ldns_dname_compare(owner, name.get()) == 0;
}

std::optional<Response> parse(const uint8_t* data, size_t size, std::string& error, Detail detail,
                              const Question* expected = nullptr) {
  ldns_pkt* raw = nullptr;
  const ldns_status status = ldns_wire2pkt(&raw, data, size);
  if (status != LDNS_STATUS_OK) {
    error = std::string("malformed DNS message: ") + ldns_get_errorstr_by_id(status);
    return std::nullopt;
  }
  PktPtr pkt(raw);
  if (!ldns_pkt_qr(pkt.get())) {
    error = "not a response (QR bit clear)";
    return std::nullopt;
  }
  Response out;
  out.id = ldns_pkt_id(pkt.get());
  out.rcode = static_cast<unsigned>(ldns_pkt_get_rcode(pkt.get())) |
              (static_cast<unsigned>(ldns_pkt_edns_extended_rcode(pkt.get())) << 4);
  out.authentic_data = ldns_pkt_ad(pkt.get());
  out.truncated = ldns_pkt_tc(pkt.get());
  out.checking_disabled = ldns_pkt_cd(pkt.get());
  if (const ldns_rr_list* q = ldns_pkt_question(pkt.get()); q && ldns_rr_list_rr_count(q) > 0) {
    const ldns_rr* rr = ldns_rr_list_rr(q, 0);
    const auto type = static_cast<uint16_t>(ldns_rr_get_type(rr));
    if (expected && expected->type == type && sameName(ldns_rr_owner(rr), expected->name)) {
      out.question = Question{expected->name, type};
    } else {
      out.question = Question{rdfText(ldns_rr_owner(rr)), type};
    }
  }
  const ldns_rr_list* answer = detail != Detail::Head ? ldns_pkt_answer(pkt.get()) : nullptr;
  if (answer != nullptr) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(answer, i);
      appendWire(out.answer_wire, rr);
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME) out.cnames.push_back(toRecord(rr));
      if (detail == Detail::Records) out.answer.push_back(toRecord(rr));
      addTypedValue(rr, out);
    }
  }
  if (ldns_edns_option_list* options = ldns_pkt_edns_get_option_list(pkt.get())) {
    for (size_t i = 0; i < ldns_edns_option_list_get_count(options); ++i) {
      ldns_edns_option* option = ldns_edns_option_list_get_option(options, i);
      if (ldns_edns_get_code(option) != kEdnsExtendedError || ldns_edns_get_size(option) < 2) continue;
      const uint8_t* bytes = ldns_edns_get_data(option);
      ExtendedError ede;
      ede.code = static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
      ede.text.assign(reinterpret_cast<const char*>(bytes) + 2, ldns_edns_get_size(option) - 2);
      out.extended_errors.push_back(std::move(ede));
    }
  }
  return out;
}

}  // namespace

std::optional<Response> parseResponse(const uint8_t* data, size_t size, std::string& error, const Question* expected) {
  return parse(data, size, error, Detail::Evidence, expected);
}

std::optional<Response> parseResponseRecords(const uint8_t* data, size_t size, std::string& error) {
  return parse(data, size, error, Detail::Records);
}

std::optional<Response> parseResponseHead(const uint8_t* data, size_t size, std::string& error) {
  return parse(data, size, error, Detail::Head);
}

std::vector<Record> answerRecords(std::string_view wire) {
  std::vector<Record> out;
  const auto* data = reinterpret_cast<const uint8_t*>(wire.data());
  size_t pos = 0;
  while (pos < wire.size()) {
    ldns_rr* raw = nullptr;
    if (ldns_wire2rr(&raw, data, wire.size(), &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) break;
    RrPtr rr(raw);
    out.push_back(toRecord(rr.get()));
  }
  return out;
}

std::string answerText(std::string_view wire) {
  std::string text;
  for (const Record& rr : answerRecords(wire)) {
    if (!text.empty()) text += '\n';
    text += rr.owner;
    text += ". ";
    text += std::to_string(rr.ttl);
    text += " IN ";
    text += rrTypeName(rr.type);
    text += ' ';
    text += rr.rdata;
  }
  return text;
}

std::vector<std::string> Response::cnameChain(std::string_view name) const {
  std::vector<std::string> chain;
  std::set<std::string> seen{std::string(name)};
  std::string current(name);
  for (bool advanced = true; advanced;) {
    advanced = false;
    for (const Record& r : cnames) {
      if (r.owner == current) {
        if (!seen.insert(r.rdata).second) return chain;  // a loop: stop where it closes
        chain.push_back(r.rdata);
        current = r.rdata;
        advanced = true;
        break;
      }
    }
  }
  return chain;
}

}  // namespace danescan::scanner::dns
