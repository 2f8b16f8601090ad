// scanner/loadgen/bench_report.cc — see bench_report.h.
#include "scanner/loadgen/bench_report.h"

#include "storage/json.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace danescan::scanner::loadgen {
namespace {

double perSecond(uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }
double ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

std::string fmt(const char* format, double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

const char* modeName(BenchMode m) {
  switch (m) {
    case BenchMode::Rate: return "rate";
    case BenchMode::Passes: return "passes";
    case BenchMode::Ramp: return "ramp";
  }
  return "rate";
}

void writePhase(storage::json::Writer& w, const PhaseResult& p, const PhaseSummary& s, bool ramp) {
  w.key("label").value(s.label);
  w.key("requested_qps").raw(fmt("%.1f", s.requested_qps));
  w.key("seconds").raw(fmt("%.3f", s.seconds));
  w.key("offered_qps").raw(fmt("%.1f", s.offered_qps));
  w.key("achieved_qps").raw(fmt("%.1f", s.achieved_qps));
  w.key("received_qps").raw(fmt("%.1f", s.received_qps));
  w.key("response_rate").raw(fmt("%.6f", s.response_rate));
  w.key("sent").value(static_cast<int64_t>(s.sent));
  w.key("answered").value(static_cast<int64_t>(s.answered));
  w.key("lost").value(static_cast<int64_t>(s.lost));
  w.key("lost_never_answered").value(static_cast<int64_t>(s.lost_unanswered));
  w.key("timeouts").value(static_cast<int64_t>(s.lost));
  w.key("tcp_fallbacks").value(static_cast<int64_t>(s.truncated));
  w.key("send_errors").value(static_cast<int64_t>(s.send_errors));
  w.key("late").value(static_cast<int64_t>(s.late));
  w.key("ignored").value(static_cast<int64_t>(s.ignored));
  w.key("full_read_share").raw(fmt("%.4f", s.full_read_share));
  if (ramp) w.key("sustained").value(s.sustained);
  w.key("latency_ms").beginObject();
  w.key("p50").raw(fmt("%.4f", s.p50_ms));
  w.key("p90").raw(fmt("%.4f", s.p90_ms));
  w.key("p99").raw(fmt("%.4f", s.p99_ms));
  w.key("p999").raw(fmt("%.4f", s.p999_ms));
  w.key("min").raw(fmt("%.4f", s.min_ms));
  w.key("mean").raw(fmt("%.4f", s.mean_ms));
  w.key("max").raw(fmt("%.4f", s.max_ms));
  w.endObject();
  w.key("by_type").beginObject();
  for (const auto& [type, c] : p.by_type) {
    w.key(dns::rrTypeName(type)).beginObject();
    w.key("sent").value(static_cast<int64_t>(c.sent));
    w.key("answered").value(static_cast<int64_t>(c.answered));
    w.key("lost").value(static_cast<int64_t>(c.lost));
    w.key("rcodes").beginObject();
    for (const auto& [rcode, n] : c.rcodes) w.key(rcode).value(static_cast<int64_t>(n));
    w.endObject();
    w.key("ede").beginObject();
    for (const auto& [code, n] : c.ede) w.key(std::to_string(code)).value(static_cast<int64_t>(n));
    w.endObject();
    w.endObject();
  }
  w.endObject();
}

std::string escapeHtml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string sourceText(const BenchReport& r) {
  return r.source_kind == "queries" ? std::to_string(r.source_size) + " questions from " + r.source_path
                                    : "the DANE mix of " + std::to_string(r.source_size) + " domains from " + r.source_path;
}

std::string typeMix(const TypeCounts& c) {
  std::string out;
  for (const auto& [rcode, n] : c.rcodes) out += (out.empty() ? "" : " ") + rcode + "=" + std::to_string(n);
  for (const auto& [code, n] : c.ede) out += " EDE" + std::to_string(code) + "=" + std::to_string(n);
  return out;
}

// --- SVG charts ---------------------------------------------------------------------------

struct Series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;
  bool dashed = false;
};

double niceCeiling(double v) {
  if (v <= 0) return 1;
  const double p = std::pow(10, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (v <= m * p) return m * p;
  }
  return 10 * p;
}

std::string axisNumber(double v) {
  if (v >= 10000) return fmt("%.0fk", v / 1000);
  if (v >= 100 || v == std::floor(v)) return fmt("%.0f", v);
  return fmt("%.2g", v);
}

// A line chart with labelled axes, ticks and a legend; x and y from 0 to a rounded maximum.
std::string lineChart(const std::string& title, const std::string& xlabel, const std::string& ylabel, const std::vector<Series>& series) {
  constexpr double W = 720, H = 360, L = 70, R = 20, T = 40, B = 50;
  double xmax = 0, ymax = 0;
  for (const Series& s : series) {
    for (auto [x, y] : s.points) {
      xmax = std::max(xmax, x);
      ymax = std::max(ymax, y);
    }
  }
  xmax = niceCeiling(xmax);
  ymax = niceCeiling(ymax);
  const auto px = [&](double x) { return L + (W - L - R) * x / xmax; };
  const auto py = [&](double y) { return H - B - (H - T - B) * y / ymax; };
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"360\" viewBox=\"0 0 720 360\" role=\"img\">\n";
  svg += "<title>" + escapeHtml(title) + "</title>\n";
  svg += "<text x=\"360\" y=\"22\" text-anchor=\"middle\" font-weight=\"bold\">" + escapeHtml(title) + "</text>\n";
  for (int i = 0; i <= 5; ++i) {
    const double xv = xmax * i / 5, yv = ymax * i / 5;
    svg += "<line x1=\"" + fmt("%.1f", px(xv)) + "\" y1=\"" + fmt("%.1f", H - B) + "\" x2=\"" + fmt("%.1f", px(xv)) + "\" y2=\"" +
           fmt("%.1f", T) + "\" stroke=\"#ddd\"/>";
    svg += "<text x=\"" + fmt("%.1f", px(xv)) + "\" y=\"" + fmt("%.1f", H - B + 16) + "\" text-anchor=\"middle\" font-size=\"11\">" +
           escapeHtml(axisNumber(xv)) + "</text>\n";
    svg += "<line x1=\"" + fmt("%.1f", L) + "\" y1=\"" + fmt("%.1f", py(yv)) + "\" x2=\"" + fmt("%.1f", W - R) + "\" y2=\"" +
           fmt("%.1f", py(yv)) + "\" stroke=\"#ddd\"/>";
    svg += "<text x=\"" + fmt("%.1f", L - 6) + "\" y=\"" + fmt("%.1f", py(yv) + 4) + "\" text-anchor=\"end\" font-size=\"11\">" +
           escapeHtml(axisNumber(yv)) + "</text>\n";
  }
  svg += "<line x1=\"" + fmt("%.1f", L) + "\" y1=\"" + fmt("%.1f", H - B) + "\" x2=\"" + fmt("%.1f", W - R) + "\" y2=\"" + fmt("%.1f", H - B) +
         "\" stroke=\"#000\"/><line x1=\"" + fmt("%.1f", L) + "\" y1=\"" + fmt("%.1f", T) + "\" x2=\"" + fmt("%.1f", L) + "\" y2=\"" +
         fmt("%.1f", H - B) + "\" stroke=\"#000\"/>\n";
  svg += "<text x=\"" + fmt("%.1f", (L + W - R) / 2) + "\" y=\"" + fmt("%.1f", H - 12) + "\" text-anchor=\"middle\">" + escapeHtml(xlabel) + "</text>\n";
  svg += "<text transform=\"translate(16," + fmt("%.1f", (T + H - B) / 2) + ") rotate(-90)\" text-anchor=\"middle\">" + escapeHtml(ylabel) +
         "</text>\n";
  double legend_y = T + 8;
  for (const Series& s : series) {
    std::string path;
    for (auto [x, y] : s.points) path += (path.empty() ? "M" : " L") + fmt("%.1f", px(x)) + "," + fmt("%.1f", py(y));
    svg += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"2\"" +
           (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    for (auto [x, y] : s.points) {
      svg += "<circle cx=\"" + fmt("%.1f", px(x)) + "\" cy=\"" + fmt("%.1f", py(y)) + "\" r=\"2.5\" fill=\"" + s.color + "\"/>";
    }
    svg += "\n<rect x=\"" + fmt("%.1f", L + 12) + "\" y=\"" + fmt("%.1f", legend_y - 9) + "\" width=\"12\" height=\"3\" fill=\"" + s.color +
           "\"/><text x=\"" + fmt("%.1f", L + 30) + "\" y=\"" + fmt("%.1f", legend_y - 4) + "\" font-size=\"12\">" + escapeHtml(s.name) +
           "</text>\n";
    legend_y += 16;
  }
  svg += "</svg>\n";
  return svg;
}

// Bars of latency percentiles, one group per phase.
std::string latencyBars(const std::vector<PhaseSummary>& phases) {
  constexpr double W = 720, H = 360, L = 70, R = 20, T = 40, B = 50;
  const char* names[] = {"p50", "p90", "p99", "p99.9"};
  const char* colors[] = {"#1b9e77", "#7570b3", "#d95f02", "#e7298a"};
  double ymax = 0;
  for (const auto& p : phases) ymax = std::max(ymax, p.p999_ms);
  ymax = niceCeiling(ymax);
  const auto py = [&](double y) { return H - B - (H - T - B) * y / ymax; };
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"360\" viewBox=\"0 0 720 360\" role=\"img\">\n";
  svg += "<title>Latency percentiles</title><text x=\"360\" y=\"22\" text-anchor=\"middle\" font-weight=\"bold\">Latency percentiles</text>\n";
  for (int i = 0; i <= 5; ++i) {
    const double yv = ymax * i / 5;
    svg += "<line x1=\"" + fmt("%.1f", L) + "\" y1=\"" + fmt("%.1f", py(yv)) + "\" x2=\"" + fmt("%.1f", W - R) + "\" y2=\"" +
           fmt("%.1f", py(yv)) + "\" stroke=\"#ddd\"/><text x=\"" + fmt("%.1f", L - 6) + "\" y=\"" + fmt("%.1f", py(yv) + 4) +
           "\" text-anchor=\"end\" font-size=\"11\">" + escapeHtml(axisNumber(yv)) + "</text>\n";
  }
  const double group = (W - L - R) / static_cast<double>(std::max<size_t>(1, phases.size()));
  const double bar = std::min(40.0, group / 5);
  for (size_t g = 0; g < phases.size(); ++g) {
    const double values[] = {phases[g].p50_ms, phases[g].p90_ms, phases[g].p99_ms, phases[g].p999_ms};
    const double x0 = L + group * static_cast<double>(g) + (group - 4 * bar) / 2;
    for (int k = 0; k < 4; ++k) {
      const double x = x0 + bar * k;
      svg += "<rect x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", py(values[k])) + "\" width=\"" + fmt("%.1f", bar - 2) + "\" height=\"" +
             fmt("%.1f", H - B - py(values[k])) + "\" fill=\"" + colors[k] + "\"><title>" + escapeHtml(phases[g].label) + " " + names[k] + " " +
             fmt("%.3f", values[k]) + " ms</title></rect>";
      svg += "<text x=\"" + fmt("%.1f", x + bar / 2 - 1) + "\" y=\"" + fmt("%.1f", py(values[k]) - 3) +
             "\" text-anchor=\"middle\" font-size=\"9\">" + escapeHtml(fmt("%.3g", values[k])) + "</text>\n";
    }
    svg += "<text x=\"" + fmt("%.1f", L + group * (static_cast<double>(g) + 0.5)) + "\" y=\"" + fmt("%.1f", H - B + 16) +
           "\" text-anchor=\"middle\" font-size=\"12\">" + escapeHtml(phases[g].label) + "</text>\n";
  }
  svg += "<line x1=\"" + fmt("%.1f", L) + "\" y1=\"" + fmt("%.1f", H - B) + "\" x2=\"" + fmt("%.1f", W - R) + "\" y2=\"" + fmt("%.1f", H - B) +
         "\" stroke=\"#000\"/><line x1=\"" + fmt("%.1f", L) + "\" y1=\"" + fmt("%.1f", T) + "\" x2=\"" + fmt("%.1f", L) + "\" y2=\"" +
         fmt("%.1f", H - B) + "\" stroke=\"#000\"/>\n";
  svg += "<text transform=\"translate(16," + fmt("%.1f", (T + H - B) / 2) + ") rotate(-90)\" text-anchor=\"middle\">latency (ms)</text>\n";
  for (int k = 0; k < 4; ++k) {
    svg += "<rect x=\"" + fmt("%.1f", W - R - 260 + 65 * k) + "\" y=\"" + fmt("%.1f", H - 20) + "\" width=\"10\" height=\"10\" fill=\"" + colors[k] +
           "\"/><text x=\"" + fmt("%.1f", W - R - 246 + 65 * k) + "\" y=\"" + fmt("%.1f", H - 11) + "\" font-size=\"12\">" + names[k] + "</text>";
  }
  svg += "\n</svg>\n";
  return svg;
}

std::vector<PhaseSummary> summaries(const BenchReport& r) {
  std::vector<PhaseSummary> out;
  const std::vector<StepView> views = stepViews(r.phases);
  for (size_t i = 0; i < r.phases.size(); ++i) {
    out.push_back(r.mode == BenchMode::Ramp ? summarise(r.phases[i], &r.ramp, &views[i]) : summarise(r.phases[i]));
  }
  return out;
}

}  // namespace

