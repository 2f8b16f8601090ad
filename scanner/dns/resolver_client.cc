// scanner/dns/resolver_client.cc — the UDP/TCP resolver client (see resolver_client.h).
// Lifetime rules that bite here: a query's timer is closed when the Query is erased, a TCP
// connection's handles when the pool drops it, and both are freed by their close callbacks
// (loop.h). A query on a connection is in that connection's `waiting` map and nowhere else may
// it be freed from: every path that ends it takes it out first. A user callback runs last, after
// every member it could invalidate has been touched, because it may destroy the client; where
// several queries end at once (one read, one broken connection) their Endings are collected and
// delivered together at the end.
#include "scanner/dns/resolver_client.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <utility>

namespace danescan::scanner::dns {
namespace {

// A burst of answers overflows the kernel's default 208 KB socket buffer long before the loop
// reads them (lab notes: ~850 replies lost at 1,000 queries in flight; the benchmark saw
// thousands of RcvbufErrors per run), and every lost answer costs a timeout and a retry. Root may
// exceed net.core.rmem_max with SO_RCVBUFFORCE; otherwise the kernel caps the request there.
void growReceiveBuffer(uv_udp_t* udp, int bytes) {
  if (bytes <= 0) return;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(udp), &fd) == 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) {
    return;
  }
  int size = bytes;
  (void)uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(udp), &size);
}

// Datagrams read per recvmmsg() call at most (libuv uses up to 20): the receive buffer holds
// this many 64 KiB chunks, the most a datagram can take.
constexpr size_t kRecvChunks = 16;

constexpr size_t kMaxQueryWire = 512;  // a query is a header, one name (<= 255) and an OPT RR

// A TCP connection's handle and the request that must live as long (RFC 7766). Each query's
// write request owns its bytes and lives on its own (TcpWrite).
struct TcpHandle {
  uv_tcp_t tcp;  // first member: CloseThenFree casts the block to its handle
  uv_connect_t connect;
};
using TcpPtr = loop::HandlePtr<TcpHandle>;

// Freed by its callback, which runs (with UV_ECANCELED) even when the connection is closed first.
struct TcpWrite {
  uv_write_t req;
  std::vector<uint8_t> bytes;  // 2-byte length prefix (RFC 1035 section 4.2.2), then the query
};

// A query goes to a second connection when the first fails under it, not to a third.
constexpr unsigned kTcpTries = 2;

uint64_t nowMs() { return uv_hrtime() / 1000000; }

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

// One datagram on its way out (uv_udp_send): libuv's request, the bytes, and which attempt of
// which query it carries.
struct ResolverClient::SendRequest {
  uv_udp_send_t req;
  std::vector<uint8_t> bytes;
  uint64_t key = 0;      // the in_flight_ key (socket serial << 16 | ID)
  uint64_t attempt = 0;  // InFlightEntry::attempt
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
  size_t last_resolver = 0;  // that the latest UDP attempt went to
  unsigned sent = 0;       // messages that left, UDP and TCP
  bool fatal = false;      // a local error no retry can fix (the name cannot be encoded)
  std::string last_error;
  std::vector<uint64_t> keys;  // in_flight_ entries of this query
  uint64_t attempt = 0;        // the attempt number of its latest UDP send
  std::optional<size_t> resolver;  // that answered, or that TCP went to
  loop::TimerPtr timer;
  // TCP after TC=1. `conn` is the connection that carries the query (null while it waits in its
  // pool's backlog); the query is in conn->waiting under tcp_id exactly when conn is set.
  bool tcp_used = false;
  TcpConnection* conn = nullptr;
  uint16_t tcp_id = 0;
  unsigned tcp_tries = 0;           // connections it was given to
  unsigned tcp_answered_mark = 0;   // conn->answered when it was sent: no progress since means a stuck connection
  uint64_t tcp_deadline = 0;        // uv_now() at which the TCP exchange times out
  uint64_t tcp_since = 0;           // uv_now() when it was given to (or written on) its connection
  unsigned udp_timeouts = 0;        // UDP attempts that got no answer in time
  bool udp_in_air = false;          // the latest UDP attempt's datagram left (not a local failure)
  // Responses that carried this query's ID but failed a check.
  unsigned ignored_question = 0;
  unsigned ignored_malformed = 0;
  unsigned ignored_source = 0;
  unsigned refused = 0;    // REFUSED answers passed over for another resolver
  unsigned timed_out = 0;  // UDP attempts that got no answer before the next one started
};

