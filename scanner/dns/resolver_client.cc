// scanner/dns/resolver_client.cc — the UDP/TCP resolver client (see resolver_client.h).
// Lifetime rules that bite here: a query's handles (timer, TCP connection) are closed when the
// Query is erased and freed by their close callbacks (loop.h); a user callback runs last, after
// every member it could invalidate has been touched, because it may destroy the client.
#include "scanner/dns/resolver_client.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace danescan::scanner::dns {
namespace {

constexpr size_t kMaxQueryWire = 512;  // a query is a header, one name (<= 255) and an OPT RR

// One TCP exchange after TC=1 (RFC 7766): the handle and the requests that must live as long.
struct TcpConn {
  uv_tcp_t tcp;  // first member: CloseThenFree casts the block to its handle
  uv_connect_t connect;
  uv_write_t write;
  uint8_t out[2 + kMaxQueryWire];  // 2-byte length prefix (RFC 1035 section 4.2.2), then the query
  size_t out_size;
  char in[4096];
};
using TcpPtr = loop::HandlePtr<TcpConn>;

// Query IDs come from OpenSSL's CSPRNG: predictable IDs make answers spoofable (RFC 5452).
uint16_t randomId() {
  uint8_t bytes[2];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    std::fprintf(stderr, "danescan: RAND_bytes failed\n");
    std::abort();  // cannot happen with a working OpenSSL; carrying on would weaken every query
  }
  return static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
}

uint64_t nowMs() { return uv_hrtime() / 1000000; }

bool sameAddress(const sockaddr* a, const sockaddr_storage& b) {
  if (a->sa_family != b.ss_family) return false;
  if (a->sa_family == AF_INET) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(a);
    const auto* y = reinterpret_cast<const sockaddr_in*>(&b);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    const auto* x = reinterpret_cast<const sockaddr_in6*>(a);
    const auto* y = reinterpret_cast<const sockaddr_in6*>(&b);
    return x->sin6_port == y->sin6_port && std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return false;
}

bool sameQuestion(const std::optional<Question>& got, const Question& want) {
  if (!got || got->type != want.type || got->name.size() != want.name.size()) return false;
  // DNS names compare case-insensitively (RFC 4343); the codec already lower-cases, this keeps
  // the check independent of that.
  return std::equal(got->name.begin(), got->name.end(), want.name.begin(), [](char a, char b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(a) == lower(b);
  });
}

void appendCount(std::string& out, unsigned n, const char* one, const char* many) {
  if (n == 0) return;
  if (!out.empty()) out += "; ";
  out += std::to_string(n) + ' ' + (n == 1 ? one : many);
}

void invoke(ResolverClient::Callback& done, QueryResult result) noexcept {
  try {
    if (done) done(std::move(result));
  } catch (...) {
    // A user callback must not throw; nothing may unwind through libuv's C frames.
  }
}

}  // namespace

struct ResolverClient::Socket {
  ResolverClient* client = nullptr;
  uint64_t serial = 0;
  loop::UdpPtr udp;
};

struct ResolverClient::Query {
  ResolverClient* client = nullptr;
  uint64_t serial = 0;
  Question question;
  QueryOptions options;
  Callback done;
  uint64_t started_ms = 0;
  size_t first_resolver = 0;
  unsigned udp_sends = 0;  // UDP attempts started (sent or failed to send)
  unsigned sent = 0;       // messages that left, UDP and TCP
  bool fatal = false;      // a local error no retry can fix (the name cannot be encoded)
  std::string last_error;
  std::vector<uint64_t> keys;  // in_flight_ entries of this query
  std::optional<size_t> resolver;  // that answered, or that TCP went to
  loop::TimerPtr timer;
  // TCP after TC=1
  TcpPtr tcp;
  uint16_t tcp_id = 0;
  std::vector<uint8_t> tcp_in;
  bool tcp_used = false;
  // Responses that carried this query's ID but failed a check.
  unsigned ignored_question = 0;
  unsigned ignored_malformed = 0;
  unsigned ignored_source = 0;
};

