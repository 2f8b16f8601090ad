// scanner/tls/smtp_probe.h — one SMTP STARTTLS + DANE probe of one address, on the caller's
// libuv loop, entirely non-blocking: TCP connect, 220 greeting, EHLO, STARTTLS when offered, the
// TLS handshake through an OpenSSL BIO pair fed by libuv reads and writes, QUIT, close.
//
// DANE is OpenSSL's (RFC 7672 with SSL_dane_*): the TLSA records go to SSL_dane_tlsa_add (it
// refuses the unusable ones: PKIX usages 0/1 are skipped first, RFC 7672 section 3.1.3), SNI is
// the TLSA base domain (section 8.1), DANE-EE(3) ignores names and dates
// (DANE_FLAG_NO_DANE_EE_NAMECHECKS), DANE-TA(2) checks names against the reference identifiers of
// section 3.2.2 (SSL_add1_host) and dates. The handshake runs with SSL_VERIFY_NONE so that it
// completes and the chain is recorded even when DANE fails; the outcome is read afterwards.
//
// Bounds: every reply is parsed by smtp::ReplyParser (max_line, max_reply), every stage has a
// timeout, and `deadline_ms` ends the whole probe whatever a tarpit does.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "scanner/dns/message.h"
#include "storage/records.h"

namespace danescan::scanner::tls {

struct ProbeTarget {
  std::string address;   // IPv4 or IPv6 literal
  uint16_t port = 25;
  std::string tlsa_base; // SNI and DANE base domain; may be empty for an opportunistic probe
  // RFC 7672 section 3.2.2: the TLSA base domain, the original MX host name, the next-hop domain
  // (duplicates are harmless). Only DANE-TA(2) checks them.
  std::vector<std::string> reference_names;
  // The whole TLSA RRset, "U S M hex"; empty: an opportunistic probe (--probe-all), dane "n/a".
  std::vector<std::string> tlsa;
};

struct ProbeOptions {
  std::string ehlo_name = "danescan.invalid";
  uint32_t connect_timeout_ms = 10000;
  uint32_t stage_timeout_ms = 30000;  // greeting, EHLO, STARTTLS, handshake, QUIT each
  uint32_t deadline_ms = 60000;       // the whole probe
  size_t max_line = 4096;             // one reply line, CRLF included
  size_t max_reply = 65536;           // one whole (multi-line) reply
};

// "U S M hex" -> record; nullopt when it does not parse (not three small numbers and hex).
[[nodiscard]] std::optional<dns::TlsaRecord> parseTlsa(const std::string& text);

// Whether any record of `tlsa` is usable (OpenSSL accepts it and the usage is 2 or 3): a probe
// of a target without one is opportunistic and its dane is "n/a".
[[nodiscard]] bool hasUsableTlsa(const std::vector<std::string>& tlsa);
// Whether a usable DANE-TA(2) record is in the set: only then do reference names matter.
[[nodiscard]] bool hasUsableDaneTa(const std::vector<std::string>& tlsa);

// Whether the certificate (DER) names one of `names` (OpenSSL's X509_check_host, no partial
// wildcards: as the probe checks them); nullopt when the DER does not parse.
[[nodiscard]] std::optional<bool> leafNamesMatch(std::string_view der, const std::vector<std::string>& names);

// A probe in flight (opaque). startProbe() returns at once; `done` is called exactly once, from
// the loop (never inside startProbe()), unless cancelProbe() comes first. The probe frees itself
// after its libuv handles are closed, in a later loop iteration: the pointer is valid until
// `done` starts running or cancelProbe() returns, and must not be used after either.
// `names_matter`: the outcome could differ for other reference names than the TLSA base domain
// (DANE-TA authenticated the chain through a name other than the base, or failed on names): the
// Prober then does not reuse it for a target whose names differ.
class SmtpProbe;
using ProbeDone = std::function<void(storage::ProbeRecord, bool names_matter)>;

[[nodiscard]] SmtpProbe* startProbe(uv_loop_t* loop, const ProbeTarget& target, const ProbeOptions& options,
                                    ProbeDone done);
// Stops the probe without calling `done`. A no-op once `done` has been called.
void cancelProbe(SmtpProbe* probe) noexcept;

}  // namespace danescan::scanner::tls
