// SmtpProbe and Prober against scripted fake SMTP servers on loopback (libuv TCP listeners on
// 127.0.0.x with ephemeral ports, in the prober's own loop): greetings, 421, stalls, drips,
// oversized replies, no STARTTLS, a refused STARTTLS; the cache, the concurrency bounds, the 421
// retry, stop() and abandon(). TLS and DANE against real servers are the lab test's job
// (tests/lab/probe/).
#include "scanner/tls/prober.h"

#include "scanner/loop/loop.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace danescan::scanner::tls {
namespace {

enum class Behaviour {
  NoStartTls,      // 220, EHLO without STARTTLS, 221 to QUIT
  StartTlsRefused, // EHLO offers STARTTLS, STARTTLS gets 454
  RateLimit,       // 421 greeting, close
  RateLimitOnce,   // 421 on the first connection, NoStartTls afterwards
  Stall,           // 220, then silence
  Drip,            // 220, then after EHLO one "250-" line every 20 ms, forever
  LongEhlo,        // 220, then an EHLO reply of about 1 MB
  SlowGreeting,    // the 220 comes after 100 ms, then NoStartTls
  Garbage,         // a greeting that is not SMTP
  NoGreeting,      // accepts, then silence: the greeting stage times out
  StartTlsSilent,  // EHLO offers STARTTLS, then no answer to STARTTLS
  TlsSilent,       // "220 go ahead" to STARTTLS, then silence: the handshake times out
};

// A fake server: one listener; each connection follows `behaviour`. Counts connections and the
// most open at once.
class FakeSmtp {
 public:
  FakeSmtp(uv_loop_t* loop, const std::string& ip, Behaviour behaviour) : loop_(loop), behaviour_(behaviour) {
    int error = 0;
    listener_ = loop::makeTcpBlock<uv_tcp_t>(loop, error);
    EXPECT_EQ(error, 0);
    sockaddr_storage addr{};  // IPv4, or IPv6 for "::1"
    EXPECT_TRUE(uv_ip4_addr(ip.c_str(), 0, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
                uv_ip6_addr(ip.c_str(), 0, reinterpret_cast<sockaddr_in6*>(&addr)) == 0);
    EXPECT_EQ(uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), 0), 0);
    listener_->data = this;
    EXPECT_EQ(uv_listen(reinterpret_cast<uv_stream_t*>(listener_.get()), 64,
                        [](uv_stream_t* s, int status) {
                          if (status == 0 && s->data) static_cast<FakeSmtp*>(s->data)->accept();
                        }),
              0);
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  ~FakeSmtp() { closeAll(); }

  void closeAll() {
    listener_.reset();
    conns_.clear();
  }
  [[nodiscard]] uint16_t port() const { return port_; }
  int connections = 0;
  int open = 0;
  int max_open = 0;
  // SlowGreeting: connections accepted whose 220 is not sent yet. A probe finishes only after
  // its greeting, so this counts overlapping probes exactly, unlike `open`, which lags behind
  // the client's closes.
  int greeting_pending = 0;
  std::vector<std::string> lines;  // every command line received, CRLF removed
  int max_greeting_pending = 0;

 private:
  struct Conn {
    uv_tcp_t tcp;  // first member (CloseThenFree)
    FakeSmtp* server;
    std::string in;
    loop::TimerPtr timer;
    int drip = 0;
    bool silent = false;  // TlsSilent after its 220: everything the client sends is ignored
    ~Conn() { if (server) server->open--; }
  };
  using ConnPtr = loop::HandlePtr<Conn>;