// The libuv callbacks: each is noexcept and catches at the boundary.
struct ClientAccess {
  static void onTimer(uv_timer_t* timer) noexcept {
    auto* q = static_cast<ResolverClient::Query*>(timer->data);
    if (q == nullptr) return;
    try {
      clientOf(*q)->onTimer(*q);
    } catch (...) {
    }
  }
  static void onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
    auto* socket = static_cast<ResolverClient::Socket*>(handle->data);
    if (socket == nullptr) {
      *buf = uv_buf_init(nullptr, 0);
      return;
    }
    auto& buffer = socket->client->recv_buffer_;
    *buf = uv_buf_init(reinterpret_cast<char*>(buffer.data()), static_cast<unsigned>(buffer.size()));
  }
  static void onRecv(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* from, unsigned flags) noexcept {
    auto* socket = static_cast<ResolverClient::Socket*>(handle->data);
    if (socket == nullptr || nread <= 0 || from == nullptr) return;  // errors on an unconnected socket say nothing
    if ((flags & UV_UDP_PARTIAL) != 0) {
      ++socket->client->stats_.unmatched_datagrams;  // larger than any DNS datagram: not ours
      return;
    }
    try {
      socket->client->onDatagram(*socket, reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread), from);
    } catch (...) {
    }
  }
  static void onConnect(uv_connect_t* req, int status) noexcept {
    if (status == UV_ECANCELED) return;  // the connection was closed with its owner
    auto* q = static_cast<ResolverClient::Query*>(req->handle->data);
    if (q == nullptr) return;
    try {
      auto* client = clientOf(*q);
      if (status < 0) {
        client->onTcpFailure(*q, QueryOutcome::NetworkError, std::string("connect: ") + uv_strerror(status));
        return;
      }
      auto* conn = reinterpret_cast<TcpConn*>(req->handle);
      const uv_buf_t out = uv_buf_init(reinterpret_cast<char*>(conn->out), static_cast<unsigned>(conn->out_size));
      int rc = uv_read_start(req->handle, onTcpAlloc, onTcpRead);
      if (rc == 0) rc = uv_write(&conn->write, req->handle, &out, 1, onWrite);
      if (rc < 0) client->onTcpFailure(*q, QueryOutcome::NetworkError, std::string("write: ") + uv_strerror(rc));
    } catch (...) {
    }
  }
  static void onWrite(uv_write_t* req, int status) noexcept {
    if (status == UV_ECANCELED || status == 0) return;
    auto* q = static_cast<ResolverClient::Query*>(req->handle->data);
    if (q == nullptr) return;
    try {
      clientOf(*q)->onTcpFailure(*q, QueryOutcome::NetworkError, std::string("write: ") + uv_strerror(status));
    } catch (...) {
    }
  }
  static void onTcpAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
    auto* conn = reinterpret_cast<TcpConn*>(handle);
    *buf = uv_buf_init(conn->in, sizeof conn->in);
  }
  static void onTcpRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* q = static_cast<ResolverClient::Query*>(stream->data);
    if (q == nullptr || nread == 0) return;
    try {
      auto* client = clientOf(*q);
      if (nread < 0) {
        client->onTcpFailure(*q, QueryOutcome::NetworkError,
                             nread == UV_EOF ? "connection closed before the answer" : std::string("read: ") + uv_strerror(static_cast<int>(nread)));
        return;
      }
      client->onTcpBytes(*q, reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread));
    } catch (...) {
    }
  }
  static ResolverClient* clientOf(ResolverClient::Query& q) { return q.client; }
};

ResolverClient::ResolverClient(uv_loop_t* loop, std::vector<ResolverAddress> resolvers, ClientOptions options)
    : loop_(loop), resolvers_(std::move(resolvers)), options_(options), recv_buffer_(65536) {
  options_.attempts = std::max(1u, options_.attempts);
  options_.sockets_per_family = std::max(1u, options_.sockets_per_family);
  for (const auto& r : resolvers_) {
    sockaddr_storage addr{};
    // ResolverAddress::parse accepted only literal addresses; no name is ever looked up here.
    const int rc = r.ipv6 ? uv_ip6_addr(r.ip.c_str(), r.port, reinterpret_cast<sockaddr_in6*>(&addr))
                          : uv_ip4_addr(r.ip.c_str(), r.port, reinterpret_cast<sockaddr_in*>(&addr));
    if (rc != 0) addr.ss_family = AF_UNSPEC;  // sends to it fail with a NetworkError
    resolver_addrs_.push_back(addr);
  }
}

ResolverClient::~ResolverClient() { close(); }

