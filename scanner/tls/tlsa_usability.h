// scanner/tls/tlsa_usability.h — which TLSA records an RFC 7672 SMTP client can use, decided by
// OpenSSL's own DANE code (SSL_dane_tlsa_add accepts or refuses each record and says why), so a
// DNS-only scan classifies records exactly as the TLS probe will use them.
#pragma once

#include <string_view>

#include "scanner/dns/message.h"

namespace danescan::scanner::tls {

enum class TlsaUsability {
  Usable,         // DANE-TA(2) or DANE-EE(3) that OpenSSL accepts
  PkixUsage,      // PKIX-TA(0) / PKIX-EE(1): unusable in SMTP (RFC 7672 section 3.1.3)
  Malformed,      // wrong digest length, matching type 255 or unknown, unknown selector, bad data
  UnknownUsage,   // a certificate usage beyond 3
};

[[nodiscard]] std::string_view toString(TlsaUsability usability);

// Thread-compatible: each call uses its own SSL object from a shared, immutable SSL_CTX.
[[nodiscard]] TlsaUsability classifyTlsa(const dns::TlsaRecord& record);

}  // namespace danescan::scanner::tls
