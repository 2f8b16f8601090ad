// scanner/loadgen/bench_report.h — the results of a `danescan bench` run as text, JSON (the
// contract's fields: ../shared/contract/cli.md; schema in bench/README.md, "bench") and one
// self-contained HTML page with an inline SVG chart. Pure functions of the results: no I/O.
#pragma once

#include "scanner/loadgen/load_generator.h"
#include "scanner/loadgen/schedule.h"

#include <span>
#include <string>
#include <vector>

namespace danescan::scanner::loadgen {

enum class BenchMode { Rate, Passes, Ramp };

struct BenchReport {
  BenchMode mode = BenchMode::Rate;
  std::string resolver;        // "127.0.0.1:53"
  std::string source_kind;     // "queries" (a dnsperf file) or "list" (the DANE mix of a domain list)
  std::string source_path;
  uint64_t source_size = 0;    // questions in the file, or domains in the list
  unsigned timeout_ms = 0;
  double requested_qps = 0;    // rate and passes modes
  double duration_s = 0;       // rate mode
  RampOptions ramp;            // ramp mode
  bool interrupted = false;
  std::string stop_reason;     // ramp: rampStopReason() when the ramp ended, or "interrupted"
  std::vector<PhaseResult> phases;
};

// The figures of one phase, or of several merged (the whole run), as the report prints them.
struct PhaseSummary {
  std::string label;
  double requested_qps = 0;
  double seconds = 0;
  double offered_qps = 0;   // sent / seconds
  double achieved_qps = 0;  // answered / seconds (answers to this phase's queries)
  double received_qps = 0;  // answers received during the phase / seconds
  double response_rate = 0; // answered / sent
  uint64_t sent = 0, answered = 0, lost = 0, truncated = 0, send_errors = 0, late = 0, ignored = 0;
  uint64_t lost_unanswered = 0;  // of `lost`: questions the resolver had never answered in the run (PhaseResult)
  uint64_t dry_ticks = 0;        // sends cut short because the question source had none (PhaseResult)
  double full_read_share = 0;  // full recvmmsg() batches / batches: > 0.5 means the client fell behind reading
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, min_ms = 0, max_ms = 0, mean_ms = 0;
  bool sustained = false;   // ramp steps: stepSustained()
};

// What the ramp's rules see of each phase: its rates and counts, and the share of the run's
// queries up to it that asked questions the resolver never answered (StepView).
[[nodiscard]] std::vector<StepView> stepViews(std::span<const PhaseResult> phases);
// `ramp` and `view` (the phase's entry of stepViews()) for a ramp step, to judge it sustained.
[[nodiscard]] PhaseSummary summarise(const PhaseResult& phase, const RampOptions* ramp = nullptr, const StepView* view = nullptr);
// The whole run: every phase's counts and latencies merged, over the phases' summed time.
[[nodiscard]] PhaseResult mergePhases(const std::vector<PhaseResult>& phases);

struct RampOutcome {
  double max_sustained_qps = 0;   // the highest achieved rate of a sustained step (0: none)
  int best_step = -1;             // its index
  double max_received_qps = 0;    // the highest rate of answers received during any step (resperf's figure)
};
[[nodiscard]] RampOutcome rampOutcome(const BenchReport& report);

[[nodiscard]] std::string toJson(const BenchReport& report);
[[nodiscard]] std::string toText(const BenchReport& report);
[[nodiscard]] std::string toHtml(const BenchReport& report);

}  // namespace danescan::scanner::loadgen