// One TCP connection to a resolver, carrying up to tcp_queries_per_connection queries at once.
// Owned by its pool; the handle's and the timer's data point back here until it is destroyed.
struct ResolverClient::TcpConnection {
  ResolverClient* client = nullptr;
  size_t resolver = 0;
  TcpPtr handle;
  loop::TimerPtr timer;  // the idle timeout; or, with `failure` set, a failure reported from the loop
  bool connected = false;
  bool draining = false;  // takes no new query; closed when the last one leaves
  std::string failure;
  unsigned assigned = 0;  // queries ever given to it
  unsigned answered = 0;
  std::unordered_map<uint16_t, Query*> waiting;  // by the ID sent on this connection
  std::vector<uint8_t> in;  // bytes read and not yet a whole message
};

// Per resolver: its connections and the TCP queries waiting for room on one (by serial; an entry
// whose query has finished is skipped). `per_connection` is learnt from a server that closes a
// connection after answering n queries while more wait: later connections carry at most n.
struct ResolverClient::TcpPool {
  std::vector<std::unique_ptr<TcpConnection>> connections;
  std::deque<uint64_t> backlog;
  unsigned per_connection = 0;  // 0: no limit seen
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
  static void onSent(uv_udp_send_t* req, int status) noexcept {
    std::unique_ptr<ResolverClient::SendRequest> send(static_cast<ResolverClient::SendRequest*>(req->data));
    if (status >= 0 || status == UV_ECANCELED) return;
    auto* socket = static_cast<ResolverClient::Socket*>(req->handle->data);  // null once closing
    if (socket == nullptr) return;
    try {
      socket->client->onSendFailed(send->key, send->attempt, status);
    } catch (...) {
    }
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
  static void onTcpConnect(uv_connect_t* req, int status) noexcept {
    if (status == UV_ECANCELED) return;  // the connection was closed with its owner
    auto* conn = static_cast<ResolverClient::TcpConnection*>(req->handle->data);
    if (conn == nullptr) return;
    try {
      conn->client->onTcpConnected(*conn, status);
    } catch (...) {
    }
  }
  static void onTcpWrite(uv_write_t* req, int status) noexcept {
    std::unique_ptr<TcpWrite> owned(static_cast<TcpWrite*>(req->data));
    if (status == UV_ECANCELED || status == 0) return;
    auto* conn = static_cast<ResolverClient::TcpConnection*>(req->handle->data);
    if (conn == nullptr) return;
    try {
      conn->client->failConnection(*conn, std::string("write: ") + uv_strerror(status));
    } catch (...) {
    }
  }
  static void onTcpAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
    auto* conn = static_cast<ResolverClient::TcpConnection*>(handle->data);
    if (conn == nullptr) {
      *buf = uv_buf_init(nullptr, 0);
      return;
    }
    auto& buffer = conn->client->recv_buffer_;
    *buf = uv_buf_init(reinterpret_cast<char*>(buffer.data()), static_cast<unsigned>(buffer.size()));
  }
  static void onTcpRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* conn = static_cast<ResolverClient::TcpConnection*>(stream->data);
    if (conn == nullptr || nread == 0) return;
    try {
      if (nread < 0) {
        conn->client->failConnection(
            *conn, nread == UV_EOF ? "connection closed before the answer" : std::string("read: ") + uv_strerror(static_cast<int>(nread)));
        return;
      }
      conn->client->onTcpBytes(*conn, reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread));
    } catch (...) {
    }
  }
  static void onTcpTimer(uv_timer_t* timer) noexcept {
    auto* conn = static_cast<ResolverClient::TcpConnection*>(timer->data);
    if (conn == nullptr) return;
    try {
      conn->client->onTcpTimer(*conn);
    } catch (...) {
    }
  }
  static ResolverClient* clientOf(ResolverClient::Query& q) { return q.client; }
};