std::vector<StepView> stepViews(std::span<const PhaseResult> phases) {
  std::vector<StepView> views;
  uint64_t resolved = 0, unanswered = 0;
  for (const PhaseResult& p : phases) {
    resolved += p.answered + p.lost;
    unanswered += p.lost_unanswered;
    StepView v;
    v.offered_qps = perSecond(p.sent, p.seconds());
    v.received_qps = perSecond(p.received, p.seconds());
    v.sent = p.sent;
    v.lost = p.lost;
    v.final = p.final();
    v.requested_qps = p.plan.rate_qps;
    v.full_read_share = p.read_batches ? static_cast<double>(p.full_read_batches) / static_cast<double>(p.read_batches) : 0;
    v.lost_unanswered = p.lost_unanswered;
    v.unanswered_share = resolved ? static_cast<double>(unanswered) / static_cast<double>(resolved) : 0;
    v.source_dry = p.dry_ticks > 0;
    views.push_back(v);
  }
  return views;
}

PhaseSummary summarise(const PhaseResult& p, const RampOptions* ramp, const StepView* view) {
  PhaseSummary s;
  s.label = p.plan.label;
  s.requested_qps = p.plan.rate_qps;
  s.seconds = p.seconds();
  s.offered_qps = perSecond(p.sent, s.seconds);
  s.achieved_qps = perSecond(p.answered, s.seconds);
  s.received_qps = perSecond(p.received, s.seconds);
  s.response_rate = p.sent ? static_cast<double>(p.answered) / static_cast<double>(p.sent) : 0;
  s.sent = p.sent;
  s.answered = p.answered;
  s.lost = p.lost;
  s.truncated = p.truncated;
  s.send_errors = p.send_errors;
  s.late = p.late;
  s.ignored = p.ignored;
  s.full_read_share = p.read_batches ? static_cast<double>(p.full_read_batches) / static_cast<double>(p.read_batches) : 0;
  s.p50_ms = ms(p.latency_ns.percentile(50));
  s.p90_ms = ms(p.latency_ns.percentile(90));
  s.p99_ms = ms(p.latency_ns.percentile(99));
  s.p999_ms = ms(p.latency_ns.percentile(99.9));
  s.min_ms = ms(p.latency_ns.min());
  s.max_ms = ms(p.latency_ns.max());
  s.mean_ms = p.latency_ns.mean() / 1e6;
  s.lost_unanswered = p.lost_unanswered;
  s.dry_ticks = p.dry_ticks;
  if (ramp && view) s.sustained = stepSustained(*ramp, *view);
  return s;
}