void ResolverClient::query(const Question& question, QueryOptions options, Callback done) {
  if (closed_) {
    auto deliver = [done = std::move(done), started = nowMs()]() mutable {
      QueryResult result;
      result.error = "client closed";
      result.elapsed_ms = nowMs() - started;
      invoke(done, std::move(result));
    };
    if (loop::deferCall(loop_, std::move(deliver)) != 0) std::abort();  // only on out-of-memory
    return;
  }
  auto owned = std::make_unique<Query>();
  Query& q = *owned;
  q.client = this;
  q.serial = next_serial_++;
  q.question = question;
  q.options = options;
  q.done = std::move(done);
  q.started_ms = nowMs();
  int error = 0;
  q.timer = loop::makeTimer(loop_, error);
  if (!q.timer) std::abort();  // uv_timer_init cannot fail on a live loop
  q.timer->data = &q;
  queries_.emplace(q.serial, std::move(owned));
  if (resolvers_.empty()) {
    q.fatal = true;
    q.last_error = "no resolver configured";
    armTimer(q, 0);  // report from the loop, not from inside query()
    return;
  }
  q.first_resolver = next_resolver_++ % resolvers_.size();
  startAttempt(q);
}

void ResolverClient::armTimer(Query& q, uint64_t ms) {
  uv_timer_stop(q.timer.get());
  uv_timer_start(q.timer.get(), ClientAccess::onTimer, ms, 0);
}

bool ResolverClient::openSockets(bool ipv6, std::string& error) {
  auto& pool = ipv6 ? sockets_v6_ : sockets_v4_;
  for (unsigned i = 0; i < options_.sockets_per_family; ++i) {
    int rc = 0;
    auto udp = loop::makeUdp(loop_, ipv6 ? AF_INET6 : AF_INET, rc);
    if (!udp) {
      error = std::string("udp socket: ") + uv_strerror(rc);
      break;
    }
    // Port 0: the kernel picks a random ephemeral port per socket (RFC 5452 section 9.2).
    sockaddr_storage any{};
    if (ipv6) {
      uv_ip6_addr("::", 0, reinterpret_cast<sockaddr_in6*>(&any));
    } else {
      uv_ip4_addr("0.0.0.0", 0, reinterpret_cast<sockaddr_in*>(&any));
    }
    rc = uv_udp_bind(udp.get(), reinterpret_cast<const sockaddr*>(&any), ipv6 ? UV_UDP_IPV6ONLY : 0);
    auto socket = std::make_unique<Socket>();
    socket->client = this;
    socket->serial = (ipv6 ? 0x8000u : 0u) + pool.size();
    udp->data = socket.get();
    if (rc == 0) rc = uv_udp_recv_start(udp.get(), ClientAccess::onAlloc, ClientAccess::onRecv);
    socket->udp = std::move(udp);
    if (rc != 0) {
      error = std::string("udp bind: ") + uv_strerror(rc);
      break;  // `socket` closes its handle
    }
    pool.push_back(std::move(socket));
  }
  return !pool.empty();
}

ResolverClient::Socket* ResolverClient::pickSocket(bool ipv6, std::string& error) {
  auto& pool = ipv6 ? sockets_v6_ : sockets_v4_;
  if (pool.empty() && !openSockets(ipv6, error)) return nullptr;
  return pool[randomId() % pool.size()].get();
}