ResolverClient::ResolverClient(uv_loop_t* loop, std::vector<ResolverAddress> resolvers, ClientOptions options)
    : loop_(loop), resolvers_(std::move(resolvers)), options_(options), recv_buffer_(kRecvChunks * 65536) {
  options_.attempts = std::max(1u, options_.attempts);
  options_.sockets_per_resolver = std::max(1u, options_.sockets_per_resolver);
  options_.tcp_connections_per_resolver = std::max(1u, options_.tcp_connections_per_resolver);
  // IDs are unique per connection (RFC 7766 section 7): far fewer queries than IDs on one.
  options_.tcp_queries_per_connection = std::clamp(options_.tcp_queries_per_connection, 1u, 4096u);
  tcp_pools_ = std::vector<TcpPool>(resolvers_.size());  // built in place: a pool is not copyable
  sockets_.resize(resolvers_.size());
  for (const auto& r : resolvers_) {
    sockaddr_storage addr{};
    // ResolverAddress::parse accepted only literal addresses; no name is ever looked up here.
    const int rc = r.ipv6 ? uv_ip6_addr(r.ip.c_str(), r.port, reinterpret_cast<sockaddr_in6*>(&addr))
                          : uv_ip4_addr(r.ip.c_str(), r.port, reinterpret_cast<sockaddr_in*>(&addr));
    if (rc != 0) addr.ss_family = AF_UNSPEC;  // sends to it fail with a NetworkError
    resolver_addrs_.push_back(addr);
    health_.emplace_back();
  }
  timed_out_once_.assign(resolvers_.size(), false);
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

bool ResolverClient::openSockets(size_t resolver, std::string& error) {
  auto& pool = sockets_[resolver];
  const bool ipv6 = resolver_addrs_[resolver].ss_family == AF_INET6;
  for (unsigned i = 0; i < options_.sockets_per_resolver; ++i) {
    int rc = 0;
    // UV_UDP_RECVMMSG: libuv reads up to kRecvChunks datagrams per recvmmsg() call into
    // recv_buffer_ (one 64 KiB chunk each) instead of one recvmsg() per answer; a hot scan
    // receives tens of thousands of answers a second.
    auto udp = loop::makeUdp(loop_, (ipv6 ? AF_INET6 : AF_INET) | UV_UDP_RECVMMSG, rc);
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
    if (rc == 0) growReceiveBuffer(udp.get(), options_.udp_receive_buffer);
    auto socket = std::make_unique<Socket>();
    socket->client = this;
    socket->serial = next_socket_serial_++;
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

ResolverClient::Socket* ResolverClient::pickSocket(size_t resolver, std::string& error) {
  auto& pool = sockets_[resolver];
  if (pool.empty() && !openSockets(resolver, error)) return nullptr;
  return pool[randomQueryId() % pool.size()].get();
}

// Several resolvers share the load and fail over. One that stopped answering (kDownAfter
// timeouts in a row) is passed over for kDownMs while another is up, so that not every query
// pays a timeout before its retry reaches a live resolver; afterwards it gets traffic again
// and an answer clears its record.
constexpr unsigned kDownAfter = 3;
constexpr uint64_t kDownMs = 5000;

size_t ResolverClient::pickResolver(const Query& q) const {
  const size_t n = resolvers_.size();
  const size_t wanted = (q.first_resolver + q.udp_sends) % n;
  const uint64_t now = uv_now(loop_);
  for (size_t step = 0; step < n; ++step) {
    const size_t r = (wanted + step) % n;
    if (health_[r].timeouts < kDownAfter || health_[r].down_until <= now) return r;
  }
  return wanted;  // every resolver is down: keep rotating
}

void ResolverClient::noteTimeout(Query& q) {
  ++stats_.udp_timeouts;
  stats_.most_timeouts_in_a_query = std::max(stats_.most_timeouts_in_a_query, ++q.udp_timeouts);
  if (!timed_out_once_[q.last_resolver]) {
    timed_out_once_[q.last_resolver] = true;
    ++stats_.resolvers_timed_out;
  }
}

void ResolverClient::noteFailure(size_t resolver) {
  Health& h = health_[resolver];
  if (++h.timeouts >= kDownAfter) h.down_until = uv_now(loop_) + kDownMs;
}

void ResolverClient::startAttempt(Query& q) {
  const size_t resolver = pickResolver(q);
  q.last_resolver = resolver;
  // Back-off: each retry waits twice as long as the one before, up to the cap.
  const uint64_t timeout = std::min<uint64_t>(uint64_t{options_.timeout_ms} << std::min(q.udp_sends, 16u), options_.max_timeout_ms);
  ++q.udp_sends;
  q.udp_in_air = false;
  const sockaddr_storage& to = resolver_addrs_[resolver];
  if (to.ss_family == AF_UNSPEC) {
    q.last_error = "unusable resolver address " + resolvers_[resolver].toString();
    armTimer(q, 0);
    return;
  }
  std::string error;
  Socket* socket = pickSocket(resolver, error);
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
    id = randomQueryId();
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
  // Queued, never uv_udp_try_send(): the first datagram of a loop turn leaves at once and the
  // ones that follow it in the same turn leave together, up to 20 per sendmmsg() call, when
  // libuv drains the socket's queue. On loopback a hot scan sent one sendmsg() per query before,
  // and each woke the resolver on its own: batched, danescan's system time per query fell by a
  // third and unbound's CPU per answer from 13-15 to 9 us (bench/README.md "scan", change 12).
  // The request owns its bytes and is freed by its callback; a send that fails is reported to
  // the query through its attempt number (the ID may be in use by another query by then).
  const uint64_t attempt = ++next_attempt_;
  q.attempt = attempt;
  auto* send = new SendRequest{{}, std::move(wire), key, attempt};
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(send->bytes.data()), static_cast<unsigned>(send->bytes.size()));
  send->req.data = send;
  const int rc = uv_udp_send(&send->req, socket->udp.get(), &buf, 1, reinterpret_cast<const sockaddr*>(&to),
                             ClientAccess::onSent);
  if (rc < 0) {
    delete send;
    q.last_error = "send to " + resolvers_[resolver].toString() + ": " + uv_strerror(rc);
    armTimer(q, 0);
    return;
  }
  ++q.sent;
  q.udp_in_air = true;
  in_flight_.emplace(key, InFlightEntry{&q, resolver, attempt});
  q.keys.push_back(key);
  armTimer(q, timeout);
}

void ResolverClient::onSendFailed(uint64_t key, uint64_t attempt, int status) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end() || it->second.attempt != attempt) return;  // that attempt has ended
  Query& q = *it->second.query;
  const size_t resolver = it->second.resolver;
  in_flight_.erase(it);
  q.keys.erase(std::remove(q.keys.begin(), q.keys.end(), key), q.keys.end());
  --q.sent;  // it never left
  if (attempt != q.attempt) return;  // an earlier attempt's datagram: the latest one goes on
  q.udp_in_air = false;
  q.last_error = "send to " + resolvers_[resolver].toString() + ": " + uv_strerror(status);
  armTimer(q, 0);  // as a failure at send time: retried by onTimer while attempts remain
}

