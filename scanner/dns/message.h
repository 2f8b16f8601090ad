// scanner/dns/message.h — DNS messages as plain values. ldns builds and parses every message;
// its pointers never leave message.cc. Everything the pipeline and storage need from an answer
// (rcode, flags, Extended DNS Errors, records in presentation form and typed MX/TLSA/address
// values) is copied out here, the way Postfix's dns_lookup copies RDATA.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace danescan::scanner::dns {

// RR types the scanner asks for (IANA values).
enum class RrType : uint16_t { A = 1, NS = 2, CNAME = 5, SOA = 6, MX = 15, AAAA = 28, DS = 43, RRSIG = 46, TLSA = 52 };

[[nodiscard]] std::string rrTypeName(uint16_t type);
// The type a mnemonic ("MX", "tlsa", "TYPE52") names, as ldns reads it; nullopt if none.
[[nodiscard]] std::optional<uint16_t> rrTypeFromName(std::string_view name);
// Rcode names as the contract prints them (NOERROR, NXDOMAIN, SERVFAIL, ...); BADVERS etc. for
// extended rcodes, RCODE<N> for unassigned values.
[[nodiscard]] std::string rcodeName(unsigned rcode);

struct Question {
  std::string name;  // normalised: lower case, no trailing dot
  uint16_t type = 0;
  bool operator==(const Question&) const = default;
};

struct QueryOptions {
  bool dnssec_ok = true;       // DO bit: the resolver sets AD only then (lab notes)
  bool checking_disabled = false;  // CD bit: fetch bogus data to tell it from an unreachable server
  uint16_t udp_size = 1232;    // EDNS0 buffer size (DNS flag day 2020)
};

// Wire form of a query with the given ID; empty only if ldns cannot encode the name.
// The ID of a DNS message (ldns's reading of the header), nullopt when it is too short to hold one.
[[nodiscard]] std::optional<uint16_t> messageId(const uint8_t* data, size_t size);

// A query ID from OpenSSL's CSPRNG: predictable IDs make answers spoofable (RFC 5452). Drawn
// 512 bytes at a time per thread (a RAND_bytes() call per ID, with its DRBG locking, was several
// percent of a hot scan's CPU; buffered bytes are just as unpredictable).
[[nodiscard]] uint16_t randomQueryId();

[[nodiscard]] std::vector<uint8_t> buildQuery(uint16_t id, const Question& question, const QueryOptions& options);

struct Record {
  std::string owner;  // normalised
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::string rdata;  // presentation form of the RDATA (names normalised, no trailing dot)
  bool operator==(const Record&) const = default;
};

struct MxRecord {
  uint16_t preference = 0;
  std::string exchange;  // normalised; "" for the root (a null MX when it is the only record)
  bool operator==(const MxRecord&) const = default;
};

struct TlsaRecord {
  uint8_t usage = 0;
  uint8_t selector = 0;
  uint8_t matching_type = 0;
  std::vector<uint8_t> data;
  [[nodiscard]] std::string presentation() const;  // "U S M hex", lower-case hex
  bool operator==(const TlsaRecord&) const = default;
};

struct ExtendedError {
  uint16_t code = 0;  // RFC 8914 INFO-CODE
  std::string text;
  bool operator==(const ExtendedError&) const = default;
};

struct Response {
  uint16_t id = 0;
  unsigned rcode = 0;  // including the EDNS extended bits
  bool authentic_data = false;
  bool truncated = false;
  bool checking_disabled = false;
  std::optional<Question> question;  // absent when the response carries none
  // The answer section as evidence: its records in uncompressed wire form (RFC 1035 section
  // 4.1.3), one after the other, as ldns encodes them; answerText() prints it. Kept as bytes,
  // not text, because printing every record (RRSIGs included) was the largest cost of a parse.
  std::string answer_wire;
  // The answer section as Records (presentation form): filled by parseResponseRecords() only.
  std::vector<Record> answer;
  std::vector<Record> cnames;        // the answer section's CNAME records, in answer order
  std::vector<ExtendedError> extended_errors;
  // Typed values of the answer section's records, in answer order, whatever their owner.
  std::vector<MxRecord> mx;
  std::vector<TlsaRecord> tlsa;
  std::vector<std::string> addresses;  // A and AAAA, presentation form

  // The CNAME chain the answer follows from `name`: the targets, in order. Stops at a loop.
  [[nodiscard]] std::vector<std::string> cnameChain(std::string_view name) const;
};

// Parses a response. nullopt (with the reason in `error`) for anything ldns cannot parse or that
// is not a response; a hostile message never crashes and never allocates beyond its size.
// `answer` stays empty: the evidence is `answer_wire`, the decisions use the typed values.
// With `expected` (the question that was asked): when the response's question names the same
// name (ldns_dname_compare: case-insensitive, RFC 4343), `question` takes expected's text
// instead of ldns printing the name again: the question name is new in nearly every answer of a
// scan, and ldns prints a name one vsnprintf() per character. A different name is printed.
[[nodiscard]] std::optional<Response> parseResponse(const uint8_t* data, size_t size, std::string& error,
                                                    const Question* expected = nullptr);
// The same, with `answer` filled too (every record in presentation form): for tests and tools.
[[nodiscard]] std::optional<Response> parseResponseRecords(const uint8_t* data, size_t size, std::string& error);
// The same without the answer section's values (`answer`, `mx`, `tlsa` and `addresses` stay
// empty): the header, the question and the Extended DNS Errors, which is all a load generator
// counts. Presenting the records in text is most of parseResponse()'s cost.
[[nodiscard]] std::optional<Response> parseResponseHead(const uint8_t* data, size_t size, std::string& error);

// The records of an answer section in the form of Response::answer_wire, printed by ldns, names
// normalised; empty for bytes ldns cannot read (records up to the first bad one are kept).
[[nodiscard]] std::vector<Record> answerRecords(std::string_view wire);
// The stored text of an answer section: one record a line, "owner. TTL IN TYPE rdata" (the
// owner with its trailing dot, RDATA names normalised): what scans stored as text up to schema 3.
[[nodiscard]] std::string answerText(std::string_view wire);

// Lower case, no trailing dot: the form every name takes inside danescan.
[[nodiscard]] std::string normaliseOwner(std::string_view presentation);

}  // namespace danescan::scanner::dns
