// scanner/tls/smtp_probe.cc — the probe's state machine (see smtp_probe.h). One object per probe
// owns its TCP handle, two timers (the stage's timeout and the probe's deadline), the SSL object
// and the network end of its BIO pair; libuv only moves bytes, OpenSSL decides everything TLS.
//
// Lifetime hazard: libuv may call back (connect, write, read, close) until the close callbacks
// of all three handles have run, so the object deletes itself in the last one, never earlier.
// uv_close cancels a pending connect or write with UV_ECANCELED before the close callback, so
// write requests can point back at the probe.
#include "scanner/tls/smtp_probe.h"

#include "scanner/c_ptr.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string_view>

#include "scanner/smtp/reply_parser.h"
#include "scanner/tls/tlsa_usability.h"

namespace danescan::scanner::tls {
namespace {

using SslCtxPtr = CPtr<SSL_CTX, &SSL_CTX_free>;
using SslPtr = CPtr<SSL, &SSL_free>;
using BioPtr = CPtr<BIO, &BIO_free>;
using GeneralNamesPtr = CPtr<GENERAL_NAMES, &GENERAL_NAMES_free>;
using X509Ptr = CPtr<X509, &X509_free>;

// One client context for the process (the loop thread). Verification never aborts the
// handshake (SSL_VERIFY_NONE): the outcome is read after it, so failing chains are recorded too.
SSL_CTX* clientContext() {
  static const SslCtxPtr ctx = [] {
    SslCtxPtr c(SSL_CTX_new(TLS_client_method()));
    if (!c || SSL_CTX_dane_enable(c.get()) <= 0) {
      std::fprintf(stderr, "danescan: cannot create the TLS client context\n");
      std::abort();  // start-up failure: no probe can work without it
    }
    SSL_CTX_set_verify(c.get(), SSL_VERIFY_NONE, nullptr);
    return c;
  }();
  return ctx.get();
}

std::string hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

std::string sha256Hex(const unsigned char* data, size_t size) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(data, size, md, &md_len, EVP_sha256(), nullptr) != 1) return {};
  return hex(md, md_len);
}

template <class T, int (*I2d)(const T*, unsigned char**)>
std::string derSha256(const T* object) {
  unsigned char* der = nullptr;
  const int len = I2d(object, &der);
  if (len <= 0) return {};
  std::string digest = sha256Hex(der, static_cast<size_t>(len));
  OPENSSL_free(der);
  return digest;
}

std::string isoTime(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return {};
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string nameText(const X509_NAME* name) {
  std::string out;
  if (BioPtr bio(BIO_new(BIO_s_mem())); bio && name != nullptr) {
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
    char* text = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &text);
    if (len > 0) out.assign(text, static_cast<size_t>(len));
  }
  return out;
}

storage::PeerCertRecord certRecord(X509* cert) {
  storage::PeerCertRecord rec;
  rec.sha256 = derSha256<X509, i2d_X509>(cert);
  rec.spki_sha256 = derSha256<X509_PUBKEY, i2d_X509_PUBKEY>(X509_get_X509_PUBKEY(cert));
  rec.subject = nameText(X509_get_subject_name(cert));
  rec.issuer = nameText(X509_get_issuer_name(cert));
  if (EVP_PKEY* key = X509_get0_pubkey(cert)) {  // borrowed
    if (const char* type = EVP_PKEY_get0_type_name(key)) rec.key_type = type;
    rec.key_bits = EVP_PKEY_get_bits(key);
  }
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* s = name->d.dNSName;
      rec.sans.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                              static_cast<size_t>(ASN1_STRING_length(s))));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      const int len = ASN1_STRING_length(s);
      const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
      if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof text) != nullptr) {
        rec.sans.push_back(std::string("IP:") + text);
      }
    }
  }
  rec.not_before = isoTime(X509_get0_notBefore(cert));
  rec.not_after = isoTime(X509_get0_notAfter(cert));
  return rec;
}

// The reason of the first queued OpenSSL error ("wrong version number"), and an empty queue.
std::string opensslReason(std::string_view fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  return reason != nullptr ? reason : std::string(fallback);
}

enum class Stage { Init, Connect, Greeting, Ehlo, StartTls, Handshake, Quit };