void ResolverClient::onTimer(Query& q) {
  if (q.fatal) {
    finish(q, QueryOutcome::NetworkError, std::nullopt);
  } else if (q.tcp_used) {
    const uint64_t now = uv_now(loop_);
    if (now < q.tcp_deadline) {
      // A stall check (armTcpTimer): a connection that answered nothing since this query went to
      // it, tcp_stall_ms ago, is given up and its queries go to another one.
      if (q.conn != nullptr && q.conn->answered == q.tcp_answered_mark && now - q.tcp_since >= options_.tcp_stall_ms) {
        moveOffStalled(*q.conn);  // re-arms the timer of every query it moves, this one's too
      } else {
        armTcpTimer(q);
      }
      return;
    }
    // A connection that answered nothing since this query went out is stuck: no new query goes
    // to it, and it closes once the ones on it are done.
    if (q.conn != nullptr && q.conn->answered == q.tcp_answered_mark) q.conn->draining = true;
    q.last_error = std::string(q.conn != nullptr ? "TCP: no answer within " : "TCP: no connection free within ") +
                   std::to_string(options_.tcp_timeout_ms) + " ms";
    finish(q, QueryOutcome::Timeout, std::nullopt);
  } else if (q.udp_sends < options_.attempts) {
    if (q.udp_sends > 0) {
      noteFailure(q.last_resolver);
      ++q.timed_out;
      if (q.udp_in_air) noteTimeout(q);
    }
    startAttempt(q);
  } else if (q.sent == 0) {
    finish(q, QueryOutcome::NetworkError, std::nullopt);  // last_error says why nothing left
  } else {
    if (q.udp_sends > 0) {
      noteFailure(q.last_resolver);
      if (q.udp_in_air) noteTimeout(q);
    }
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
  if (!sameSocketAddress(from, resolver_addrs_[resolver])) {
    ++q.ignored_source;
    return;
  }
  std::string error;
  std::optional<Response> response = parseResponse(data, size, error, &q.question);
  if (!response) {
    ++q.ignored_malformed;
    return;
  }
  if (!sameQuestion(response->question, q.question)) {
    ++q.ignored_question;
    return;
  }
  ++stats_.responses;
  // A resolver that refuses us says nothing about the name (RFC 1035 section 4.1.1: policy):
  // while attempts remain, ask the next resolver, and count the refusal against the refuser's
  // health. With one resolver, REFUSED stands; with none left, it stands only when no resolver
  // timed out: otherwise the query timed out at the resolvers that would have answered.
  if (response->rcode == 5 && resolvers_.size() > 1) {
    noteFailure(resolver);
    if (q.udp_sends < options_.attempts || q.timed_out > 0) {
      ++q.refused;
      if (q.udp_sends < options_.attempts) {
        startAttempt(q);
      } else {
        q.last_error = "no answer after " + std::to_string(q.udp_sends) + " attempts";
        finish(q, QueryOutcome::Timeout, std::nullopt);
      }
      return;
    }
  } else {
    health_[resolver] = Health{};
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
  // One deadline for the whole TCP exchange, retries included; the timer also wakes at the stall
  // checks before it.
  q.tcp_deadline = uv_now(loop_) + options_.tcp_timeout_ms;
  q.tcp_since = uv_now(loop_);
  armTcpTimer(q);
  placeTcp(q);
}

void ResolverClient::armTcpTimer(Query& q) {
  const uint64_t now = uv_now(loop_);
  const uint64_t left = q.tcp_deadline > now ? q.tcp_deadline - now : 0;
  uint64_t wait = left;
  if (q.conn != nullptr && options_.tcp_stall_ms < options_.tcp_timeout_ms) {
    const uint64_t stall_at = q.tcp_since + options_.tcp_stall_ms;
    wait = std::min(left, stall_at > now ? stall_at - now : 0);
  }
  armTimer(q, wait);
}

// The connection answered nothing for tcp_stall_ms while a query waited on it (a resolver that
// accepted it and then stopped reading or answering, or a connect that never completes). Every
// query on it leaves for another connection, within what remains of its own deadline (a late
// answer on this one could no longer be read anyway), and it is closed, so its slot goes to a
// fresh connection.
void ResolverClient::moveOffStalled(TcpConnection& conn) {
  const size_t resolver = conn.resolver;
  ++stats_.tcp_stalls;
  std::vector<Query*> moved;
  for (auto& [id, q] : conn.waiting) {
    q->conn = nullptr;
    q->last_error = "TCP: a stalled connection was given up";
    moved.push_back(q);
  }
  conn.waiting.clear();
  destroyConnection(conn);  // `conn` is gone
  for (Query* q : moved) {
    q->tcp_since = uv_now(loop_);
    placeTcp(*q);  // a connection, or the backlog; a local error arms the timer itself
    if (!q->fatal) armTcpTimer(*q);
  }
  pumpBacklog(resolver);
}

// Gives a TCP query to a connection, or queues it until one has room.
void ResolverClient::placeTcp(Query& q) {
  std::string error;
  TcpConnection* conn = chooseConnection(*q.resolver, error);
  if (conn != nullptr) {
    assign(*conn, q);
  } else if (error.empty()) {
    tcp_pools_[*q.resolver].backlog.push_back(q.serial);
  } else {
    q.last_error = error;
    q.fatal = true;
    armTimer(q, 0);  // reported from the loop: this may run inside another query's handling
  }
}

// An idle connection if there is one (reuse); else a new one while the pool has room (spread a
// burst over several); else the least busy one with room; else none (error empty: wait).
ResolverClient::TcpConnection* ResolverClient::chooseConnection(size_t resolver, std::string& error) {
  TcpPool& pool = tcp_pools_[resolver];
  TcpConnection* best = nullptr;
  for (const auto& c : pool.connections) {
    const bool usable = !c->draining && c->waiting.size() < options_.tcp_queries_per_connection &&
                        (pool.per_connection == 0 || c->assigned < pool.per_connection);
    if (usable && (best == nullptr || c->waiting.size() < best->waiting.size())) best = c.get();
  }
  if (best != nullptr && best->waiting.empty()) return best;
  if (pool.connections.size() < options_.tcp_connections_per_resolver) {
    if (TcpConnection* fresh = openConnection(resolver, error)) return fresh;
    if (best != nullptr) error.clear();
  }
  return best;
}

ResolverClient::TcpConnection* ResolverClient::openConnection(size_t resolver, std::string& error) {
  int rc = 0;
  TcpPtr handle = loop::makeTcpBlock<TcpHandle>(loop_, rc);
  if (!handle) {
    error = std::string("TCP: ") + uv_strerror(rc);
    return nullptr;
  }
  auto conn = std::make_unique<TcpConnection>();
  conn->client = this;
  conn->resolver = resolver;
  conn->timer = loop::makeTimer(loop_, rc);
  if (!conn->timer) std::abort();  // uv_timer_init cannot fail on a live loop
  conn->timer->data = conn.get();
  handle->tcp.data = conn.get();
  rc = uv_tcp_connect(&handle->connect, &handle->tcp, reinterpret_cast<const sockaddr*>(&resolver_addrs_[resolver]),
                      ClientAccess::onTcpConnect);
  conn->handle = std::move(handle);
  if (rc < 0) {
    error = std::string("TCP: connect: ") + uv_strerror(rc);
    return nullptr;  // `conn` closes both handles
  }
  ++stats_.tcp_connections_opened;
  TcpPool& pool = tcp_pools_[resolver];
  pool.connections.push_back(std::move(conn));
  return pool.connections.back().get();
}

void ResolverClient::assign(TcpConnection& conn, Query& q) {
  // IDs need only be unique on the connection; the loop ends fast, it holds few queries.
  uint16_t id = 0;
  do {
    id = randomQueryId();
  } while (conn.waiting.count(id) != 0);
  q.tcp_id = id;
  q.conn = &conn;
  q.tcp_answered_mark = conn.answered;
  q.tcp_since = uv_now(loop_);
  ++q.tcp_tries;
  armTcpTimer(q);  // the stall check of this connection
  ++conn.assigned;
  conn.waiting.emplace(id, &q);
  if (conn.failure.empty()) uv_timer_stop(conn.timer.get());  // no longer idle
  if (conn.connected) writeQuery(conn, q);  // else onTcpConnected writes it
}

void ResolverClient::writeQuery(TcpConnection& conn, Query& q) {
  const std::vector<uint8_t> wire = buildQuery(q.tcp_id, q.question, q.options);  // encodable: UDP sent it
  auto write = std::make_unique<TcpWrite>();
  write->bytes.reserve(2 + wire.size());
  write->bytes.push_back(static_cast<uint8_t>(wire.size() >> 8));
  write->bytes.push_back(static_cast<uint8_t>(wire.size() & 0xff));
  write->bytes.insert(write->bytes.end(), wire.begin(), wire.end());
  write->req.data = write.get();
  const uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(write->bytes.data()), static_cast<unsigned>(write->bytes.size()));
  const int rc = uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&conn.handle->tcp), &buf, 1, ClientAccess::onTcpWrite);
  if (rc < 0) {
    // Not failed here: this runs while queries are being placed, so the loop reports it.
    deferFailure(conn, std::string("write: ") + uv_strerror(rc));
    return;
  }
  write.release();  // onTcpWrite frees it
  ++q.sent;
  ++stats_.tcp_queries;
  q.tcp_answered_mark = conn.answered;
  q.tcp_since = uv_now(loop_);
}

