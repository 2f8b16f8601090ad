// scanner/loadgen/histogram.h — a latency histogram with bounded relative error, in the manner of
// HdrHistogram: values below 2^kSubBits nanoseconds get a bucket each; every power of two above
// is split into 2^kSubBits equal buckets. A bucket [low, low + width) has width <= low / 2^kSubBits,
// so a percentile read as the bucket's midpoint is within 2^-(kSubBits+1) (0.39 %) of the exact
// sample it stands for. Fixed size (57 x 128 counters, 58 KiB), O(1) to record, no allocation
// after construction; merging two histograms adds their counters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace danescan::scanner::loadgen {

class Histogram {
 public:
  static constexpr unsigned kSubBits = 7;

  Histogram();

  void record(uint64_t value) noexcept;
  void merge(const Histogram& other) noexcept;

  [[nodiscard]] uint64_t count() const noexcept { return count_; }
  [[nodiscard]] uint64_t min() const noexcept { return count_ ? min_ : 0; }
  [[nodiscard]] uint64_t max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  // The nearest-rank percentile (the smallest recorded value with at least `percent` % of the
  // samples at or below it), as its bucket's midpoint, clamped to [min, max]; 0 when empty.
  [[nodiscard]] uint64_t percentile(double percent) const noexcept;

  // Exposed for the tests: a value's bucket and a bucket's range.
  [[nodiscard]] static size_t bucketOf(uint64_t value) noexcept;
  [[nodiscard]] static uint64_t bucketLow(size_t bucket) noexcept;
  [[nodiscard]] static uint64_t bucketWidth(size_t bucket) noexcept;

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;  // ns: 2^64 ns is 584 years of summed latency
};

}  // namespace danescan::scanner::loadgen
