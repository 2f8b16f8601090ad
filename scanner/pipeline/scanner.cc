#include "scanner/pipeline/scanner.h"

#include "scanner/pipeline/probe_state.h"
#include "scanner/pipeline/special_address.h"
#include "scanner/pipeline/verdict.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <set>

namespace danescan::scanner::pipeline {

struct Scanner::DomainJob {
  DomainJob(std::string domain, LookupOptions options) : lookup(domain, options), name(std::move(domain)) {}
  DomainLookup lookup;
  std::string name;    // the next-hop domain, a reference name of DANE-TA probes
  std::string source;
  uint64_t line = 0;
  std::optional<uint64_t> rank;
  std::vector<std::pair<std::string, uint64_t>> hosts_received;  // host, generation of its lookup
  // With probes: the hosts in preference order, and those delivered so far (their probes start
  // once all are there, so that the domain's probe budget goes in preference order).
  std::vector<std::string> host_order;
  std::map<std::string, std::pair<uint64_t, storage::HostRecord>> arrived;
};

struct Scanner::HostEntry {
  std::unique_ptr<HostLookup> lookup;          // while the lookup runs
  std::optional<storage::HostRecord> record;   // once it finished
  std::vector<uint64_t> waiting;               // domain jobs that want it
  uint64_t generation = 0;
  std::list<std::string>::iterator lru_pos;
  bool in_lru = false;
};

// One host of one domain waiting for its probes (one per probe target, in address order).
struct Scanner::ProbeJob {
  uint64_t job_id = 0;
  std::string host;
  uint64_t generation = 0;
  storage::HostRecord record;
  std::vector<std::optional<storage::ProbeRecord>> probes;
  std::vector<std::vector<std::string>> reference_names;  // per probe target: this domain's
  size_t outstanding = 0;
};

struct Scanner::Pending {
  dns::Question question;
  bool cd = false;
  std::vector<std::function<void(const dns::QueryResult&)>> waiters;
  // The late retry (ScanOptions::late_retry_ms): the first try's outcome, kept for the evidence.
  bool late_retried = false;
  uint64_t first_sent_ms = 0;
  std::optional<dns::QueryResult> first;
};

namespace {

// A first try worth repeating later: no answer at all, or a SERVFAIL that carries no DNSSEC reason
// (Extended DNS Errors 1-12, RFC 8914: the resolver found the data bogus, which a retry does not
// change). What is left is a resolver that gave up on a slow or unreachable server.
bool wantsLateRetry(const dns::QueryResult& r) {
  if (r.outcome != dns::QueryOutcome::Answered) return true;
  if (r.rcode != "SERVFAIL" || !r.response) return false;
  for (const auto& e : r.response->extended_errors) {
    if (e.code >= 1 && e.code <= 12) return false;
  }
  return true;
}

std::string questionKey(const dns::Question& q, bool cd) {
  std::string key = q.name;
  key += '|';
  key += std::to_string(q.type);
  key += cd ? "|cd" : "|";
  return key;
}

}  // namespace

Scanner::Scanner(uv_loop_t* loop, ScanOptions options, Transport transport, DomainSource& source, Sink sink,
                 PauseHook should_pause, ProbeTransport probe)
    : loop_(loop),
      options_(std::move(options)),
      transport_(std::move(transport)),
      source_(source),
      sink_(std::move(sink)),
      should_pause_(std::move(should_pause)),
      probe_(options_.no_probe ? ProbeTransport{} : std::move(probe)),
      alive_(std::make_shared<Scanner*>(this)) {
  lookup_options_.allow_special_addresses = options_.allow_special_addresses;
  lookup_options_.max_mx_hosts = options_.max_mx_hosts;
  if (options_.concurrency == 0) options_.concurrency = 1;
  if (options_.adaptive) {
    WindowOptions w;
    w.initial = options_.concurrency;
    w.floor = std::min(16u, options_.concurrency);
    w.ceiling = std::max(options_.concurrency, options_.concurrency_max);
    w.feedback_ms = options_.feedback_ms;
    adaptive_.emplace(w);
  }
  counters_.window = counters_.window_peak = window();
  counters_.domains_total = options_.total_domains;
  tokens_ = std::max(1.0, options_.qps / 20);
  int error = 0;
  timer_ = loop::makeTimer(loop_, error);
  if (!timer_) {
    std::fprintf(stderr, "danescan: cannot create a timer: %s\n", uv_strerror(error));
    std::terminate();  // start-up error: the loop cannot work without it
  }
  timer_->data = this;
  if (options_.late_retry_ms > 0) {
    late_timer_ = loop::makeTimer(loop_, error);
    if (late_timer_) late_timer_->data = this;
  }
  // A list read ahead on another thread (DomainFeed) says when the next domain is there.
  source_.setOnReady([this] {
    pullDomains();
    pump();
    checkFinished();
  });
}

Scanner::~Scanner() {
  *alive_ = nullptr;
  source_.setOnReady({});
}

void Scanner::start() {
  if (started_) return;
  started_ = true;
  last_refill_ms_ = uv_now(loop_);
  pullDomains();
  pump();
  checkFinished();
}

void Scanner::stop() {
  stopping_ = true;
  checkFinished();
}

void Scanner::abandon() {
  stopping_ = true;
  unclaimed_queries_.clear();
  counters_.domains_abandoned += domains_.size();
  domains_.clear();
  probe_jobs_.clear();  // probe answers still on their way find no job and are dropped
  counters_.domains_in_flight = 0;
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    if (it->second->lookup) {
      it = hosts_.erase(it);
    } else {
      ++it;
    }
  }
  // Answers still on their way find no pending question and are dropped (onAnswer).
  pending_.clear();
  queue_.clear();
  late_.clear();
  counters_.queries_queued = 0;
  checkFinished();
}

