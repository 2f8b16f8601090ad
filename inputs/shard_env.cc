// inputs/shard_env.cc — `--shard auto`: K/N from the scheduler's environment (shard_env.h).
#include "inputs/shard_env.h"

#include <charconv>

namespace danescan::inputs {
namespace {

constexpr const char* kParallelSeq = "PARALLEL_SEQ";
constexpr const char* kJobCompletionIndex = "JOB_COMPLETION_INDEX";
constexpr const char* kSlurmTaskId = "SLURM_ARRAY_TASK_ID";
constexpr const char* kSlurmTaskMin = "SLURM_ARRAY_TASK_MIN";
constexpr const char* kSlurmTaskMax = "SLURM_ARRAY_TASK_MAX";
constexpr const char* kSlurmTaskStep = "SLURM_ARRAY_TASK_STEP";
constexpr const char* kSlurmTaskCount = "SLURM_ARRAY_TASK_COUNT";

constexpr std::string_view kNeedCount = "--shards N or DANESCAN_SHARDS=N";

// A value read from the environment: the name goes with it into every message.
struct Var {
  const char* name;
  std::string text;
  uint32_t value = 0;
};

class Resolver {
 public:
  Resolver(const EnvLookup& lookup, std::string& error) : lookup_(lookup), error_(error) {}

  // The variable when it is set and not empty (nullopt otherwise, or on error with error_ set).
  std::optional<Var> read(const char* name) {
    const char* raw = lookup_(name);
    if (raw == nullptr || *raw == '\0') return std::nullopt;
    Var var{name, raw};
    if (!parseDecimal(var.text, var.value)) {
      error_ = std::string(name) + "=\"" + var.text + "\" is not a decimal number below 2^32";
      failed_ = true;
      return std::nullopt;
    }
    return var;
  }
  [[nodiscard]] bool failed() const { return failed_; }
  [[nodiscard]] bool isSet(const char* name) const {
    const char* raw = lookup_(name);
    return raw != nullptr && *raw != '\0';
  }
  bool fail(std::string message) {
    error_ = std::move(message);
    failed_ = true;
    return false;
  }

 private:
  static bool parseDecimal(std::string_view field, uint32_t& value) {
    for (const char c : field) {
      if (c < '0' || c > '9') return false;
    }
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    return ec == std::errc() && end == field.data() + field.size();
  }