  void accept() {
    int error = 0;
    auto accepted = loop::makeTcpBlock<Conn>(loop_, error);
    ASSERT_EQ(error, 0);
    accepted->server = nullptr;  // not counted until accepted
    accepted->tcp.data = accepted.get();
    if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_.get()), reinterpret_cast<uv_stream_t*>(&accepted->tcp)) != 0) return;
    accepted->server = this;
    ++connections;
    max_open = std::max(max_open, ++open);
    Conn* c = accepted.get();
    conns_.push_back(std::move(accepted));
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&c->tcp),
        [](uv_handle_t*, size_t size, uv_buf_t* buf) { *buf = uv_buf_init(new char[size], static_cast<unsigned>(size)); },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          std::unique_ptr<char[]> owned(buf->base);
          auto* conn = static_cast<Conn*>(s->data);
          if (conn == nullptr) return;
          if (n < 0) return conn->server->drop(conn);
          conn->in.append(buf->base, static_cast<size_t>(n));
          conn->server->onData(conn);
        });
    const bool first = connections == 1;
    switch (behaviour_) {
      case Behaviour::RateLimit: return sayThenClose(c, "421 4.7.0 busy\r\n");
      case Behaviour::RateLimitOnce:
        if (first) return sayThenClose(c, "421 4.7.0 busy\r\n");
        return say(c, "220 fake ESMTP\r\n");
      case Behaviour::Garbage: return say(c, "SSH-2.0-OpenSSH_9.2\r\n");
      case Behaviour::NoGreeting: return;
      case Behaviour::SlowGreeting: {
        max_greeting_pending = std::max(max_greeting_pending, ++greeting_pending);
        c->timer = loop::makeTimer(loop_, error);
        c->timer->data = c;
        uv_timer_start(c->timer.get(), [](uv_timer_t* t) {
          auto* conn = static_cast<Conn*>(t->data);
          --conn->server->greeting_pending;
          conn->server->say(conn, "220 slow\r\n");
        }, 100, 0);
        return;
      }
      default: return say(c, "220 fake ESMTP\r\n");
    }
  }

  void onData(Conn* c) {
    if (c->silent) return c->in.clear();
    size_t eol;
    while ((eol = c->in.find('\n')) != std::string::npos) {
      std::string line = c->in.substr(0, eol);
      c->in.erase(0, eol + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::string verb = line.substr(0, 4);
      if (behaviour_ == Behaviour::Stall) continue;
      lines.push_back(line);
      if (verb == "EHLO") {
        if (behaviour_ == Behaviour::Drip) {
          int error = 0;
          c->timer = loop::makeTimer(loop_, error);
          c->timer->data = c;
          uv_timer_start(c->timer.get(), [](uv_timer_t* t) { auto* conn = static_cast<Conn*>(t->data); conn->server->say(conn, "250-DRIP " + std::to_string(conn->drip++) + "\r\n"); }, 20, 20);
        } else if (behaviour_ == Behaviour::LongEhlo) {
          std::string reply = "250-fake\r\n";
          while (reply.size() < (1u << 20)) reply += "250-X-FILLER " + std::string(80, 'x') + "\r\n";
          say(c, reply + "250 8BITMIME\r\n");
        } else if (behaviour_ == Behaviour::StartTlsRefused || behaviour_ == Behaviour::StartTlsSilent ||
                   behaviour_ == Behaviour::TlsSilent) {
          say(c, "250-fake\r\n250-STARTTLS\r\n250 8BITMIME\r\n");
        } else {
          say(c, "250-fake\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
        }
      } else if (verb == "STAR") {
        if (behaviour_ == Behaviour::StartTlsSilent) continue;
        if (behaviour_ == Behaviour::TlsSilent) {
          say(c, "220 2.0.0 go ahead\r\n");
          c->silent = true;  // the ClientHello that follows is not SMTP: never answered
          c->in.clear();
          return;
        }
        say(c, "454 4.7.0 TLS not available\r\n");
      } else if (verb == "QUIT") {
        sayThenClose(c, "221 bye\r\n");
        return;
      } else {
        say(c, "502 no\r\n");
      }
    }
  }

  struct Write {
    uv_write_t req;
    std::string data;
    bool close;
  };
  void say(Conn* c, std::string text, bool close = false) {
    auto* w = new Write{{}, std::move(text), close};
    w->req.data = c;
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1, [](uv_write_t* req, int status) {
          std::unique_ptr<Write> done(reinterpret_cast<Write*>(req));
          auto* conn = static_cast<Conn*>(req->data);
          if (status == 0 && done->close && conn->tcp.data) conn->server->drop(conn);
        }) != 0) {
      delete w;
    }
  }
  void sayThenClose(Conn* c, std::string text) { say(c, std::move(text), true); }
  void drop(Conn* c) {
    auto it = std::find_if(conns_.begin(), conns_.end(), [&](const ConnPtr& p) { return p.get() == c; });
    if (it == conns_.end()) return;
    (*it)->timer.reset();
    conns_.erase(it);  // closes; the Conn is freed (and `open` counted down) in the close callback
  }

  uv_loop_t* loop_;
  Behaviour behaviour_;
  loop::HandlePtr<uv_tcp_t> listener_;
  std::vector<ConnPtr> conns_;
  uint16_t port_ = 0;
};