PhaseResult mergePhases(const std::vector<PhaseResult>& phases) {
  PhaseResult total;
  total.plan.label = "total";
  uint64_t ns = 0;
  for (const PhaseResult& p : phases) {
    ns += p.end_ns > p.start_ns ? p.end_ns - p.start_ns : 0;
    total.sent += p.sent;
    total.answered += p.answered;
    total.lost += p.lost;
    total.lost_unanswered += p.lost_unanswered;
    total.dry_ticks += p.dry_ticks;
    total.truncated += p.truncated;
    total.send_errors += p.send_errors;
    total.received += p.received;
    total.late += p.late;
    total.ignored += p.ignored;
    total.read_batches += p.read_batches;
    total.full_read_batches += p.full_read_batches;
    total.latency_ns.merge(p.latency_ns);
    for (const auto& [type, c] : p.by_type) {
      TypeCounts& t = total.by_type[type];
      t.sent += c.sent;
      t.answered += c.answered;
      t.lost += c.lost;
      for (const auto& [k, n] : c.rcodes) t.rcodes[k] += n;
      for (const auto& [k, n] : c.ede) t.ede[k] += n;
    }
  }
  if (!phases.empty()) total.plan.rate_qps = phases.front().plan.rate_qps;
  total.end_ns = ns;
  return total;
}

