// ResolverClient against a scripted fake DNS server on 127.0.0.1 (a uv_udp_t and a uv_tcp_t on
// the same port, in the client's own loop): answers, drops, wrong IDs and questions, garbage,
// truncation and TCP fallback, rotation across resolvers, and closing with queries pending.
#include "scanner/dns/resolver_client.h"

#include "scanner/loop/loop.h"

#include <ldns/ldns.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace danescan::scanner::dns {
namespace {

using Bytes = std::vector<uint8_t>;

struct PktFree {
  void operator()(ldns_pkt* p) const noexcept { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

// A response to `qname qtype` (built by ldns, as message_test.cc does).
Bytes makeResponse(uint16_t id, const std::string& qname, ldns_rr_type qtype, std::vector<std::string> answers,
                   bool tc = false) {
  ldns_pkt* raw = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&raw, (qname + ".").c_str(), qtype, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
  PktPtr pkt(raw);
  ldns_pkt_set_id(pkt.get(), id);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_tc(pkt.get(), tc);
  for (const auto& line : answers) {
    ldns_rr* rr = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&rr, line.c_str(), 3600, nullptr, nullptr), LDNS_STATUS_OK) << line;
    ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, rr);
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt.get(), &size), LDNS_STATUS_OK);
  Bytes out(wire, wire + size);
  std::free(wire);
  return out;
}

struct Received {
  uint16_t id = 0;
  std::string qname;  // as sent, lower-cased, no trailing dot
  uint16_t qtype = 0;
  bool tcp = false;
};

Received parseQuery(const uint8_t* data, size_t size) {
  ldns_pkt* raw = nullptr;
  Received r;
  if (ldns_wire2pkt(&raw, data, size) != LDNS_STATUS_OK) return r;
  PktPtr pkt(raw);
  r.id = ldns_pkt_id(pkt.get());
  const ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0);
  char* owner = ldns_rdf2str(ldns_rr_owner(q));
  r.qname = owner;
  std::free(owner);
  if (!r.qname.empty() && r.qname.back() == '.') r.qname.pop_back();
  r.qtype = static_cast<uint16_t>(ldns_rr_get_type(q));
  return r;
}

// An A answer for the query received.
Bytes answerA(const Received& r, const std::string& address = "192.0.2.1") {
  return makeResponse(r.id, r.qname, LDNS_RR_TYPE_A, {r.qname + ". 300 IN A " + address});
}

// The fake server. `udp` gets each UDP query (with its 0-based index) and returns the datagrams
// to send back (none: the query is dropped); `tcp` returns the message for a TCP query.
class FakeServer {
 public:
  using UdpScript = std::function<std::vector<Bytes>(const Received&, unsigned index)>;
  using TcpScript = std::function<Bytes(const Received&)>;