std::string_view stageName(Stage stage) {
  switch (stage) {
    case Stage::Init: return "start";
    case Stage::Connect: return "connect";
    case Stage::Greeting: return "greeting";
    case Stage::Ehlo: return "EHLO";
    case Stage::StartTls: return "STARTTLS";
    case Stage::Handshake: return "TLS handshake";
    case Stage::Quit: return "QUIT";
  }
  return "?";
}

}  // namespace

std::optional<dns::TlsaRecord> parseTlsa(const std::string& text) {
  unsigned usage = 0, selector = 0, mtype = 0;
  int offset = 0;
  if (std::sscanf(text.c_str(), "%3u %3u %3u %n", &usage, &selector, &mtype, &offset) != 3 || offset <= 0) {
    return std::nullopt;
  }
  if (usage > 255 || selector > 255 || mtype > 255) return std::nullopt;
  dns::TlsaRecord record{static_cast<uint8_t>(usage), static_cast<uint8_t>(selector), static_cast<uint8_t>(mtype), {}};
  const std::string data = text.substr(static_cast<size_t>(offset));
  if (data.empty() || data.size() % 2 != 0) return std::nullopt;
  long len = 0;
  unsigned char* bytes = OPENSSL_hexstr2buf(data.c_str(), &len);
  if (bytes == nullptr) {
    ERR_clear_error();
    return std::nullopt;
  }
  record.data.assign(bytes, bytes + len);
  OPENSSL_free(bytes);
  return record;
}

namespace {

bool usableWithUsage(const std::vector<std::string>& tlsa, bool ta_only) {
  for (const std::string& text : tlsa) {
    const auto record = parseTlsa(text);
    if (!record || (ta_only && record->usage != 2)) continue;
    if (classifyTlsa(*record) == TlsaUsability::Usable) return true;
  }
  return false;
}

}  // namespace

bool hasUsableTlsa(const std::vector<std::string>& tlsa) { return usableWithUsage(tlsa, false); }
bool hasUsableDaneTa(const std::vector<std::string>& tlsa) { return usableWithUsage(tlsa, true); }