void ResolverClient::onTcpConnected(TcpConnection& conn, int status) {
  if (status < 0) return failConnection(conn, std::string("connect: ") + uv_strerror(status));
  conn.connected = true;
  // Pipelined queries are small writes; Nagle would hold each behind the previous one's ACK.
  uv_tcp_nodelay(&conn.handle->tcp, 1);
  if (const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&conn.handle->tcp), ClientAccess::onTcpAlloc, ClientAccess::onTcpRead);
      rc < 0) {
    return failConnection(conn, std::string("read: ") + uv_strerror(rc));
  }
  for (auto& [id, q] : conn.waiting) writeQuery(conn, *q);
  tidy(conn);  // nothing waiting (all timed out while connecting): idle or closed
}

// Answers may arrive in any order (RFC 7766 section 7): each is matched by ID on this
// connection, then by question. The length prefix keeps the stream in step whatever the bytes.
void ResolverClient::onTcpBytes(TcpConnection& conn, const uint8_t* data, size_t size) {
  conn.in.insert(conn.in.end(), data, data + size);
  std::vector<Ending> endings;
  size_t offset = 0;
  while (conn.in.size() - offset >= 2) {
    const size_t length = size_t{conn.in[offset]} << 8 | conn.in[offset + 1];
    if (conn.in.size() - offset - 2 < length) break;
    const uint8_t* message = conn.in.data() + offset + 2;
    offset += 2 + length;
    const std::optional<uint16_t> id = messageId(message, length);
    if (!id) {
      ++stats_.unmatched_tcp_messages;
      continue;
    }
    const auto it = conn.waiting.find(*id);
    if (it == conn.waiting.end()) {
      ++stats_.unmatched_tcp_messages;
      continue;
    }
    Query& q = *it->second;
    std::string error;
    std::optional<Response> response = parseResponse(message, length, error, &q.question);
    if (!response) {
      ++q.ignored_malformed;
      continue;
    }
    if (!sameQuestion(response->question, q.question)) {
      ++q.ignored_question;
      continue;
    }
    ++stats_.responses;
    ++conn.answered;
    conn.waiting.erase(it);
    q.conn = nullptr;
    endings.push_back(detach(q, QueryOutcome::Answered, std::move(response)));
  }
  conn.in.erase(conn.in.begin(), conn.in.begin() + static_cast<std::ptrdiff_t>(offset));
  tidy(conn);  // may destroy `conn`
  // Last: a callback may destroy the client; the others still get theirs.
  for (Ending& e : endings) invoke(e.done, std::move(e.result));
}

