// inputs/shard.cc — owns the K/N shard syntax and the partition of the name space.
#include "inputs/shard.h"

#include <charconv>
#include <string>

#include "inputs/domain_stream.h"

namespace danescan::inputs {
namespace {

constexpr std::string_view kSyntax = "expected K/N with 1 <= K <= N, e.g. 2/8";

// Digits only: from_chars alone would accept neither sign nor space, but it would stop early on
// "1x" without complaint, and we want the whole field to be a number.
bool parseCount(std::string_view field, uint32_t& value) {
  if (field.empty()) return false;
  for (const char c : field) {
    if (c < '0' || c > '9') return false;
  }
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  return ec == std::errc() && end == field.data() + field.size();
}

}  // namespace

uint64_t stableNameHash(std::string_view name) noexcept {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  // splitmix64 finaliser (Steele, Lea, Flood 2014).
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

std::optional<Shard> Shard::parse(std::string_view text, std::string& error) {
  if (text.empty()) {
    error = "empty shard; " + std::string(kSyntax);
    return std::nullopt;
  }
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    error = "shard \"" + std::string(text) + "\" has no '/'; " + std::string(kSyntax);
    return std::nullopt;
  }
  Shard shard;
  if (!parseCount(text.substr(0, slash), shard.index)) {
    error = "shard index K in \"" + std::string(text) + "\" is not a decimal number below 2^32";
    return std::nullopt;
  }
  if (!parseCount(text.substr(slash + 1), shard.count)) {
    error = "shard count N in \"" + std::string(text) + "\" is not a decimal number below 2^32";
    return std::nullopt;
  }
  if (shard.count == 0) {
    error = "shard count N must be at least 1";
    return std::nullopt;
  }
  if (shard.index == 0 || shard.index > shard.count) {
    error = "shard index " + std::to_string(shard.index) + " is outside 1.." +
            std::to_string(shard.count);
    return std::nullopt;
  }
  return shard;
}

bool shardHolds(const Shard& shard, uint64_t name_hash) noexcept {
  return shard.count <= 1 || name_hash % shard.count == shard.index - 1;
}

bool Shard::contains(std::string_view normalised_name) const {
  return shardHolds(*this, stableNameHash(normalised_name));
}

}  // namespace danescan::inputs
