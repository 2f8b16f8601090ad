// inputs/dedup_filter.h — internal: owns the set of names already handed out, as 64-bit
// fingerprints in one flat open-addressing table (linear probing, no per-entry allocation).
//
// Memory: 8 bytes per slot; the table doubles when it is 3/4 full, so a distinct name costs
// 10.7 to 21.3 bytes, plus the old table for the moment of a resize. 10 million distinct names
// take 128 MiB at most (a 16 Mi-slot table).
//
// False duplicates: two different names are taken as one when their 64-bit fingerprints are
// equal. With fingerprints spread evenly (FNV-1a 64 + splitmix64, see shard.h), the chance that
// any pair among n distinct names collides is about n^2 / 2^65: 3e-8 for 1 million names, 3e-6
// for 10 million, 3e-4 for 100 million, 3% for a billion. The expected number of names lost is
// the same figure, so at survey sizes it is zero in practice; the trade is 8 bytes instead of the
// ~40 a std::string in a hash set would cost.
#pragma once

#include <cstdint>
#include <memory>

namespace danescan::inputs {

class DedupFilter {
 public:
  DedupFilter();

  // True when `fingerprint` was not in the set (it is now); false for a repeat.
  [[nodiscard]] bool insert(uint64_t fingerprint);
  [[nodiscard]] uint64_t size() const { return size_; }
  [[nodiscard]] uint64_t capacity() const { return uint64_t{1} << bits_; }
  // The longest run of occupied slots, which bounds the probes of one insert (linear probing).
  // A scan of the whole table: for tests and benchmarks, not for the data path.
  [[nodiscard]] uint64_t longestRun() const;

 private:
  void grow();
  [[nodiscard]] uint64_t slotOf(uint64_t fingerprint) const {
    // High bits: when sharding, the low bits of a fingerprint are tied to the shard (hash mod N).
    return fingerprint >> (64 - bits_);
  }

  std::unique_ptr<uint64_t[]> slots_;  // 0 marks an empty slot
  unsigned bits_;                      // capacity is 2^bits_
  uint64_t size_ = 0;
};

}  // namespace danescan::inputs