  FakeServer(uv_loop_t* loop, UdpScript udp, TcpScript tcp = {}) : udp_script_(std::move(udp)), tcp_script_(std::move(tcp)) {
    // Bind UDP to port 0, then TCP to the same port; retry in the rare case the TCP port is taken.
    for (int tries = 0; tries < 20 && port_ == 0; ++tries) {
      int rc = 0;
      udp_ = loop::makeUdp(loop, AF_INET, rc);
      sockaddr_in addr{};
      uv_ip4_addr("127.0.0.1", 0, &addr);
      EXPECT_EQ(uv_udp_bind(udp_.get(), reinterpret_cast<const sockaddr*>(&addr), 0), 0);
      sockaddr_storage bound{};
      int len = sizeof bound;
      uv_udp_getsockname(udp_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
      const uint16_t port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      listener_ = loop::makeTcpBlock<uv_tcp_t>(loop, rc);
      uv_ip4_addr("127.0.0.1", port, &addr);
      if (uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), 0) == 0 &&
          uv_listen(reinterpret_cast<uv_stream_t*>(listener_.get()), 8, onConnection) == 0) {
        port_ = port;
      }
    }
    EXPECT_NE(port_, 0);
    udp_->data = this;
    listener_->data = this;
    uv_udp_recv_start(udp_.get(), onAlloc, onRecv);
  }

  [[nodiscard]] ResolverAddress address() const { return ResolverAddress{"127.0.0.1", port_, false}; }
  std::vector<Received> received;  // every query, UDP and TCP, in arrival order

 private:
  struct Conn {
    uv_tcp_t tcp;
    FakeServer* server;
    Bytes* in;  // owned by the server (in_buffers_)
  };
  struct WriteReq {
    uv_write_t req;
    Bytes bytes;
  };

  static void onAlloc(uv_handle_t*, size_t, uv_buf_t* buf) {
    static char space[65536];
    *buf = uv_buf_init(space, sizeof space);
  }
  static void onRecv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* from, unsigned) {
    auto* self = static_cast<FakeServer*>(h->data);
    if (self == nullptr || nread <= 0 || from == nullptr) return;
    const Received r = parseQuery(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread));
    self->received.push_back(r);
    for (const Bytes& reply : self->udp_script_(r, self->udp_count_++)) {
      uv_buf_t out = uv_buf_init(reinterpret_cast<char*>(const_cast<uint8_t*>(reply.data())), static_cast<unsigned>(reply.size()));
      EXPECT_GE(uv_udp_try_send(h, &out, 1, from), 0);
    }
  }
  static void onConnection(uv_stream_t* listener, int status) {
    auto* self = static_cast<FakeServer*>(listener->data);
    if (self == nullptr || status < 0) return;
    int rc = 0;
    auto conn = loop::makeTcpBlock<Conn>(listener->loop, rc);
    self->in_buffers_.push_back(std::make_unique<Bytes>());
    conn->server = self;
    conn->in = self->in_buffers_.back().get();
    conn->tcp.data = conn.get();
    auto* stream = reinterpret_cast<uv_stream_t*>(&conn->tcp);
    if (uv_accept(listener, stream) == 0) uv_read_start(stream, onAlloc, onTcpRead);
    self->conns_.push_back(std::move(conn));
  }
  static void onTcpRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* conn = static_cast<Conn*>(stream->data);
    if (conn == nullptr || nread <= 0) return;
    Bytes& in = *conn->in;
    in.insert(in.end(), buf->base, buf->base + nread);
    if (in.size() < 2 || in.size() < 2u + (in[0] << 8 | in[1])) return;
    Received r = parseQuery(in.data() + 2, in.size() - 2);
    r.tcp = true;
    in.clear();
    conn->server->received.push_back(r);
    if (!conn->server->tcp_script_) return;
    const Bytes reply = conn->server->tcp_script_(r);
    auto* req = new WriteReq{{}, Bytes(2 + reply.size())};
    req->bytes[0] = static_cast<uint8_t>(reply.size() >> 8);
    req->bytes[1] = static_cast<uint8_t>(reply.size());
    std::copy(reply.begin(), reply.end(), req->bytes.begin() + 2);
    req->req.data = req;
    const uv_buf_t out = uv_buf_init(reinterpret_cast<char*>(req->bytes.data()), static_cast<unsigned>(req->bytes.size()));
    uv_write(&req->req, stream, &out, 1, [](uv_write_t* w, int) { delete static_cast<WriteReq*>(w->data); });
  }

  UdpScript udp_script_;
  TcpScript tcp_script_;
  unsigned udp_count_ = 0;
  uint16_t port_ = 0;
  loop::UdpPtr udp_;
  loop::HandlePtr<uv_tcp_t> listener_;
  std::vector<std::unique_ptr<Bytes>> in_buffers_;
  std::vector<loop::HandlePtr<Conn>> conns_;
};

// Runs the loop until `done()` or `limit_ms` (a generous bound: a hang fails, a slow machine not).
// A ticker keeps UV_RUN_ONCE from blocking on the servers' idle handles.
bool runUntil(uv_loop_t* loop, const std::function<bool()>& done, uint64_t limit_ms = 10000) {
  int rc = 0;
  auto ticker = loop::makeTimer(loop, rc);
  uv_timer_start(ticker.get(), [](uv_timer_t*) {}, 20, 20);
  const uint64_t start = uv_hrtime();
  while (!done() && (uv_hrtime() - start) / 1000000 < limit_ms) uv_run(loop, UV_RUN_ONCE);
  return done();
}

// Runs the loop a little longer, to catch a second callback or a late action.
void runFor(uv_loop_t* loop, uint64_t ms) {
  const uint64_t start = uv_hrtime();
  runUntil(loop, [&] { return (uv_hrtime() - start) / 1000000 >= ms; }, ms + 1000);
}

ClientOptions fastOptions() {
  ClientOptions o;
  o.timeout_ms = 100;
  o.max_timeout_ms = 400;
  o.attempts = 3;
  o.tcp_timeout_ms = 500;
  o.sockets_per_family = 2;
  return o;
}

const Question kQuestion{"mx.example.test", 1};

