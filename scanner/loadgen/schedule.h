// scanner/loadgen/schedule.h — the open-loop timetable and the ramp's rules, as pure functions
// of time and counts (no libuv, no clock of their own), so that the tests drive them with a fake
// clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace danescan::scanner::loadgen {

// Queries due at a constant rate from `start_ns`: how many should have left by `now_ns` in all.
// Computed from the elapsed time, not added up tick by tick, so the fractions of a query a 1 ms
// tick leaves over are carried exactly and a late tick catches up at once (open loop: the
// timetable does not wait for answers or for the sender).
class SendSchedule {
 public:
  SendSchedule(double rate_qps, uint64_t start_ns) : rate_(rate_qps), start_ns_(start_ns) {}
  [[nodiscard]] uint64_t dueBy(uint64_t now_ns) const noexcept {
    if (now_ns <= start_ns_ || rate_ <= 0) return 0;
    return static_cast<uint64_t>(rate_ * static_cast<double>(now_ns - start_ns_) / 1e9);
  }
  [[nodiscard]] double rate() const noexcept { return rate_; }
  [[nodiscard]] uint64_t start() const noexcept { return start_ns_; }

 private:
  double rate_;
  uint64_t start_ns_;
};

struct RampOptions {
  double start_qps = 1000;
  double growth = 0.10;        // each step offers (1 + growth) times the one before ...
  double step_qps = 0;         // ... or, when > 0, this many queries/s more
  double max_qps = 1000000;    // no step above this
  double step_seconds = 2;
  double min_response_ratio = 0.95;  // answers received during a step / queries offered in it
  double max_loss = 0.01;            // share of a step's queries lost (no answer within the timeout)
  unsigned patience = 2;             // steps in a row that fall behind before the ramp stops
};

// The offered rate of step `index` (0-based).
[[nodiscard]] double rampRate(const RampOptions& options, size_t index) noexcept;

// What the ramp knows of a step while it runs.
struct StepView {
  double offered_qps = 0;   // queries sent in the step / its duration
  double received_qps = 0;  // answers received during the step (to any step's queries) / its duration
  uint64_t sent = 0;
  uint64_t lost = 0;
  bool final = false;       // every query of the step was answered or timed out
  double requested_qps = 0; // the step's planned rate (0: not checked)
  double full_read_share = 0;  // full recvmmsg() batches / batches during the step
  // Of `lost`: queries whose question the resolver had not answered at all in the run so far (a
  // name behind a dead server). They are the data's, not the load's: the loss rule leaves them
  // out, and the response rule expects their share (unanswered_share: such losses / queries
  // answered or lost in the run up to this step) to be missing from the answers.
  uint64_t lost_unanswered = 0;
  double unanswered_share = 0;
  bool source_dry = false;  // queries fell due while the question source had none (a list waiting for answers)
};

// The client, not the resolver, sets the pace when it cannot send on schedule (offered more
// than this far below requested) or finds its sockets full at nearly every read (more than this
// share of full batches): like resperf's "fell behind", that ends a ramp. A backlog at some reads
// is not that: answers wait a little in the socket buffer and still count; if the client really
// cannot keep up, the buffers overflow and the response-rate and loss rules end the ramp. (At
// 0.5 the ramp stopped at 69-78 % of resperf's maximum while every answer was still received.)
inline constexpr double kClientSendTolerance = 0.03;
inline constexpr double kClientReadBacklog = 0.95;

// A step the resolver kept up with: it answered (during the step) at least min_response_ratio of
// what was offered (less the share of questions it never answers), and, once final, lost at most
// max_loss of its queries (not counting those never-answered questions).
[[nodiscard]] bool stepSustained(const RampOptions& options, const StepView& step) noexcept;

// Why the ramp stops after the steps so far, or "" to go on: the client fell behind in the last
// step (see above; a step that offered too little because the question source ran dry says so
// instead of blaming the client), or the last `patience` steps all fell behind (answers received <
// min_response_ratio x offered), or a final step lost more than max_loss, or the next step would
// exceed max_qps.
[[nodiscard]] std::string rampStopReason(const RampOptions& options, std::span<const StepView> steps);

}  // namespace danescan::scanner::loadgen