// Domains started and not finished at most: the option, or twice the window (enough questions
// queued to keep it full; an adaptive window takes more domains as it grows).
size_t Scanner::domainsInFlightLimit() const noexcept {
  return options_.domains_in_flight ? options_.domains_in_flight : 2 * static_cast<size_t>(window());
}

void Scanner::pullDomains() {
  while (!stopping_ && !input_done_ && domains_.size() < domainsInFlightLimit()) {
    if (should_pause_ && should_pause_()) {
      armTimer(options_.pause_poll_ms);  // back-pressure: ask again later
      break;
    }
    inputs::DomainEntry entry;
    const DomainSource::Take taken = source_.take(entry);
    if (taken == DomainSource::Take::Later) break;  // the source calls back (setOnReady)
    if (taken == DomainSource::Take::End) {
      input_done_ = true;
      break;
    }
    startDomain(std::move(entry));
  }
}

void Scanner::startDomain(inputs::DomainEntry entry) {
  const uint64_t id = next_job_++;
  auto job = std::make_unique<DomainJob>(entry.name, lookup_options_);
  job->source = std::move(entry.source);
  job->line = entry.line;
  job->rank = entry.rank;
  domains_.emplace(id, std::move(job));
  ++counters_.domains_started;
  counters_.domains_in_flight = domains_.size();
  sendDomainRequests(id);
}

void Scanner::sendDomainRequests(uint64_t job_id) {
  auto it = domains_.find(job_id);
  if (it == domains_.end()) return;
  for (const QueryRequest& r : it->second->lookup.takeRequests()) {
    const uint32_t rid = r.id;
    request(r, [this, job_id, rid](const dns::QueryResult& result) { onDomainAnswer(job_id, rid, result); });
  }
}

void Scanner::onDomainAnswer(uint64_t job_id, uint32_t request_id, const dns::QueryResult& result) {
  auto it = domains_.find(job_id);
  if (it == domains_.end()) return;
  DomainLookup& lookup = it->second->lookup;
  lookup.consume(request_id, result);
  sendDomainRequests(job_id);
  if (lookup.mxDone()) {
    std::vector<std::string> hosts = lookup.takeHostsToLookUp();
    if (!hosts.empty()) it->second->host_order = hosts;
    for (const std::string& host : hosts) wantHost(job_id, host);
  }
  maybeFinishDomain(job_id);
}

