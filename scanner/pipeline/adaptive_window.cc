// scanner/pipeline/adaptive_window.cc — see adaptive_window.h.
#include "scanner/pipeline/adaptive_window.h"

#include <algorithm>
#include <cmath>

namespace danescan::scanner::pipeline {

AdaptiveWindow::AdaptiveWindow(WindowOptions options) : options_(options) {
  options_.floor = std::max(1u, options_.floor);
  options_.ceiling = std::max(options_.floor, options_.ceiling);
  size_ = std::clamp(options_.initial, options_.floor, options_.ceiling);
  history_.emplace_back(0, size_);
}

void AdaptiveWindow::resize(unsigned size, uint64_t now_ms) {
  size_ = size;
  changed();
  history_.emplace_back(now_ms, size_);
  // A retried answer comes at most the client's whole retry time (feedback_ms) after its send;
  // the entry in force at the oldest such send stays.
  while (history_.size() > 1 && history_[1].first + options_.feedback_ms + 1000 < now_ms) history_.pop_front();
}

unsigned AdaptiveWindow::sizeAt(uint64_t ms) const noexcept {
  unsigned size = history_.front().second;
  for (const auto& [since, s] : history_) {
    if (since > ms) break;
    size = s;
  }
  return size;
}

unsigned AdaptiveWindow::grown(double growth) const noexcept {
  const unsigned target = std::min(options_.ceiling, std::max(size_ + 1, static_cast<unsigned>(std::lround(size_ * growth))));
  // Below a size that lost queries: halfway to it, so the steps shrink as they near it.
  if (loss_cap_ != kNoCap && target >= loss_cap_) return loss_cap_ > size_ ? size_ + (loss_cap_ - size_) / 2 : size_;
  return target;
}

void AdaptiveWindow::noteRetried(uint64_t sent_ms) noexcept {
  ++retried_;
  retried_size_ = std::max(retried_size_, sizeAt(sent_ms));
}

void AdaptiveWindow::record(bool failed, uint64_t now_ms, unsigned in_flight) {
  if (!started_) {
    started_ = true;
    epoch_start_ms_ = now_ms;
  }
  ++outcomes_;
  if (failed) ++failures_;
  in_flight_sum_ += in_flight;
  if (outcomes_ >= std::max<uint64_t>(kMinOutcomes, size_) && now_ms >= epoch_start_ms_ + options_.min_epoch_ms) endEpoch(now_ms);
}

void AdaptiveWindow::endEpoch(uint64_t now_ms) {
  const double share = static_cast<double>(failures_) / static_cast<double>(outcomes_);
  const double rate = static_cast<double>(outcomes_) * 1000.0 / static_cast<double>(std::max<uint64_t>(1, now_ms - epoch_start_ms_));
  const double in_flight = static_cast<double>(in_flight_sum_) / static_cast<double>(outcomes_);
  const double retried_share = static_cast<double>(retried_) / static_cast<double>(outcomes_);
  const unsigned lost_at = retried_size_;
  const bool window_full = window_full_;
  const bool qps_limited = qps_limited_;
  outcomes_ = failures_ = in_flight_sum_ = retried_ = 0;
  retried_size_ = 0;
  window_full_ = qps_limited_ = false;
  epoch_start_ms_ = now_ms;
  if (loss_cap_ != kNoCap && now_ms >= loss_cap_until_ms_) loss_cap_ = kNoCap;

  if (!have_baseline_) {
    have_baseline_ = true;
    baseline_ = share;
  }
  const bool overload = share > baseline_ + options_.failure_margin;
  const bool loss = !overload && lost_at > 0 && retried_share > retry_baseline_ + options_.retry_margin;
  // Time in flight (Little's law: queries in flight over answers per second) of a steady epoch:
  // a full window, qps not the limit, not the first epoch after a change, no overload (its
  // timeouts were in flight for the client's whole retry time). In flight is what the outcomes
  // found, not the window: a window that shrank drains for a round trip.
  if (window_full && !qps_limited && steady_epochs_ >= 1 && !overload && !loss) {
    const double sample = in_flight * 1000.0 / rate;
    delay_ms_ = have_delay_ ? (1 - options_.delay_smoothing) * delay_ms_ + options_.delay_smoothing * sample : sample;
    least_delay_ms_ = std::min(least_delay_ms_, delay_ms_);
    have_delay_ = true;
  }
  ++steady_epochs_;
  const double queueing = have_delay_ ? delay_ms_ / std::max(1e-9, least_delay_ms_) : 1.0;

  if (overload) {
    checking_increase_ = false;
    slow_start_ = false;
    if (now_ms >= no_decrease_until_ms_) {
      resize(std::max(options_.floor, size_ / 2), now_ms);
      no_decrease_until_ms_ = now_ms + options_.feedback_ms;
      no_increase_until_ms_ = now_ms + options_.feedback_ms;  // wait until the failures show what the new size does
      ++decreases_;
      have_delay_ = false;  // a smaller window starts a new average: the old one held the drops' long waits
    }
    return;
  }
  baseline_ = 0.8 * baseline_ + 0.2 * share;  // a healthy epoch: the list's own share of failures
  if (loss) {
    // The queries were lost at lost_at, whatever the window did since (an increase that did not
    // pay is undone before its losses show): no growth to it for a while. Only a window still
    // that large shrinks: the retries of one probe come in over several epochs, and once the
    // probe is undone they bound growth without shrinking the window again.
    ++losses_;
    loss_cap_ = std::min(loss_cap_, std::max(options_.floor + 1, lost_at));
    loss_cap_until_ms_ = now_ms + options_.loss_cap_ms;
    checking_increase_ = false;
    slow_start_ = false;
    if (size_ >= lost_at) {
      resize(std::max(options_.floor, static_cast<unsigned>(std::lround(size_ * options_.shrink))), now_ms);
      no_increase_until_ms_ = now_ms + options_.probe_interval_ms;
      ++decreases_;
      have_delay_ = false;
    }
    return;
  }
  retry_baseline_ = 0.8 * retry_baseline_ + 0.2 * retried_share;  // the list's own slow servers
  // The epoch right after a change still answers the old window's queries: every judgement
  // below waits for a steady one.
  if (steady_epochs_ < 2) return;
  if (checking_increase_) {
    checking_increase_ = false;
    // rate_gain is asked of a full step (growth); a step cut short by the ceiling asks its share.
    const double step = static_cast<double>(size_) / static_cast<double>(std::max(1u, size_before_increase_)) - 1;
    const double wanted = options_.rate_gain * std::min(1.0, step / std::max(1e-9, options_.growth - 1));
    // A doubling below the knee about doubles the rate; one that brings less than half of that
    // has found the knee's neighbourhood: the steps get smaller from here.
    if (slow_start_ && rate < rate_before_increase_ * (1 + options_.slow_start_gain)) slow_start_ = false;
    if (rate <= rate_before_increase_ * (1 + wanted)) {
      resize(size_before_increase_, now_ms);  // more in flight brought no more answers: the knee
      no_increase_until_ms_ = now_ms + options_.probe_interval_ms;
      slow_start_ = false;
      return;
    }
  }
  if (queueing > options_.queue_shrink) {
    // The resolver queues: back to a window it serves without.
    resize(std::max(options_.floor, static_cast<unsigned>(std::lround(size_ * options_.shrink))), now_ms);
    no_increase_until_ms_ = now_ms + options_.probe_interval_ms;
    // Queries the larger window lost time out later: this decrease has answered them already.
    no_decrease_until_ms_ = std::max(no_decrease_until_ms_, now_ms + options_.feedback_ms);
    slow_start_ = false;
    ++decreases_;
    ++queueing_decreases_;
    have_delay_ = false;  // judge the smaller window by its own samples, not the queue it left
    return;
  }
  if (queueing > options_.slow_start_exit) slow_start_ = false;
  if (queueing > options_.queue_hold) return;
  if (!window_full || qps_limited || now_ms < no_increase_until_ms_ || size_ >= options_.ceiling) return;
  size_before_increase_ = size_;
  rate_before_increase_ = rate;
  const unsigned target = grown(slow_start_ && options_.slow_start ? 2.0 : options_.growth);
  if (target <= size_) return;  // at a size that lost queries, less one
  resize(target, now_ms);
  checking_increase_ = true;
  ++increases_;
}

}  // namespace danescan::scanner::pipeline
