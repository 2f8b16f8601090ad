// scanner/pipeline/scanner.h — the driver: runs DomainLookup and HostLookup (the I/O-free cores)
// for a stream of domains on one libuv loop. It pulls domains from a DomainSource as slots free
// up (bounded domains in flight: memory stays flat however long the list; a scan's source reads
// the list on a thread of its own, domain_source.h, so a slow list never stalls the loop), keeps at most `concurrency` DNS queries in
// flight (the rest wait in a FIFO queue, so a host's CNAME query is always sent before its A and
// AAAA), optionally paces them with a token bucket (`qps`), sends identical questions in flight
// (name, type, CD) once, and caches finished host results for the run (LRU-bounded): the second
// domain on a provider's host waits for, or reuses, the first lookup. Each finished domain goes
// to the sink; `should_pause` (the writer's backlog) stops the pulling of new domains while true.
// A host lookup's queries (HostRecord::queries) travel with the first domain reported with that
// result only; later domains get the host without them (storage keeps them once per host).
//
// Probes (issue 4): with a ProbeTransport, a host whose state depends on TLS (usable TLSA
// records: `unprobed` after DNS; with `probe_all`, every host) is probed at each address it may
// be probed at (special-purpose addresses only with allow_special_addresses), per domain: the
// next-hop domain is one of DANE-TA's reference names. The transport (tls::Prober) caches
// identical probes, so a provider's host is still probed once per address. The host's state and
// TLS findings then come from its probe records (probe_state.h), before the domain gets it.
// Bounded work per domain (a list line must not aim the scanner at any set of port-25
// addresses): the domain's hosts are probed once all of them are known, in preference order,
// each at its first `max_addresses_per_host` addresses (address order), and the domain at
// `max_probes_per_domain` distinct targets (tls::probeKey()) in all; a cut gives the domain
// mx-limit-reached, and a host left with no probe stays `unprobed`. The number of MX hosts is
// bounded by DomainLookup (LookupOptions::max_mx_hosts).
//
// Stopping: stop() pulls no more domains and lets the domains in flight finish (their queries
// are bounded by the client's timeouts), so everything reported to the sink is complete and
// nothing is half-written; on_finished runs when the last one is out. abandon() drops the
// domains in flight without reporting them (a resumed scan redoes them) and finishes at once;
// answers still on their way are ignored. For SIGINT/SIGTERM: stop() (everything reported so far
// is complete, so the writer can commit it), and abandon() on a second signal.
//
// Lifetime: the transport must deliver every callback from the loop, never inside the query
// call (ResolverClient does). A callback that arrives after the Scanner is destroyed is ignored
// (a liveness token), but the Scanner's timers are libuv handles: run the loop once after
// destroying it so their close callbacks free them (loop::Loop's destructor does).
#pragma once

