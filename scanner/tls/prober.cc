// scanner/tls/prober.cc — see prober.h.
#include "scanner/tls/prober.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>

namespace danescan::scanner::tls {

std::string probeKey(const ProbeTarget& target) {
  std::vector<std::string> tlsa = target.tlsa;
  for (std::string& text : tlsa) {
    for (char& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  std::sort(tlsa.begin(), tlsa.end());
  tlsa.erase(std::unique(tlsa.begin(), tlsa.end()), tlsa.end());
  std::string key = target.address + '|' + std::to_string(target.port) + '|' + target.tlsa_base + '|';
  for (const std::string& text : tlsa) key += text + ';';
  return key;
}

namespace {

std::vector<std::string> sortedNames(const ProbeTarget& target) {
  std::vector<std::string> names = target.reference_names;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// The key of a DANE-TA target whose outcome depends on its reference names.
std::string namesKey(const ProbeTarget& target) {
  std::string key = probeKey(target) + '|';
  for (const std::string& name : sortedNames(target)) key += name + ';';
  return key;
}

}  // namespace

Prober::Prober(uv_loop_t* loop, ProberOptions options)
    : loop_(loop), options_(std::move(options)), alive_(std::make_shared<Prober*>(this)) {
  if (options_.tls_concurrency == 0) options_.tls_concurrency = 1;
  if (options_.per_address == 0) options_.per_address = 1;
}

Prober::~Prober() {
  *alive_ = nullptr;
  for (auto& [key, entry] : entries_) {
    if (entry->probe != nullptr) cancelProbe(entry->probe);
  }
}

void Prober::probe(const ProbeTarget& target, Callback done) {
  if (abandoned_) return;
  ++counters_.requested;
  const std::string key = probeKey(target);
  auto it = entries_.find(key);
  if (it != entries_.end() && hasUsableDaneTa(target.tlsa) && sortedNames(it->second->target) != sortedNames(target)) {
    // DANE-TA checks names, and this target's differ from those the probe used: its outcome
    // holds for them too unless it depended on names other than the TLSA base.
    Entry& entry = *it->second;
    if (entry.state != State::Done) {
      ++counters_.cache_hits;
      entry.other_names.emplace_back(target, std::move(done));
    } else if (!entry.names_matter) {
      ++counters_.cache_hits;
      lru_.splice(lru_.end(), lru_, entry.lru_pos);
      deliver({std::move(done)}, entry.record);
    } else {
      request(namesKey(target), target, std::move(done));
    }
    return;
  }
  request(key, target, std::move(done));
}

void Prober::request(const std::string& key, const ProbeTarget& target, Callback done) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    ++counters_.cache_hits;
    Entry& entry = *it->second;
    if (entry.state == State::Done) {
      lru_.splice(lru_.end(), lru_, entry.lru_pos);
      deliver({std::move(done)}, entry.record);
    } else {
      entry.waiters.push_back(std::move(done));
    }
    return;
  }
  if (stopping_) return;  // documented: a stopped Prober starts no new probe
  auto entry = std::make_unique<Entry>();
  entry->owner = this;
  entry->key = key;
  entry->target = target;
  entry->waiters.push_back(std::move(done));
  entries_.emplace(key, std::move(entry));
  queue_.push_back(key);
  counters_.queued = queue_.size();
  pump();
}

void Prober::pump() {
  if (in_pump_ || abandoned_) return;
  in_pump_ = true;
  for (auto it = queue_.begin(); it != queue_.end() && counters_.in_flight < options_.tls_concurrency;) {
    auto found = entries_.find(*it);
    if (found == entries_.end()) {
      it = queue_.erase(it);
      continue;
    }
    Entry& entry = *found->second;
    if (auto busy = per_address_.find(entry.target.address);
        busy != per_address_.end() && busy->second >= options_.per_address) {
      ++it;  // busy address: later probes to other addresses pass
      continue;
    }
    const std::string key = *it;
    it = queue_.erase(it);
    launch(key, entry);
  }
  counters_.queued = queue_.size();
  in_pump_ = false;
}

void Prober::launch(const std::string& key, Entry& entry) {
  entry.state = State::Running;
  ++entry.attempts;
  ++counters_.connections;
  ++counters_.in_flight;
  counters_.max_in_flight = std::max(counters_.max_in_flight, counters_.in_flight);
  unsigned& busy = ++per_address_[entry.target.address];
  counters_.max_per_address = std::max<size_t>(counters_.max_per_address, busy);
  // The probe calls back from the loop; the Prober cancels it before it goes away.
  entry.probe = tls::startProbe(loop_, entry.target, options_.probe,
                                [this, key](storage::ProbeRecord record, bool names_matter) {
                                  onProbeDone(key, std::move(record), names_matter);
                                });
}

void Prober::onProbeDone(const std::string& key, storage::ProbeRecord record, bool names_matter) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& entry = *it->second;
  entry.probe = nullptr;
  entry.names_matter = names_matter;
  --counters_.in_flight;
  if (--per_address_[entry.target.address] == 0) per_address_.erase(entry.target.address);
  entry.saw_421 = entry.saw_421 || record.rate_limited;
  record.rate_limited = entry.saw_421;
  record.attempts = entry.attempts;
  entry.record = std::move(record);
  if (entry.record.rate_limited && !entry.record.tls_ok && entry.attempts == 1 && !stopping_) {
    // A 421 is recorded and retried once, later (issue 4); the first record stands meanwhile.
    int error = 0;
    entry.retry_timer = loop::makeTimer(loop_, error);
    if (entry.retry_timer) {
      entry.state = State::Waiting;
      ++counters_.retries;
      entry.retry_timer->data = &entry;  // cleared by CloseThenFree when the entry goes
      uv_timer_start(
          entry.retry_timer.get(),
          [](uv_timer_t* timer) {
            if (auto* e = static_cast<Entry*>(timer->data)) e->owner->onRetryTimer(e->key);
          },
          options_.retry_delay_ms, 0);
      pump();
      return;
    }
  }
  complete(key, entry);
  pump();
  checkFinished();
}

void Prober::onRetryTimer(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& entry = *it->second;
  entry.retry_timer.reset();  // closes it; we are inside its callback, which is allowed
  entry.state = State::Queued;
  queue_.push_back(key);
  counters_.queued = queue_.size();
  pump();
}

void Prober::complete(const std::string& key, Entry& entry) {
  entry.state = State::Done;
  entry.retry_timer.reset();
  lru_.push_back(key);
  entry.lru_pos = std::prev(lru_.end());
  std::vector<Callback> waiters;
  waiters.swap(entry.waiters);
  std::vector<std::pair<ProbeTarget, Callback>> other_names;
  other_names.swap(entry.other_names);
  const bool names_matter = entry.names_matter;
  const storage::ProbeRecord record = entry.record;
  evict();  // may destroy `entry`; the record and waiters are copies
  // Other reference names share the outcome unless it depended on names (then they get their
  // own probe; a stopped Prober starts none, so they get this one's record).
  for (auto& [target, done] : other_names) {
    if (names_matter && !stopping_) {
      request(namesKey(target), target, std::move(done));
    } else {
      waiters.push_back(std::move(done));
    }
  }
  deliver(std::move(waiters), record);
}

void Prober::deliver(std::vector<Callback> waiters, const storage::ProbeRecord& record) {
  if (waiters.empty()) return;
  // Always from a later loop iteration: never inside probe(), and a callback that calls probe()
  // or stop() finds the Prober in a consistent state.
  ++deliveries_pending_;
  std::weak_ptr<Prober*> alive = alive_;
  const int rc = loop::deferCall(loop_, [alive, waiters = std::move(waiters), record]() {
    auto token = alive.lock();
    if (!token || *token == nullptr) return;
    Prober* self = *token;
    --self->deliveries_pending_;
    if (self->abandoned_) return;
    for (const Callback& waiter : waiters) {
      ++self->counters_.reported;
      if (waiter) waiter(record);
    }
    self->checkFinished();
  });
  if (rc != 0) {
    std::fprintf(stderr, "danescan: cannot defer a probe result: %s\n", uv_strerror(rc));
    std::terminate();  // a timer that cannot start: the loop itself is broken
  }
}

void Prober::evict() {
  while (lru_.size() > options_.cache_size) {
    entries_.erase(lru_.front());
    lru_.pop_front();
  }
}

void Prober::stop() {
  if (stopping_) return;
  stopping_ = true;
  // Retries not yet started are dropped: their first records are reported now.
  std::vector<std::string> waiting;
  for (auto& [key, entry] : entries_) {
    if (entry->state == State::Waiting) waiting.push_back(key);
  }
  for (const std::string& key : waiting) {
    auto it = entries_.find(key);
    if (it != entries_.end()) complete(key, *it->second);
  }
  checkFinished();
}

void Prober::abandon() {
  if (abandoned_) return;
  stopping_ = true;
  abandoned_ = true;
  for (auto& [key, entry] : entries_) {
    if (entry->probe != nullptr) cancelProbe(entry->probe);
    entry->probe = nullptr;
  }
  entries_.clear();
  queue_.clear();
  lru_.clear();
  per_address_.clear();
  counters_.in_flight = counters_.queued = 0;
  checkFinished();
}

bool Prober::finished() const noexcept {
  if (!stopping_) return false;
  if (abandoned_) return true;
  if (counters_.in_flight != 0 || !queue_.empty() || deliveries_pending_ != 0) return false;
  for (const auto& [key, entry] : entries_) {
    if (entry->state != State::Done) return false;
  }
  return true;
}

void Prober::checkFinished() {
  if (finished_reported_ || !finished()) return;
  finished_reported_ = true;
  if (on_finished_) on_finished_();
}

}  // namespace danescan::scanner::tls
