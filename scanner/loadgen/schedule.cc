// scanner/loadgen/schedule.cc — see schedule.h.
#include "scanner/loadgen/schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace danescan::scanner::loadgen {
namespace {

bool fellBehind(const RampOptions& o, const StepView& s) {
  return s.received_qps < o.min_response_ratio * s.offered_qps * (1 - std::clamp(s.unanswered_share, 0.0, 1.0));
}

// Losses of questions the resolver does answer, among the queries that asked them.
uint64_t answerableLost(const StepView& s) { return s.lost > s.lost_unanswered ? s.lost - s.lost_unanswered : 0; }
uint64_t answerableSent(const StepView& s) { return s.sent > s.lost_unanswered ? s.sent - s.lost_unanswered : 0; }

bool lostTooMany(const RampOptions& o, const StepView& s) {
  return s.final && answerableSent(s) > 0 && static_cast<double>(answerableLost(s)) > o.max_loss * static_cast<double>(answerableSent(s));
}

}  // namespace

double rampRate(const RampOptions& o, size_t index) noexcept {
  if (o.step_qps > 0) return o.start_qps + o.step_qps * static_cast<double>(index);
  return o.start_qps * std::pow(1 + o.growth, static_cast<double>(index));
}

bool stepSustained(const RampOptions& o, const StepView& s) noexcept { return !fellBehind(o, s) && !lostTooMany(o, s); }

std::string rampStopReason(const RampOptions& o, std::span<const StepView> steps) {
  if (steps.empty()) return {};
  const StepView& last = steps.back();
  if (last.requested_qps > 0 && last.offered_qps < (1 - kClientSendTolerance) * last.requested_qps) {
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  last.source_dry ? "the question source ran dry in step %zu (%.0f of %.0f q/s): it waited for answers that name its next questions"
                                  : "this client fell behind sending in step %zu (%.0f of %.0f q/s)",
                  steps.size(), last.offered_qps, last.requested_qps);
    return buf;
  }
  if (last.full_read_share > kClientReadBacklog) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "this client fell behind reading answers in step %zu (%.0f %% full reads)", steps.size(),
                  100 * last.full_read_share);
    return buf;
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    if (lostTooMany(o, steps[i])) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "step %zu lost %.2f %% of its queries (--max-loss %.2f %%)", i + 1,
                    100.0 * static_cast<double>(answerableLost(steps[i])) / static_cast<double>(answerableSent(steps[i])), 100.0 * o.max_loss);
      return buf;
    }
  }
  const size_t patience = o.patience == 0 ? 1 : o.patience;
  if (steps.size() >= patience) {
    bool all_behind = true;
    for (size_t i = steps.size() - patience; i < steps.size(); ++i) all_behind = all_behind && fellBehind(o, steps[i]);
    if (all_behind) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "answers fell below %.0f %% of the offered rate in %zu step%s in a row", 100.0 * o.min_response_ratio,
                    patience, patience == 1 ? "" : "s");
      return buf;
    }
  }
  if (rampRate(o, steps.size()) > o.max_qps) return "the next step would exceed --ramp-max";
  return {};
}

}  // namespace danescan::scanner::loadgen