#include "inputs/domain_stream.h"
#include "scanner/dns/resolver_client.h"
#include "scanner/loop/loop.h"
#include "scanner/pipeline/adaptive_window.h"
#include "scanner/pipeline/domain_lookup.h"
#include "scanner/pipeline/domain_source.h"
#include "scanner/pipeline/host_lookup.h"
#include "scanner/tls/prober.h"
#include "scanner/tls/smtp_probe.h"
#include "storage/records.h"

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace danescan::scanner::pipeline {

struct ScanOptions {
  std::vector<dns::ResolverAddress> resolvers;  // for makeResolverTransport(); the Scanner uses the transport
  dns::ClientOptions client;                    // timeouts, attempts (makeResolverTransport)
  unsigned concurrency = 256;                   // DNS queries in flight at most (--concurrency N)
  // --concurrency auto: the window adapts (adaptive_window.h), from `concurrency` up to
  // `concurrency_max`; `concurrency` is then its starting size.
  bool adaptive = false;
  unsigned concurrency_max = 20000;             // --concurrency-max
  uint64_t feedback_ms = 6000;                  // how late a failure shows: the client's timeout x attempts
  // --late-retry: a question whose answer was a SERVFAIL with no DNSSEC reason (no Extended DNS
  // Error 1-12), or no answer at all, is asked once more this many ms later; 0: never. A slow or
  // briefly unreachable server makes a resolver give up on the first try and succeed on a later
  // one (it has learned the server's round trip by then); a bogus answer is not retried.
  uint64_t late_retry_ms = 0;
  double qps = 0;                               // queries per second at most; 0: no limit (--qps)
  unsigned domains_in_flight = 0;               // domains started and not finished; 0: 2 * concurrency
  size_t host_cache_size = 20000;               // finished host results kept (LRU; each holds its evidence)
  unsigned pause_poll_ms = 20;                  // how often should_pause is asked again while true
  bool allow_special_addresses = false;         // --allow-special-addresses
  bool no_probe = false;                        // --no-probe: hosts with usable TLSA stay unprobed
  bool probe_all = false;                       // --probe-all: probe every host with an address (opportunistic TLS)
  uint16_t smtp_port = 25;                      // --smtp-port
  unsigned max_mx_hosts = 10;                   // --max-mx-hosts (LookupOptions::max_mx_hosts)
  unsigned max_addresses_per_host = 5;          // --max-addresses-per-host: probed per host
  unsigned max_probes_per_domain = 20;          // --max-probes-per-domain: probe targets per domain
  std::optional<uint64_t> total_domains;        // for progress, when the caller knows it
};

struct ScanCounters {
  uint64_t domains_started = 0;
  uint64_t domains_done = 0;          // handed to the sink
  uint64_t domains_abandoned = 0;     // dropped by abandon()
  std::optional<uint64_t> domains_total;
  uint64_t queries_requested = 0;     // asked by the lookups
  uint64_t queries_coalesced = 0;     // of those, joined an identical question already pending
  uint64_t queries_late_retried = 0;  // questions asked again after --late-retry ms
  uint64_t queries_sent = 0;          // handed to the transport
  uint64_t queries_answered = 0;      // a response came back (any rcode)
  uint64_t queries_failed = 0;        // timeout or network error
  uint64_t queries_error_rcode = 0;   // answered with an rcode other than NOERROR/NXDOMAIN
  uint64_t ad_seen = 0;               // answers with the AD bit: 0 after many answers means the resolver does not validate
  uint64_t host_cache_hits = 0;       // host results taken from the cache (finished or pending)
  uint64_t host_lookups = 0;          // host lookups started
  uint64_t probes_requested = 0;      // probe targets handed to the probe transport
  uint64_t probes_done = 0;           // of those, answered
  uint64_t probes_failed = 0;         // of those, not authenticated or not connected
  size_t queries_in_flight = 0;
  unsigned window = 0;                // DNS queries allowed in flight now (fixed, or the adaptive window)
  unsigned window_peak = 0;           // the largest window of the run so far
  size_t queries_queued = 0;
  size_t domains_in_flight = 0;
};

class Scanner {
 public:
  using Sink = std::function<void(storage::DomainRecord&&)>;
  using PauseHook = std::function<bool()>;
  // Sends one query; calls `done` exactly once, later, from the loop.
  using Transport = std::function<void(const dns::Question&, dns::QueryOptions, std::function<void(dns::QueryResult)> done)>;
  // Probes one address (SMTP STARTTLS + DANE); calls `done` exactly once, later, from the loop.
  // Empty (the default): no probes, as with --no-probe.
  using ProbeTransport = std::function<void(const tls::ProbeTarget&, std::function<void(const storage::ProbeRecord&)> done)>;

  // `loop` and `source` must outlive the Scanner. `sink` runs on the loop thread for each
  // finished domain, in completion order; it must not throw.
  Scanner(uv_loop_t* loop, ScanOptions options, Transport transport, DomainSource& source, Sink sink,
          PauseHook should_pause = {}, ProbeTransport probe = {});
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Starts pulling domains. Returns at once; the work happens as the loop runs.
  void start();
  // No new domains; the ones in flight finish and are reported. Idempotent.
  void stop();
  // Drops the domains in flight without reporting them; finishes now. Idempotent.
  void abandon();

  // Called once when every domain is reported (the stream ended or stop()/abandon()); inside
  // start() already when the list is empty. It must not destroy the Scanner.
  void setOnFinished(std::function<void()> fn) { on_finished_ = std::move(fn); }
  [[nodiscard]] bool finished() const noexcept { return finished_; }
  // The list has been read to its end (or the scan is stopping): no new domains start.
  [[nodiscard]] bool inputDone() const noexcept { return input_done_ || stopping_; }
  [[nodiscard]] const ScanCounters& counters() const noexcept { return counters_; }

 private:
  struct DomainJob;
  struct HostEntry;
  struct Pending;
  struct ProbeJob;

  void pullDomains();
  void startDomain(inputs::DomainEntry entry);
  void sendDomainRequests(uint64_t job_id);
  void onDomainAnswer(uint64_t job_id, uint32_t request_id, const dns::QueryResult& result);
  void wantHost(uint64_t job_id, const std::string& host);
  void sendHostRequests(const std::string& host);
  void onHostAnswer(const std::string& host, uint64_t generation, uint32_t request_id, const dns::QueryResult& result);
  void hostFinished(const std::string& host);
  // `record` is the domain's own copy.
  void deliverHost(uint64_t job_id, const std::string& host, uint64_t generation, storage::HostRecord record);
  void startProbes(uint64_t job_id);
  [[nodiscard]] std::vector<tls::ProbeTarget> probeTargets(const std::string& domain, const storage::HostRecord& record) const;
  void onProbed(uint64_t job_id, uint64_t probe_job, size_t index, const storage::ProbeRecord& record);
  void maybeFinishDomain(uint64_t job_id);
  void request(const QueryRequest& request, std::function<void(const dns::QueryResult&)> deliver);
  void pump();
  void onAnswer(const std::string& key, dns::QueryResult result);
  [[nodiscard]] bool takeToken();
  void armTimer(uint64_t ms);
  void onTimer();
  void checkFinished();
  [[nodiscard]] unsigned window() const noexcept { return adaptive_ ? adaptive_->size() : options_.concurrency; }
  [[nodiscard]] size_t domainsInFlightLimit() const noexcept;
  void touchLru(const std::string& host);
  void evictHosts();

  uv_loop_t* loop_;
  ScanOptions options_;
  LookupOptions lookup_options_;
  Transport transport_;
  DomainSource& source_;
  Sink sink_;
  PauseHook should_pause_;
  ProbeTransport probe_;
  std::function<void()> on_finished_;
  std::shared_ptr<Scanner*> alive_;  // callbacks hold a weak_ptr: answers after destruction are dropped

  bool started_ = false;
  bool stopping_ = false;
  bool input_done_ = false;
  bool finished_ = false;
  bool in_pump_ = false;
  ScanCounters counters_;

  uint64_t next_job_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<DomainJob>> domains_;
  std::unordered_map<std::string, std::unique_ptr<HostEntry>> hosts_;
  std::list<std::string> lru_;  // finished hosts, oldest first
  uint64_t host_generation_ = 1;
  // The queries of finished host lookups (by generation) that no reported domain carries yet.
  std::unordered_map<uint64_t, std::vector<storage::QueryRecord>> unclaimed_queries_;

  uint64_t next_probe_job_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<ProbeJob>> probe_jobs_;  // hosts of domains waiting for probes

  std::unordered_map<std::string, std::unique_ptr<Pending>> pending_;  // by question key
  std::deque<std::string> queue_;                                      // keys waiting to be sent

  std::optional<AdaptiveWindow> adaptive_;  // --concurrency auto
  double tokens_ = 0;
  uint64_t last_refill_ms_ = 0;
  loop::TimerPtr timer_;
  bool timer_armed_ = false;
  // Questions waiting for their late retry (ScanOptions::late_retry_ms), in due order.
  struct LateRetry {
    uint64_t due_ms;
    std::string key;
  };
  std::deque<LateRetry> late_;
  loop::TimerPtr late_timer_;
  bool late_timer_armed_ = false;
  void armLateTimer();
  void onLateTimer();
};

// A Transport that sends through `client` (which must outlive every query).
[[nodiscard]] Scanner::Transport makeResolverTransport(dns::ResolverClient& client);
// A ProbeTransport that probes through `prober` (which must outlive every probe).
[[nodiscard]] Scanner::ProbeTransport makeProberTransport(tls::Prober& prober);

}  // namespace danescan::scanner::pipeline