void ResolverClient::startAttempt(Query& q) {
  const size_t resolver = (q.first_resolver + q.udp_sends) % resolvers_.size();
  // Back-off: each retry waits twice as long as the one before, up to the cap.
  const uint64_t timeout = std::min<uint64_t>(uint64_t{options_.timeout_ms} << std::min(q.udp_sends, 16u), options_.max_timeout_ms);
  ++q.udp_sends;
  const sockaddr_storage& to = resolver_addrs_[resolver];
  if (to.ss_family == AF_UNSPEC) {
    q.last_error = "unusable resolver address " + resolvers_[resolver].toString();
    armTimer(q, 0);
    return;
  }
  std::string error;
  Socket* socket = pickSocket(to.ss_family == AF_INET6, error);
  if (socket == nullptr) {
    q.last_error = error;
    armTimer(q, 0);
    return;
  }
  // An ID in use on this socket would make two queries' answers indistinguishable. A few draws
  // suffice unless the socket is nearly full, which a sane in-flight cap never allows.
  uint16_t id = 0;
  uint64_t key = 0;
  int draws = 0;
  do {
    id = randomId();
    key = socket->serial << 16 | id;
  } while (in_flight_.count(key) != 0 && ++draws < 64);
  if (draws == 64) {
    q.last_error = "no free query ID";
    armTimer(q, 0);
    return;
  }
  std::vector<uint8_t> wire = buildQuery(id, q.question, q.options);
  if (wire.empty() || wire.size() > kMaxQueryWire) {
    q.fatal = true;
    q.last_error = "cannot encode the query name";
    armTimer(q, 0);
    return;
  }
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(wire.data()), static_cast<unsigned>(wire.size()));
  int rc = uv_udp_try_send(socket->udp.get(), &buf, 1, reinterpret_cast<const sockaddr*>(&to));
  if (rc == UV_EAGAIN) {
    // The socket buffer is full: queue the send. The request owns its bytes and is freed by its
    // callback, which never touches the client (it may be gone by then).
    struct SendReq {
      uv_udp_send_t req;
      std::vector<uint8_t> bytes;
    };
    auto* send = new SendReq{{}, std::move(wire)};
    buf = uv_buf_init(reinterpret_cast<char*>(send->bytes.data()), static_cast<unsigned>(send->bytes.size()));
    send->req.data = send;
    rc = uv_udp_send(&send->req, socket->udp.get(), &buf, 1, reinterpret_cast<const sockaddr*>(&to),
                     [](uv_udp_send_t* req, int) { delete static_cast<SendReq*>(req->data); });
    if (rc < 0) delete send;
  }
  if (rc < 0) {
    q.last_error = "send to " + resolvers_[resolver].toString() + ": " + uv_strerror(rc);
    armTimer(q, 0);
    return;
  }
  ++q.sent;
  in_flight_.emplace(key, InFlightEntry{&q, resolver});
  q.keys.push_back(key);
  armTimer(q, timeout);
}

void ResolverClient::onTimer(Query& q) {
  if (q.fatal) {
    finish(q, QueryOutcome::NetworkError, std::nullopt);
  } else if (q.tcp) {
    onTcpFailure(q, QueryOutcome::Timeout, "no answer within " + std::to_string(options_.tcp_timeout_ms) + " ms");
  } else if (q.udp_sends < options_.attempts) {
    startAttempt(q);
  } else if (q.sent == 0) {
    finish(q, QueryOutcome::NetworkError, std::nullopt);  // last_error says why nothing left
  } else {
    q.last_error = "no answer after " + std::to_string(q.udp_sends) + (q.udp_sends == 1 ? " attempt" : " attempts");
    finish(q, QueryOutcome::Timeout, std::nullopt);
  }
}

void ResolverClient::onDatagram(Socket& socket, const uint8_t* data, size_t size, const sockaddr* from) {
  // The ID is the first two octets of the header (RFC 1035 section 4.1.1); reading them before
  // the codec lets garbage that carries a pending ID count against that query.
  if (size < 2) {
    ++stats_.unmatched_datagrams;
    return;
  }
  const uint64_t key = socket.serial << 16 | (uint16_t{data[0]} << 8 | data[1]);
  const auto it = in_flight_.find(key);
  if (it == in_flight_.end()) {
    ++stats_.unmatched_datagrams;
    return;
  }
  Query& q = *it->second.query;
  const size_t resolver = it->second.resolver;
  if (!sameAddress(from, resolver_addrs_[resolver])) {
    ++q.ignored_source;
    return;
  }
  std::string error;
  std::optional<Response> response = parseResponse(data, size, error);
  if (!response) {
    ++q.ignored_malformed;
    return;
  }
  if (!sameQuestion(response->question, q.question)) {
    ++q.ignored_question;
    return;
  }
  q.resolver = resolver;
  if (response->truncated) {
    startTcp(q);  // RFC 7766 section 5: repeat over TCP, use that answer
    return;
  }
  finish(q, QueryOutcome::Answered, std::move(response));
}

