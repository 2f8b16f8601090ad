// storage/records.h — what a scan stores: the contract's domain, host and probe objects
// (../shared/contract/export-jsonl.md) as plain values, plus the evidence behind them (every DNS
// query with its rcode, AD bit, Extended DNS Errors, timing and answer). The scanner fills these;
// the writer stores them; export rebuilds the contract's objects from the database.
//
// Field names follow the contract where the contract has the field. Optional contract fields
// (JSON null) are std::optional. Names are normalised (lower case, no trailing dot).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace danescan::storage {

// One DNS query and its outcome.
struct QueryRecord {
  std::string purpose;  // "mx", "a", "aaaa", "cname", "tlsa", "tlsa-other" (the other end of a
                        // CNAME chain, for the findings), "tlsa-insecure" (informational), with
                        // "+cd" appended for the CD=1 repeat after a SERVFAIL
  std::string name;
  uint16_t type = 0;
  bool cd = false;            // sent with CD=1
  std::string rcode;          // NOERROR, NXDOMAIN, SERVFAIL, ..., or TIMEOUT
  bool ad = false;
  bool tcp = false;           // answered over TCP after TC=1
  std::vector<uint16_t> ede;  // RFC 8914 INFO-CODEs
  std::string ede_text;       // their EXTRA-TEXTs, "; "-separated
  uint32_t elapsed_ms = 0;
  uint32_t attempts = 0;
  std::string resolver;       // "127.53.1.1:53" that answered, empty when none did
  std::string answer_wire;    // answer section: its RRs in uncompressed wire form, one after the
                              // other (scanner::dns::answerText() prints them)
  std::string error;          // what went wrong (ignored responses, network errors), or empty
  bool operator==(const QueryRecord&) const = default;
};

// One stage of a probe (connect, greeting, EHLO, STARTTLS, TLS handshake).
struct ProbeStageRecord {
  std::string outcome;      // "" not reached, "ok", "timeout", "refused", "not-offered", "rejected",
                            // "too-long", "garbage", "closed", "error" (details in ProbeRecord::error)
  uint32_t elapsed_ms = 0;  // from the start of this stage to its outcome
  bool operator==(const ProbeStageRecord&) const = default;
};

// One certificate of the chain the peer presented (leaf first).
struct PeerCertRecord {
  std::string sha256;       // SHA-256 of the DER certificate, lower-case hex (TLSA x 0 1)
  std::string spki_sha256;  // SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex (TLSA x 1 1)
  std::string subject;      // RFC 2253
  std::string issuer;       // RFC 2253
  std::string key_type;     // "RSA", "EC", "ED25519", ... (OpenSSL's short name of the key type)
  int key_bits = 0;         // EVP_PKEY_get_bits
  std::vector<std::string> sans;  // "DNS:name", "IP:addr"
  std::string not_before;   // ISO 8601 UTC, "2026-01-31T12:00:00Z"
  std::string not_after;
  bool operator==(const PeerCertRecord&) const = default;
};

// One SMTP/TLS probe of one address: the contract's probe object, then the evidence behind it.
struct ProbeRecord {
  std::string address;
  bool connected = false;    // TCP connection and a 220 greeting
  bool starttls = false;     // offered in the EHLO reply
  bool tls_ok = false;       // the handshake completed
  std::string dane = "n/a";  // pass, fail, n/a
  std::optional<std::string> matched;  // "U S M hex" of the TLSA record that authenticated the peer
  std::optional<std::string> error;

  // Evidence beyond the contract.
  uint16_t port = 25;
  std::string tlsa_base;     // SNI and DANE base domain
  ProbeStageRecord connect, greeting, ehlo, starttls_stage, handshake;
  std::string tls_version;   // "TLSv1.3"
  std::string cipher;        // OpenSSL's name
  std::vector<PeerCertRecord> chain;
  std::optional<int> matched_depth;   // 0: the leaf (DANE-EE), > 0: the trust anchor's depth
  std::optional<int64_t> verify_code; // SSL_get_verify_result (X509_V_OK = 0), when the handshake completed
  std::string verify_text;            // X509_verify_cert_error_string
  // In memory only, never stored: where verification failed (the verify callback's first error),
  // the depth of the certificate it failed on and the length of the chain built up to then
  // (ending at the trust anchor when DANE-TA matched one of the presented certificates).
  std::optional<int> verify_error_depth;
  int verify_chain_length = 0;
  std::optional<bool> leaf_names_match;  // the leaf names a reference identifier (X509_check_host)
  // The leaf certificate (DER), in memory only, never stored; set for a DANE-EE pass whose leaf
  // does not name the TLSA base. One probe serves every domain of a shared host, and the next-hop
  // domain is one of each domain's own reference names, so the scanner judges leaf_names_match
  // per domain against it (pipeline::judgeLeafNames), then drops it.
  std::string leaf_der;
  bool rate_limited = false;  // a 421 reply was seen (on any attempt)
  uint32_t attempts = 0;      // connections made for this record (2 after a 421 retry)
  uint32_t elapsed_ms = 0;    // the last attempt, from start to close
  bool operator==(const ProbeRecord&) const = default;
};

struct HostRecord {
  // The contract's host object.
  std::string host;
  int preference = 0;
  std::vector<std::string> cname_chain;
  std::string addr_rcode;
  bool addr_secure = false;
  std::optional<std::string> cname_rcode;
  std::vector<std::string> addresses;
  std::optional<std::string> tlsa_base;
  std::optional<std::string> tlsa_rcode;
  std::vector<std::string> tlsa;  // "U S M hex"
  std::string dane;               // a host DANE state of the contract
  std::vector<ProbeRecord> probes;

  // Evidence beyond the contract.
  bool cname_secure = false;  // the explicit CNAME query was answered with AD=1
  std::optional<std::string> tlsa_other_base;   // the other end of a CNAME chain, when looked up
  std::optional<std::string> tlsa_other_rcode;
  std::vector<std::string> tlsa_other;
  std::vector<std::string> host_findings;       // findings this host causes (the domain carries them)
  std::vector<QueryRecord> queries;             // every query made for this host
  bool operator==(const HostRecord&) const = default;
};

// The contract's `delivery` object (export-jsonl.md, "Delivery"): what a DANE-enforcing sender
// does with mail to the domain, one value per sender policy: "deliver", "fallback", "defer" or
// "unknown". The domain's `delivery` is null (std::nullopt) for a `no-mail` verdict.
struct DeliveryRecord {
  std::string rfc7672;  // RFC 7672 applied strictly
  std::string postfix;  // as Postfix 3.x does it (smtp_tls_security_level = dane)
  bool operator==(const DeliveryRecord&) const = default;
};

struct DomainRecord {
  // The contract's domain object.
  std::string domain;
  std::string verdict;
  std::string mx_rcode;
  bool mx_secure = false;
  bool implicit_mx = false;
  std::vector<HostRecord> mx;        // preference order, ties by name
  std::vector<std::string> findings; // sorted, unique
  std::optional<DeliveryRecord> delivery;  // null for no-mail

  // Where the name came from, and the queries made for the domain itself (MX, its CD repeat).
  std::string source;
  uint64_t line = 0;
  std::optional<uint64_t> rank;  // the list's rank ("rank,domain" lists), nullopt for plain lists
  std::vector<QueryRecord> queries;
  bool operator==(const DomainRecord&) const = default;
};

}  // namespace danescan::storage
