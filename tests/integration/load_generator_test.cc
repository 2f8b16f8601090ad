// LoadGenerator (the engine of `danescan bench`) against an in-process fake resolver on
// 127.0.0.1 (a uv_udp_t on port 0 in the generator's own loop) that drops a known share of the
// queries, answers some with SERVFAIL + EDE or TC=1, or answers late: the report shows that loss
// within tolerance, and sending never slows down (open loop), whatever the resolver does.
#include "scanner/loadgen/load_generator.h"

#include "scanner/loadgen/bench_report.h"
#include "scanner/loadgen/question_source.h"
#include "scanner/loadgen/schedule.h"
#include "scanner/loop/loop.h"

#include <ldns/ldns.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace danescan::scanner::loadgen {
namespace {

using Bytes = std::vector<uint8_t>;

struct PktFree {
  void operator()(ldns_pkt* p) const noexcept { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

enum class Action { Answer, Drop, Servfail, Truncate };

// The answer to a query, built by ldns: same ID and question, QR set.
Bytes reply(const uint8_t* data, size_t size, Action action) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, data, size) != LDNS_STATUS_OK) return {};
  PktPtr pkt(raw);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_ra(pkt.get(), true);
  if (action == Action::Servfail) {
    ldns_pkt_set_rcode(pkt.get(), LDNS_RCODE_SERVFAIL);
    // RFC 8914: EDE 6 (DNSSEC Bogus), no text.
    ldns_edns_option_list* options = ldns_edns_option_list_new();
    uint8_t* code = static_cast<uint8_t*>(std::malloc(2));
    code[0] = 0;
    code[1] = 6;
    ldns_edns_option_list_push(options, ldns_edns_new(LDNS_EDNS_EDE, 2, code));
    ldns_pkt_set_edns_option_list(pkt.get(), options);
  }
  if (action == Action::Truncate) ldns_pkt_set_tc(pkt.get(), true);
  uint8_t* wire = nullptr;
  size_t length = 0;
  if (ldns_pkt2wire(&wire, pkt.get(), &length) != LDNS_STATUS_OK) return {};
  Bytes out(wire, wire + length);
  std::free(wire);
  return out;
}

// The question name of a query ("" when ldns cannot read it), lower case without the final dot.
std::string queryName(const uint8_t* data, size_t size) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, data, size) != LDNS_STATUS_OK) return {};
  PktPtr pkt(raw);
  ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0);
  if (q == nullptr) return {};
  char* text = ldns_rdf2str(ldns_rr_owner(q));
  std::string name = text ? text : "";
  std::free(text);
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

// Decides each query's fate by its arrival index; answers `delay_ms` late when asked to.
class FakeResolver {
 public:
  using Script = std::function<Action(uint64_t index)>;

  // With `burst`, held answers all leave together once the oldest is due (a resolver that
  // stalled, then catches up).
  FakeResolver(uv_loop_t* loop, Script script, uint64_t delay_ms = 0, bool burst = false)
      : script_(std::move(script)), delay_ms_(delay_ms), burst_(burst) {
    int rc = 0;
    udp_ = loop::makeUdp(loop, AF_INET, rc);
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    EXPECT_EQ(uv_udp_bind(udp_.get(), reinterpret_cast<const sockaddr*>(&addr), 0), 0);
    int size = 8 << 20;
    (void)uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(udp_.get()), &size);
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_udp_getsockname(udp_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    udp_->data = this;
    uv_udp_recv_start(udp_.get(), onAlloc, onRecv);
    timer_ = loop::makeTimer(loop, rc);
    timer_->data = this;
    if (delay_ms_ > 0) uv_timer_start(timer_.get(), onTimer, 1, 1);
    loop_ = loop;
  }
  void close() {
    udp_.reset();
    timer_.reset();
  }

  [[nodiscard]] dns::ResolverAddress address() const { return dns::ResolverAddress{"127.0.0.1", port_, false}; }
  std::string never_answer;  // a question name the fake never answers (a name behind a dead server)
  uint64_t received = 0;
  std::vector<uint64_t> arrival_ms;  // uv_hrtime of each query, in ms

