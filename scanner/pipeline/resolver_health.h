// scanner/pipeline/resolver_health.h — is the resolver still giving the scan true answers?
// (issue 11). Two I/O-free judgements the scan command makes on the loop:
//
// - resolverSilent(): the resolver never answered at all (nothing listening, a firewall). Every
//   domain would be stored as a timeout that is the resolver's, not the domain's; the scan stops
//   instead (exit 1, run `interrupted`, --resume once a resolver works).
// - HealthMonitor: the share of query results that are timeouts or SERVFAILs in a sliding window
//   of the latest `window` results, against the results before the window. A jump (a resolver
//   died, or began to rate-limit) opens a warning, a return to near the baseline closes it; a
//   first window that is already mostly failures gives an at-start warning (a resolver that
//   SERVFAILs everything answers, so it is not silent, but its data is no better). Counts, not
//   times: the same results give the same warnings on any machine.
#pragma once

#include "scanner/dns/resolver_client.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace danescan::scanner::pipeline {

// True when no resolver has answered anything (no response of any rcode, over UDP or TCP) while
// the first queries got no answer on a retry either (some query had min(2, attempts) UDP attempts
// time out) and every resolver had at least one attempt time out: with several resolvers, silent
// means that none answers. A slow first answer only delays the verdict: one response clears it.
[[nodiscard]] bool resolverSilent(const dns::ClientStats& stats, size_t resolvers, unsigned attempts);

enum class ResultKind : uint8_t { Ok, Timeout, Servfail };
inline constexpr size_t kResultKinds = 3;
// Timeout: no answer (QueryOutcome Timeout or NetworkError); Servfail: answered SERVFAIL;
// everything else (NOERROR, NXDOMAIN, REFUSED, ...) is Ok here.
[[nodiscard]] ResultKind classify(const dns::QueryResult& result);
[[nodiscard]] const char* kindName(ResultKind kind);  // "timeout", "servfail"

struct HealthWarning {
  ResultKind kind = ResultKind::Timeout;
  bool at_start = false;        // the first window, no baseline
  uint64_t at_query = 0;        // results seen when it opened
  double share = 0;             // of `kind` in the window then (the highest while it lasted)
  double baseline = 0;          // of `kind` before the window (at_start: 0)
  std::optional<uint64_t> until_query;  // results seen when it closed; nullopt while it lasts
  std::string at_time;          // UTC, when it opened (set by the caller: this module has no clock)
};

class HealthMonitor {
 public:
  struct Options {
    size_t window = 200;       // results in the sliding window
    double jump = 0.2;         // opens when the window's share >= baseline + jump ...
    double factor = 3;         // ... and >= factor * baseline
    double at_start = 0.5;     // the first full window with this share of one kind warns at once
  };
  HealthMonitor() : HealthMonitor(Options{}) {}
  explicit HealthMonitor(Options options);

  // One query result. Returns the warning that opened with it, if one did.
  const HealthWarning* record(ResultKind kind);

  [[nodiscard]] const std::vector<HealthWarning>& warnings() const noexcept { return warnings_; }
  // The warnings still open, one line for the progress line ("" when none):
  // "timeouts 85% of the last 200 queries (2% before)".
  [[nodiscard]] std::string activeText() const;
  // One line per warning, for the summary.
  [[nodiscard]] std::vector<std::string> summaryLines() const;
  // The runs.health JSON object (storage/SCHEMA.md), or nullopt when there was no warning.
  // `extra` are more warning objects, already JSON (e.g. the silent resolver's).
  [[nodiscard]] std::optional<std::string> json(const std::vector<std::string>& extra = {}) const;
  [[nodiscard]] uint64_t seen() const noexcept { return seen_; }
  void stampLastOpened(const std::string& utc) {
    if (!warnings_.empty()) warnings_.back().at_time = utc;
  }

 private:
  Options options_;
  std::vector<ResultKind> ring_;
  size_t next_ = 0;
  uint64_t seen_ = 0;
  std::array<uint64_t, kResultKinds> in_window_{};
  std::array<uint64_t, kResultKinds> before_{};  // results that left the window
  std::array<std::optional<size_t>, kResultKinds> open_{};  // index into warnings_
  std::vector<HealthWarning> warnings_;
};

}  // namespace danescan::scanner::pipeline
