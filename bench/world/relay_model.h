// bench/world/relay_model.h — the pure parts of the benchmark world's delaying relay
// (bench/world/relay.cc, bench/README.md "Internet mode"): which "zone" a question belongs to,
// the round-trip time and the misbehaviour (slow, rate-limited) drawn for that zone, the loss
// draws, the per-key rate limiter and the 1 ms timer wheel that holds delayed answers. No
// sockets, no clock: time is passed in as milliseconds, so tests drive it by hand.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace danescan::bench::world {

// The zone a question stands for, as on the internet where every world domain would be a zone
// of its own. Input: a lower-case absolute presentation name ("x.dom7.sa0.bench."), as ldns
// prints it. The world (genworld.py) delegates from `bench.` to big zones that hold the
// domains (sa*, sb*, sc*, ua*, ca*) and to provider zones (prov*, uprov*):
//   `.`, `bench.`, `sa0.bench.`, `prov3.bench.`, `nx5.bench.`  -> the name itself
//   `mx1.prov3.bench.`, `a.b.uprov0.bench.`                    -> `prov3.bench.`, `uprov0.bench.`
//   `dom7.sa0.bench.`, `_25._tcp.mx.dom7.sb0.bench.`           -> `dom7.sa0.bench.`, `dom7.sb0.bench.`
// Names outside `bench.` keep their last two labels. Escaped dots ("\.") stay inside a label.
// `per_zone`: the key is the world's real zone instead (`dom7.sa0.bench.` -> `sa0.bench.`), the
// grain at which a resolver keeps its server round trips (unbound: per address and zone). With
// per-domain keys the domains of one big zone share a server in unbound's eyes but not in their
// delays, which the resolver cannot learn: high-RTT and slow domains then fail under load
// whatever the client does (bench/README.md, "Internet mode").
[[nodiscard]] std::string zoneKey(std::string_view name, bool per_zone = false);

// Number of labels of an absolute presentation name ("." has 0).
[[nodiscard]] size_t labelCount(std::string_view name);

struct RelayParams {
  uint64_t seed = 1;
  double loss = 0.01;            // per datagram, each direction drawn independently
  double slow_share = 0.005;     // share of keys that answer after slow_ms instead of their RTT
  uint32_t slow_ms = 2000;
  double ratelimit_share = 0.005;  // share of keys limited to ratelimit_per_s answers per second
  uint32_t ratelimit_per_s = 20;
  uint32_t rtt_median_ms = 40;   // lognormal around the median ...
  double rtt_sigma = 0.75;       // ... with this sigma of ln(RTT) ...
  uint32_t rtt_min_ms = 10;      // ... clipped to [min, max]
  uint32_t rtt_max_ms = 300;
  uint32_t rtt_fixed_ms = 0;     // non-zero: every key has this RTT (tests)
  bool per_zone = false;         // zoneKey(name, true): one key per world zone
  std::vector<std::string> slow_keys;       // these keys are slow, whatever slow_share draws
  std::vector<std::string> ratelimit_keys;  // these keys are rate-limited, likewise

  [[nodiscard]] std::string describe() const;  // one line, for logs and bench/world/up
  [[nodiscard]] uint32_t maxDelayMs() const;
};

struct KeyProfile {
  uint64_t hash = 0;       // of the key and the seed: identifies the key to the rate limiter
  uint32_t rtt_ms = 0;     // the delay of its answers (slow_ms when slow)
  bool slow = false;
  bool ratelimited = false;
};

// Deterministic per (key, seed): the same key always gets the same profile. `.` and `bench.`
// (the root and the TLD, anycast and well provisioned on the internet) are never slow or
// rate-limited: one slow root would stall the whole world, which is not what is modelled.
[[nodiscard]] KeyProfile keyProfile(std::string_view key, const RelayParams& params);

// A seeded stream of loss draws (splitmix64).
class LossDraw {
 public:
  LossDraw(uint64_t seed, double probability) : state_(seed), probability_(probability) {}
  [[nodiscard]] bool drop() noexcept;

 private:
  uint64_t state_;
  double probability_;
};

// At most `per_second` answers per key per whole second (fixed windows); the rest are refused.
class RateLimiter {
 public:
  explicit RateLimiter(uint32_t per_second) : per_second_(per_second) {}
  [[nodiscard]] bool allow(uint64_t key_hash, uint64_t now_ms);

 private:
  struct Window {
    uint64_t second = 0;
    uint32_t count = 0;
  };
  uint32_t per_second_;
  std::unordered_map<uint64_t, Window> windows_;
};

// A ring of 1 ms buckets for items due within `horizon_ms` of the wheel's cursor: one timer
// serves every delayed answer. schedule() clamps an item due too far ahead to the last bucket
// and one already due to the next millisecond; advance(now) hands out, oldest bucket first,
// every item due at or before `now`.
template <class T>
class DelayWheel {
 public:
  explicit DelayWheel(uint32_t horizon_ms) {
    size_t n = 1;
    while (n <= horizon_ms + 1) n <<= 1;
    buckets_.resize(n);
  }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] size_t size() const noexcept { return size_; }

  void schedule(uint64_t now_ms, uint64_t due_ms, T item) {
    if (size_ == 0) cursor_ = std::max(cursor_, now_ms);
    if (due_ms <= cursor_) due_ms = cursor_ + 1;
    if (due_ms - cursor_ >= buckets_.size()) due_ms = cursor_ + buckets_.size() - 1;
    buckets_[due_ms & (buckets_.size() - 1)].push_back(std::move(item));
    ++size_;
  }

  template <class F>
  void advance(uint64_t now_ms, F&& fn) {
    if (now_ms <= cursor_) return;
    // After a stall longer than the ring, each bucket is visited once: all are due.
    const uint64_t steps = std::min<uint64_t>(now_ms - cursor_, buckets_.size());
    for (uint64_t i = 1; i <= steps && size_ != 0; ++i) {
      auto& bucket = buckets_[(cursor_ + i) & (buckets_.size() - 1)];
      for (auto& item : bucket) fn(item);
      size_ -= bucket.size();
      bucket.clear();  // keeps its capacity: no allocation in the steady state
    }
    cursor_ = now_ms;
  }

 private:
  std::vector<std::vector<T>> buckets_;
  uint64_t cursor_ = 0;  // every bucket up to and including this millisecond has been handed out
  size_t size_ = 0;
};

}  // namespace danescan::bench::world