 private:
  struct Held {
    uint64_t due_ms;
    sockaddr_storage to;
    Bytes bytes;
  };
  static void onAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* self = static_cast<FakeResolver*>(h->data);
    *buf = uv_buf_init(self->buffer_, sizeof self->buffer_);
  }
  static void onRecv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned) {
    auto* self = static_cast<FakeResolver*>(h->data);
    if (self == nullptr || n <= 0 || from == nullptr) return;
    const uint64_t index = self->received++;
    self->arrival_ms.push_back(uv_hrtime() / 1000000);
    const Action action = self->script_(index);
    if (action == Action::Drop) return;
    if (!self->never_answer.empty() && queryName(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(n)) == self->never_answer) return;
    Bytes out = reply(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(n), action);
    sockaddr_storage to{};
    std::memcpy(&to, from, sizeof(sockaddr_in));
    if (self->delay_ms_ > 0) {
      self->held_.push_back(Held{uv_hrtime() / 1000000 + self->delay_ms_, to, std::move(out)});
      return;
    }
    self->send(to, out);
  }
  static void onTimer(uv_timer_t* t) {
    auto* self = static_cast<FakeResolver*>(t->data);
    const uint64_t now = uv_hrtime() / 1000000;
    const bool all = self->burst_ && !self->held_.empty() && self->held_.front().due_ms <= now;
    while (!self->held_.empty() && (all || self->held_.front().due_ms <= now)) {
      self->send(self->held_.front().to, self->held_.front().bytes);
      self->held_.pop_front();
    }
  }
  void send(const sockaddr_storage& to, const Bytes& bytes) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), static_cast<unsigned>(bytes.size()));
    (void)uv_udp_try_send(udp_.get(), &b, 1, reinterpret_cast<const sockaddr*>(&to));
  }

  Script script_;
  uint64_t delay_ms_;
  bool burst_;
  uv_loop_t* loop_ = nullptr;
  loop::UdpPtr udp_;
  loop::TimerPtr timer_;
  uint16_t port_ = 0;
  std::deque<Held> held_;
  char buffer_[65536];
};

struct Outcome {
  std::vector<PhaseResult> results;
  uint64_t fake_received = 0;
  std::vector<uint64_t> arrival_ms;
};

// One fixed-rate phase of `seconds` at `rate` against a fake resolver running `script`.
Outcome runFixed(double rate, double seconds, FakeResolver::Script script, unsigned timeout_ms = 300, uint64_t delay_ms = 0,
                 bool burst = false) {
  loop::Loop loop;
  auto fake = std::make_unique<FakeResolver>(loop.get(), std::move(script), delay_ms, burst);
  QuestionFile questions({{"a.example", 15}, {"mx.a.example", 1}, {"mx.a.example", 28}, {"_25._tcp.mx.a.example", 52}, {"mx.a.example", 5}});
  GeneratorOptions options;
  options.resolver = fake->address();
  options.timeout_ms = timeout_ms;
  options.sockets = 2;
  bool planned = false;
  LoadGenerator generator(loop.get(), options, questions, [&](std::span<const PhaseResult>) -> std::optional<PhasePlan> {
    if (planned) return std::nullopt;
    planned = true;
    PhasePlan p;
    p.label = "fixed";
    p.rate_qps = rate;
    p.seconds = seconds;
    return p;
  });
  // The fake server's handles close once the generator is done (its last handle closed).
  loop::TimerPtr watcher;
  int rc = 0;
  watcher = loop::makeTimer(loop.get(), rc);
  struct Ctx {
    LoadGenerator* g;
    FakeResolver* f;
  } ctx{&generator, fake.get()};
  watcher->data = &ctx;
  std::string error;
  EXPECT_TRUE(generator.start(error)) << error;
  uv_timer_start(
      watcher.get(),
      [](uv_timer_t* t) {
        auto* c = static_cast<Ctx*>(t->data);
        if (c->g->results().empty() || c->g->outstanding() > 0 || !c->g->results().back().final() || c->g->results().back().end_ns == 0) return;
        c->f->close();
        uv_timer_stop(t);
      },
      5, 5);
  loop.run();
  Outcome run{generator.results(), fake->received, fake->arrival_ms};
  watcher.reset();
  fake.reset();
  return run;
}