RampOutcome rampOutcome(const BenchReport& r) {
  RampOutcome out;
  const std::vector<StepView> views = stepViews(r.phases);
  for (size_t i = 0; i < r.phases.size(); ++i) {
    const PhaseSummary s = summarise(r.phases[i], &r.ramp, &views[i]);
    out.max_received_qps = std::max(out.max_received_qps, s.received_qps);
    if (s.sustained && s.achieved_qps > out.max_sustained_qps) {
      out.max_sustained_qps = s.achieved_qps;
      out.best_step = static_cast<int>(i);
    }
  }
  return out;
}

std::string toJson(const BenchReport& r) {
  std::string out;
  storage::json::Writer w(out);
  w.beginObject();
  w.key("mode").value(modeName(r.mode));
  w.key("resolver").value(r.resolver);
  w.key("source").beginObject();
  w.key("kind").value(r.source_kind);
  w.key("path").value(r.source_path);
  w.key(r.source_kind == "queries" ? "questions" : "domains").value(static_cast<int64_t>(r.source_size));
  w.endObject();
  w.key("timeout_ms").value(int64_t{r.timeout_ms});
  w.key("interrupted").value(r.interrupted);
  const PhaseResult total = mergePhases(r.phases);
  if (r.mode == BenchMode::Ramp) {
    const RampOutcome o = rampOutcome(r);
    w.key("max_sustained_qps").raw(fmt("%.1f", o.max_sustained_qps));
    w.key("max_sustained_step").value(int64_t{o.best_step + 1});
    w.key("max_received_qps").raw(fmt("%.1f", o.max_received_qps));
    w.key("stop_reason").value(r.stop_reason);
    w.key("ramp").beginObject();
    w.key("start_qps").raw(fmt("%.1f", r.ramp.start_qps));
    w.key("growth").raw(fmt("%.4f", r.ramp.step_qps > 0 ? 0 : r.ramp.growth));
    w.key("step_qps").raw(fmt("%.1f", r.ramp.step_qps));
    w.key("max_qps").raw(fmt("%.1f", r.ramp.max_qps));
    w.key("step_seconds").raw(fmt("%.3f", r.ramp.step_seconds));
    w.key("min_response_ratio").raw(fmt("%.4f", r.ramp.min_response_ratio));
    w.key("max_loss").raw(fmt("%.4f", r.ramp.max_loss));
    w.key("patience").value(int64_t{r.ramp.patience});
    w.endObject();
    w.key("steps").beginArray();
    const std::vector<StepView> views = stepViews(r.phases);
    for (size_t i = 0; i < r.phases.size(); ++i) {
      w.beginObject();
      writePhase(w, r.phases[i], summarise(r.phases[i], &r.ramp, &views[i]), true);
      w.endObject();
    }
    w.endArray();
    w.key("total").beginObject();
    writePhase(w, total, summarise(total), false);
    w.endObject();
  } else {
    if (r.mode == BenchMode::Rate) w.key("duration_s").raw(fmt("%.3f", r.duration_s));
    // The run as a whole at the top level (the contract's fields), each pass beside it.
    writePhase(w, total, summarise(total), false);
    if (r.mode == BenchMode::Passes) {
      w.key("passes").beginArray();
      for (const PhaseResult& p : r.phases) {
        w.beginObject();
        writePhase(w, p, summarise(p), false);
        w.endObject();
      }
      w.endArray();
    }
  }
  w.endObject();
  out += '\n';
  return out;
}

