// inputs/dedup_filter.cc — the fingerprint table behind duplicate removal (see dedup_filter.h).
#include "inputs/dedup_filter.h"

#include <algorithm>

namespace danescan::inputs {
namespace {

// 4096 slots (32 KiB): small lists stay small, big ones reach their size in a few doublings.
constexpr unsigned kInitialBits = 12;

// Slot value 0 means "empty", so the one fingerprint 0 is stored as 1; this merges two of 2^64
// values and does not change the collision figure.
constexpr uint64_t storable(uint64_t fingerprint) { return fingerprint == 0 ? 1 : fingerprint; }

}  // namespace

DedupFilter::DedupFilter()
    : slots_(new uint64_t[uint64_t{1} << kInitialBits]()), bits_(kInitialBits) {}

bool DedupFilter::insert(uint64_t fingerprint) {
  fingerprint = storable(fingerprint);
  const uint64_t mask = capacity() - 1;
  for (uint64_t i = slotOf(fingerprint);; i = (i + 1) & mask) {
    if (slots_[i] == fingerprint) return false;
    if (slots_[i] == 0) {
      slots_[i] = fingerprint;
      ++size_;
      // Linear probing stays short below 3/4 load.
      if (size_ * 4 > capacity() * 3) grow();
      return true;
    }
  }
}

uint64_t DedupFilter::longestRun() const {
  // Start the scan at an empty slot so that a run wrapping around the end is counted whole.
  // The table is never full (at most 3/4), so there is one.
  uint64_t start = 0;
  while (slots_[start] != 0) ++start;
  const uint64_t mask = capacity() - 1;
  uint64_t longest = 0;
  uint64_t run = 0;
  for (uint64_t k = 1; k <= capacity(); ++k) {
    if (slots_[(start + k) & mask] != 0) {
      longest = std::max(longest, ++run);
    } else {
      run = 0;
    }
  }
  return longest;
}

void DedupFilter::grow() {
  const uint64_t old_capacity = capacity();
  std::unique_ptr<uint64_t[]> old = std::move(slots_);
  ++bits_;
  slots_.reset(new uint64_t[capacity()]());
  const uint64_t mask = capacity() - 1;
  for (uint64_t j = 0; j < old_capacity; ++j) {
    const uint64_t fingerprint = old[j];
    if (fingerprint == 0) continue;
    uint64_t i = slotOf(fingerprint);
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = fingerprint;
  }
}

}  // namespace danescan::inputs