TEST(LoadGenerator, ReportsAKnownShareOfLossesAndNeverSlowsDown) {
  // Every fifth query is dropped: 20 % loss.
  const Outcome run = runFixed(2000, 1.0, [](uint64_t i) { return i % 5 == 0 ? Action::Drop : Action::Answer; });
  ASSERT_EQ(run.results.size(), 1u);
  const PhaseResult& r = run.results[0];
  EXPECT_EQ(r.sent, 2000u);
  EXPECT_EQ(run.fake_received, 2000u);
  EXPECT_NEAR(static_cast<double>(r.lost) / static_cast<double>(r.sent), 0.20, 0.005);
  EXPECT_EQ(r.answered + r.lost, r.sent);
  EXPECT_EQ(r.send_errors, 0u);
  EXPECT_NEAR(r.seconds(), 1.0, 1e-6);
  EXPECT_EQ(r.latency_ns.count(), r.answered);
  // Open loop: the queries arrived spread over the second, the dropped ones notwithstanding:
  // neither sent in a burst nor slowed down (half of them in each half second, +- 15 %; the
  // bounds leave room for a late tick on a busy machine, which moves a few ms of queries).
  ASSERT_FALSE(run.arrival_ms.empty());
  const uint64_t first = run.arrival_ms.front();
  const uint64_t span = run.arrival_ms.back() - first;
  EXPECT_GE(span, 850u);
  EXPECT_LE(span, 1300u);
  const auto first_half = std::count_if(run.arrival_ms.begin(), run.arrival_ms.end(),
                                        [first](uint64_t ms) { return ms - first < 500; });
  EXPECT_NEAR(static_cast<double>(first_half), 1000.0, 150.0);
}

TEST(LoadGenerator, ASilentResolverLosesEverythingOnSchedule) {
  const Outcome run = runFixed(1000, 0.5, [](uint64_t) { return Action::Drop; }, 100);
  const PhaseResult& r = run.results.at(0);
  EXPECT_EQ(r.sent, 500u);
  EXPECT_EQ(r.lost, 500u);
  EXPECT_EQ(r.answered, 0u);
  EXPECT_EQ(run.fake_received, 500u);
}

TEST(LoadGenerator, SlowAnswersShowAsLatencyNotAsFewerQueries) {
  // Every answer 40 ms late: the sending rate is unchanged, the latency is 40 ms.
  const Outcome run = runFixed(2000, 0.5, [](uint64_t) { return Action::Answer; }, 1000, 40);
  const PhaseResult& r = run.results.at(0);
  EXPECT_EQ(r.sent, 1000u);
  EXPECT_EQ(r.answered, 1000u);
  const double p50_ms = static_cast<double>(r.latency_ns.percentile(50)) / 1e6;
  EXPECT_GE(p50_ms, 39.0);
  EXPECT_LE(p50_ms, 50.0);
}

TEST(LoadGenerator, CountsRcodesEdeAndTruncationPerType) {
  // Queries cycle MX, A, AAAA, TLSA, CNAME; every TLSA (index 3 mod 5) gets SERVFAIL + EDE 6,
  // every CNAME (4 mod 5) TC=1.
  const Outcome run = runFixed(1000, 0.5, [](uint64_t i) { return i % 5 == 3 ? Action::Servfail : i % 5 == 4 ? Action::Truncate : Action::Answer; });
  const PhaseResult& r = run.results.at(0);
  ASSERT_EQ(r.answered, 500u);
  EXPECT_EQ(r.truncated, 100u);
  const TypeCounts& tlsa = r.by_type.at(52);
  EXPECT_EQ(tlsa.rcodes.at("SERVFAIL"), 100u);
  EXPECT_EQ(tlsa.ede.at(6), 100u);
  EXPECT_EQ(r.by_type.at(15).rcodes.at("NOERROR"), 100u);
  EXPECT_EQ(r.by_type.at(15).sent, 100u);
}

TEST(LoadGenerator, PassesOfADomainListAskTheMixOnceEach) {
  // The fake answers NOERROR with no records: each domain is its own mail host (implicit MX), so
  // a pass asks 3 MX, then CNAME, A, AAAA and TLSA per domain: 15 questions, and the second pass
  // exactly the same 15 after the first pass's answers are in.
  loop::Loop loop;
  auto fake = std::make_unique<FakeResolver>(loop.get(), [](uint64_t) { return Action::Answer; });
  DaneMix mix({"a.example", "b.example", "c.example"});
  GeneratorOptions options;
  options.resolver = fake->address();
  options.timeout_ms = 500;
  LoadGenerator generator(loop.get(), options, mix, [&](std::span<const PhaseResult> done) -> std::optional<PhasePlan> {
    if (done.size() >= 2) return std::nullopt;
    PhasePlan p;
    p.label = "pass";
    p.rate_qps = 1000;
    p.pass = true;
    p.pass_index = static_cast<unsigned>(done.size());
    p.drain_first = !done.empty();
    return p;
  });
  std::string error;
  ASSERT_TRUE(generator.start(error)) << error;
  // The fake closes once the second pass's answers are all in.
  int rc = 0;
  loop::TimerPtr watcher = loop::makeTimer(loop.get(), rc);
  struct Ctx {
    LoadGenerator* g;
    FakeResolver* f;
  } ctx{&generator, fake.get()};
  watcher->data = &ctx;
  uv_timer_start(
      watcher.get(),
      [](uv_timer_t* t) {
        auto* c = static_cast<Ctx*>(t->data);
        const auto& r = c->g->results();
        if (r.size() < 2 || r.back().end_ns == 0 || c->g->outstanding() > 0) return;
        c->f->close();
        uv_timer_stop(t);
      },
      5, 5);
  loop.run();
  const auto& results = generator.results();
  ASSERT_EQ(results.size(), 2u);
  for (const PhaseResult& r : results) {
    EXPECT_EQ(r.sent, 15u);
    EXPECT_EQ(r.answered, 15u);
    EXPECT_EQ(r.by_type.at(15).sent, 3u);
    EXPECT_EQ(r.by_type.at(52).sent, 3u);
  }
  EXPECT_EQ(fake->received, 30u);
  EXPECT_EQ(mix.script().size(), 15u);
}

