// scanner/loadgen/histogram.cc — see histogram.h.
#include "scanner/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace danescan::scanner::loadgen {
namespace {

constexpr uint64_t kSub = uint64_t{1} << Histogram::kSubBits;
// Buckets: kSub exact ones below kSub, then kSub for each power of two from 2^kSubBits to 2^63.
constexpr size_t kBuckets = (64 - Histogram::kSubBits + 1) * kSub;

}  // namespace

Histogram::Histogram() : counts_(kBuckets, 0) {}

size_t Histogram::bucketOf(uint64_t value) noexcept {
  if (value < kSub) return static_cast<size_t>(value);
  const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(value));
  const unsigned shift = msb - Histogram::kSubBits;
  // Octave `shift` starts at bucket (shift + 1) * kSub; value >> shift lies in [kSub, 2 kSub).
  return static_cast<size_t>((uint64_t{shift} + 1) * kSub + ((value >> shift) - kSub));
}

uint64_t Histogram::bucketLow(size_t bucket) noexcept {
  if (bucket < kSub) return bucket;
  const uint64_t shift = bucket / kSub - 1;
  return (kSub + bucket % kSub) << shift;
}

uint64_t Histogram::bucketWidth(size_t bucket) noexcept { return bucket < kSub ? 1 : uint64_t{1} << (bucket / kSub - 1); }

void Histogram::record(uint64_t value) noexcept {
  ++counts_[bucketOf(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += value;
}

void Histogram::merge(const Histogram& other) noexcept {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

uint64_t Histogram::percentile(double percent) const noexcept {
  if (count_ == 0) return 0;
  const double wanted = std::ceil(std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(count_));
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(wanted));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucketLow(i) + bucketWidth(i) / 2, min_, max_);
  }
  return max_;
}

}  // namespace danescan::scanner::loadgen