void ResolverClient::onTcpTimer(TcpConnection& conn) {
  if (!conn.failure.empty()) return failConnection(conn, conn.failure);
  closeConnection(conn);  // idle timeout: nothing waits on it
}

// The connection broke (EOF, reset, failed connect or write). Its waiting queries go to a fresh
// connection unless this was already their second, then end as NetworkError. A server that
// answered some queries before closing allows no more per connection (RFC 7766 section 6.2.3
// lets it close at any time); the pool remembers that.
void ResolverClient::failConnection(TcpConnection& conn, const std::string& what) {
  const size_t resolver = conn.resolver;
  TcpPool& pool = tcp_pools_[resolver];
  if (conn.answered > 0 && !conn.waiting.empty()) {
    pool.per_connection = pool.per_connection == 0 ? conn.answered : std::min(pool.per_connection, conn.answered);
    // Idle connections that have carried that many already would only hold slots: close them.
    std::vector<TcpConnection*> spent;
    for (const auto& c : pool.connections) {
      if (c.get() != &conn && c->waiting.empty() && c->failure.empty() && c->assigned >= pool.per_connection) spent.push_back(c.get());
    }
    for (TcpConnection* c : spent) destroyConnection(*c);
  }
  std::vector<Query*> retry;
  std::vector<Query*> failed;
  for (auto& [id, q] : conn.waiting) {
    q->conn = nullptr;
    q->last_error = "TCP: " + what;
    (q->tcp_tries < kTcpTries ? retry : failed).push_back(q);
  }
  conn.waiting.clear();
  destroyConnection(conn);  // `conn` is gone
  std::vector<Ending> endings;
  for (Query* q : failed) endings.push_back(detach(*q, QueryOutcome::NetworkError, std::nullopt));
  for (Query* q : retry) placeTcp(*q);
  pumpBacklog(resolver);
  for (Ending& e : endings) invoke(e.done, std::move(e.result));
}