class ResolverClientTest : public ::testing::Test {
 protected:
  // Starts one query and runs the loop until its callback; returns the result.
  QueryResult ask(ResolverClient& client, const Question& question = kQuestion) {
    client.query(question, QueryOptions{}, [this](QueryResult r) {
      ++calls_;
      result_ = std::move(r);
    });
    EXPECT_EQ(calls_, 0) << "called back from inside query()";
    EXPECT_TRUE(runUntil(loop_.get(), [this] { return calls_ > 0; }));
    runFor(loop_.get(), 50);
    EXPECT_EQ(calls_, 1);
    return result_.value_or(QueryResult{});
  }

  loop::Loop loop_;  // first member: destroyed last, after the servers and clients of a test
  int calls_ = 0;
  std::optional<QueryResult> result_;
};

TEST_F(ResolverClientTest, NormalAnswer) {
  FakeServer server(loop_.get(), [](const Received& r, unsigned) { return std::vector<Bytes>{answerA(r)}; });
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  const QueryResult r = ask(client);
  EXPECT_EQ(r.outcome, QueryOutcome::Answered);
  EXPECT_EQ(r.rcode, "NOERROR");
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->addresses, std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(r.attempts, 1u);
  EXPECT_FALSE(r.tcp);
  EXPECT_EQ(r.resolver, server.address());
  EXPECT_EQ(r.error, "");
  ASSERT_EQ(server.received.size(), 1u);
  EXPECT_EQ(server.received[0].qname, "mx.example.test");
  EXPECT_EQ(server.received[0].qtype, 1);
  EXPECT_EQ(client.pending(), 0u);
}

TEST_F(ResolverClientTest, NoAnswerTimesOutAfterAllAttempts) {
  FakeServer server(loop_.get(), [](const Received&, unsigned) { return std::vector<Bytes>{}; });
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  const QueryResult r = ask(client);
  EXPECT_EQ(r.outcome, QueryOutcome::Timeout);
  EXPECT_EQ(r.rcode, "TIMEOUT");
  EXPECT_FALSE(r.response);
  EXPECT_EQ(r.attempts, 3u);
  EXPECT_EQ(server.received.size(), 3u);
  EXPECT_EQ(r.error, "no answer after 3 attempts");
  // Back-off: 100 + 200 + 400 ms.
  EXPECT_GE(r.elapsed_ms, 690u);
  EXPECT_LT(r.elapsed_ms, 5000u);
}

TEST_F(ResolverClientTest, FirstAttemptDroppedSecondAnswered) {
  FakeServer server(loop_.get(), [](const Received& r, unsigned i) {
    return i == 0 ? std::vector<Bytes>{} : std::vector<Bytes>{answerA(r)};
  });
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  const QueryResult r = ask(client);
  EXPECT_EQ(r.outcome, QueryOutcome::Answered);
  EXPECT_EQ(r.attempts, 2u);
  ASSERT_EQ(server.received.size(), 2u);
  EXPECT_GE(r.elapsed_ms, 90u);
}

TEST_F(ResolverClientTest, WrongIdIgnoredThenRightOneAccepted) {
  FakeServer server(loop_.get(), [](const Received& r, unsigned) {
    Received wrong = r;
    wrong.id = static_cast<uint16_t>(r.id ^ 0x5a5a);
    return std::vector<Bytes>{answerA(wrong, "192.0.2.66"), answerA(r)};
  });
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  const QueryResult r = ask(client);
  EXPECT_EQ(r.outcome, QueryOutcome::Answered);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->addresses, std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(r.attempts, 1u);
  EXPECT_EQ(client.stats().unmatched_datagrams, 1u);
}

TEST_F(ResolverClientTest, WrongQuestionIgnoredThenRightOneAccepted) {
  FakeServer server(loop_.get(), [](const Received& r, unsigned) {
    Received other = r;
    other.qname = "other.example.test";
    const Bytes wrong_type = makeResponse(r.id, r.qname, LDNS_RR_TYPE_AAAA, {});
    return std::vector<Bytes>{answerA(other), wrong_type, answerA(r)};
  });
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  const QueryResult r = ask(client);
  EXPECT_EQ(r.outcome, QueryOutcome::Answered);
  EXPECT_EQ(r.attempts, 1u);
  EXPECT_EQ(r.error, "2 responses with another question ignored");
}

TEST_F(ResolverClientTest, QuestionNameComparedCaseInsensitively) {
  FakeServer server(loop_.get(), [](const Received& r, unsigned) {
    Received upper = r;
    upper.qname = "MX.Example.TEST";
    return std::vector<Bytes>{answerA(upper)};
  });
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  const QueryResult r = ask(client);
  EXPECT_EQ(r.outcome, QueryOutcome::Answered);
  EXPECT_EQ(r.error, "");
}