std::string toText(const BenchReport& r) {
  std::string out = "danescan bench: resolver " + r.resolver + ", " + sourceText(r) + ", timeout " + std::to_string(r.timeout_ms) + " ms" +
                    (r.interrupted ? " (interrupted)" : "") + "\n";
  const auto phaseLines = [&](const PhaseResult& p, const PhaseSummary& s) {
    out += "  requested " + fmt("%.0f", s.requested_qps) + " q/s for " + fmt("%.2f", s.seconds) + " s: offered " + fmt("%.1f", s.offered_qps) +
           " q/s, achieved " + fmt("%.1f", s.achieved_qps) + " q/s (" + fmt("%.2f", 100 * s.response_rate) + " % answered)\n";
    out += "  sent " + std::to_string(s.sent) + ", answered " + std::to_string(s.answered) + ", lost " + std::to_string(s.lost) +
           " (timeout; " + std::to_string(s.lost_unanswered) + " of questions never answered), TC=1 " + std::to_string(s.truncated) + ", send errors " + std::to_string(s.send_errors) + ", late " +
           std::to_string(s.late) + ", ignored " + std::to_string(s.ignored) + ", full reads " + fmt("%.1f", 100 * s.full_read_share) +
           " %\n";
    out += "  latency ms: p50 " + fmt("%.3f", s.p50_ms) + "  p90 " + fmt("%.3f", s.p90_ms) + "  p99 " + fmt("%.3f", s.p99_ms) + "  p99.9 " +
           fmt("%.3f", s.p999_ms) + "  (min " + fmt("%.3f", s.min_ms) + ", mean " + fmt("%.3f", s.mean_ms) + ", max " + fmt("%.3f", s.max_ms) + ")\n";
    for (const auto& [type, c] : p.by_type) {
      char line[96];
      std::snprintf(line, sizeof line, "    %-6s sent %9" PRIu64 "  answered %9" PRIu64 "  lost %7" PRIu64 "  ", dns::rrTypeName(type).c_str(),
                    c.sent, c.answered, c.lost);
      out += line + typeMix(c) + "\n";
    }
  };
  if (r.mode == BenchMode::Ramp) {
    const RampOutcome o = rampOutcome(r);
    out += "ramp: " + fmt("%.0f", r.ramp.start_qps) + " q/s, " +
           (r.ramp.step_qps > 0 ? "+" + fmt("%.0f", r.ramp.step_qps) + " q/s" : "x" + fmt("%.3g", 1 + r.ramp.growth)) + " per step of " +
           fmt("%.3g", r.ramp.step_seconds) + " s\n";
    out += " step  requested    offered   achieved   received  answered     lost    p50 ms    p99 ms  sustained\n";
    const std::vector<StepView> views = stepViews(r.phases);
    for (size_t i = 0; i < r.phases.size(); ++i) {
      const PhaseSummary s = summarise(r.phases[i], &r.ramp, &views[i]);
      char line[200];
      std::snprintf(line, sizeof line, "%5zu %10.0f %10.1f %10.1f %10.1f %8.2f%% %8" PRIu64 " %9.3f %9.3f  %s\n", i + 1, s.requested_qps, s.offered_qps,
                    s.achieved_qps, s.received_qps, 100 * s.response_rate, s.lost, s.p50_ms, s.p99_ms, s.sustained ? "yes" : "no");
      out += line;
    }
    out += "max sustained: " + fmt("%.1f", o.max_sustained_qps) + " q/s" +
           (o.best_step >= 0 ? " (step " + std::to_string(o.best_step + 1) + ")" : std::string(" (no step sustained)")) +
           "; max received: " + fmt("%.1f", o.max_received_qps) + " q/s\n";
    out += "stopped: " + (r.stop_reason.empty() ? std::string("-") : r.stop_reason) + "\n";
    out += "all steps:\n";
    const PhaseResult total = mergePhases(r.phases);
    phaseLines(total, summarise(total));
    return out;
  }
  if (r.mode == BenchMode::Passes) {
    for (const PhaseResult& p : r.phases) {
      out += p.plan.label + ":\n";
      phaseLines(p, summarise(p));
    }
    return out;
  }
  const PhaseResult total = mergePhases(r.phases);
  out += "fixed rate:\n";
  phaseLines(total, summarise(total));
  return out;
}