ProberOptions fastOptions() {
  ProberOptions o;
  o.probe.ehlo_name = "prober-test.invalid";
  o.probe.connect_timeout_ms = 1000;
  o.probe.stage_timeout_ms = 300;
  o.probe.deadline_ms = 3000;
  o.probe.max_line = 512;
  o.probe.max_reply = 8192;
  o.retry_delay_ms = 50;
  return o;
}

const std::vector<std::string> kTlsa = {"3 1 1 " + std::string(64, 'a')};

ProbeTarget target(const std::string& ip, uint16_t port, std::vector<std::string> tlsa = kTlsa,
                   const std::string& base = "mx.example.test") {
  return ProbeTarget{ip, port, base, {base, "example.test"}, std::move(tlsa)};
}

// Runs one probe through a Prober and returns its record.
storage::ProbeRecord probeOnce(loop::Loop& loop, FakeSmtp& server, ProberOptions options = fastOptions(),
                               std::vector<std::string> tlsa = kTlsa) {
  Prober prober(loop.get(), options);
  std::vector<storage::ProbeRecord> got;
  prober.probe(target("127.0.0.1", server.port(), std::move(tlsa)), [&](const storage::ProbeRecord& r) {
    got.push_back(r);
    server.closeAll();  // lets the loop end
  });
  loop.run();
  EXPECT_EQ(got.size(), 1u);
  return got.empty() ? storage::ProbeRecord{} : got.front();
}

TEST(SmtpProbe, NoStartTlsWithUsableTlsa) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::NoStartTls);
  const auto r = probeOnce(loop, server);
  // The configured EHLO name went out.
  ASSERT_GE(server.lines.size(), 1u);
  EXPECT_EQ(server.lines[0], "EHLO prober-test.invalid");
  EXPECT_EQ(r.address, "127.0.0.1");
  EXPECT_TRUE(r.connected);
  EXPECT_FALSE(r.starttls);
  EXPECT_FALSE(r.tls_ok);
  EXPECT_EQ(r.dane, "fail");
  EXPECT_FALSE(r.matched);
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.connect.outcome, "ok");
  EXPECT_EQ(r.greeting.outcome, "ok");
  EXPECT_EQ(r.ehlo.outcome, "ok");
  EXPECT_EQ(r.starttls_stage.outcome, "not-offered");
  EXPECT_EQ(r.handshake.outcome, "");
  EXPECT_EQ(r.attempts, 1u);
  EXPECT_FALSE(r.rate_limited);
}

// Issue 4: every address, IPv4 and IPv6. The probe connects to an IPv6 literal and records it.
TEST(SmtpProbe, ProbesAnIpv6Address) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "::1", Behaviour::NoStartTls);
  Prober prober(loop.get(), fastOptions());
  std::vector<storage::ProbeRecord> got;
  prober.probe(target("::1", server.port()), [&](const storage::ProbeRecord& r) {
    got.push_back(r);
    server.closeAll();
  });
  loop.run();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].address, "::1");
  EXPECT_EQ(got[0].connect.outcome, "ok");
  EXPECT_TRUE(got[0].connected);
  EXPECT_EQ(server.connections, 1);
}

