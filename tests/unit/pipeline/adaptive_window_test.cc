// `--concurrency auto` (adaptive_window.h) driven by a simulated resolver and a fake clock: a
// resolver that answers at most C queries per second, with a round trip of `rtt_ms`, fails what
// exceeds a buffer, and every query's outcome reaches the window `rtt_ms` after it was sent
// (or, for a timeout, `feedback_ms` later). A resolver at its limit queues (latency grows), as
// unbound does until its buffers overflow (`drop_above`).
#include "scanner/pipeline/adaptive_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <queue>
#include <vector>

namespace danescan::scanner::pipeline {
namespace {

struct Simulation {
  double capacity_qps = 1e9;  // answers per second the resolver can give
  uint64_t rtt_ms = 40;
  unsigned drop_above = 1u << 30;  // queries in flight beyond which the resolver drops (time out)
  double servfail_share = 0;       // of every answer: the list's broken domains
  bool qps_limited = false;        // the scanner's --qps, not the window, holds queries back
  bool window_binding = true;      // queries wait for a free slot
  // Past `knee` queries in flight the resolver still gains a little: its capacity grows as
  // (in flight / knee) ^ past_knee_exponent (0: not at all), while every query waits longer.
  unsigned knee = 0;
  double past_knee_exponent = 0;
  // A dropped query is not lost for good: the client sends it again after `retry_ms` and that
  // attempt is answered (unbound's wait-limit drops what exceeds it, silently, and serves the
  // retry once there is room). The window is told of the retry when `report_retries`.
  bool retry_dropped = false;
  uint64_t retry_ms = 2000;
  bool report_retries = true;
  // Round trips spread over rtt_ms ... rtt_ms + rtt_spread_ms (0: every query the same, so the
  // window moves in lockstep), as the internet's are.
  uint64_t rtt_spread_ms = 0;

  unsigned max_window = 0;
  unsigned last_window = 0;
  uint64_t answers = 0;
  uint64_t ms_above_drop = 0;       // time the window spent above drop_above
  uint64_t longest_above_drop = 0;  // its longest stretch
  uint64_t retried_after = 0;       // answers that took a retry, sent at or after `count_from_ms`
  uint64_t answers_after = 0;       // answers at or after `count_from_ms`
  uint64_t count_from_ms = 0;