namespace {

bool namesMatch(X509* leaf, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (!name.empty() &&
        X509_check_host(leaf, name.c_str(), name.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<bool> leafNamesMatch(std::string_view der, const std::vector<std::string>& names) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr leaf(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!leaf) return std::nullopt;
  return namesMatch(leaf.get(), names);
}

// One read buffer for every probe of the thread: libuv hands it to exactly one read callback at
// a time, and a callback consumes it before returning (the reply parser and the BIO pair copy
// what they keep). A buffer per probe was 16 KiB of each probe in flight.
std::array<char, 16384>& readBuffer() {
  thread_local std::array<char, 16384> buffer;
  return buffer;
}

class SmtpProbe {
 public:
  SmtpProbe(uv_loop_t* loop, const ProbeTarget& target, const ProbeOptions& options, ProbeDone done)
      : loop_(loop), target_(target), options_(options), done_(std::move(done)),
        parser_(options.max_line, options.max_reply) {
    record_.address = target_.address;
    record_.port = target_.port;
    record_.tlsa_base = target_.tlsa_base;
    record_.attempts = 1;
    usable_ = hasUsableTlsa(target_.tlsa);
    // RFC 7672 / catalogue: with usable TLSA, anything short of authentication is a failure.
    record_.dane = usable_ ? "fail" : "n/a";
  }

  void begin() {
    start_ms_ = uv_now(loop_);
    uv_timer_init(loop_, &stage_timer_);
    uv_timer_init(loop_, &deadline_timer_);
    stage_timer_.data = deadline_timer_.data = this;
    tcp_error_ = uv_tcp_init(loop_, &tcp_);
    tcp_.data = this;
    uv_timer_start(&deadline_timer_, [](uv_timer_t* t) { static_cast<SmtpProbe*>(t->data)->onDeadline(); },
                   options_.deadline_ms, 0);
    // The first step runs from the loop, so `done` is never called inside startProbe().
    uv_timer_start(&stage_timer_, [](uv_timer_t* t) { static_cast<SmtpProbe*>(t->data)->onStageTimer(); }, 0, 0);
  }

  void cancel() noexcept {
    if (finished_) return;
    finished_ = true;
    closeAll();
  }

 private:
  struct WriteReq {
    uv_write_t req;
    std::string data;
    bool then_finish = false;
  };

  storage::ProbeStageRecord& stageRecord(Stage stage) {
    switch (stage) {
      case Stage::Connect: return record_.connect;
      case Stage::Greeting: return record_.greeting;
      case Stage::Ehlo: return record_.ehlo;
      case Stage::StartTls: return record_.starttls_stage;
      case Stage::Handshake: return record_.handshake;
      default: return scratch_stage_;
    }
  }

  void enter(Stage stage) {
    stage_ = stage;
    stage_start_ms_ = uv_now(loop_);
    const uint32_t timeout = stage == Stage::Connect ? options_.connect_timeout_ms : options_.stage_timeout_ms;
    uv_timer_start(&stage_timer_, [](uv_timer_t* t) { static_cast<SmtpProbe*>(t->data)->onStageTimer(); }, timeout, 0);
  }

  void endStage(std::string outcome) {
    auto& rec = stageRecord(stage_);
    rec.outcome = std::move(outcome);
    rec.elapsed_ms = static_cast<uint32_t>(uv_now(loop_) - stage_start_ms_);
  }

  // The stage failed: record why and finish.
  void fail(std::string outcome, std::string error) {
    if (finished_) return;
    if (stage_ == Stage::Quit) return finish();  // the work was done; QUIT is politeness
    endStage(std::move(outcome));
    if (!record_.error) record_.error = std::move(error);
    finish();
  }

  void onStageTimer() {
    if (finished_) return;
    if (stage_ == Stage::Init) return connect();
    fail("timeout", std::string(stageName(stage_)) + ": timeout");
  }

  void onDeadline() {
    if (finished_) return;
    fail("timeout", std::string(stageName(stage_)) + ": probe deadline (" + std::to_string(options_.deadline_ms) +
                        " ms) exceeded");
  }

  void connect() {
    enter(Stage::Connect);
    if (tcp_error_ != 0) return fail("error", std::string("connect: ") + uv_strerror(tcp_error_));
    sockaddr_storage addr{};
    if (uv_ip4_addr(target_.address.c_str(), target_.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
        uv_ip6_addr(target_.address.c_str(), target_.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
      return fail("error", "connect: not an IP address");
    }
    connect_req_.data = this;
    const int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&addr),
                                  [](uv_connect_t* req, int status) { static_cast<SmtpProbe*>(req->data)->onConnect(status); });
    if (rc != 0) fail("error", std::string("connect: ") + uv_strerror(rc));
  }

  void onConnect(int status) {
    if (finished_) return;  // also UV_ECANCELED after close
    if (status != 0) {
      return fail(status == UV_ECONNREFUSED ? "refused" : "error", std::string("connect: ") + uv_strerror(status));
    }
    endStage("ok");
    enter(Stage::Greeting);
    const int rc = uv_read_start(
        reinterpret_cast<uv_stream_t*>(&tcp_),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          *buf = uv_buf_init(readBuffer().data(), static_cast<unsigned>(readBuffer().size()));
        },
        [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
          if (auto* self = static_cast<SmtpProbe*>(s->data)) self->onRead(nread);
        });
    if (rc != 0) fail("error", std::string("read: ") + uv_strerror(rc));
  }

  void onRead(ssize_t nread) {
    if (finished_ || nread == 0) return;
    if (nread < 0) {
      if (stage_ == Stage::Quit) return finish();  // the server closed after our QUIT: fine
      return fail(nread == UV_EOF ? "closed" : "error",
                  std::string(stageName(stage_)) + ": " +
                      (nread == UV_EOF ? std::string("connection closed by the server") : uv_strerror(static_cast<int>(nread))));
    }
    const std::string_view data(readBuffer().data(), static_cast<size_t>(nread));
    if (ssl_) return feedTls(data);
    if (stage_ == Stage::Quit) return;  // the 221 (or anything) after QUIT is not needed
    size_t consumed = 0;
    switch (parser_.feed(data, consumed)) {
      case smtp::ParseStatus::NeedMore: return;
      case smtp::ParseStatus::TooLong:
        return fail("too-long", std::string(stageName(stage_)) + ": reply over " + std::to_string(options_.max_line) +
                                    " bytes per line or " + std::to_string(options_.max_reply) + " in all");
      case smtp::ParseStatus::Garbage:
        return fail("garbage", std::string(stageName(stage_)) + ": malformed reply");
      case smtp::ParseStatus::Done: break;
    }
    // Bytes after a complete reply were not asked for: dropped (after a 220 to STARTTLS they
    // would be a plaintext injection, RFC 3207 section 4.2 / CVE-2011-0411).
    const smtp::Reply reply = parser_.reply();
    parser_.reset();
    onReply(reply);
  }

  void onReply(const smtp::Reply& reply) {
    if (reply.code == 421) record_.rate_limited = true;
    const std::string what = std::string(stageName(stage_)) + ": " + smtp::summary(reply);
    switch (stage_) {
      case Stage::Greeting:
        if (reply.code != 220) return fail("rejected", "greeting " + smtp::summary(reply));
        record_.connected = true;
        endStage("ok");
        enter(Stage::Ehlo);
        send("EHLO " + options_.ehlo_name + "\r\n");
        return;
      case Stage::Ehlo:
        if (reply.code == 421) return fail("rejected", what);
        if (reply.code != 250) return quitAfter("rejected", what);
        endStage("ok");
        record_.starttls = smtp::offersStartTls(reply);
        enter(Stage::StartTls);
        if (!record_.starttls) return quitAfter("not-offered", "no STARTTLS in the EHLO reply");
        send("STARTTLS\r\n");
        return;
      case Stage::StartTls:
        if (reply.code == 421) return fail("rejected", what);
        if (reply.code != 220) return quitAfter("rejected", what);
        endStage("ok");
        return beginHandshake();
      default:
        return;
    }
  }

  // Ends the stage with an error and says QUIT in plain text (RFC 5321 section 4.1.1.10).
  void quitAfter(std::string outcome, std::string error) {
    endStage(std::move(outcome));
    if (!record_.error) record_.error = std::move(error);
    enter(Stage::Quit);
    send("QUIT\r\n", true);
  }

  void send(std::string data, bool then_finish = false) {
    if (finished_) return;
    auto* w = new WriteReq{};
    w->data = std::move(data);
    w->then_finish = then_finish;
    w->req.data = this;
    const uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    const int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, [](uv_write_t* req, int status) {
      std::unique_ptr<WriteReq> done(reinterpret_cast<WriteReq*>(req));
      auto* self = static_cast<SmtpProbe*>(req->data);
      if (self->finished_) return;
      if (status != 0) {
        return self->fail("error", std::string(stageName(self->stage_)) + ": write: " + uv_strerror(status));
      }
      if (done->then_finish) self->finish();
    });
    if (rc != 0) {
      delete w;
      fail("error", std::string(stageName(stage_)) + ": write: " + uv_strerror(rc));
    }
  }

  void beginHandshake() {
    enter(Stage::Handshake);
    ERR_clear_error();
    ssl_.reset(SSL_new(clientContext()));
    BIO* internal = nullptr;
    BIO* network = nullptr;
    if (!ssl_ || BIO_new_bio_pair(&internal, 0, &network, 0) != 1) {
      return fail("error", "TLS: " + opensslReason("cannot create the SSL object"));
    }
    SSL_set_bio(ssl_.get(), internal, internal);  // the SSL object owns the internal end
    net_bio_.reset(network);
    SSL_set_app_data(ssl_.get(), this);  // for onVerify
    SSL_set_connect_state(ssl_.get());
    if (!configureDane()) return fail("error", "TLS: " + opensslReason("cannot configure DANE"));
    driveHandshake();
  }

  bool configureDane() {
    SSL* ssl = ssl_.get();
    // RFC 7672 section 8.1: SNI is the TLSA base domain.
    if (!target_.tlsa_base.empty() && SSL_set_tlsext_host_name(ssl, target_.tlsa_base.c_str()) != 1) return false;
    if (!usable_) return true;  // opportunistic: the chain is recorded, nothing is authenticated
    if (SSL_dane_enable(ssl, target_.tlsa_base.c_str()) <= 0) return false;
    // Still SSL_VERIFY_NONE (the handshake completes); the callback only notes where it failed.
    SSL_set_verify(ssl, SSL_VERIFY_NONE, &SmtpProbe::onVerify);
    // DANE-EE(3): no name checks (RFC 7672 section 3.1.1); dates are ignored by OpenSSL for it.
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    // DANE-TA(2) names (RFC 7672 section 3.2.3): a wildcard only as the whole left-most label.
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    for (const std::string& name : target_.reference_names) {
      if (!name.empty() && SSL_add1_host(ssl, name.c_str()) != 1) return false;
    }
    for (const std::string& text : target_.tlsa) {
      const auto record = parseTlsa(text);
      // PKIX-TA(0)/PKIX-EE(1) are unusable in SMTP (RFC 7672 section 3.1.3): never handed over.
      if (!record || record->usage < 2) continue;
      // > 0 usable, 0 unusable (unknown selector/mtype, 255, bad length), < 0 an internal error.
      if (SSL_dane_tlsa_add(ssl, record->usage, record->selector, record->matching_type, record->data.data(),
                            record->data.size()) < 0) {
        return false;
      }
      ERR_clear_error();
    }
    return true;
  }

  // OpenSSL's verify callback: records the depth of the first error (the one that becomes the
  // verify result, verification stopping there) and the chain built so far, for
  // pipeline::probeOutcome to tell a certificate below the trust anchor. Changes nothing.
  static int onVerify(int ok, X509_STORE_CTX* ctx) {
    if (ok == 1) return ok;
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* self = ssl != nullptr ? static_cast<SmtpProbe*>(SSL_get_app_data(ssl)) : nullptr;
    if (self != nullptr && !self->record_.verify_error_depth) {
      self->record_.verify_error_depth = X509_STORE_CTX_get_error_depth(ctx);
      STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);  // borrowed
      self->record_.verify_chain_length = chain != nullptr ? sk_X509_num(chain) : 0;
    }
    return ok;
  }