// A probe that ends early says QUIT (RFC 5321 section 4.1.1.10) before it closes.
TEST(SmtpProbe, SaysQuitWhenItGivesUp) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::NoStartTls);
  Prober prober(loop.get(), fastOptions());
  std::optional<storage::ProbeRecord> got;
  int error = 0;
  auto linger = loop::makeTimer(loop.get(), error);  // the server reads what came before closing
  ASSERT_TRUE(linger);
  linger->data = &server;
  prober.probe(target("127.0.0.1", server.port()), [&](const storage::ProbeRecord& r) {
    got = r;
    uv_timer_start(linger.get(), [](uv_timer_t* t) { static_cast<FakeSmtp*>(t->data)->closeAll(); }, 200, 0);
  });
  loop.run();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->starttls_stage.outcome, "not-offered");
  EXPECT_EQ(server.lines, (std::vector<std::string>{"EHLO prober-test.invalid", "QUIT"}));
}

// Every stage has its own timeout (fastOptions: 300 ms a stage), and says which stage it was.
TEST(SmtpProbe, EachStageTimesOutOnItsOwn) {
  struct Case {
    Behaviour behaviour;
    storage::ProbeStageRecord storage::ProbeRecord::*stage;
    bool connected, starttls;
  };
  for (const Case& c : {Case{Behaviour::NoGreeting, &storage::ProbeRecord::greeting, false, false},
                        Case{Behaviour::StartTlsSilent, &storage::ProbeRecord::starttls_stage, true, true},
                        Case{Behaviour::TlsSilent, &storage::ProbeRecord::handshake, true, true}}) {
    loop::Loop loop;
    FakeSmtp server(loop.get(), "127.0.0.1", c.behaviour);
    const auto r = probeOnce(loop, server);
    EXPECT_EQ((r.*c.stage).outcome, "timeout") << static_cast<int>(c.behaviour);
    EXPECT_GE((r.*c.stage).elapsed_ms, 250u);
    EXPECT_LT(r.elapsed_ms, 2000u);  // the stage timeout, not the 3 s deadline, ended it
    EXPECT_EQ(r.connected, c.connected);
    EXPECT_EQ(r.starttls, c.starttls);
    EXPECT_FALSE(r.tls_ok);
    EXPECT_EQ(r.dane, "fail");
    ASSERT_TRUE(r.error);
    EXPECT_NE(r.error->find("timeout"), std::string::npos) << *r.error;
  }
}

TEST(SmtpProbe, OpportunisticProbeHasNoDaneOutcome) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::NoStartTls);
  const auto r = probeOnce(loop, server, fastOptions(), {"1 1 1 " + std::string(64, 'a')});  // PKIX only
  EXPECT_TRUE(r.connected);
  EXPECT_EQ(r.dane, "n/a");
}

TEST(SmtpProbe, StartTlsRefusedIsOfferedButNotOk) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::StartTlsRefused);
  const auto r = probeOnce(loop, server);
  EXPECT_TRUE(r.connected);
  EXPECT_TRUE(r.starttls);
  EXPECT_FALSE(r.tls_ok);
  EXPECT_EQ(r.starttls_stage.outcome, "rejected");
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("454"), std::string::npos) << *r.error;
}

TEST(SmtpProbe, StallTimesOutInTheEhloStage) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::Stall);
  const uint64_t t0 = uv_hrtime();
  const auto r = probeOnce(loop, server);
  EXPECT_LT((uv_hrtime() - t0) / 1000000, 2000u);
  EXPECT_TRUE(r.connected);
  EXPECT_FALSE(r.starttls);
  EXPECT_EQ(r.ehlo.outcome, "timeout");
  EXPECT_GE(r.ehlo.elapsed_ms, 250u);
  EXPECT_EQ(r.dane, "fail");
  EXPECT_TRUE(r.error);
}