TEST_F(ResolverClientTest, GarbageIgnoredThenRightOneAccepted) {
  FakeServer server(loop_.get(), [](const Received& r, unsigned) {
    // The pending ID, then bytes no DNS parser accepts; and a datagram too short for an ID.
    const Bytes garbage{static_cast<uint8_t>(r.id >> 8), static_cast<uint8_t>(r.id), 0x81, 0x80, 0xff, 0xff, 0x00};
    return std::vector<Bytes>{garbage, Bytes{0x01}, answerA(r)};
  });
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  const QueryResult r = ask(client);
  EXPECT_EQ(r.outcome, QueryOutcome::Answered);
  EXPECT_EQ(r.error, "1 malformed response ignored");
  EXPECT_EQ(client.stats().unmatched_datagrams, 1u);
}

TEST_F(ResolverClientTest, TruncatedOverUdpRepeatedOverTcp) {
  FakeServer server(
      loop_.get(), [](const Received& r, unsigned) { return std::vector<Bytes>{makeResponse(r.id, r.qname, LDNS_RR_TYPE_A, {}, true)}; },
      [](const Received& r) { return answerA(r, "192.0.2.77"); });
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  const QueryResult r = ask(client);
  EXPECT_EQ(r.outcome, QueryOutcome::Answered);
  EXPECT_TRUE(r.tcp);
  EXPECT_EQ(r.attempts, 2u);
  ASSERT_TRUE(r.response);
  EXPECT_FALSE(r.response->truncated);
  EXPECT_EQ(r.response->addresses, std::vector<std::string>{"192.0.2.77"});
  ASSERT_EQ(server.received.size(), 2u);
  EXPECT_FALSE(server.received[0].tcp);
  EXPECT_TRUE(server.received[1].tcp);
  EXPECT_EQ(server.received[1].qname, "mx.example.test");
}

TEST_F(ResolverClientTest, TcpWithoutAnswerTimesOut) {
  FakeServer server(loop_.get(), [](const Received& r, unsigned) {
    return std::vector<Bytes>{makeResponse(r.id, r.qname, LDNS_RR_TYPE_A, {}, true)};
  });  // no TCP script: the connection is accepted and never answered
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  const QueryResult r = ask(client);
  EXPECT_EQ(r.outcome, QueryOutcome::Timeout);
  EXPECT_TRUE(r.tcp);
  EXPECT_EQ(r.rcode, "TIMEOUT");
  EXPECT_EQ(r.error, "TCP: no answer within 500 ms");
}

TEST_F(ResolverClientTest, CloseDuringTcpCallsBackOnce) {
  FakeServer server(loop_.get(), [](const Received& r, unsigned) {
    return std::vector<Bytes>{makeResponse(r.id, r.qname, LDNS_RR_TYPE_A, {}, true)};
  });  // no TCP script: the connection stays open, unanswered
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  client.query(kQuestion, QueryOptions{}, [this](QueryResult r) {
    ++calls_;
    result_ = std::move(r);
  });
  ASSERT_TRUE(runUntil(loop_.get(), [&] { return server.received.size() == 2; }));  // UDP, then TCP
  client.close();
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(result_->error, "client closed");
  EXPECT_TRUE(result_->tcp);
  runFor(loop_.get(), 600);
  EXPECT_EQ(calls_, 1);
}

TEST_F(ResolverClientTest, SecondResolverAnswersWhenFirstIsSilent) {
  FakeServer silent(loop_.get(), [](const Received&, unsigned) { return std::vector<Bytes>{}; });
  FakeServer good(loop_.get(), [](const Received& r, unsigned) { return std::vector<Bytes>{answerA(r)}; });
  ResolverClient client(loop_.get(), {silent.address(), good.address()}, fastOptions());
  const QueryResult r = ask(client);
  EXPECT_EQ(r.outcome, QueryOutcome::Answered);
  EXPECT_EQ(r.resolver, good.address());
  EXPECT_EQ(r.attempts, 2u);
  EXPECT_EQ(silent.received.size(), 1u);
  EXPECT_EQ(good.received.size(), 1u);
}

