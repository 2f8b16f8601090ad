// scanner/pipeline/resolver_health.cc — see resolver_health.h.
#include "scanner/pipeline/resolver_health.h"

#include "storage/json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace danescan::scanner::pipeline {
namespace {

std::string percent(double share) { return std::to_string(static_cast<int>(std::lround(share * 100))) + "%"; }

const char* plural(ResultKind kind) { return kind == ResultKind::Timeout ? "timeouts" : "SERVFAILs"; }

}  // namespace

bool resolverSilent(const dns::ClientStats& stats, size_t resolvers, unsigned attempts) {
  if (stats.responses > 0 || resolvers == 0) return false;
  return stats.most_timeouts_in_a_query >= std::min(2u, std::max(1u, attempts)) && stats.resolvers_timed_out >= resolvers;
}

ResultKind classify(const dns::QueryResult& result) {
  if (result.outcome != dns::QueryOutcome::Answered) return ResultKind::Timeout;
  return result.rcode == "SERVFAIL" ? ResultKind::Servfail : ResultKind::Ok;
}

const char* kindName(ResultKind kind) {
  switch (kind) {
    case ResultKind::Timeout:
      return "timeout";
    case ResultKind::Servfail:
      return "servfail";
    case ResultKind::Ok:
      break;
  }
  return "ok";
}

HealthMonitor::HealthMonitor(Options options) : options_(options) {
  options_.window = std::max<size_t>(options_.window, 10);
  ring_.reserve(options_.window);
}

const HealthWarning* HealthMonitor::record(ResultKind kind) {
  if (ring_.size() < options_.window) {
    ring_.push_back(kind);
  } else {
    const ResultKind leaving = ring_[next_];
    --in_window_[static_cast<size_t>(leaving)];
    ++before_[static_cast<size_t>(leaving)];
    ring_[next_] = kind;
    next_ = (next_ + 1) % options_.window;
  }
  ++in_window_[static_cast<size_t>(kind)];
  ++seen_;
  if (ring_.size() < options_.window) return nullptr;  // too few results to say anything

  const double w = static_cast<double>(options_.window);
  const uint64_t before_total = seen_ - options_.window;
  const HealthWarning* opened = nullptr;
  for (ResultKind k : {ResultKind::Timeout, ResultKind::Servfail}) {
    const size_t i = static_cast<size_t>(k);
    const double share = static_cast<double>(in_window_[i]) / w;
    if (open_[i]) {
      HealthWarning& open = warnings_[*open_[i]];
      open.share = std::max(open.share, share);
      if (share <= open.baseline + options_.jump / 2) {
        open.until_query = seen_;
        open_[i].reset();
      }
      continue;
    }
    HealthWarning warning;
    warning.kind = k;
    warning.at_query = seen_;
    warning.share = share;
    if (seen_ == options_.window) {
      if (share < options_.at_start) continue;
      warning.at_start = true;
    } else {
      // The baseline needs as many results as the window: no warning on the first few hundred.
      if (before_total < options_.window) continue;
      const double baseline = static_cast<double>(before_[i]) / static_cast<double>(before_total);
      if (share < baseline + options_.jump || share < options_.factor * baseline) continue;
      warning.baseline = baseline;
    }
    open_[i] = warnings_.size();
    warnings_.push_back(warning);
    opened = &warnings_.back();
  }
  return opened;
}

std::string HealthMonitor::activeText() const {
  std::string out;
  for (const auto& index : open_) {
    if (!index) continue;
    const HealthWarning& w = warnings_[*index];
    const size_t i = static_cast<size_t>(w.kind);
    const double now = static_cast<double>(in_window_[i]) / static_cast<double>(options_.window);
    if (!out.empty()) out += ", ";
    out += std::string(plural(w.kind)) + " " + percent(now) + " of the last " + std::to_string(options_.window) + " queries";
    out += w.at_start ? " (from the start)" : " (" + percent(w.baseline) + " before)";
  }
  return out;
}

std::vector<std::string> HealthMonitor::summaryLines() const {
  std::vector<std::string> lines;
  for (const HealthWarning& w : warnings_) {
    std::string line = w.at_start ? std::string(plural(w.kind)) + " were " + percent(w.share) + " of the first " +
                                        std::to_string(options_.window) + " queries"
                                  : std::string(plural(w.kind)) + " rose to " + percent(w.share) + " of " +
                                        std::to_string(options_.window) + " queries at query " + std::to_string(w.at_query) +
                                        " (" + percent(w.baseline) + " before)";
    line += w.until_query ? ", back to normal at query " + std::to_string(*w.until_query) : ", until the end";
    lines.push_back(line);
  }
  return lines;
}

std::optional<std::string> HealthMonitor::json(const std::vector<std::string>& extra) const {
  if (warnings_.empty() && extra.empty()) return std::nullopt;
  std::string out;
  storage::json::Writer j(out);
  j.beginObject();
  j.key("window").value(static_cast<int64_t>(options_.window));
  j.key("queries").value(static_cast<int64_t>(seen_));
  j.key("warnings").beginArray();
  for (const std::string& e : extra) j.raw(e);
  for (const HealthWarning& w : warnings_) {
    char share[32];
    char baseline[32];
    std::snprintf(share, sizeof share, "%.4f", w.share);
    std::snprintf(baseline, sizeof baseline, "%.4f", w.baseline);
    j.beginObject();
    j.key("kind").value(std::string(kindName(w.kind)) + (w.at_start ? "-at-start" : "-jump"));
    j.key("at_query").value(static_cast<int64_t>(w.at_query));
    j.key("until_query");
    if (w.until_query) {
      j.value(static_cast<int64_t>(*w.until_query));
    } else {
      j.null();
    }
    j.key("share").raw(share);
    j.key("baseline").raw(baseline);
    j.key("at").value(w.at_time);
    j.endObject();
  }
  j.endArray();
  j.endObject();
  return out;
}

}  // namespace danescan::scanner::pipeline