void Scanner::wantHost(uint64_t job_id, const std::string& host) {
  auto it = hosts_.find(host);
  if (it != hosts_.end()) {
    ++counters_.host_cache_hits;
    HostEntry& entry = *it->second;
    if (entry.record) {
      touchLru(host);
      deliverHost(job_id, host, entry.generation, *entry.record);  // a copy: the domain takes it
    } else {
      entry.waiting.push_back(job_id);
    }
    return;
  }
  auto entry = std::make_unique<HostEntry>();
  entry->lookup = std::make_unique<HostLookup>(host, lookup_options_);
  entry->waiting.push_back(job_id);
  entry->generation = host_generation_++;
  hosts_.emplace(host, std::move(entry));
  ++counters_.host_lookups;
  sendHostRequests(host);
}

void Scanner::sendHostRequests(const std::string& host) {
  auto it = hosts_.find(host);
  if (it == hosts_.end() || !it->second->lookup) return;
  const uint64_t generation = it->second->generation;
  for (const QueryRequest& r : it->second->lookup->takeRequests()) {
    const uint32_t rid = r.id;
    request(r, [this, host, generation, rid](const dns::QueryResult& result) { onHostAnswer(host, generation, rid, result); });
  }
}

void Scanner::onHostAnswer(const std::string& host, uint64_t generation, uint32_t request_id, const dns::QueryResult& result) {
  auto it = hosts_.find(host);
  if (it == hosts_.end() || it->second->generation != generation || !it->second->lookup) return;
  HostLookup& lookup = *it->second->lookup;
  lookup.consume(request_id, result);
  if (lookup.done()) {
    hostFinished(host);
  } else {
    sendHostRequests(host);
  }
}

void Scanner::hostFinished(const std::string& host) {
  HostEntry& entry = *hosts_.at(host);
  entry.record = entry.lookup->takeRecord();
  entry.lookup.reset();
  // The evidence (every query of the lookup) goes to the first domain reported with this host,
  // not into every copy: storage keeps a host's queries once, from the first record it sees
  // (storage/writer.cc), and copying them into each of thousands of domains was a large part of
  // a hot scan's CPU. See maybeFinishDomain().
  const uint64_t generation = entry.generation;
  if (!entry.record->queries.empty()) {
    unclaimed_queries_[generation] = std::move(entry.record->queries);
    entry.record->queries.clear();
  }
  const storage::HostRecord record = *entry.record;  // the entry may be evicted below
  std::vector<uint64_t> waiting;
  waiting.swap(entry.waiting);
  touchLru(host);
  for (uint64_t job_id : waiting) deliverHost(job_id, host, generation, record);
  evictHosts();
}

void Scanner::deliverHost(uint64_t job_id, const std::string& host, uint64_t generation, storage::HostRecord record) {
  auto job = domains_.find(job_id);
  if (job == domains_.end()) return;
  if (!probe_) {
    job->second->hosts_received.emplace_back(host, generation);
    job->second->lookup.addHost(std::move(record));
    maybeFinishDomain(job_id);
    return;
  }
  DomainJob& domain = *job->second;
  domain.arrived.emplace(host, std::make_pair(generation, std::move(record)));
  if (domain.arrived.size() == domain.host_order.size()) startProbes(job_id);
}

void Scanner::startProbes(uint64_t job_id) {
  DomainJob& domain = *domains_.at(job_id);
  std::set<std::string> budget_used;  // distinct probe targets (tls::probeKey) of this domain
  bool cut = false;
  std::vector<std::pair<std::string, uint64_t>> unprobed;  // hosts with nothing to probe
  for (const std::string& host : domain.host_order) {
    auto arrived = domain.arrived.find(host);
    if (arrived == domain.arrived.end()) continue;
    const uint64_t generation = arrived->second.first;
    storage::HostRecord& record = arrived->second.second;
    std::vector<tls::ProbeTarget> all = probeTargets(domain.name, record);
    std::vector<tls::ProbeTarget> targets;
    for (tls::ProbeTarget& t : all) {
      if (targets.size() >= options_.max_addresses_per_host) {
        cut = true;
        break;
      }
      const std::string key = tls::probeKey(t);
      if (!budget_used.count(key) && budget_used.size() >= options_.max_probes_per_domain) {
        cut = true;
        break;
      }
      budget_used.insert(key);
      targets.push_back(std::move(t));
    }
    if (targets.empty()) {
      unprobed.emplace_back(host, generation);
      continue;
    }
    const uint64_t probe_job = next_probe_job_++;
    auto pj = std::make_unique<ProbeJob>();
    pj->job_id = job_id;
    pj->host = host;
    pj->generation = generation;
    pj->record = std::move(record);
    pj->probes.resize(targets.size());
    for (const auto& t : targets) pj->reference_names.push_back(t.reference_names);
    pj->outstanding = targets.size();
    probe_jobs_.emplace(probe_job, std::move(pj));
    for (size_t i = 0; i < targets.size(); ++i) {
      ++counters_.probes_requested;
      std::weak_ptr<Scanner*> alive = alive_;
      // The transport calls back later, from the loop (never inside this call).
      probe_(targets[i], [alive, job_id, probe_job, i](const storage::ProbeRecord& probed) {
        auto self = alive.lock();
        if (self && *self) (*self)->onProbed(job_id, probe_job, i, probed);
      });
    }
  }
  if (cut) domain.lookup.addFinding("mx-limit-reached");
  for (const auto& [host, generation] : unprobed) {
    domain.hosts_received.emplace_back(host, generation);
    domain.lookup.addHost(std::move(domain.arrived.at(host).second));
  }
  domain.arrived.clear();
  maybeFinishDomain(job_id);
}