// A resolver that answers at most 3,000 queries/s, the rest dropped: a token bucket of 3 per ms
// that holds at most 100 (33 ms). The depth lets it take the burst a loop that stalled (a busy
// CI machine) sends to catch up, up to 50 ms at 2,000 q/s, as a real resolver's buffers do;
// with 30 per 10 ms window instead, a 15 ms stall lost queries of a step far below the cap.
FakeResolver::Script capAt3000() {
  struct Bucket {
    uint64_t last_ns = 0;
    double tokens = 100;
  };
  auto bucket = std::make_shared<Bucket>();
  return [bucket](uint64_t) {
    const uint64_t now = uv_hrtime();
    if (bucket->last_ns != 0) bucket->tokens = std::min(100.0, bucket->tokens + 3.0 * static_cast<double>(now - bucket->last_ns) / 1e6);
    bucket->last_ns = now;
    if (bucket->tokens < 1) return Action::Drop;
    bucket->tokens -= 1;
    return Action::Answer;
  };
}

struct RampRun {
  BenchReport report;
  std::string stop;
};

// A ramp of 1,000 q/s more per 0.5 s step from 1,000, planned as `danescan bench --ramp` plans it
// (stepViews, rampStopReason), from `source` against `fake`.
RampRun runRamp(loop::Loop& loop, FakeResolver& fake, QuestionSource& source) {
  RampRun run;
  run.report.mode = BenchMode::Ramp;
  run.report.ramp.start_qps = 1000;
  run.report.ramp.step_qps = 1000;
  run.report.ramp.step_seconds = 0.5;
  run.report.ramp.max_qps = 20000;
  GeneratorOptions options;
  options.resolver = fake.address();
  options.timeout_ms = 200;
  LoadGenerator generator(loop.get(), options, source, [&](std::span<const PhaseResult> done) -> std::optional<PhasePlan> {
    run.stop = rampStopReason(run.report.ramp, stepViews(done));
    if (!run.stop.empty()) return std::nullopt;
    PhasePlan p;
    p.label = "step";
    p.rate_qps = rampRate(run.report.ramp, done.size());
    p.seconds = run.report.ramp.step_seconds;
    return p;
  });
  std::string error;
  EXPECT_TRUE(generator.start(error)) << error;
  int rc = 0;
  loop::TimerPtr watcher = loop::makeTimer(loop.get(), rc);
  struct Ctx {
    LoadGenerator* g;
    FakeResolver* f;
    std::string* stop;
  } ctx{&generator, &fake, &run.stop};
  watcher->data = &ctx;
  uv_timer_start(
      watcher.get(),
      [](uv_timer_t* t) {
        auto* c = static_cast<Ctx*>(t->data);
        if (c->stop->empty() || c->g->outstanding() > 0) return;
        c->f->close();
        uv_timer_stop(t);
      },
      5, 5);
  loop.run();
  run.report.phases = generator.results();
  return run;
}

TEST(LoadGenerator, RampFindsTheRateAResolverSustains) {
  // A resolver that answers at most 3,000 queries/s, ramped by 1,000 q/s per 0.5 s step from
  // 1,000: the steps below 3,000 are sustained, those above fall behind and lose, and the ramp
  // stops there.
  loop::Loop loop;
  auto fake = std::make_unique<FakeResolver>(loop.get(), capAt3000());
  QuestionFile questions({{"a.example", 15}});
  const RampRun run = runRamp(loop, *fake, questions);
  // Either rule may stop it first: the step at the cap itself loses a few queries to the
  // windows' edges.
  EXPECT_TRUE(run.stop.find("fell below 95 %") != std::string::npos || run.stop.find("lost") != std::string::npos) << run.stop;
  const RampOutcome outcome = rampOutcome(run.report);
  EXPECT_GE(outcome.max_sustained_qps, 1900);
  EXPECT_LE(outcome.max_sustained_qps, 3100);
  EXPECT_LE(run.report.phases.size(), 6u);
  EXPECT_GE(run.report.phases.size(), 4u);
  EXPECT_NEAR(outcome.max_received_qps, 3000, 300);
}