void ResolverClient::startTcp(Query& q) {
  // Answers to the UDP attempts are no longer wanted.
  for (uint64_t key : q.keys) in_flight_.erase(key);
  q.keys.clear();
  q.tcp_used = true;
  ++q.sent;
  int rc = 0;
  q.tcp = loop::makeTcpBlock<TcpConn>(loop_, rc);
  if (!q.tcp) {
    q.last_error = std::string("TCP: ") + uv_strerror(rc);
    q.fatal = true;
    armTimer(q, 0);
    return;
  }
  q.tcp->tcp.data = &q;
  q.tcp_id = randomId();
  const std::vector<uint8_t> wire = buildQuery(q.tcp_id, q.question, q.options);
  q.tcp->out[0] = static_cast<uint8_t>(wire.size() >> 8);
  q.tcp->out[1] = static_cast<uint8_t>(wire.size() & 0xff);
  std::copy(wire.begin(), wire.end(), q.tcp->out + 2);  // fits: the UDP attempt checked the size
  q.tcp->out_size = wire.size() + 2;
  rc = uv_tcp_connect(&q.tcp->connect, &q.tcp->tcp, reinterpret_cast<const sockaddr*>(&resolver_addrs_[*q.resolver]),
                      ClientAccess::onConnect);
  if (rc < 0) {
    q.last_error = std::string("TCP: connect: ") + uv_strerror(rc);
    q.fatal = true;
    armTimer(q, 0);
    return;
  }
  armTimer(q, options_.tcp_timeout_ms);
}

void ResolverClient::onTcpBytes(Query& q, const uint8_t* data, size_t size) {
  q.tcp_in.insert(q.tcp_in.end(), data, data + size);
  if (q.tcp_in.size() < 2) return;
  const size_t length = size_t{q.tcp_in[0]} << 8 | q.tcp_in[1];
  if (q.tcp_in.size() < 2 + length) return;
  std::string error;
  std::optional<Response> response = parseResponse(q.tcp_in.data() + 2, length, error);
  // A connection carries only our query, so a wrong answer on it is a failure, not noise.
  if (!response) return onTcpFailure(q, QueryOutcome::NetworkError, error);
  if (response->id != q.tcp_id) return onTcpFailure(q, QueryOutcome::NetworkError, "answer with another ID");
  if (!sameQuestion(response->question, q.question)) {
    return onTcpFailure(q, QueryOutcome::NetworkError, "answer to another question");
  }
  finish(q, QueryOutcome::Answered, std::move(response));
}

void ResolverClient::onTcpFailure(Query& q, QueryOutcome outcome, std::string what) {
  q.last_error = "TCP: " + what;
  finish(q, outcome, std::nullopt);
}

QueryResult ResolverClient::resultOf(Query& q, QueryOutcome outcome, std::optional<Response> response) const {
  QueryResult result;
  result.outcome = outcome;
  if (response) result.rcode = rcodeName(response->rcode);
  result.response = std::move(response);
  result.elapsed_ms = nowMs() - q.started_ms;
  result.attempts = q.sent;
  result.tcp = q.tcp_used;
  if (q.resolver) result.resolver = resolvers_[*q.resolver];
  result.error = outcome == QueryOutcome::Answered ? std::string() : q.last_error;
  appendCount(result.error, q.ignored_question, "response with another question ignored", "responses with another question ignored");
  appendCount(result.error, q.ignored_malformed, "malformed response ignored", "malformed responses ignored");
  appendCount(result.error, q.ignored_source, "response from an unexpected address ignored", "responses from an unexpected address ignored");
  return result;
}

void ResolverClient::finish(Query& q, QueryOutcome outcome, std::optional<Response> response) {
  QueryResult result = resultOf(q, outcome, std::move(response));
  Callback done = std::move(q.done);
  for (uint64_t key : q.keys) in_flight_.erase(key);
  queries_.erase(q.serial);  // closes the timer and any TCP connection; `q` is gone
  // Last: the callback may start queries or destroy the client.
  invoke(done, std::move(result));
}

void ResolverClient::close() {
  if (closed_) return;
  closed_ = true;
  std::vector<std::pair<Callback, QueryResult>> endings;
  for (auto& [serial, q] : queries_) {
    q->last_error = "client closed";
    endings.emplace_back(std::move(q->done), resultOf(*q, QueryOutcome::NetworkError, std::nullopt));
  }
  in_flight_.clear();
  queries_.clear();
  sockets_v4_.clear();
  sockets_v6_.clear();
  // Touches no member: a callback may destroy the client, or query() it (answered from the loop).
  for (auto& [done, result] : endings) invoke(done, std::move(result));
}

}  // namespace danescan::scanner::dns