std::vector<tls::ProbeTarget> Scanner::probeTargets(const std::string& domain, const storage::HostRecord& record) const {
  // Usable TLSA records leave the DNS lookup `unprobed`; with probe_all every host is probed
  // (opportunistic TLS), its state unchanged unless it has usable TLSA records.
  const bool dane = record.dane == toString(HostState::Unprobed);
  if (!dane && !options_.probe_all) return {};
  std::vector<tls::ProbeTarget> targets;
  for (const std::string& address : record.addresses) {
    if (!options_.allow_special_addresses && isSpecialAddress(address)) continue;
    tls::ProbeTarget t;
    t.address = address;
    t.port = options_.smtp_port;
    t.tlsa_base = record.tlsa_base.value_or(record.host);
    if (dane) t.tlsa = record.tlsa;
    // RFC 7672 section 3.2.2: the TLSA base domain, the MX host name, the next-hop domain.
    t.reference_names = {t.tlsa_base, record.host, domain};
    targets.push_back(std::move(t));
  }
  return targets;
}

void Scanner::onProbed(uint64_t job_id, uint64_t probe_job, size_t index, const storage::ProbeRecord& probed) {
  auto it = probe_jobs_.find(probe_job);
  if (it == probe_jobs_.end()) return;
  ProbeJob& pj = *it->second;
  if (index >= pj.probes.size() || pj.probes[index]) return;
  pj.probes[index] = probed;
  judgeLeafNames(*pj.probes[index], pj.reference_names[index]);  // maybe another domain's probe
  ++counters_.probes_done;
  if (!(probed.connected && probed.dane != "fail")) ++counters_.probes_failed;
  if (--pj.outstanding > 0) return;

  storage::HostRecord record = std::move(pj.record);
  const std::string host = pj.host;
  const uint64_t generation = pj.generation;
  for (auto& p : pj.probes) record.probes.push_back(std::move(*p));
  probe_jobs_.erase(it);
  const bool usable = record.dane == toString(HostState::Unprobed);
  const ProbeOutcome outcome = probeOutcome(record.probes, usable);
  if (usable && outcome.state) record.dane = std::string(toString(*outcome.state));
  record.host_findings.insert(record.host_findings.end(), outcome.findings.begin(), outcome.findings.end());
  std::sort(record.host_findings.begin(), record.host_findings.end());
  record.host_findings.erase(std::unique(record.host_findings.begin(), record.host_findings.end()), record.host_findings.end());

  auto job = domains_.find(job_id);
  if (job == domains_.end()) return;
  job->second->hosts_received.emplace_back(host, generation);
  job->second->lookup.addHost(std::move(record));
  maybeFinishDomain(job_id);
  pullDomains();
  pump();
  checkFinished();
}

