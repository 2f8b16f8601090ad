#include "scanner/pipeline/scanner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>

namespace danescan::scanner::pipeline {

struct Scanner::DomainJob {
  DomainJob(std::string name, LookupOptions options) : lookup(std::move(name), options) {}
  DomainLookup lookup;
  std::string source;
  uint64_t line = 0;
  std::vector<std::pair<std::string, uint64_t>> hosts_received;  // host, generation of its lookup
};

struct Scanner::HostEntry {
  std::unique_ptr<HostLookup> lookup;          // while the lookup runs
  std::optional<storage::HostRecord> record;   // once it finished
  std::vector<uint64_t> waiting;               // domain jobs that want it
  uint64_t generation = 0;
  std::list<std::string>::iterator lru_pos;
  bool in_lru = false;
};

struct Scanner::Pending {
  dns::Question question;
  bool cd = false;
  std::vector<std::function<void(const dns::QueryResult&)>> waiters;
};

namespace {

std::string questionKey(const dns::Question& q, bool cd) {
  std::string key = q.name;
  key += '|';
  key += std::to_string(q.type);
  key += cd ? "|cd" : "|";
  return key;
}

}  // namespace

Scanner::Scanner(uv_loop_t* loop, ScanOptions options, Transport transport, inputs::DomainStream& stream, Sink sink,
                 PauseHook should_pause)
    : loop_(loop),
      options_(std::move(options)),
      transport_(std::move(transport)),
      stream_(stream),
      sink_(std::move(sink)),
      should_pause_(std::move(should_pause)),
      alive_(std::make_shared<Scanner*>(this)) {
  lookup_options_.allow_special_addresses = options_.allow_special_addresses;
  if (options_.concurrency == 0) options_.concurrency = 1;
  if (options_.domains_in_flight == 0) options_.domains_in_flight = 2 * options_.concurrency;
  counters_.domains_total = options_.total_domains;
  tokens_ = std::max(1.0, options_.qps / 20);
  int error = 0;
  timer_ = loop::makeTimer(loop_, error);
  if (!timer_) {
    std::fprintf(stderr, "danescan: cannot create a timer: %s\n", uv_strerror(error));
    std::terminate();  // start-up error: the loop cannot work without it
  }
  timer_->data = this;
}

Scanner::~Scanner() { *alive_ = nullptr; }

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
  counters_.queries_queued = 0;
  checkFinished();
}

void Scanner::pullDomains() {
  while (!stopping_ && !input_done_ && domains_.size() < options_.domains_in_flight) {
    if (should_pause_ && should_pause_()) {
      armTimer(options_.pause_poll_ms);  // back-pressure: ask again later
      break;
    }
    inputs::DomainEntry entry;
    if (!stream_.next(entry)) {
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
    for (const std::string& host : lookup.takeHostsToLookUp()) wantHost(job_id, host);
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
      auto job = domains_.find(job_id);
      if (job != domains_.end()) {
        job->second->hosts_received.emplace_back(host, entry.generation);
        job->second->lookup.addHost(*entry.record);
      }
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
  for (uint64_t job_id : waiting) {
    auto job = domains_.find(job_id);
    if (job == domains_.end()) continue;
    job->second->hosts_received.emplace_back(host, generation);
    job->second->lookup.addHost(record);
    maybeFinishDomain(job_id);
  }
  evictHosts();
}

void Scanner::maybeFinishDomain(uint64_t job_id) {
  auto it = domains_.find(job_id);
  if (it == domains_.end() || !it->second->lookup.done()) return;
  storage::DomainRecord record = it->second->lookup.takeRecord();
  record.source = std::move(it->second->source);
  record.line = it->second->line;
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
  return false;
}

void Scanner::pump() {
  if (in_pump_) return;
  in_pump_ = true;
  while (counters_.queries_in_flight < options_.concurrency && !queue_.empty()) {
    if (!takeToken()) break;
    const std::string key = queue_.front();
    queue_.pop_front();
    auto it = pending_.find(key);
    if (it == pending_.end()) continue;
    ++counters_.queries_in_flight;
    ++counters_.queries_sent;
    dns::QueryOptions query_options;
    query_options.checking_disabled = it->second->cd;
    std::weak_ptr<Scanner*> alive = alive_;
    transport_(it->second->question, query_options, [alive, key](dns::QueryResult result) {
      auto self = alive.lock();
      if (self && *self) (*self)->onAnswer(key, std::move(result));
    });
  }
  counters_.queries_queued = queue_.size();
  in_pump_ = false;
}

void Scanner::onAnswer(const std::string& key, dns::QueryResult result) {
  --counters_.queries_in_flight;
  if (result.outcome == dns::QueryOutcome::Answered) {
    ++counters_.queries_answered;
    if (!completedRcode(result.rcode)) ++counters_.queries_error_rcode;
    if (result.response && result.response->authentic_data) ++counters_.ad_seen;
  } else {
    ++counters_.queries_failed;
  }
  auto it = pending_.find(key);
  if (it != pending_.end()) {
    std::unique_ptr<Pending> pending = std::move(it->second);
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
  if (on_finished_) on_finished_();
}

Scanner::Transport makeResolverTransport(dns::ResolverClient& client) {
  return [&client](const dns::Question& question, dns::QueryOptions options, std::function<void(dns::QueryResult)> done) {
    client.query(question, options, std::move(done));
  };
}

}  // namespace danescan::scanner::pipeline
