// scanner/pipeline/adaptive_window.cc — see adaptive_window.h.
#include "scanner/pipeline/adaptive_window.h"

#include <algorithm>
#include <cmath>

namespace danescan::scanner::pipeline {

AdaptiveWindow::AdaptiveWindow(WindowOptions options) : options_(options) {
  options_.floor = std::max(1u, options_.floor);
  options_.ceiling = std::max(options_.floor, options_.ceiling);
  size_ = std::clamp(options_.initial, options_.floor, options_.ceiling);
}

void AdaptiveWindow::record(bool failed, uint64_t now_ms) {
  if (!started_) {
    started_ = true;
    epoch_start_ms_ = now_ms;
  }
  ++outcomes_;
  if (failed) ++failures_;
  if (outcomes_ >= std::max<uint64_t>(kMinOutcomes, size_) && now_ms >= epoch_start_ms_ + options_.min_epoch_ms) endEpoch(now_ms);
}

void AdaptiveWindow::endEpoch(uint64_t now_ms) {
  const double share = static_cast<double>(failures_) / static_cast<double>(outcomes_);
  const double rate = static_cast<double>(outcomes_) * 1000.0 / static_cast<double>(std::max<uint64_t>(1, now_ms - epoch_start_ms_));
  const bool window_full = window_full_;
  const bool qps_limited = qps_limited_;
  outcomes_ = failures_ = 0;
  window_full_ = qps_limited_ = false;
  epoch_start_ms_ = now_ms;

  if (!have_baseline_) {
    have_baseline_ = true;
    baseline_ = share;
  }
  if (share > baseline_ + options_.failure_margin) {
    checking_increase_ = false;
    if (now_ms >= no_decrease_until_ms_) {
      size_ = std::max(options_.floor, size_ / 2);
      no_decrease_until_ms_ = now_ms + options_.feedback_ms;
      no_increase_until_ms_ = now_ms + options_.feedback_ms;  // wait until the failures show what the new size does
      ++decreases_;
    }
    return;
  }
  baseline_ = 0.8 * baseline_ + 0.2 * share;  // a healthy epoch: the list's own share of failures
  if (checking_increase_) {
    checking_increase_ = false;
    // rate_gain is asked of a full step (growth); a step cut short by the ceiling asks its share.
    const double step = static_cast<double>(size_) / static_cast<double>(std::max(1u, size_before_increase_)) - 1;
    const double wanted = options_.rate_gain * std::min(1.0, step / std::max(1e-9, options_.growth - 1));
    if (rate <= rate_before_increase_ * (1 + wanted)) {
      size_ = size_before_increase_;  // more in flight brought no more answers: the knee
      no_increase_until_ms_ = now_ms + options_.probe_interval_ms;
      return;
    }
  }
  if (!window_full || qps_limited || now_ms < no_increase_until_ms_ || size_ >= options_.ceiling) return;
  size_before_increase_ = size_;
  rate_before_increase_ = rate;
  size_ = std::min(options_.ceiling, std::max(size_ + 1, static_cast<unsigned>(std::lround(size_ * options_.growth))));
  checking_increase_ = true;
  ++increases_;
}

}  // namespace danescan::scanner::pipeline