void Scanner::maybeFinishDomain(uint64_t job_id) {
  auto it = domains_.find(job_id);
  if (it == domains_.end() || !it->second->lookup.done()) return;
  storage::DomainRecord record = it->second->lookup.takeRecord();
  record.source = std::move(it->second->source);
  record.line = it->second->line;
  record.rank = it->second->rank;
  // Domains reach the sink, and so the writer, in this order: the first one reported with a
  // host lookup's result carries its queries.
  for (const auto& [host, generation] : it->second->hosts_received) {
    auto queries = unclaimed_queries_.find(generation);
    if (queries == unclaimed_queries_.end()) continue;
    for (storage::HostRecord& h : record.mx) {
      if (h.host == host && h.queries.empty()) {
        h.queries = std::move(queries->second);
        unclaimed_queries_.erase(queries);
        break;
      }
    }
  }
  domains_.erase(it);
  counters_.domains_in_flight = domains_.size();
  ++counters_.domains_done;
  sink_(std::move(record));
}

void Scanner::touchLru(const std::string& host) {
  HostEntry& entry = *hosts_.at(host);
  if (entry.in_lru) lru_.erase(entry.lru_pos);
  entry.lru_pos = lru_.insert(lru_.end(), host);
  entry.in_lru = true;
}

void Scanner::evictHosts() {
  while (lru_.size() > options_.host_cache_size) {
    hosts_.erase(lru_.front());
    lru_.pop_front();
  }
}

void Scanner::request(const QueryRequest& request, std::function<void(const dns::QueryResult&)> deliver) {
  ++counters_.queries_requested;
  const std::string key = questionKey(request.question, request.cd);
  auto it = pending_.find(key);
  if (it != pending_.end()) {
    // Identical question already queued or in flight: one query, every waiter gets the answer.
    ++counters_.queries_coalesced;
    it->second->waiters.push_back(std::move(deliver));
    return;
  }
  auto pending = std::make_unique<Pending>();
  pending->question = request.question;
  pending->cd = request.cd;
  pending->waiters.push_back(std::move(deliver));
  pending_.emplace(key, std::move(pending));
  queue_.push_back(key);
  counters_.queries_queued = queue_.size();
  pump();
}

bool Scanner::takeToken() {
  if (options_.qps <= 0) return true;
  const uint64_t now = uv_now(loop_);
  const double burst = std::max(1.0, options_.qps / 20);
  tokens_ = std::min(burst, tokens_ + static_cast<double>(now - last_refill_ms_) * options_.qps / 1000.0);
  last_refill_ms_ = now;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  armTimer(static_cast<uint64_t>(std::max(1.0, std::ceil((1.0 - tokens_) * 1000.0 / options_.qps))));
  if (adaptive_) adaptive_->noteQpsLimited();
  return false;
}

void Scanner::pump() {
  if (in_pump_) return;
  in_pump_ = true;
  while (counters_.queries_in_flight < window() && !queue_.empty()) {
    if (!takeToken()) break;
    const std::string key = queue_.front();
    queue_.pop_front();
    auto it = pending_.find(key);
    if (it == pending_.end()) continue;
    ++counters_.queries_in_flight;
    ++counters_.queries_sent;
    if (!it->second->late_retried) it->second->first_sent_ms = uv_now(loop_);
    dns::QueryOptions query_options;
    query_options.checking_disabled = it->second->cd;
    std::weak_ptr<Scanner*> alive = alive_;
    transport_(it->second->question, query_options, [alive, key](dns::QueryResult result) {
      auto self = alive.lock();
      if (self && *self) (*self)->onAnswer(key, std::move(result));
    });
  }
  if (adaptive_ && !queue_.empty() && counters_.queries_in_flight >= window()) adaptive_->noteWindowFull();
  counters_.queries_queued = queue_.size();
  in_pump_ = false;
}

