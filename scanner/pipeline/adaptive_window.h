// scanner/pipeline/adaptive_window.h — `--concurrency auto`: how many DNS queries the scanner
// keeps in flight, found as it runs, the way TCP finds its congestion window (AIMD). A fixed
// window of W queries caps a scan near W / RTT queries/s: 256 at loopback latency keeps a
// resolver busy, 256 at 40 ms of recursion does not. I/O-free: the Scanner reports each query's
// outcome and whether the window held queries back; the clock is the caller's (milliseconds).
//
// Epochs: the window is judged once per epoch, which ends when at least `size()` outcomes (about
// one round trip's worth, and at least kMinOutcomes) and at least `min_epoch_ms` have passed.
// At the end of an epoch, with f = its share of failed queries (timeouts, network errors,
// SERVFAIL) and r = its rate of outcomes per second:
//  - decrease on failures: f exceeds the baseline (the failure share of healthy epochs: lists have
//    broken domains, so SERVFAILs alone are no congestion signal) by more than `failure_margin`:
//    the window halves (never below `floor`), and no further decrease follows for `feedback_ms`
//    (a timeout is seen only after every attempt, so failures caused by the old window keep
//    coming in for that long, and must not halve it again and again);
//  - decrease on queueing (as TCP Vegas does): by Little's law a full window of W queries
//    answered at r per second spends W / r in flight each. Below the knee that time is the
//    round trip and stays put as the window grows; past it the resolver queues, and it grows
//    with the window while r stands still. The window keeps a smoothed W / r of steady epochs
//    (full, not the first after a change, whose answers belong to the old size, and without
//    the failures above, whose timeouts were in flight for the whole retry time) and its least
//    value, the round trip without queueing; the average starts anew after every decrease.
//    Above `queue_shrink` times that least value the window shrinks by `shrink`, and the
//    timeouts that the larger window caused, which show later, do not halve it again; above
//    `queue_hold` times it, it does not grow. The resolver's overload thus shows within a round
//    trip or two, while its timeouts come only after the client's whole retry time: in the
//    bench world's internet mode unbound past its knee dropped hundreds of queries at once, and
//    the scan waited 15-20 s for their retries;
//  - increase: the window was the limit during the epoch (queries waited for a free slot) and
//    the qps limit was not (`--qps` paces by itself; a larger window would not send more): the
//    window grows, doubling at first (slow start, until a doubling brings less than half of the
//    answers it would below the knee, or the time in flight begins to grow), then by `growth`,
//    never above `ceiling`. The next epoch checks that it paid: when the rate did not
//    grow by more than `rate_gain`, the resolver (or the list) is the limit, so the window goes
//    back to its size before the increase and holds for `probe_interval_ms` before it tries
//    again. So the window settles near the knee, where more queries in flight only add
//    latency, instead of filling the resolver's buffers until it drops queries.
//  - decrease on retries (a loss the resolver never reports): a query answered only after the
//    client sent it again (its first attempt timed out) was dropped or left waiting by the
//    resolver. unbound (wait-limit, 1,000 by default since its DNSBomb fix, in Debian 12 too)
//    drops every query from one address beyond 1,000 waiting for recursion, without an answer:
//    in the bench world's internet mode each increase past that sent a few hundred queries that
//    came back only after the 2 s timeout, holding their slots all that time (4,000-5,000 a scan,
//    a tenth of the window dead). The window keeps the sizes it had (history_); when an epoch's
//    share of retried answers exceeds its baseline by `retry_margin`, the size in effect when the
//    retried queries were sent is a size that loses: growth stays below it (`loss_cap`) for
//    `loss_cap_ms`, approaching it by halves; if the window is still that large it shrinks by
//    `shrink`.
//  - otherwise it holds.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <utility>