TEST(SmtpProbe, DeadlineEndsADrippingTarpit) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::Drip);
  auto options = fastOptions();
  options.probe.stage_timeout_ms = 10000;  // each drip would reset nothing anyway; the deadline must act
  options.probe.deadline_ms = 400;
  options.probe.max_reply = 1 << 20;
  const uint64_t t0 = uv_hrtime();
  const auto r = probeOnce(loop, server, options);
  const uint64_t ms = (uv_hrtime() - t0) / 1000000;
  EXPECT_GE(ms, 350u);
  EXPECT_LT(ms, 2000u);
  EXPECT_TRUE(r.connected);
  EXPECT_FALSE(r.starttls);
  EXPECT_EQ(r.ehlo.outcome, "timeout");
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("deadline"), std::string::npos) << *r.error;
}

TEST(SmtpProbe, OversizedEhloReplyIsAnError) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::LongEhlo);
  const auto r = probeOnce(loop, server);
  EXPECT_TRUE(r.connected);
  EXPECT_FALSE(r.starttls);
  EXPECT_EQ(r.ehlo.outcome, "too-long");
  EXPECT_TRUE(r.error);
}

TEST(SmtpProbe, GarbageGreetingIsNotAConnection) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::Garbage);
  const auto r = probeOnce(loop, server);
  EXPECT_FALSE(r.connected);
  EXPECT_EQ(r.greeting.outcome, "garbage");
  EXPECT_EQ(r.dane, "fail");
  EXPECT_TRUE(r.error);
}

// A server whose accept queue is full drops new SYNs (Linux, tcp_abort_on_overflow 0): the
// connect neither succeeds nor fails, and the probe's connect timeout ends it.
TEST(SmtpProbe, ConnectTimesOut) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);  // never accepts
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::vector<int> fillers;  // complete handshakes until the accept queue is full
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ASSERT_GE(fd, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  ::usleep(100000);
  loop::Loop loop;
  ProberOptions options = fastOptions();
  options.probe.connect_timeout_ms = 300;
  Prober prober(loop.get(), options);
  std::optional<storage::ProbeRecord> got;
  prober.probe(target("127.0.0.1", ntohs(addr.sin_port)), [&](const storage::ProbeRecord& r) { got = r; });
  loop.run();
  for (int fd : fillers) ::close(fd);
  ::close(listener);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->connect.outcome, "timeout");
  EXPECT_GE(got->connect.elapsed_ms, 250u);
  EXPECT_LT(got->elapsed_ms, 2000u);  // the connect timeout, not the 3 s deadline
  EXPECT_FALSE(got->connected);
  EXPECT_EQ(got->dane, "fail");
}

TEST(SmtpProbe, RefusedConnection) {
  loop::Loop loop;
  uint16_t port = 0;
  {
    FakeSmtp gone(loop.get(), "127.0.0.1", Behaviour::NoStartTls);  // a port that was just free
    port = gone.port();
  }
  loop.run();
  Prober prober(loop.get(), fastOptions());
  std::optional<storage::ProbeRecord> got;
  prober.probe(target("127.0.0.1", port), [&](const storage::ProbeRecord& r) { got = r; });
  loop.run();
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->connected);
  EXPECT_EQ(got->connect.outcome, "refused");
  EXPECT_EQ(got->dane, "fail");
  EXPECT_TRUE(got->error);
}

TEST(Prober, RateLimitedEveryTimeIsRetriedOnce) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::RateLimit);
  const uint64_t t0 = uv_hrtime();
  const auto r = probeOnce(loop, server);
  EXPECT_GE((uv_hrtime() - t0) / 1000000, 45u);  // the retry waited retry_delay_ms
  EXPECT_EQ(server.connections, 2);
  EXPECT_FALSE(r.connected);
  EXPECT_TRUE(r.rate_limited);
  EXPECT_EQ(r.attempts, 2u);
  EXPECT_EQ(r.greeting.outcome, "rejected");
  EXPECT_EQ(r.dane, "fail");
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("421"), std::string::npos);
}