  // Runs `seconds` of a scan in 1 ms ticks; returns the answers per second in its last second.
  double run(AdaptiveWindow& w, uint64_t& now_ms, double seconds, uint64_t feedback_ms) {
    struct InFlight {
      uint64_t due_ms;
      bool failed;   // a timeout or a SERVFAIL
      bool answered; // a SERVFAIL is an answer too
      bool retried = false;
      uint64_t sent_ms = 0;
      uint64_t seq = 0;  // send order: outcomes due in the same ms come in it
    };
    // Outcomes in due order (a timeout is due later than the answers sent after it): a heap,
    // not a list sorted every tick, which made one test take two minutes under ASan.
    const auto later = [](const InFlight& a, const InFlight& b) { return a.due_ms != b.due_ms ? a.due_ms > b.due_ms : a.seq > b.seq; };
    std::priority_queue<InFlight, std::vector<InFlight>, decltype(later)> flight(later);
    uint64_t seq = 0;
    double service_free_ms = 0;  // when the resolver can start on the next query
    uint64_t servfail_counter = 0;
    uint64_t spread_counter = 0;
    const uint64_t end = now_ms + static_cast<uint64_t>(seconds * 1000);
    uint64_t last_second_answers = 0;
    uint64_t stretch = 0;
    unsigned held = 0;  // queries the resolver works on (served, not yet answered)
    for (; now_ms < end; ++now_ms) {
      while (flight.size() < w.size()) {
        // The resolver drops what finds its buffers full: the queries it holds, not those the
        // client still waits for after a drop.
        const bool served = held < drop_above && capacity_qps > 0;
        if (served) ++held;
        uint64_t due = now_ms + feedback_ms;
        bool failed = !served;
        if (served) {
          const double start = std::max(static_cast<double>(now_ms), service_free_ms);
          double capacity = capacity_qps;
          if (knee > 0 && flight.size() > knee) capacity *= std::pow(static_cast<double>(flight.size()) / knee, past_knee_exponent);
          service_free_ms = start + 1000.0 / capacity;
          due = static_cast<uint64_t>(start) + rtt_ms + (rtt_spread_ms ? ++spread_counter * 7919 % (rtt_spread_ms + 1) : 0);
          if (servfail_share > 0) failed = (++servfail_counter % static_cast<uint64_t>(1 / servfail_share)) == 0;
        }
        if (!served && retry_dropped) {
          flight.push({now_ms + retry_ms + rtt_ms, false, false, true, now_ms, ++seq});
          continue;
        }
        flight.push({due, failed, served, false, now_ms, ++seq});
      }
      if (window_binding) w.noteWindowFull();
      if (qps_limited) w.noteQpsLimited();
      while (!flight.empty() && flight.top().due_ms <= now_ms) {
        const InFlight f = flight.top();
        if (f.answered) --held;
        if (f.answered || f.retried) {
          ++answers;
          if (now_ms + 1000 >= end) ++last_second_answers;
          if (now_ms >= count_from_ms) ++answers_after;
        }
        if (f.retried) {
          if (f.sent_ms >= count_from_ms) ++retried_after;
          if (report_retries) w.noteRetried(f.sent_ms);
        }
        w.record(f.failed, now_ms, static_cast<unsigned>(flight.size()));
        flight.pop();
      }
      max_window = std::max(max_window, w.size());
      if (w.size() > drop_above) {
        ++ms_above_drop;
        longest_above_drop = std::max(longest_above_drop, ++stretch);
      } else {
        stretch = 0;
      }
    }
    last_window = w.size();
    return static_cast<double>(last_second_answers);
  }
};

WindowOptions options(unsigned initial = 256, unsigned ceiling = 20000) {
  WindowOptions o;
  o.initial = initial;
  o.ceiling = ceiling;
  o.feedback_ms = 2000;
  return o;
}

TEST(AdaptiveWindow, GrowsUntilTheResolversLimitAtInternetLatency) {
  // 40 ms round trips, a resolver good for 50,000 answers/s: a fixed 256 gets 6,400/s. The
  // window grows to the resolver's limit (about 2,000 in flight) and the rate follows, with the
  // list's 5 % SERVFAILs taken for what they are, not for overload.
  AdaptiveWindow w(options());
  Simulation sim;
  sim.capacity_qps = 50000;
  sim.servfail_share = 0.05;
  uint64_t now = 0;
  const double rate = sim.run(w, now, 20, 2000);
  EXPECT_GE(rate, 0.9 * 50000 * 0.95) << "window " << sim.last_window;
  EXPECT_GE(sim.last_window, 1800u);
  EXPECT_LE(sim.last_window, 4000u) << "it settles near the knee, not at the ceiling";
  EXPECT_EQ(w.decreases(), 0u);
}

TEST(AdaptiveWindow, GrowsAtRoundTripsLongerThanAnEpoch) {
  // A cold recursion through internet latency: 250 ms per query (several upstream round trips),
  // a resolver good for 6,500 answers/s (the bench world's cold unbound): the knee is near 1,600
  // in flight, and an epoch (one window's worth of outcomes) is shorter than the round trip, so
  // the epoch right after an increase still sees the old window's answers.
  AdaptiveWindow w(options());
  Simulation sim;
  sim.capacity_qps = 6500;
  sim.rtt_ms = 250;
  uint64_t now = 0;
  const double rate = sim.run(w, now, 25, 2000);
  EXPECT_GE(rate, 0.9 * 6500) << "window " << sim.last_window;
  EXPECT_EQ(w.decreases(), 0u);
}

TEST(AdaptiveWindow, StopsWhereTheResolverQueuesThoughItsRateStillCreepsUp) {
  // Past its knee (2,000 in flight: 50,000 answers/s at 40 ms) the resolver answers a little
  // more for every larger window, 12 % for 25 % (a cold cache warming up does that too), while
  // each query waits longer. The rate alone would take every increase for one that paid, up to
  // the ceiling; the time in flight (Little's law, here 40 ms x sqrt(window / 2,000)) shows the
  // queue, so the window does not grow where it is 1.35 times the round trip without queueing
  // (3,645 in flight) and shrinks where it is 1.6 times (5,120): it ends near the hold point.
  AdaptiveWindow w(options());
  Simulation sim;
  sim.capacity_qps = 50000;
  sim.knee = 2000;
  sim.past_knee_exponent = 0.5;
  uint64_t now = 0;
  sim.run(w, now, 30, 2000);
  EXPECT_GE(sim.last_window, 2000u);
  EXPECT_LE(sim.last_window, 4500u);
  EXPECT_LE(sim.max_window, 6000u) << "one step past the shrinking point at most (the smoothed time lags)";
  EXPECT_EQ(w.decreases(), w.queueing_decreases()) << "no query failed";
}

TEST(AdaptiveWindow, NeverExceedsTheCeiling) {
  AdaptiveWindow w(options(256, 1000));
  Simulation sim;  // an endless resolver: the rate grows with every increase
  uint64_t now = 0;
  sim.run(w, now, 10, 2000);
  EXPECT_EQ(sim.max_window, 1000u);
  EXPECT_EQ(sim.last_window, 1000u);
}

TEST(AdaptiveWindow, BacksOffWhenTimeoutsRise) {
  // A resolver that drops whatever is in flight beyond 3,000 (its buffers), at high capacity:
  // the window may overshoot, the timeouts then halve it, and it spends most of the time below
  // the drop point (an AIMD window probes past it now and then: where it is at the end of the
  // run is a matter of phase).
  AdaptiveWindow w(options());
  Simulation sim;
  sim.capacity_qps = 1e7;
  sim.rtt_ms = 20;
  sim.drop_above = 3000;
  uint64_t now = 0;
  sim.run(w, now, 30, 2000);
  EXPECT_GE(w.decreases(), 1u);
  EXPECT_LE(sim.ms_above_drop, 30000u / 10) << "last window " << sim.last_window;
  EXPECT_LT(sim.longest_above_drop, 2000u) << "above the drop point no longer than the timeouts take to show";
  EXPECT_GE(sim.last_window, 16u);
}

TEST(AdaptiveWindow, StaysBelowASizeWhoseQueriesCameBackOnlyAfterARetry) {
  // unbound's wait-limit (1,000 by default): queries from one address beyond 1,000 waiting for
  // recursion are dropped without an answer, and the retry 2 s later is served. No query fails,
  // the rate barely tells (the retries are answered in the end), and the time in flight rises
  // only while the dropped ones wait. At 100-300 ms a round trip the limit allows 5,000
  // answers/s.
  // An increase past it loses queries that hold their slots for the whole timeout; the retried
  // answers mark the size that lost them, and the window approaches it from below instead of
  // probing past it every few seconds. Without being told (report_retries false), it loses
  // about 5,000 queries in these 40 s; told, a few hundred at most.
  for (const bool told : {true, false}) {
    AdaptiveWindow w(options());
    Simulation sim;
    sim.capacity_qps = 1e6;
    sim.rtt_ms = 100;
    sim.rtt_spread_ms = 200;
    sim.drop_above = 1000;
    sim.retry_dropped = true;
    sim.report_retries = told;
    sim.count_from_ms = 20000;  // after the start (slow start's probe past the limit)
    uint64_t now = 0;
    sim.run(w, now, 60, 2000);
    const double rate = static_cast<double>(sim.answers_after) / 40.0;
    if (told) {
      EXPECT_LE(sim.retried_after, 1000u) << "window " << sim.last_window << ", cap " << w.lossCap();
      EXPECT_GE(rate, 0.93 * 5000) << "window " << sim.last_window;
      EXPECT_LE(sim.last_window, 1100u) << "near the limit, a few queries past it at most";
      EXPECT_GE(w.losses(), 1u);
    } else {
      EXPECT_GE(sim.retried_after, 3000u) << "the simulation must make blind probing cost (else the test shows nothing)";
      EXPECT_LT(static_cast<double>(sim.answers_after) / 40.0, 0.93 * 5000) << "and cost answers";
      EXPECT_EQ(w.losses(), 0u);
    }
  }
}

TEST(AdaptiveWindow, HalvesOnAResolverThatStopsAnswering) {
  AdaptiveWindow w(options(1024));
  Simulation sim;
  sim.capacity_qps = 100000;
  uint64_t now = 0;
  sim.run(w, now, 3, 2000);
  const unsigned before = w.size();
  sim.capacity_qps = 0;  // dead: every query times out
  sim.run(w, now, 30, 2000);
  EXPECT_LT(w.size(), before / 4);
  EXPECT_GE(w.size(), 16u);  // the floor
}

TEST(AdaptiveWindow, HoldsWhenTheWindowIsNotTheLimit) {
  // The qps limit paces the scan, or the list gives fewer queries than the window allows: a
  // larger window would send nothing more, so it does not grow.
  for (const bool qps : {true, false}) {
    AdaptiveWindow w(options());
    Simulation sim;
    sim.capacity_qps = 1e6;
    sim.qps_limited = qps;
    sim.window_binding = qps;  // in the second case the window is never full
    uint64_t now = 0;
    sim.run(w, now, 5, 2000);
    EXPECT_EQ(sim.max_window, 256u) << (qps ? "qps-limited" : "not binding");
    EXPECT_EQ(w.increases(), 0u);
  }
}

}  // namespace
}  // namespace danescan::scanner::pipeline