  const EnvLookup& lookup_;
  std::string& error_;
  bool failed_ = false;
};

// N from --shards or DANESCAN_SHARDS; `origin` says which. nullopt when neither is given or on
// error (then resolver.failed()).
std::optional<uint32_t> givenCount(Resolver& resolver, std::optional<uint32_t> shards_option,
                                   std::string& origin) {
  if (shards_option) {
    if (*shards_option == 0) {
      resolver.fail("--shards must be at least 1");
      return std::nullopt;
    }
    origin = "--shards " + std::to_string(*shards_option);
    return shards_option;
  }
  const auto env = resolver.read(kShardsEnv);
  if (!env) return std::nullopt;
  if (env->value == 0) {
    resolver.fail(std::string(kShardsEnv) + "=0: the shard count must be at least 1");
    return std::nullopt;
  }
  origin = std::string(kShardsEnv) + "=" + env->text;
  return env->value;
}

std::string assignment(const Var& var) { return std::string(var.name) + "=" + var.text; }

}  // namespace

std::optional<AutoShard> resolveAutoShard(const EnvLookup& lookup,
                                          std::optional<uint32_t> shards_option,
                                          std::string& error) {
  Resolver env(lookup, error);
  AutoShard result;
  const char* engine = nullptr;
  for (const char* name : {kParallelSeq, kJobCompletionIndex, kSlurmTaskId}) {
    if (!env.isSet(name)) continue;
    if (engine == nullptr) {
      engine = name;
    } else {
      result.ignored.emplace_back(name);
    }
  }
  if (engine == nullptr) {
    error =
        "no shard index in the environment; set by GNU parallel (PARALLEL_SEQ), a "
        "Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm job array "
        "(SLURM_ARRAY_TASK_ID); elsewhere give --shard K/N";
    return std::nullopt;
  }
  const auto index = env.read(engine);
  if (!index) return std::nullopt;
  std::string count_origin;
  const std::optional<uint32_t> given = givenCount(env, shards_option, count_origin);
  if (env.failed()) return std::nullopt;

  if (engine == kParallelSeq || engine == kJobCompletionIndex) {
    const bool zero_based = engine == kJobCompletionIndex;
    if (!given) {
      error = assignment(*index) + " gives the shard index but not the count: " +
              std::string(kNeedCount);
      return std::nullopt;
    }
    const uint32_t first = zero_based ? 0 : 1;
    if (index->value < first || index->value - first >= *given) {
      error = assignment(*index) + " is outside " + std::to_string(first) + ".." +
              std::to_string(*given - 1 + first) + ", the shards of " + count_origin +
              (zero_based ? " (completions must equal the shard count)"
                          : " (run as many jobs as shards)");
      return std::nullopt;
    }
    result.shard.index = index->value - first + 1;
    result.shard.count = *given;
    result.origin = assignment(*index) + ", " + count_origin;
    return result;
  }

  // Slurm: the array may start anywhere (--array=0-7, 1-8, 100-107) and step (0-14:2).
  const auto min = env.read(kSlurmTaskMin);
  const auto max = env.read(kSlurmTaskMax);
  const auto step = env.read(kSlurmTaskStep);
  const auto count = env.read(kSlurmTaskCount);
  if (env.failed()) return std::nullopt;
  const uint32_t first = min ? min->value : 0;
  const uint32_t stride = step ? step->value : 1;
  if (stride == 0) {
    error = assignment(*step) + ": the array's step must be at least 1";
    return std::nullopt;
  }
  if (index->value < first) {
    error = assignment(*index) + " is below " + assignment(*min);
    return std::nullopt;
  }
  if ((index->value - first) % stride != 0) {
    error = assignment(*index) + " is not a step of " + assignment(*step) + " from " +
            std::to_string(first);
    return std::nullopt;
  }
  if (count && count->value == 0) {
    error = assignment(*count) + ": the shard count must be at least 1";
    return std::nullopt;
  }
  if (count && given && count->value != *given) {
    error = assignment(*count) + " disagrees with " + count_origin +
            ": give one shard count, the array's size";
    return std::nullopt;
  }
  if (!count && !given) {
    error = assignment(*index) + " without " + kSlurmTaskCount +
            " gives the shard index but not the count: " + std::string(kNeedCount);
    return std::nullopt;
  }
  const uint32_t n = count ? count->value : *given;
  const std::string n_origin = count ? assignment(*count) : count_origin;
  // A list or a range with holes (--array=1,3,7) has fewer tasks than MIN..MAX spans: the
  // indices would not cover 1..N.
  if (max && (max->value < first || (max->value - first) % stride != 0 ||
              (max->value - first) / stride + 1 != n)) {
    error = "the Slurm array " + std::to_string(first) + "-" + max->text +
            (stride > 1 ? ":" + std::to_string(stride) : std::string()) + " does not hold exactly " +
            n_origin + " tasks in one range: submit --array=0-" + std::to_string(n - 1) +
            " or 1-" + std::to_string(n);
    return std::nullopt;
  }
  const uint32_t offset = (index->value - first) / stride;
  if (offset >= n) {
    error = assignment(*index) + " is task " + std::to_string(offset + 1) + " of an array from " +
            std::to_string(first) + ", beyond the " + n_origin + " shards";
    return std::nullopt;
  }
  result.shard.index = offset + 1;
  result.shard.count = n;
  result.origin = assignment(*index) + (min ? ", " + assignment(*min) : std::string()) +
                  (stride > 1 ? ", " + assignment(*step) : std::string()) + ", " + n_origin;
  return result;
}

}  // namespace danescan::inputs