  void feedTls(std::string_view data) {
    // After the handshake only QUIT's 221 or close_notify can come: not needed, dropped.
    while (!data.empty() && !finished_ && stage_ == Stage::Handshake) {
      const int n = BIO_write(net_bio_.get(), data.data(), static_cast<int>(data.size()));
      if (n > 0) data.remove_prefix(static_cast<size_t>(n));
      driveHandshake();
      // The SSL object reads everything it is given while it wants to read: a pair that stays
      // full means it stopped reading, which cannot happen during a handshake.
      if (n <= 0 && !finished_ && BIO_ctrl_get_write_guarantee(net_bio_.get()) == 0) {
        return fail("error", "TLS handshake: BIO buffer full");
      }
    }
  }

  // Advances the handshake as far as the buffered bytes allow.
  void driveHandshake() {
    if (finished_ || stage_ != Stage::Handshake) return;
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl_.get());
    const int error = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), rc);
    flushTls();
    if (rc == 1) return handshakeDone();
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
    std::string reason = opensslReason(error == SSL_ERROR_SYSCALL || error == SSL_ERROR_ZERO_RETURN
                                           ? "connection closed" : "handshake failed");
    fail("error", "TLS handshake: " + reason);
  }

  // Sends what the SSL object wrote into the BIO pair; true when there was something. With
  // `then_finish`, the probe finishes when the last of it is written.
  bool flushTls(bool then_finish = false) {
    bool any = false;
    while (!finished_) {
      const size_t pending = BIO_ctrl_pending(net_bio_.get());
      if (pending == 0) break;
      std::string chunk(pending, '\0');
      const int n = BIO_read(net_bio_.get(), chunk.data(), static_cast<int>(chunk.size()));
      if (n <= 0) break;
      chunk.resize(static_cast<size_t>(n));
      const bool last = BIO_ctrl_pending(net_bio_.get()) == 0;
      send(std::move(chunk), then_finish && last);
      any = true;
    }
    return any;
  }

  void handshakeDone() {
    SSL* ssl = ssl_.get();
    record_.tls_ok = true;
    endStage("ok");
    record_.tls_version = SSL_get_version(ssl);
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) record_.cipher = SSL_CIPHER_get_name(cipher);
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {  // borrowed; the client's includes the leaf
      for (int i = 0; i < sk_X509_num(chain); ++i) record_.chain.push_back(certRecord(sk_X509_value(chain, i)));
    }
    if (X509* leaf = SSL_get0_peer_certificate(ssl)) {
      record_.leaf_names_match = namesMatch(leaf, target_.reference_names);
      leaf_names_base_ = namesMatch(leaf, {target_.tlsa_base});
    }
    const long verify = SSL_get_verify_result(ssl);
    record_.verify_code = verify;
    record_.verify_text = X509_verify_cert_error_string(verify);
    if (usable_) {
      // Negative unless DANE verification succeeded (a TLSA match and, for DANE-TA, names and dates).
      const int depth = SSL_get0_dane_authority(ssl, nullptr, nullptr);
      uint8_t usage = 0, selector = 0, mtype = 0;
      const unsigned char* data = nullptr;
      size_t dlen = 0;
      if (depth >= 0 && SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &dlen) >= 0) {
        // DANE-TA passed through a name other than the base (the MX host or next-hop domain).
        names_matter_ = usage == 2 && !leaf_names_base_;
        record_.dane = "pass";
        // DANE-EE ignores names, but dane-ee-name-mismatch-only reads them: when the leaf does
        // not name the TLSA base (which every domain of the host has among its reference names),
        // each domain's next-hop name decides, so the leaf goes with the record for the scanner
        // to judge per domain (pipeline::judgeLeafNames). Only then: it costs memory in the cache.
        if (usage == 3 && !leaf_names_base_) keepLeaf(ssl);
        record_.matched_depth = depth;
        record_.matched = std::to_string(usage) + ' ' + std::to_string(selector) + ' ' + std::to_string(mtype) + ' ' +
                          hex(data, dlen);
      } else {
        record_.dane = "fail";
        record_.error = "DANE: " + record_.verify_text;
        names_matter_ = verify == X509_V_ERR_HOSTNAME_MISMATCH;
      }
    }
    // QUIT inside TLS, and close_notify; the reply is not waited for.
    enter(Stage::Quit);
    ERR_clear_error();
    if (SSL_write(ssl, "QUIT\r\n", 6) > 0) SSL_shutdown(ssl);
    ERR_clear_error();
    if (!flushTls(true)) finish();
  }

  void keepLeaf(SSL* ssl) {
    X509* leaf = SSL_get0_peer_certificate(ssl);
    unsigned char* der = nullptr;
    if (const int length = leaf != nullptr ? i2d_X509(leaf, &der) : 0; length > 0) {
      record_.leaf_der.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
    }
    OPENSSL_free(der);
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    record_.elapsed_ms = static_cast<uint32_t>(uv_now(loop_) - start_ms_);
    closeAll();
    ProbeDone done = std::move(done_);
    try {
      done(std::move(record_), names_matter_);
    } catch (...) {
      // Nothing may unwind through libuv's C frames.
    }
  }

  void closeAll() {
    auto onClose = [](uv_handle_t* h) {
      auto* self = static_cast<SmtpProbe*>(h->data);
      if (--self->open_handles_ == 0) delete self;
    };
    uv_timer_stop(&stage_timer_);
    uv_timer_stop(&deadline_timer_);
    open_handles_ = tcp_error_ == 0 ? 3 : 2;
    uv_close(reinterpret_cast<uv_handle_t*>(&stage_timer_), onClose);
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline_timer_), onClose);
    if (tcp_error_ == 0) uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), onClose);
  }

  uv_loop_t* loop_;
  ProbeTarget target_;
  ProbeOptions options_;
  ProbeDone done_;
  smtp::ReplyParser parser_;
  storage::ProbeRecord record_;
  storage::ProbeStageRecord scratch_stage_;
  bool usable_ = false;
  bool leaf_names_base_ = false;  // the leaf names the TLSA base domain
  bool names_matter_ = false;     // see ProbeDone
  bool finished_ = false;
  int open_handles_ = 0;
  int tcp_error_ = 0;
  Stage stage_ = Stage::Init;
  uint64_t start_ms_ = 0;
  uint64_t stage_start_ms_ = 0;

  uv_tcp_t tcp_{};
  uv_connect_t connect_req_{};
  uv_timer_t stage_timer_{};
  uv_timer_t deadline_timer_{};

  SslPtr ssl_;
  BioPtr net_bio_;  // the network end of the BIO pair (the SSL object owns the other)
};

SmtpProbe* startProbe(uv_loop_t* loop, const ProbeTarget& target, const ProbeOptions& options, ProbeDone done) {
  auto* probe = new SmtpProbe(loop, target, options, std::move(done));
  probe->begin();
  return probe;
}

void cancelProbe(SmtpProbe* probe) noexcept {
  if (probe != nullptr) probe->cancel();
}

}  // namespace danescan::scanner::tls
