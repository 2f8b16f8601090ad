// scanner/tls/prober.h — the probe scheduler: runs SmtpProbe (smtp_probe.h) for the pipeline on
// one libuv loop, politely.
// - Cache: one probe per (address, port, TLSA base domain, sorted TLSA RRset). A request
//   identical to one in flight joins it; one identical to a finished probe gets its record
//   (LRU-bounded, `cache_size`). A provider's MX named by thousands of domains is probed once
//   per address. DANE-TA(2) checks the reference names (MX host, next-hop domain), which differ
//   between the domains a host serves: a request with other names shares the outcome unless it
//   depended on names other than the TLSA base (the chain passed through the MX host's or the
//   next-hop's name, or failed on names); only then is it probed again, keyed by its names.
// - `tls_concurrency` probes in flight at most; the rest wait in a FIFO queue. At most
//   `per_address` connections to one address at a time (a queued probe to a busy address lets
//   later ones to other addresses pass).
// - A probe that met a 421 (and did not complete TLS) is retried once after `retry_delay_ms`; the
//   record then says rate_limited (also when the retry succeeded) and attempts 2.
//
// Stopping (as scanner/pipeline/scanner.h): stop() lets everything requested finish and be
// reported, except that a retry not yet started is dropped (its first record is reported);
// on_finished runs when nothing is left. abandon() cancels everything now without reporting.
// Callbacks run from the loop, never inside probe(); they must not destroy the Prober. A
// callback after the Prober is destroyed never happens (probes in flight are cancelled), but
// run the loop once after destroying it so the handles' close callbacks free them.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "scanner/loop/loop.h"
#include "scanner/tls/smtp_probe.h"
#include "storage/records.h"

namespace danescan::scanner::tls {

struct ProberOptions {
  ProbeOptions probe;
  unsigned tls_concurrency = 64;     // probes in flight at most (--tls-concurrency)
  unsigned per_address = 2;          // simultaneous connections to one address at most
  uint32_t retry_delay_ms = 30000;   // before the one retry after a 421
  size_t cache_size = 10000;         // finished probe records kept (LRU); each holds its chain's
                                     // evidence, about 7 KiB with a 39-name certificate, and a
                                     // DANE-EE pass whose leaf does not name the TLSA base also its
                                     // leaf (DER, 1-2 KiB; ProbeRecord::leaf_der)
};

struct ProberCounters {
  uint64_t requested = 0;      // probe() calls
  uint64_t cache_hits = 0;     // of those, joined a probe in flight or took a finished record
  uint64_t connections = 0;    // probes started (retries included)
  uint64_t retries = 0;        // after a 421
  uint64_t reported = 0;       // callbacks called
  size_t in_flight = 0;
  size_t queued = 0;
  size_t max_in_flight = 0;    // the most probes in flight at once
  size_t max_per_address = 0;  // the most connections to one address at once
};

// The cache key of a target (see above); exposed for tests.
[[nodiscard]] std::string probeKey(const ProbeTarget& target);

class Prober {
 public:
  using Callback = std::function<void(const storage::ProbeRecord&)>;

  // `loop` must outlive the Prober.
  Prober(uv_loop_t* loop, ProberOptions options);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Calls `done` once, later, from the loop, with the target's record. After abandon() (or when
  // stopped and `done` would need a new probe) it is never called.
  void probe(const ProbeTarget& target, Callback done);
  void stop();
  void abandon();
  void setOnFinished(std::function<void()> fn) { on_finished_ = std::move(fn); }
  [[nodiscard]] bool finished() const noexcept;
  [[nodiscard]] const ProberCounters& counters() const noexcept { return counters_; }

 private:
  enum class State { Queued, Running, Waiting, Done };
  struct Entry {
    Prober* owner = nullptr;
    std::string key;
    ProbeTarget target;
    State state = State::Queued;
    std::vector<Callback> waiters;
    // DANE-TA requests with other reference names, waiting for this probe's outcome.
    std::vector<std::pair<ProbeTarget, Callback>> other_names;
    bool names_matter = false;        // the outcome depended on names other than the base
    storage::ProbeRecord record;      // when Done; the first attempt's while Waiting
    SmtpProbe* probe = nullptr;       // while Running
    loop::TimerPtr retry_timer;       // while Waiting; its data points to this entry
    uint32_t attempts = 0;
    bool saw_421 = false;
    std::list<std::string>::iterator lru_pos;
  };

  void pump();
  void launch(const std::string& key, Entry& entry);
  void request(const std::string& key, const ProbeTarget& target, Callback done);
  void onProbeDone(const std::string& key, storage::ProbeRecord record, bool names_matter);
  void onRetryTimer(const std::string& key);
  void complete(const std::string& key, Entry& entry);
  void deliver(std::vector<Callback> waiters, const storage::ProbeRecord& record);
  void evict();
  void checkFinished();

  uv_loop_t* loop_;
  ProberOptions options_;
  std::function<void()> on_finished_;
  std::shared_ptr<Prober*> alive_;  // deferred deliveries hold a weak_ptr
  bool stopping_ = false;
  bool abandoned_ = false;
  bool in_pump_ = false;
  bool finished_reported_ = false;
  size_t deliveries_pending_ = 0;
  ProberCounters counters_;

  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
  std::deque<std::string> queue_;                 // keys waiting for a slot, FIFO
  std::unordered_map<std::string, unsigned> per_address_;
  std::list<std::string> lru_;                    // Done entries, oldest first
};

}  // namespace danescan::scanner::tls