namespace danescan::scanner::pipeline {

struct WindowOptions {
  unsigned initial = 256;       // the old fixed default: safe against any resolver at start
  unsigned floor = 16;
  unsigned ceiling = 20000;     // protects the resolver (--concurrency-max)
  uint64_t min_epoch_ms = 100;
  uint64_t feedback_ms = 6000;  // the client's timeout x attempts: how late a failure shows
  double growth = 1.25;         // per increase
  // Failure share above the baseline that means overload. Overload drops queries by the
  // hundred (11-46 % of an epoch in the bench world); a list's dead servers give a few per cent
  // of one epoch now and then, and 2 % halved the window for them.
  double failure_margin = 0.05;
  // An increase "paid" when the rate grew by more than this share (for a full `growth` step; a
  // step cut short by the ceiling asks for its part of it). Below the knee a 25 % larger
  // window brings about 25 % more answers; near it, a few per cent (a cold cache warming up gives
  // that much by itself): in the bench world's internet mode a 3 % threshold let the window climb
  // from 256 to 2,979 where 1,024 was best, and the resolver, past its limit, dropped queries.
  double rate_gain = 0.10;
  uint64_t probe_interval_ms = 2000;  // after an increase that did not pay, or a queueing decrease
  // Time in flight (smoothed W / r) over its least value: above `queue_hold` no increase, above
  // `queue_shrink` a decrease by `shrink`. Rates of epochs one round trip long vary by 10-20 %
  // in a cold scan; the smoothing (`delay_smoothing`, the new epoch's weight) keeps that from
  // looking like a queue.
  double queue_hold = 1.35;
  double queue_shrink = 1.6;
  double shrink = 0.9;
  double delay_smoothing = 0.3;
  // Slow start: the window doubles until a doubling brings less than `slow_start_gain` more
  // answers, or the time in flight grows past `slow_start_exit` times its least value.
  bool slow_start = true;
  double slow_start_gain = 0.5;
  double slow_start_exit = 1.1;
  // Retried answers: the share above their baseline (the list's slow servers) that marks a
  // loss, and how long the size that lost bounds growth. The list's own slow servers give
  // 0.1-0.2 % of answers; a probe past unbound's wait-limit 10-25 % of an epoch.
  double retry_margin = 0.02;
  uint64_t loss_cap_ms = 30000;
};

class AdaptiveWindow {
 public:
  explicit AdaptiveWindow(WindowOptions options);

  [[nodiscard]] unsigned size() const noexcept { return size_; }
  // One query finished: answered with an rcode other than SERVFAIL (`failed` false), or timed
  // out / failed / SERVFAIL (`failed` true); `in_flight` queries were in flight, this one
  // included.
  void record(bool failed, uint64_t now_ms, unsigned in_flight);
  // A query about to be record()ed was answered only after a retry; `sent_ms` is when it was
  // first sent (the window in effect then is the one that lost it).
  void noteRetried(uint64_t sent_ms) noexcept;
  // A query waited because every slot of the window was taken (the window is the limit).
  void noteWindowFull() noexcept { window_full_ = true; }
  // A query waited for the qps token bucket (the rate limit is the limit).
  void noteQpsLimited() noexcept { qps_limited_ = true; }

  [[nodiscard]] uint64_t decreases() const noexcept { return decreases_; }
  [[nodiscard]] uint64_t increases() const noexcept { return increases_; }
  // Decreases on queueing alone (counted in decreases() too).
  [[nodiscard]] uint64_t queueing_decreases() const noexcept { return queueing_decreases_; }
  // Epochs whose retried answers marked a loss, and the size that lost (0: none in force).
  [[nodiscard]] uint64_t losses() const noexcept { return losses_; }
  [[nodiscard]] unsigned lossCap() const noexcept { return loss_cap_ == kNoCap ? 0 : loss_cap_; }

  static constexpr uint64_t kMinOutcomes = 32;

 private:
  void endEpoch(uint64_t now_ms);
  void changed() noexcept { steady_epochs_ = 0; }
  void resize(unsigned size, uint64_t now_ms);
  [[nodiscard]] unsigned sizeAt(uint64_t ms) const noexcept;
  // The size an increase from size_ goes to: `growth` times, below a loss cap in force.
  [[nodiscard]] unsigned grown(double growth) const noexcept;

  static constexpr unsigned kNoCap = std::numeric_limits<unsigned>::max();

  WindowOptions options_;
  unsigned size_;
  uint64_t epoch_start_ms_ = 0;
  bool started_ = false;
  uint64_t outcomes_ = 0;
  uint64_t failures_ = 0;
  uint64_t in_flight_sum_ = 0;
  bool window_full_ = false;
  bool qps_limited_ = false;
  bool have_baseline_ = false;
  double baseline_ = 0;
  bool checking_increase_ = false;  // the last epoch ended with an increase: does it pay?
  unsigned size_before_increase_ = 0;
  double rate_before_increase_ = 0;
  uint64_t no_increase_until_ms_ = 0;
  uint64_t no_decrease_until_ms_ = 0;
  bool slow_start_ = true;
  unsigned steady_epochs_ = 0;    // epochs since the last change of size
  bool have_delay_ = false;       // delay_ms_ holds a sample since the last decrease
  double delay_ms_ = 0;           // smoothed time in flight of steady epochs (W / r)
  double least_delay_ms_ = std::numeric_limits<double>::infinity();  // its least value: the round trip without queueing
  uint64_t decreases_ = 0;
  uint64_t increases_ = 0;
  uint64_t queueing_decreases_ = 0;
  std::deque<std::pair<uint64_t, unsigned>> history_;  // (since ms, size), oldest first
  uint64_t retried_ = 0;                               // in this epoch
  unsigned retried_size_ = 0;                          // the largest size they were sent at
  double retry_baseline_ = 0;
  unsigned loss_cap_ = kNoCap;
  uint64_t loss_cap_until_ms_ = 0;
  uint64_t losses_ = 0;
};

}  // namespace danescan::scanner::pipeline