void ResolverClient::deferFailure(TcpConnection& conn, std::string what) {
  if (!conn.failure.empty()) return;
  conn.failure = std::move(what);
  conn.draining = true;
  uv_timer_start(conn.timer.get(), ClientAccess::onTcpTimer, 0, 0);
}

// After queries left `conn`: hand it (or a freed slot) to queries in the backlog, then close it
// if it is done for, or start its idle timeout.
void ResolverClient::tidy(TcpConnection& conn) {
  pumpBacklog(conn.resolver);
  if (!conn.waiting.empty() || !conn.failure.empty()) return;
  const TcpPool& pool = tcp_pools_[conn.resolver];
  if (conn.draining || (pool.per_connection != 0 && conn.assigned >= pool.per_connection)) return closeConnection(conn);
  uv_timer_start(conn.timer.get(), ClientAccess::onTcpTimer, options_.tcp_idle_timeout_ms, 0);
}

void ResolverClient::closeConnection(TcpConnection& conn) {
  const size_t resolver = conn.resolver;
  destroyConnection(conn);
  pumpBacklog(resolver);  // a slot is free
}

// Closes the handles (freed by their close callbacks) and frees `conn`, which must carry no query.
void ResolverClient::destroyConnection(TcpConnection& conn) {
  auto& connections = tcp_pools_[conn.resolver].connections;
  const auto it = std::find_if(connections.begin(), connections.end(), [&](const auto& c) { return c.get() == &conn; });
  if (it != connections.end()) connections.erase(it);
}