TEST(Prober, RateLimitedOnceThenServed) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::RateLimitOnce);
  const auto r = probeOnce(loop, server);
  EXPECT_EQ(server.connections, 2);
  EXPECT_TRUE(r.connected);
  EXPECT_TRUE(r.rate_limited);  // a 421 was seen: smtp-rate-limited still applies
  EXPECT_EQ(r.attempts, 2u);
  EXPECT_EQ(r.ehlo.outcome, "ok");
}

TEST(Prober, IdenticalRequestsAreProbedOnceAndNeverCalledBackInline) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::NoStartTls);
  Prober prober(loop.get(), fastOptions());
  std::vector<storage::ProbeRecord> got;
  bool inside = false;
  auto cb = [&](const storage::ProbeRecord& r) {
    EXPECT_FALSE(inside);
    got.push_back(r);
  };
  inside = true;
  prober.probe(target("127.0.0.1", server.port()), cb);
  auto reordered = target("127.0.0.1", server.port(), {kTlsa[0]});
  reordered.reference_names = {"something.else"};  // DANE-EE only: same probe
  prober.probe(reordered, cb);
  inside = false;
  // A different TLSA base domain (another SNI) is another probe.
  prober.probe(target("127.0.0.1", server.port(), kTlsa, "mx2.example.test"), cb);
  prober.setOnFinished([&] { server.closeAll(); });
  prober.stop();
  loop.run();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(server.connections, 2);
  EXPECT_EQ(prober.counters().cache_hits, 1u);
  // Done: the cached record, again from the loop (also after stop(): no new probe is needed).
  inside = true;
  prober.probe(target("127.0.0.1", server.port()), [&](const storage::ProbeRecord& r) {
    EXPECT_FALSE(inside);
    got.push_back(r);
  });
  inside = false;
  loop.run();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(server.connections, 2);
  EXPECT_EQ(got[3], got[0]);
  EXPECT_EQ(prober.counters().cache_hits, 2u);
}

TEST(Prober, BoundsConcurrencyAndConnectionsPerAddress) {
  loop::Loop loop;
  std::vector<std::unique_ptr<FakeSmtp>> servers;
  for (const char* ip : {"127.0.0.1", "127.0.0.2", "127.0.0.3"}) {
    servers.push_back(std::make_unique<FakeSmtp>(loop.get(), ip, Behaviour::SlowGreeting));
  }
  auto options = fastOptions();
  options.tls_concurrency = 4;
  options.per_address = 2;
  Prober prober(loop.get(), options);
  int done = 0;
  // Six distinct probes (distinct base domains) to the first address, then one to each other:
  // those two must not wait behind the first address's queue.
  std::vector<int> order;
  for (int i = 0; i < 6; ++i) {
    prober.probe(target("127.0.0.1", servers[0]->port(), kTlsa, "mx" + std::to_string(i) + ".example.test"),
                 [&, i](const storage::ProbeRecord& r) { EXPECT_TRUE(r.connected); order.push_back(i); ++done; });
  }
  prober.probe(target("127.0.0.2", servers[1]->port()), [&](const storage::ProbeRecord& r) { EXPECT_TRUE(r.connected); order.push_back(10); ++done; });
  prober.probe(target("127.0.0.3", servers[2]->port()), [&](const storage::ProbeRecord& r) { EXPECT_TRUE(r.connected); order.push_back(11); ++done; });
  EXPECT_EQ(prober.counters().in_flight, 4u);
  prober.stop();
  prober.setOnFinished([&] { for (auto& s : servers) s->closeAll(); });
  loop.run();
  EXPECT_EQ(done, 8);
  EXPECT_EQ(servers[0]->connections, 6);
  EXPECT_EQ(servers[0]->max_greeting_pending, 2);
  EXPECT_EQ(servers[1]->max_greeting_pending + servers[2]->max_greeting_pending, 2);
  EXPECT_EQ(servers[1]->connections, 1);
  EXPECT_EQ(prober.counters().max_in_flight, 4u);
  EXPECT_EQ(prober.counters().max_per_address, 2u);
  // The other addresses finished in the first wave, before the first address's last probes.
  const auto pos = [&](int id) { return std::find(order.begin(), order.end(), id) - order.begin(); };
  EXPECT_LT(pos(10), pos(5));
  EXPECT_LT(pos(11), pos(5));
}

