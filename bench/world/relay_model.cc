// bench/world/relay_model.cc — zone keys, key profiles, loss draws and the rate limiter of the
// world's relay (see relay_model.h).
#include "bench/world/relay_model.h"

#include <algorithm>

#include <cmath>
#include <cstdio>

namespace danescan::bench::world {
namespace {

// Start offsets of the labels of an absolute presentation name, left to right; "." has none.
std::vector<size_t> labelStarts(std::string_view name) {
  std::vector<size_t> starts;
  if (name.empty() || name == ".") return starts;
  starts.push_back(0);
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\') {
      ++i;  // "\." and "\\" belong to the label; "\DDD" has no dot in it
    } else if (name[i] == '.' && i + 1 < name.size()) {
      starts.push_back(i + 1);
    }
  }
  return starts;
}

std::string_view label(std::string_view name, const std::vector<size_t>& starts, size_t i) {
  const size_t end = i + 1 < starts.size() ? starts[i + 1] - 1 : name.size() - (name.back() == '.' ? 1 : 0);
  return name.substr(starts[i], end - starts[i]);
}

// The provider zones of genworld.py: prov0..7.bench. (signed) and uprov0..3.bench. (unsigned).
bool isProviderZone(std::string_view l) {
  const std::string_view stem = l.starts_with("uprov") ? l.substr(5) : l.starts_with("prov") ? l.substr(4) : std::string_view{};
  return !stem.empty() && stem.find_first_not_of("0123456789") == std::string_view::npos;
}

uint64_t splitmix64(uint64_t& state) noexcept {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in (0, 1): never 0, so log() is finite.
double unit(uint64_t& state) noexcept { return (static_cast<double>(splitmix64(state) >> 11) + 0.5) * 0x1.0p-53; }

uint64_t fnv1a(std::string_view s) noexcept {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

size_t labelCount(std::string_view name) { return labelStarts(name).size(); }

std::string zoneKey(std::string_view name, bool per_zone) {
  const auto starts = labelStarts(name);
  const size_t n = starts.size();
  auto lastLabels = [&](size_t k) -> std::string {
    if (k >= n) return std::string(name);
    return std::string(name.substr(starts[n - k]));
  };
  if (n <= 2) return lastLabels(n);
  if (label(name, starts, n - 1) != "bench") return lastLabels(2);
  // Under bench.: a provider zone is a zone of its own; a big domain zone holds one "zone" per
  // domain, one label further down.
  return per_zone || isProviderZone(label(name, starts, n - 2)) ? lastLabels(2) : lastLabels(3);
}

std::string RelayParams::describe() const {
  char line[512];
  const std::string rtt = rtt_fixed_ms != 0
                              ? "rtt fixed " + std::to_string(rtt_fixed_ms) + " ms"
                              : "rtt lognormal median " + std::to_string(rtt_median_ms) + " ms sigma " +
                                    std::to_string(rtt_sigma).substr(0, 4) + " clipped " + std::to_string(rtt_min_ms) +
                                    "-" + std::to_string(rtt_max_ms) + " ms";
  std::snprintf(line, sizeof line, "%s per %s; loss %g %% each way; slow %g %% of keys (%u ms); rate-limited %g %% of keys (%u answers/s); seed %llu",
                rtt.c_str(), per_zone ? "zone" : "zone key (a domain)", loss * 100, slow_share * 100, slow_ms, ratelimit_share * 100,
                ratelimit_per_s, static_cast<unsigned long long>(seed));
  std::string out = line;
  for (const auto& k : slow_keys) out += "; slow " + k;
  for (const auto& k : ratelimit_keys) out += "; rate-limited " + k;
  return out;
}

uint32_t RelayParams::maxDelayMs() const {
  const uint32_t rtt = rtt_fixed_ms != 0 ? rtt_fixed_ms : rtt_max_ms;
  return std::max(rtt, slow_share > 0 ? slow_ms : 0U);
}

KeyProfile keyProfile(std::string_view key, const RelayParams& p) {
  KeyProfile profile;
  uint64_t state = fnv1a(key) ^ (p.seed * 0x9e3779b97f4a7c15ULL);
  profile.hash = splitmix64(state);
  if (p.rtt_fixed_ms != 0) {
    profile.rtt_ms = p.rtt_fixed_ms;
  } else {
    // Box-Muller: a standard normal z from two uniforms, ln(RTT) = ln(median) + sigma * z.
    const double u1 = unit(state);
    const double u2 = unit(state);
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    const double rtt = static_cast<double>(p.rtt_median_ms) * std::exp(p.rtt_sigma * z);
    profile.rtt_ms = static_cast<uint32_t>(std::clamp(std::lround(rtt), static_cast<long>(p.rtt_min_ms), static_cast<long>(p.rtt_max_ms)));
  }
  const double u = unit(state);
  if (labelCount(key) >= 2) {  // not the root or a TLD
    profile.slow = u < p.slow_share;
    profile.ratelimited = !profile.slow && u < p.slow_share + p.ratelimit_share;
  }
  const auto named = [&key](const std::vector<std::string>& keys) { return std::find(keys.begin(), keys.end(), key) != keys.end(); };
  if (named(p.slow_keys)) profile.slow = true, profile.ratelimited = false;
  if (!profile.slow && named(p.ratelimit_keys)) profile.ratelimited = true;
  if (profile.slow) profile.rtt_ms = p.slow_ms;
  return profile;
}

bool LossDraw::drop() noexcept {
  if (probability_ <= 0) return false;
  if (probability_ >= 1) return true;
  return unit(state_) < probability_;
}

bool RateLimiter::allow(uint64_t key_hash, uint64_t now_ms) {
  Window& w = windows_[key_hash];
  const uint64_t second = now_ms / 1000;
  if (w.second != second) w = Window{second, 0};
  return ++w.count <= per_second_;
}

}  // namespace danescan::bench::world
