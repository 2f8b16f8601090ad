// scanner/app/bench_command.cc — `danescan bench`: measures how fast a resolver serves the DANE
// query mix (issue 6). Owns the options, the choice of phases (fixed rate, passes, ramp), SIGINT,
// the output file and the exit status; loadgen/ does the sending, counting and formatting.
#include <uv.h>

#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "inputs/domain_stream.h"
#include "scanner/app/commands.h"
#include "scanner/loadgen/bench_report.h"
#include "scanner/loadgen/load_generator.h"
#include "scanner/loadgen/question_source.h"
#include "scanner/loadgen/schedule.h"
#include "scanner/loop/loop.h"

namespace danescan::app {
namespace {

namespace loadgen = scanner::loadgen;
using loadgen::BenchMode;
using loadgen::PhasePlan;
using loadgen::PhaseResult;

struct BenchOptions {
  std::string resolver;
  std::string list;
  std::string queries;
  double rate = 0;
  double duration = 10;
  bool ramp = false;
  unsigned passes = 1;
  bool cold_hot = false;
  double ramp_start = 1000;
  double ramp_growth_pct = 10;
  double ramp_step = 0;
  double ramp_max = 1000000;
  double step_seconds = 2;
  double min_response_pct = 95;
  double max_loss_pct = 1;
  unsigned patience = 2;
  unsigned timeout_ms = 2000;
  unsigned sockets = 16;
  std::string format = "text";
  std::string out;
  bool quiet = false;
};

// Offered rates more than this far below the requested one mean the client, not the resolver,
// set the pace; the run says so.
constexpr double kOfferedTolerance = 0.03;
// Above this share of full read batches the client, not the resolver, holds answers back.
constexpr double kBehindReading = 0.5;

void progressLine(const PhaseResult& p, size_t index, bool ramp) {
  const loadgen::PhaseSummary s = loadgen::summarise(p);
  std::fprintf(stderr, "danescan bench: %s%s: offered %.0f q/s, received %.0f q/s, p50 %.3f ms, p99 %.3f ms\n",
               ramp ? "step " : "", ramp ? std::to_string(index + 1).c_str() : p.plan.label.c_str(), s.offered_qps, s.received_qps,
               s.p50_ms, s.p99_ms);
}

std::optional<PhasePlan> nextPhase(const BenchOptions& o, BenchMode mode, const loadgen::RampOptions& ramp, std::string& stop_reason,
                                   std::span<const PhaseResult> done) {
  if (!o.quiet && !done.empty()) progressLine(done.back(), done.size() - 1, mode == BenchMode::Ramp);
  PhasePlan plan;
  switch (mode) {
    case BenchMode::Rate:
      if (!done.empty()) return std::nullopt;
      plan.label = "fixed rate";
      plan.rate_qps = o.rate;
      plan.seconds = o.duration;
      return plan;
    case BenchMode::Passes:
      if (done.size() >= o.passes) return std::nullopt;
      plan.label = "pass " + std::to_string(done.size() + 1);
      plan.rate_qps = o.rate;
      plan.pass = true;
      plan.pass_index = static_cast<unsigned>(done.size());
      plan.drain_first = !done.empty();  // a pass starts from a settled resolver
      return plan;
    case BenchMode::Ramp: {
      stop_reason = loadgen::rampStopReason(ramp, loadgen::stepViews(done));
      if (!stop_reason.empty()) return std::nullopt;
      plan.label = "step " + std::to_string(done.size() + 1);
      plan.rate_qps = loadgen::rampRate(ramp, done.size());
      plan.seconds = ramp.step_seconds;
      return plan;
    }
  }
  return std::nullopt;
}

bool writeOutput(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0;
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  return static_cast<bool>(file);
}

int runBench(const BenchOptions& o) {
  std::string error;
  const auto resolver = scanner::dns::ResolverAddress::parse(o.resolver, error);  // validated by CLI11
  loadgen::BenchReport report;
  report.resolver = resolver->toString();
  report.timeout_ms = o.timeout_ms;

  // The questions: a dnsperf file as it is, or the DANE mix of a domain list.
  std::unique_ptr<loadgen::QuestionSource> source;
  if (!o.queries.empty()) {
    auto file = loadgen::QuestionFile::load(o.queries, error);
    if (!file) {
      std::fprintf(stderr, "danescan bench: %s\n", error.c_str());
      return kExitFailed;
    }
    report.source_kind = "queries";
    report.source_path = o.queries;
    report.source_size = file->size();
    source = std::make_unique<loadgen::QuestionFile>(std::move(*file));
  } else {
    inputs::StreamOptions stream_options;
    stream_options.sources = {o.list};
    inputs::DomainStream stream(std::move(stream_options));
    std::vector<std::string> domains;
    for (inputs::DomainEntry entry; stream.next(entry);) domains.push_back(std::move(entry.name));
    if (stream.stats().unreadable_sources > 0) {
      std::fprintf(stderr, "danescan bench: cannot read list '%s'\n", o.list.c_str());
      return kExitFailed;
    }
    report.source_kind = "list";
    report.source_path = o.list;
    report.source_size = domains.size();
    source = std::make_unique<loadgen::DaneMix>(std::move(domains));
  }
  if (report.source_size == 0) {
    std::fprintf(stderr, "danescan bench: '%s' holds no %s\n", report.source_path.c_str(), o.queries.empty() ? "domain" : "question");
    return kExitFailed;
  }

  report.mode = o.ramp ? BenchMode::Ramp : (o.passes > 1 ? BenchMode::Passes : BenchMode::Rate);
  report.requested_qps = o.rate;
  report.duration_s = o.duration;
  loadgen::RampOptions& ramp = report.ramp;
  ramp.start_qps = o.ramp_start;
  ramp.growth = o.ramp_growth_pct / 100;
  ramp.step_qps = o.ramp_step;
  ramp.max_qps = o.ramp_max;
  ramp.step_seconds = o.step_seconds;
  ramp.min_response_ratio = o.min_response_pct / 100;
  ramp.max_loss = o.max_loss_pct / 100;
  ramp.patience = o.patience;

  scanner::loop::Loop loop;
  loadgen::GeneratorOptions generator_options;
  generator_options.resolver = *resolver;
  generator_options.timeout_ms = o.timeout_ms;
  generator_options.sockets = o.sockets;
  const BenchMode mode = report.mode;
  std::string stop_reason;
  loadgen::LoadGenerator generator(loop.get(), generator_options, *source,
                                   [&](std::span<const PhaseResult> done) { return nextPhase(o, mode, ramp, stop_reason, done); });

  // SIGINT/SIGTERM: stop sending, await the queries in flight, report what was measured. The
  // handles are unreferenced, so they do not keep the loop alive once the run is over.
  bool interrupted = false;
  std::vector<scanner::loop::SignalPtr> signals;
  struct SignalContext {
    loadgen::LoadGenerator* generator;
    bool* interrupted;
  } signal_context{&generator, &interrupted};
  for (int signum : {SIGINT, SIGTERM}) {
    int uv_error = 0;
    auto handle = scanner::loop::makeSignal(loop.get(), uv_error);
    if (!handle) continue;
    handle->data = &signal_context;
    uv_signal_start(
        handle.get(),
        [](uv_signal_t* h, int) {
          auto* ctx = static_cast<SignalContext*>(h->data);
          *ctx->interrupted = true;
          ctx->generator->stop();
        },
        signum);
    uv_unref(reinterpret_cast<uv_handle_t*>(handle.get()));
    signals.push_back(std::move(handle));
  }

  if (!generator.start(error)) {
    std::fprintf(stderr, "danescan bench: %s\n", error.c_str());
    return kExitFailed;
  }
  loop.run();

  report.interrupted = interrupted;
  report.stop_reason = interrupted ? "interrupted" : stop_reason;
  report.phases = generator.results();

  const PhaseResult total = loadgen::mergePhases(report.phases);
  if (mode != BenchMode::Ramp && !interrupted) {
    const loadgen::PhaseSummary s = loadgen::summarise(total);
    if (s.offered_qps < (1 - kOfferedTolerance) * o.rate) {
      std::fprintf(stderr, "danescan bench: warning: offered %.0f q/s, %.1f %% below the requested %.0f: %s\n", s.offered_qps,
                   100 * (1 - s.offered_qps / o.rate), o.rate,
                   s.dry_ticks > 0 ? "the question source ran dry (it waited for answers that name its next questions)"
                                   : "this client could not send faster (CPU), so it set the pace");
    }
  }
  if (const loadgen::PhaseSummary s = loadgen::summarise(total); s.full_read_share > kBehindReading) {
    std::fprintf(stderr,
                 "danescan bench: warning: %.0f %% of the reads found more answers waiting: this client fell behind reading "
                 "them (CPU), so latencies include time in its own socket buffers\n",
                 100 * s.full_read_share);
  }
  const std::string text = o.format == "json" ? loadgen::toJson(report) : o.format == "html" ? loadgen::toHtml(report) : loadgen::toText(report);
  if (!writeOutput(o.out, text)) {
    std::fprintf(stderr, "danescan bench: cannot write '%s'\n", o.out.empty() ? "standard output" : o.out.c_str());
    return kExitFailed;
  }
  if (total.answered == 0) {
    std::fprintf(stderr, "danescan bench: the resolver %s never answered (%" PRIu64 " queries sent)\n", report.resolver.c_str(), total.sent);
    return kExitFailed;
  }
  if (interrupted) {
    std::fprintf(stderr, "danescan bench: interrupted; the report covers the time until then\n");
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

void addBenchCommand(CLI::App& app, Runner& run) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure how fast a resolver serves the DANE query mix (open loop, like dnsperf -Q and resperf).");
  cmd->add_option("--resolver", o->resolver, "Resolver to measure, IP[:PORT] (never the system resolver)")->required()->check(resolverValidator());
  auto* list = cmd->add_option("--list", o->list,
                               "Domain list (as for scan): asks per domain MX, then per new MX host CNAME, A, AAAA and TLSA _25._tcp, "
                               "hosts learned from the answers, as a scan does; the list repeats while the run lasts");
  auto* queries = cmd->add_option("--queries", o->queries,
                                  "dnsperf data file ('name type' lines) instead of --list: the identical questions dnsperf/resperf ask; cycled");
  list->excludes(queries);
  auto* rate = cmd->add_option("--rate", o->rate, "Fixed mode: offer QPS queries/s (open loop)")->check(CLI::PositiveNumber);
  auto* duration =
      cmd->add_option("--duration", o->duration, "Fixed mode: seconds to run at --rate")->check(CLI::Range(0.001, 86400.0))->capture_default_str();
  auto* ramp = cmd->add_flag("--ramp", o->ramp, "Ramp mode: raise the offered rate step by step and report the highest rate sustained");
  auto* passes = cmd->add_option("--passes", o->passes, "Send the whole question file or list N times at --rate, one pass after the other "
                                                        "(the first is cold only if the resolver's cache was)")
                     ->check(CLI::Range(1, 100))
                     ->capture_default_str();
  auto* cold_hot = cmd->add_flag("--cold-hot", o->cold_hot, "Same as --passes 2");
  cold_hot->excludes(passes);
  auto* ramp_start = cmd->add_option("--ramp-start", o->ramp_start, "Ramp: rate of the first step, queries/s")->check(CLI::PositiveNumber)->capture_default_str();
  auto* ramp_growth =
      cmd->add_option("--ramp-growth", o->ramp_growth_pct, "Ramp: each step offers this many percent more than the one before")
          ->check(CLI::Range(0.1, 1000.0))
          ->capture_default_str();
  auto* ramp_step = cmd->add_option("--ramp-step", o->ramp_step, "Ramp: add this many queries/s per step instead of --ramp-growth")->check(CLI::PositiveNumber);
  ramp_step->excludes(ramp_growth);
  auto* ramp_max = cmd->add_option("--ramp-max", o->ramp_max, "Ramp: no step above this rate")->check(CLI::PositiveNumber)->capture_default_str();
  auto* step_seconds = cmd->add_option("--step-duration", o->step_seconds, "Ramp: seconds per step")->check(CLI::Range(0.1, 3600.0))->capture_default_str();
  auto* min_response = cmd->add_option("--min-response", o->min_response_pct,
                                       "Ramp: a step falls behind when the answers received during it are fewer than this percentage of the "
                                       "queries it offered")
                           ->check(CLI::Range(1.0, 100.0))
                           ->capture_default_str();
  auto* max_loss = cmd->add_option("--max-loss", o->max_loss_pct, "Ramp: stop when a step lost more than this percentage of its queries")
                       ->check(CLI::Range(0.0, 100.0))
                       ->capture_default_str();
  auto* patience = cmd->add_option("--patience", o->patience, "Ramp: stop after this many steps in a row fell behind")
                       ->check(CLI::Range(1, 100))
                       ->capture_default_str();
  cmd->add_option("--timeout", o->timeout_ms, "Milliseconds after which an unanswered query counts as lost (no retries)")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  cmd->add_option("--sockets", o->sockets, "UDP sockets (source ports) to send from, in turn; each has 65,536 query IDs, and each loop iteration reads at most 32 answers per socket")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--format", o->format, "Output format: text, json (one object) or html (one self-contained page with a chart)")
      ->check(CLI::IsMember({"text", "json", "html"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Write the report to FILE instead of standard output ('-': standard output)")
      ->transform(stdoutDash());
  cmd->add_flag("--quiet,-q", o->quiet, "No progress lines on standard error");
  for (CLI::Option* opt : {ramp_start, ramp_growth, ramp_step, ramp_max, step_seconds, min_response, max_loss, patience}) opt->needs(ramp);
  ramp->excludes(rate);
  ramp->excludes(duration);
  ramp->excludes(passes);
  ramp->excludes(cold_hot);
  passes->excludes(duration);
  cold_hot->excludes(duration);
  cmd->footer(
      "Modes:\n"
      "  --rate QPS [--duration S]    fixed rate: QPS queries/s for S s, whether or not answers come back\n"
      "  --rate QPS --passes N        the whole file or list N times (e.g. a cold, then a hot cache)\n"
      "  --ramp                       steps of --step-duration s from --ramp-start q/s, each --ramp-growth % (or\n"
      "                               --ramp-step q/s) higher, until answers fall behind (--min-response) in\n"
      "                               --patience steps in a row, a step loses more than --max-loss, or this\n"
      "                               client itself falls behind (sending late, or most reads finding more waiting)\n"
      "Every query carries EDNS0 (1232 bytes) with the DO bit, like scan's. A query not answered within\n"
      "--timeout is lost; nothing is retried; an answer with TC=1 counts as a TCP fallback.\n"
      "Figures: offered = queries sent/s; achieved = answers to them/s; received = answers arriving/s\n"
      "(resperf's measure); latency percentiles from a histogram within 0.4 % of the exact values.\n"
      "Exit status: 0 measured, 1 the resolver never answered or the run failed (or was interrupted),\n"
      "2 usage error.\n"
      "Examples:\n"
      "  danescan bench --resolver 127.0.0.1 --list domains.txt --rate 5000 --duration 30 --format json\n"
      "  danescan bench --resolver 127.0.0.1 --queries queries.txt --ramp --format html --out ramp.html");
  cmd->callback([o, &run] {
    // Usage errors CLI11 cannot express as option relations (exit 2, naming what is missing).
    if (o->list.empty() && o->queries.empty()) throw CLI::RequiredError("--list or --queries");
    if (!o->ramp && o->rate <= 0) throw CLI::RequiredError("--rate (or --ramp)");
    if (o->cold_hot) o->passes = 2;
    run = [o] { return runBench(*o); };
  });
}

}  // namespace danescan::app