TEST_F(ResolverClientTest, CloseWithQueryPendingCallsBackOnce) {
  FakeServer server(loop_.get(), [](const Received&, unsigned) { return std::vector<Bytes>{}; });
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  client.query(kQuestion, QueryOptions{}, [this](QueryResult r) {
    ++calls_;
    result_ = std::move(r);
  });
  ASSERT_TRUE(runUntil(loop_.get(), [&] { return server.received.size() == 1; }));
  EXPECT_EQ(calls_, 0);
  client.close();
  EXPECT_EQ(calls_, 1);
  ASSERT_TRUE(result_);
  EXPECT_EQ(result_->outcome, QueryOutcome::NetworkError);
  EXPECT_EQ(result_->error, "client closed");
  EXPECT_EQ(client.pending(), 0u);
  runFor(loop_.get(), 600);  // past every timeout: no second call, no more sends
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(server.received.size(), 1u);

  // A query after close() also ends as "client closed", from the loop.
  int late = 0;
  client.query(kQuestion, QueryOptions{}, [&](QueryResult r) {
    ++late;
    EXPECT_EQ(r.error, "client closed");
  });
  EXPECT_EQ(late, 0);
  ASSERT_TRUE(runUntil(loop_.get(), [&] { return late > 0; }));
  EXPECT_EQ(late, 1);
}

TEST_F(ResolverClientTest, DestroyedWithQueriesPendingCallsEachBackOnce) {
  FakeServer server(loop_.get(), [](const Received&, unsigned) { return std::vector<Bytes>{}; });
  auto client = std::make_unique<ResolverClient>(loop_.get(), std::vector<ResolverAddress>{server.address()}, fastOptions());
  std::vector<std::string> errors;
  for (int i = 0; i < 3; ++i) client->query(kQuestion, QueryOptions{}, [&](QueryResult r) { errors.push_back(r.error); });
  ASSERT_TRUE(runUntil(loop_.get(), [&] { return server.received.size() == 3; }));
  client.reset();
  EXPECT_EQ(errors, (std::vector<std::string>{"client closed", "client closed", "client closed"}));
  runFor(loop_.get(), 300);
  EXPECT_EQ(errors.size(), 3u);
}

TEST_F(ResolverClientTest, CallbackMayDestroyTheClient) {
  FakeServer server(loop_.get(), [](const Received& r, unsigned) { return std::vector<Bytes>{answerA(r)}; });
  auto client = std::make_unique<ResolverClient>(loop_.get(), std::vector<ResolverAddress>{server.address()}, fastOptions());
  std::vector<std::string> rcodes;
  client->query(kQuestion, QueryOptions{}, [&](QueryResult r) {
    rcodes.push_back(r.rcode);
    client.reset();  // ends the second query ("client closed") from inside this callback
  });
  client->query(Question{"other.example.test", 1}, QueryOptions{}, [&](QueryResult r) { rcodes.push_back(r.error); });
  ASSERT_TRUE(runUntil(loop_.get(), [&] { return rcodes.size() == 2; }));
  runFor(loop_.get(), 100);
  EXPECT_EQ(rcodes, (std::vector<std::string>{"NOERROR", "client closed"}));
}

TEST_F(ResolverClientTest, LocalErrorsAreReportedFromTheLoop) {
  ResolverClient none(loop_.get(), {}, fastOptions());
  QueryResult r = ask(none);
  EXPECT_EQ(r.outcome, QueryOutcome::NetworkError);
  EXPECT_EQ(r.error, "no resolver configured");
  EXPECT_EQ(r.attempts, 0u);

  calls_ = 0;
  ResolverClient client(loop_.get(), {ResolverAddress{"127.0.0.1", 9, false}}, fastOptions());
  r = ask(client, Question{std::string(64, 'a') + ".test", 1});
  EXPECT_EQ(r.outcome, QueryOutcome::NetworkError);
  EXPECT_EQ(r.error, "cannot encode the query name");
}

TEST_F(ResolverClientTest, ConcurrentQueriesEachGetTheirOwnAnswer) {
  FakeServer server(loop_.get(), [](const Received& r, unsigned) {
    // Answer with the query's own name as evidence; reverse order is the interesting case, so
    // the script answers each query at once, and the client sees them interleaved on 2 sockets.
    return std::vector<Bytes>{makeResponse(r.id, r.qname, LDNS_RR_TYPE_TXT, {r.qname + ". 300 IN TXT \"" + r.qname + "\""})};
  });
  ResolverClient client(loop_.get(), {server.address()}, fastOptions());
  std::vector<std::pair<std::string, std::string>> got;
  for (int i = 0; i < 20; ++i) {
    const std::string name = "q" + std::to_string(i) + ".example.test";
    client.query(Question{name, 16}, QueryOptions{}, [&got, name](QueryResult r) {
      got.emplace_back(name, r.response && !r.response->answer.empty() ? r.response->answer[0].owner : r.error);
    });
  }
  ASSERT_TRUE(runUntil(loop_.get(), [&] { return got.size() == 20; }));
  for (const auto& [asked, owner] : got) EXPECT_EQ(asked, owner);
}

}  // namespace
}  // namespace danescan::scanner::dns