void ResolverClient::pumpBacklog(size_t resolver) {
  TcpPool& pool = tcp_pools_[resolver];
  while (!pool.backlog.empty()) {
    const auto it = queries_.find(pool.backlog.front());
    if (it == queries_.end() || it->second->conn != nullptr || it->second->fatal) {
      pool.backlog.pop_front();  // finished (timed out) meanwhile
      continue;
    }
    std::string error;
    TcpConnection* conn = chooseConnection(resolver, error);
    if (conn == nullptr && error.empty()) return;  // still no room
    pool.backlog.pop_front();
    Query& q = *it->second;
    if (conn != nullptr) {
      assign(*conn, q);
    } else {
      q.last_error = error;
      q.fatal = true;
      armTimer(q, 0);
    }
  }
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
  appendCount(result.error, q.refused, "REFUSED answer passed over for another resolver", "REFUSED answers passed over for another resolver");
  appendCount(result.error, q.ignored_malformed, "malformed response ignored", "malformed responses ignored");
  appendCount(result.error, q.ignored_source, "response from an unexpected address ignored", "responses from an unexpected address ignored");
  return result;
}

ResolverClient::Ending ResolverClient::detach(Query& q, QueryOutcome outcome, std::optional<Response> response) {
  QueryResult result = resultOf(q, outcome, std::move(response));
  Callback done = std::move(q.done);
  for (uint64_t key : q.keys) in_flight_.erase(key);
  queries_.erase(q.serial);  // closes the timer; `q` is gone
  return Ending{std::move(done), std::move(result)};
}

void ResolverClient::finish(Query& q, QueryOutcome outcome, std::optional<Response> response) {
  TcpConnection* conn = q.conn;
  if (conn != nullptr) {
    conn->waiting.erase(q.tcp_id);
    q.conn = nullptr;
  }
  Ending ending = detach(q, outcome, std::move(response));
  if (conn != nullptr) tidy(*conn);
  // Last: the callback may start queries or destroy the client.
  invoke(ending.done, std::move(ending.result));
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
  for (TcpPool& pool : tcp_pools_) {
    pool.connections.clear();  // they point to queries: gone before them
    pool.backlog.clear();
  }
  queries_.clear();
  for (auto& pool : sockets_) pool.clear();
  // Touches no member: a callback may destroy the client, or query() it (answered from the loop).
  for (auto& [done, result] : endings) invoke(done, std::move(result));
}

}  // namespace danescan::scanner::dns
