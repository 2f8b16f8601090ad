#include "scanner/tls/tlsa_usability.h"

#include "scanner/c_ptr.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>

namespace danescan::scanner::tls {
namespace {

using SslCtxPtr = CPtr<SSL_CTX, &SSL_CTX_free>;
using SslPtr = CPtr<SSL, &SSL_free>;

// One DANE-enabled context for the process. Matching type 255 (PrivMD) is left unmapped, so
// OpenSSL refuses it like any unknown matching type.
SSL_CTX* daneContext() {
  static const SslCtxPtr ctx = [] {
    SslCtxPtr c(SSL_CTX_new(TLS_client_method()));
    if (c && SSL_CTX_dane_enable(c.get()) <= 0) c.reset();
    return c;
  }();
  return ctx.get();
}

}  // namespace

std::string_view toString(TlsaUsability usability) {
  switch (usability) {
    case TlsaUsability::Usable: return "usable";
    case TlsaUsability::PkixUsage: return "pkix-usage";
    case TlsaUsability::Malformed: return "malformed";
    case TlsaUsability::UnknownUsage: return "unknown-usage";
  }
  return "?";
}

TlsaUsability classifyTlsa(const dns::TlsaRecord& record) {
  if (record.usage > 3) return TlsaUsability::UnknownUsage;
  SSL_CTX* ctx = daneContext();
  SslPtr ssl(ctx ? SSL_new(ctx) : nullptr);
  if (!ssl || SSL_dane_enable(ssl.get(), "tlsa.invalid") <= 0) {
    ERR_clear_error();
    return TlsaUsability::Malformed;  // cannot happen with a working OpenSSL; never "usable" by accident
  }
  ERR_clear_error();
  const int added = SSL_dane_tlsa_add(ssl.get(), record.usage, record.selector, record.matching_type,
                                      record.data.data(), record.data.size());
  ERR_clear_error();
  // Content first: a PKIX record with a broken digest is still a malformed record (tlsa-malformed),
  // and a well-formed PKIX record is unusable only because of its usage (pkix-usage-in-smtp).
  if (added <= 0) return TlsaUsability::Malformed;
  if (record.usage <= 1) return TlsaUsability::PkixUsage;
  return TlsaUsability::Usable;
}

}  // namespace danescan::scanner::tls