TEST(Prober, StopReportsAPendingRetryWithItsFirstRecord) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::RateLimit);
  auto options = fastOptions();
  options.retry_delay_ms = 60000;
  Prober prober(loop.get(), options);
  std::optional<storage::ProbeRecord> got;
  bool finished = false;
  prober.probe(target("127.0.0.1", server.port()), [&](const storage::ProbeRecord& r) { got = r; });
  prober.setOnFinished([&] { finished = true; server.closeAll(); });
  // Stop once the first attempt is back and the retry waits.
  loop::TimerPtr timer;
  int error = 0;
  timer = loop::makeTimer(loop.get(), error);
  timer->data = &prober;
  uv_timer_start(timer.get(), [](uv_timer_t* t) { static_cast<Prober*>(t->data)->stop(); }, 300, 0);
  const uint64_t t0 = uv_hrtime();
  loop.run();
  EXPECT_LT((uv_hrtime() - t0) / 1000000, 5000u);
  ASSERT_TRUE(got);
  EXPECT_TRUE(finished);
  EXPECT_EQ(server.connections, 1);
  EXPECT_TRUE(got->rate_limited);
  EXPECT_EQ(got->attempts, 1u);
  EXPECT_FALSE(got->connected);
}

TEST(Prober, AbandonCancelsWithoutCallbacks) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::Stall);
  auto options = fastOptions();
  options.probe.stage_timeout_ms = 60000;
  options.probe.deadline_ms = 60000;
  int called = 0;
  {
    Prober prober(loop.get(), options);
    bool finished = false;
    prober.setOnFinished([&] { finished = true; });
    for (int i = 0; i < 3; ++i) {
      prober.probe(target("127.0.0.1", server.port(), kTlsa, "mx" + std::to_string(i) + ".example.test"),
                   [&](const storage::ProbeRecord&) { ++called; });
    }
    // Let the connections open and greet, then abandon from the loop.
    loop::TimerPtr timer;
    int error = 0;
    timer = loop::makeTimer(loop.get(), error);
    struct Ctx { Prober* prober; FakeSmtp* server; } ctx{&prober, &server};
    timer->data = &ctx;
    uv_timer_start(timer.get(), [](uv_timer_t* t) {
      auto* c = static_cast<Ctx*>(t->data);
      c->prober->abandon();
      c->server->closeAll();
    }, 200, 0);
    const uint64_t t0 = uv_hrtime();
    loop.run();
    EXPECT_LT((uv_hrtime() - t0) / 1000000, 5000u);
    EXPECT_TRUE(finished);
    EXPECT_TRUE(prober.finished());
  }
  EXPECT_EQ(called, 0);
  EXPECT_EQ(server.connections, 2);  // per_address 2: the third never started
}

TEST(Prober, DestroyedWithProbesInFlight) {
  loop::Loop loop;
  FakeSmtp server(loop.get(), "127.0.0.1", Behaviour::Stall);
  int called = 0;
  {
    Prober prober(loop.get(), fastOptions());
    prober.probe(target("127.0.0.1", server.port()), [&](const storage::ProbeRecord&) { ++called; });
    uv_run(loop.get(), UV_RUN_NOWAIT);
  }
  server.closeAll();
  loop.run();  // the cancelled probe's handles close; nothing calls back
  EXPECT_EQ(called, 0);
}

}  // namespace
}  // namespace danescan::scanner::tls