void Scanner::onAnswer(const std::string& key, dns::QueryResult result) {
  --counters_.queries_in_flight;
  const bool answered = result.outcome == dns::QueryOutcome::Answered;
  if (answered) {
    ++counters_.queries_answered;
    if (!completedRcode(result.rcode)) ++counters_.queries_error_rcode;
    if (result.response && result.response->authentic_data) ++counters_.ad_seen;
  } else {
    ++counters_.queries_failed;
  }
  if (adaptive_) {
    const uint64_t now = uv_now(loop_);
    // Answered, but only after its first datagram went unanswered: the resolver dropped or sat on it.
    if (answered && result.attempts > (result.tcp ? 2u : 1u)) adaptive_->noteRetried(now - std::min(now, result.elapsed_ms));
    adaptive_->record(!answered || isServfail(result), now, counters_.queries_in_flight + 1);
    counters_.window = adaptive_->size();
    counters_.window_peak = std::max(counters_.window_peak, counters_.window);
  }
  auto it = pending_.find(key);
  if (it != pending_.end() && late_timer_ && !it->second->cd && !it->second->late_retried && wantsLateRetry(result)) {
    // Asked again later; the waiters wait for that answer (the window and the health monitor
    // have seen this one).
    Pending& p = *it->second;
    p.late_retried = true;
    p.first = std::move(result);
    late_.push_back({uv_now(loop_) + options_.late_retry_ms, key});
    ++counters_.queries_late_retried;
    armLateTimer();
    pump();
    return;
  }
  if (it != pending_.end()) {
    std::unique_ptr<Pending> pending = std::move(it->second);
    if (pending->late_retried && pending->first) {
      // One lookup in the evidence: every message sent, the time from the first send. When the
      // retry failed too, the first try's result stands (what a scan without the retry records;
      // a dead server's second try may well be unbound's quicker SERVFAIL instead of a timeout).
      const std::string when = "asked again " + std::to_string(options_.late_retry_ms) + " ms later";
      const unsigned attempts = pending->first->attempts + result.attempts;
      if (wantsLateRetry(result)) {
        const std::string note = when + ": " + result.rcode;
        result = std::move(*pending->first);
        result.error = result.error.empty() ? note : result.error + "; " + note;
      } else {
        const std::string note = "first try " + pending->first->rcode + ", " + when;
        result.error = result.error.empty() ? note : note + "; " + result.error;
      }
      result.attempts = attempts;
      result.elapsed_ms = uv_now(loop_) - pending->first_sent_ms;
    }
    pending_.erase(it);
    for (auto& deliver : pending->waiters) deliver(result);
  }
  pullDomains();
  pump();
  checkFinished();
}

void Scanner::armTimer(uint64_t ms) {
  if (timer_armed_ || !timer_) return;
  timer_armed_ = true;
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* handle) {
        auto* self = static_cast<Scanner*>(handle->data);
        if (self) self->onTimer();
      },
      ms, 0);
}

void Scanner::armLateTimer() {
  if (late_timer_armed_ || !late_timer_ || late_.empty()) return;
  late_timer_armed_ = true;
  const uint64_t now = uv_now(loop_);
  uv_timer_start(
      late_timer_.get(),
      [](uv_timer_t* handle) {
        auto* self = static_cast<Scanner*>(handle->data);
        if (self) self->onLateTimer();
      },
      late_.front().due_ms > now ? late_.front().due_ms - now : 0, 0);
}

void Scanner::onLateTimer() {
  late_timer_armed_ = false;
  const uint64_t now = uv_now(loop_);
  // Due retries go first in the queue: their domains have waited long enough.
  std::vector<std::string> due;
  while (!late_.empty() && late_.front().due_ms <= now) {
    due.push_back(std::move(late_.front().key));
    late_.pop_front();
  }
  for (auto k = due.rbegin(); k != due.rend(); ++k) {
    if (pending_.count(*k)) queue_.push_front(std::move(*k));
  }
  counters_.queries_queued = queue_.size();
  armLateTimer();
  pump();
  checkFinished();
}

void Scanner::onTimer() {
  timer_armed_ = false;
  pullDomains();
  pump();
  checkFinished();
}

void Scanner::checkFinished() {
  if (finished_ || !started_ || !(input_done_ || stopping_) || !domains_.empty()) return;
  finished_ = true;
  if (timer_) uv_timer_stop(timer_.get());
  timer_armed_ = false;
  if (late_timer_) uv_timer_stop(late_timer_.get());
  late_timer_armed_ = false;
  if (on_finished_) on_finished_();
}

Scanner::Transport makeResolverTransport(dns::ResolverClient& client) {
  return [&client](const dns::Question& question, dns::QueryOptions options, std::function<void(dns::QueryResult)> done) {
    client.query(question, options, std::move(done));
  };
}

Scanner::ProbeTransport makeProberTransport(tls::Prober& prober) {
  return [&prober](const tls::ProbeTarget& target, std::function<void(const storage::ProbeRecord&)> done) {
    prober.probe(target, std::move(done));
  };
}

}  // namespace danescan::scanner::pipeline
