// inputs/shard.h — internal: the stable 64-bit name hash that both the shard partition and the
// duplicate filter are built on.
#pragma once

#include <cstdint>
#include <string_view>

namespace danescan::inputs {

// FNV-1a 64 over the bytes, then the splitmix64 finaliser. Fixed constants, byte-wise input and
// unsigned arithmetic only, so the value is the same on every machine, compiler and build; shard
// assignments of different runs and different hosts therefore agree. FNV-1a alone mixes its last
// bytes poorly into the high bits; the finaliser spreads every input bit over all 64.
[[nodiscard]] uint64_t stableNameHash(std::string_view name) noexcept;

struct Shard;
// Shard::contains() for a name whose stableNameHash() is known; the stream hashes once for both
// the shard test and the duplicate filter.
[[nodiscard]] bool shardHolds(const Shard& shard, uint64_t name_hash) noexcept;

}  // namespace danescan::inputs