std::string toHtml(const BenchReport& r) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>danescan bench</title>\n"
      "<style>body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}</style>\n"
      "</head><body>\n<h1>danescan bench</h1>\n";
  out += "<p>Resolver " + escapeHtml(r.resolver) + ", " + escapeHtml(sourceText(r)) + ", timeout " + std::to_string(r.timeout_ms) + " ms, mode " +
         modeName(r.mode) + (r.interrupted ? " (interrupted)" : "") + ".</p>\n";
  const std::vector<PhaseSummary> phases = summaries(r);
  if (r.mode == BenchMode::Ramp) {
    const RampOutcome o = rampOutcome(r);
    out += "<p><b>Max sustained: " + fmt("%.1f", o.max_sustained_qps) + " q/s</b>; max received " + fmt("%.1f", o.max_received_qps) +
           " q/s; stopped: " + escapeHtml(r.stop_reason.empty() ? "-" : r.stop_reason) + ".</p>\n";
    Series offered{"offered", "#999999", {}, true}, achieved{"achieved (answers to the step's queries)", "#1b9e77", {}, false},
        received{"received during the step", "#7570b3", {}, false};
    Series p50{"p50", "#1b9e77", {}, false}, p99{"p99", "#d95f02", {}, false}, p999{"p99.9", "#e7298a", {}, false};
    for (const PhaseSummary& s : phases) {
      offered.points.emplace_back(s.offered_qps, s.offered_qps);
      achieved.points.emplace_back(s.offered_qps, s.achieved_qps);
      received.points.emplace_back(s.offered_qps, s.received_qps);
      p50.points.emplace_back(s.offered_qps, s.p50_ms);
      p99.points.emplace_back(s.offered_qps, s.p99_ms);
      p999.points.emplace_back(s.offered_qps, s.p999_ms);
    }
    out += lineChart("Answers per second against the offered rate", "offered (queries/s)", "answers/s", {offered, achieved, received});
    out += lineChart("Latency per step", "offered (queries/s)", "latency (ms)", {p50, p99, p999});
  } else {
    out += latencyBars(phases);
  }
  out += "<table>\n<tr><th class=\"l\">phase</th><th>requested q/s</th><th>offered q/s</th><th>achieved q/s</th><th>received q/s</th><th>answered %</th>"
         "<th>lost</th><th>TC=1</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th>" +
         std::string(r.mode == BenchMode::Ramp ? "<th>sustained</th>" : "") + "</tr>\n";
  for (const PhaseSummary& s : phases) {
    out += "<tr><td class=\"l\">" + escapeHtml(s.label) + "</td><td>" + fmt("%.0f", s.requested_qps) + "</td><td>" + fmt("%.1f", s.offered_qps) +
           "</td><td>" + fmt("%.1f", s.achieved_qps) + "</td><td>" + fmt("%.1f", s.received_qps) + "</td><td>" + fmt("%.2f %%", 100 * s.response_rate) +
           "</td><td>" + std::to_string(s.lost) + "</td><td>" + std::to_string(s.truncated) + "</td><td>" + fmt("%.3f", s.p50_ms) + "</td><td>" +
           fmt("%.3f", s.p90_ms) + "</td><td>" + fmt("%.3f", s.p99_ms) + "</td><td>" + fmt("%.3f", s.p999_ms) + "</td>" +
           (r.mode == BenchMode::Ramp ? std::string("<td>") + (s.sustained ? "yes" : "no") + "</td>" : "") + "</tr>\n";
  }
  out += "</table>\n<h2>Answers by query type (whole run)</h2>\n<table>\n<tr><th class=\"l\">type</th><th>sent</th><th>answered</th><th>lost</th>"
         "<th class=\"l\">rcodes and Extended DNS Errors</th></tr>\n";
  const PhaseResult total = mergePhases(r.phases);
  for (const auto& [type, c] : total.by_type) {
    out += "<tr><td class=\"l\">" + escapeHtml(dns::rrTypeName(type)) + "</td><td>" + std::to_string(c.sent) + "</td><td>" + std::to_string(c.answered) +
           "</td><td>" + std::to_string(c.lost) + "</td><td class=\"l\">" + escapeHtml(typeMix(c)) + "</td></tr>\n";
  }
  out += "</table>\n</body></html>\n";
  return out;
}

}  // namespace danescan::scanner::loadgen