TEST(LoadGenerator, ARampOnADomainListCyclesItForTheWholeRamp) {
  // Three domains are 15 questions (implicit MX: the fake answers NOERROR without records), a
  // first 0.5 s step alone asks 500: the list repeats for every step, and the ramp ends at the
  // resolver's limit, never on the list running dry or the client falling behind.
  loop::Loop loop;
  auto fake = std::make_unique<FakeResolver>(loop.get(), capAt3000());
  DaneMix mix({"a.example", "b.example", "c.example"});
  const RampRun run = runRamp(loop, *fake, mix);
  EXPECT_TRUE(run.stop.find("fell below 95 %") != std::string::npos || run.stop.find("lost") != std::string::npos) << run.stop;
  ASSERT_GE(run.report.phases.size(), 4u);
  for (const PhaseResult& p : run.report.phases) {
    EXPECT_EQ(p.dry_ticks, 0u) << p.plan.label;
    EXPECT_GE(static_cast<double>(p.sent), 0.97 * p.plan.rate_qps * 0.5) << "a step offered less than planned";
  }
  EXPECT_EQ(mix.script().size(), 15u);  // the mix stayed the list's
  EXPECT_GE(rampOutcome(run.report).max_sustained_qps, 1900);
}

TEST(LoadGenerator, ANameThatIsNeverAnsweredDoesNotEndARamp) {
  // One question of 20 (5 % of the queries) is never answered: more than --max-loss (1 %) and
  // more than the response rule's 5 % slack. It is counted as lost, and as never answered, but
  // the ramp goes on to the resolver's limit instead of stopping in step 1 with 0 q/s.
  loop::Loop loop;
  auto fake = std::make_unique<FakeResolver>(loop.get(), capAt3000());
  fake->never_answer = "dead.example";
  std::vector<dns::Question> questions;
  for (int i = 0; i < 19; ++i) questions.push_back({"q" + std::to_string(i) + ".example", 1});
  questions.push_back({"dead.example", 15});
  QuestionFile file(std::move(questions));
  const RampRun run = runRamp(loop, *fake, file);
  ASSERT_GE(run.report.phases.size(), 3u) << run.stop;
  const PhaseResult& first = run.report.phases.front();
  EXPECT_GE(first.lost, first.sent / 20 - 2);
  EXPECT_EQ(first.lost_unanswered, first.lost);
  const RampOutcome outcome = rampOutcome(run.report);
  std::string steps;
  for (const PhaseResult& p : run.report.phases) {
    steps += " [sent " + std::to_string(p.sent) + " answered " + std::to_string(p.answered) + " lost " + std::to_string(p.lost) + " unanswered " +
             std::to_string(p.lost_unanswered) + " received " + std::to_string(p.received) + " in " + std::to_string(p.seconds()) + " s]";
  }
  EXPECT_GE(outcome.max_sustained_qps, 1700) << run.stop << steps;  // 0.95 x 1,900 of 2,000 answerable
  EXPECT_EQ(run.stop.find("step 1 "), std::string::npos) << run.stop;
}

TEST(LoadGenerator, ReadsABurstOfAnswersAtOnce) {
  // The first 100 ms of answers (400) held back, then sent together, and so on: far more than
  // libuv reads from a socket per loop iteration (32). The full batches are counted, the rest
  // is drained at once, nothing is lost, and the latencies are those the fake imposed (0 to
  // 100 ms, so a median near 50 ms).
  const Outcome run = runFixed(4000, 0.3, [](uint64_t) { return Action::Answer; }, 2000, 100, true);
  const PhaseResult& r = run.results.at(0);
  EXPECT_EQ(r.sent, 1200u);
  EXPECT_EQ(r.answered, 1200u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_GE(r.full_read_batches, 1u);
  const double p50_ms = static_cast<double>(r.latency_ns.percentile(50)) / 1e6;
  EXPECT_GE(p50_ms, 30.0);
  EXPECT_LE(p50_ms, 110.0);
}

}  // namespace
}  // namespace danescan::scanner::loadgen
