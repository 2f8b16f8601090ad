// tests/unit/inputs/shard_env_test.cc — `--shard auto`: every engine's variables, their index
// conventions, the precedence between engines, and every error naming its variable. The
// environment is a map handed to the pure resolver; the process's own is never touched.
#include "inputs/shard_env.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace danescan::inputs {
namespace {

using Env = std::map<std::string, std::string>;

struct Outcome {
  std::optional<AutoShard> shard;
  std::string error;
};

Outcome resolve(const Env& env, std::optional<uint32_t> shards_option = std::nullopt) {
  Outcome out;
  out.shard = resolveAutoShard(
      [&env](const char* name) -> const char* {
        const auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      shards_option, out.error);
  return out;
}

void expectShard(const Outcome& out, uint32_t k, uint32_t n) {
  ASSERT_TRUE(out.shard.has_value()) << out.error;
  EXPECT_EQ(out.shard->shard.index, k);
  EXPECT_EQ(out.shard->shard.count, n);
}

void expectError(const Outcome& out, const std::string& fragment) {
  ASSERT_FALSE(out.shard.has_value()) << "resolved to " << out.shard->shard.index << "/" << out.shard->shard.count;
  EXPECT_NE(out.error.find(fragment), std::string::npos) << out.error;
}

// --- GNU parallel: PARALLEL_SEQ is 1-based, N from --shards or DANESCAN_SHARDS.

TEST(AutoShard, ParallelSeqIsOneBased) {
  expectShard(resolve({{"PARALLEL_SEQ", "1"}}, 4), 1, 4);
  expectShard(resolve({{"PARALLEL_SEQ", "4"}}, 4), 4, 4);
  const auto out = resolve({{"PARALLEL_SEQ", "3"}}, 4);
  ASSERT_TRUE(out.shard);
  EXPECT_EQ(out.shard->origin, "PARALLEL_SEQ=3, --shards 4");
}

TEST(AutoShard, ParallelSeqTakesTheCountFromTheEnvironment) {
  const auto out = resolve({{"PARALLEL_SEQ", "2"}, {"DANESCAN_SHARDS", "5"}});
  expectShard(out, 2, 5);
  EXPECT_EQ(out.shard->origin, "PARALLEL_SEQ=2, DANESCAN_SHARDS=5");
}

TEST(AutoShard, ShardsOptionWinsOverTheEnvironment) {
  expectShard(resolve({{"PARALLEL_SEQ", "2"}, {"DANESCAN_SHARDS", "5"}}, 3), 2, 3);
}

TEST(AutoShard, ParallelSeqErrors) {
  expectError(resolve({{"PARALLEL_SEQ", "5"}}, 4), "PARALLEL_SEQ=5 is outside 1..4");
  expectError(resolve({{"PARALLEL_SEQ", "0"}}, 4), "PARALLEL_SEQ=0 is outside 1..4");
  expectError(resolve({{"PARALLEL_SEQ", "2"}}), "--shards N or DANESCAN_SHARDS=N");
  expectError(resolve({{"PARALLEL_SEQ", "x2"}}, 4), "PARALLEL_SEQ=\"x2\" is not a decimal number");
  expectError(resolve({{"PARALLEL_SEQ", "-1"}}, 4), "PARALLEL_SEQ=\"-1\" is not a decimal number");
  expectError(resolve({{"PARALLEL_SEQ", "99999999999"}}, 4), "PARALLEL_SEQ=\"99999999999\"");
}

// --- Kubernetes Indexed Job: JOB_COMPLETION_INDEX is 0-based.

TEST(AutoShard, JobCompletionIndexIsZeroBased) {
  expectShard(resolve({{"JOB_COMPLETION_INDEX", "0"}}, 8), 1, 8);
  expectShard(resolve({{"JOB_COMPLETION_INDEX", "7"}}, 8), 8, 8);
  const auto out = resolve({{"JOB_COMPLETION_INDEX", "2"}, {"DANESCAN_SHARDS", "8"}});
  expectShard(out, 3, 8);
  EXPECT_EQ(out.shard->origin, "JOB_COMPLETION_INDEX=2, DANESCAN_SHARDS=8");
}

TEST(AutoShard, JobCompletionIndexErrors) {
  expectError(resolve({{"JOB_COMPLETION_INDEX", "8"}}, 8), "JOB_COMPLETION_INDEX=8 is outside 0..7");
  expectError(resolve({{"JOB_COMPLETION_INDEX", "0"}}), "JOB_COMPLETION_INDEX=0 gives the shard index but not the count");
  expectError(resolve({{"JOB_COMPLETION_INDEX", "1.0"}}, 8), "JOB_COMPLETION_INDEX=\"1.0\"");
  expectError(resolve({{"JOB_COMPLETION_INDEX", " 1"}}, 8), "JOB_COMPLETION_INDEX=\" 1\"");
}

// --- the count itself.

TEST(AutoShard, CountErrors) {
  expectError(resolve({{"JOB_COMPLETION_INDEX", "0"}, {"DANESCAN_SHARDS", "0"}}), "DANESCAN_SHARDS=0");
  expectError(resolve({{"JOB_COMPLETION_INDEX", "0"}, {"DANESCAN_SHARDS", "four"}}), "DANESCAN_SHARDS=\"four\"");
  expectError(resolve({{"PARALLEL_SEQ", "1"}}, 0), "--shards must be at least 1");
  // The option wins over the variable, but a broken variable is not silently hidden by it either
  // when it is the one in use: here the option is absent.
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "0"}, {"DANESCAN_SHARDS", "x"}}), "DANESCAN_SHARDS=\"x\"");
}

// --- Slurm job arrays: the array index starts at SLURM_ARRAY_TASK_MIN, steps by _STEP.

TEST(AutoShard, SlurmArrayFromZero) {
  const Env base{{"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_MAX", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}};
  for (uint32_t id = 0; id < 4; ++id) {
    Env env = base;
    env["SLURM_ARRAY_TASK_ID"] = std::to_string(id);
    expectShard(resolve(env), id + 1, 4);
  }
}

TEST(AutoShard, SlurmArrayFromOne) {
  Env env{{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_MAX", "4"},
          {"SLURM_ARRAY_TASK_COUNT", "4"}};
  expectShard(resolve(env), 1, 4);
  env["SLURM_ARRAY_TASK_ID"] = "4";
  const auto out = resolve(env);
  expectShard(out, 4, 4);
  EXPECT_EQ(out.shard->origin, "SLURM_ARRAY_TASK_ID=4, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_COUNT=4");
}

TEST(AutoShard, SlurmArrayAnywhereWithAStep) {
  // --array=100-106:2 -> 100, 102, 104, 106
  const Env env{{"SLURM_ARRAY_TASK_ID", "104"}, {"SLURM_ARRAY_TASK_MIN", "100"}, {"SLURM_ARRAY_TASK_MAX", "106"},
                {"SLURM_ARRAY_TASK_STEP", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"}};
  expectShard(resolve(env), 3, 4);
}

TEST(AutoShard, SlurmWithoutMinStartsAtZero) {
  expectShard(resolve({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "2"}}), 1, 2);
  expectShard(resolve({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "2"}}), 2, 2);
}

TEST(AutoShard, SlurmCountFromTheOptionWhenTheArrayDoesNotSayIt) {
  expectShard(resolve({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_MIN", "1"}}, 3), 2, 3);
  expectShard(resolve({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "3"}}, 3), 3, 3);
}

TEST(AutoShard, SlurmErrors) {
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "3"}}, 4),
              "SLURM_ARRAY_TASK_COUNT=3 disagrees with --shards 4");
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "2"}}), "without SLURM_ARRAY_TASK_COUNT");
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}),
              "SLURM_ARRAY_TASK_ID=0 is below SLURM_ARRAY_TASK_MIN=1");
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}),
              "SLURM_ARRAY_TASK_ID=4 is task 5 of an array from 0, beyond the SLURM_ARRAY_TASK_COUNT=4 shards");
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_STEP", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}),
              "SLURM_ARRAY_TASK_ID=3 is not a step of SLURM_ARRAY_TASK_STEP=2");
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_STEP", "0"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}),
              "SLURM_ARRAY_TASK_STEP=0");
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "0"}}), "SLURM_ARRAY_TASK_COUNT=0");
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "a"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}), "SLURM_ARRAY_TASK_ID=\"a\"");
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_MIN", "z"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}),
              "SLURM_ARRAY_TASK_MIN=\"z\"");
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "4x"}}), "SLURM_ARRAY_TASK_COUNT=\"4x\"");
  // --array=1,3,7: three tasks, but 1..7 spans seven indices; the shards would not be 1..3.
  expectError(resolve({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_MAX", "7"},
                       {"SLURM_ARRAY_TASK_COUNT", "3"}}),
              "the Slurm array 1-7 does not hold exactly SLURM_ARRAY_TASK_COUNT=3 tasks in one range: submit "
              "--array=0-2 or 1-3");
}

// --- none, empty, several.

TEST(AutoShard, NoEngineIsAClearError) {
  expectError(resolve({}, 4), "no shard index in the environment");
  expectError(resolve({{"DANESCAN_SHARDS", "4"}}), "PARALLEL_SEQ");
  const auto out = resolve({});
  EXPECT_NE(out.error.find("JOB_COMPLETION_INDEX"), std::string::npos);
  EXPECT_NE(out.error.find("SLURM_ARRAY_TASK_ID"), std::string::npos);
}

TEST(AutoShard, AnEmptyVariableCountsAsUnset) {
  expectShard(resolve({{"PARALLEL_SEQ", ""}, {"JOB_COMPLETION_INDEX", "1"}}, 2), 2, 2);
  expectShard(resolve({{"PARALLEL_SEQ", "1"}, {"DANESCAN_SHARDS", ""}}, 2), 1, 2);
  expectError(resolve({{"PARALLEL_SEQ", ""}}, 2), "no shard index");
}

TEST(AutoShard, PrecedenceParallelThenKubernetesThenSlurm) {
  const Env all{{"PARALLEL_SEQ", "2"}, {"JOB_COMPLETION_INDEX", "0"}, {"SLURM_ARRAY_TASK_ID", "3"},
                {"SLURM_ARRAY_TASK_COUNT", "4"}};
  const auto out = resolve(all, 4);
  expectShard(out, 2, 4);
  EXPECT_EQ(out.shard->ignored, (std::vector<std::string>{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"}));

  Env no_parallel = all;
  no_parallel.erase("PARALLEL_SEQ");
  const auto k8s = resolve(no_parallel, 4);
  expectShard(k8s, 1, 4);
  EXPECT_EQ(k8s.shard->ignored, std::vector<std::string>{"SLURM_ARRAY_TASK_ID"});

  const auto slurm = resolve({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}});
  expectShard(slurm, 4, 4);
  EXPECT_TRUE(slurm.shard->ignored.empty());
}

TEST(AutoShard, EveryIndexOfAnEngineGivesEveryShardOnce) {
  // The engines' conventions map their N tasks onto 1..N, each shard exactly once.
  constexpr uint32_t n = 7;
  std::vector<int> parallel(n + 1), k8s(n + 1), slurm(n + 1);
  for (uint32_t i = 0; i < n; ++i) {
    const auto p = resolve({{"PARALLEL_SEQ", std::to_string(i + 1)}}, n);
    const auto k = resolve({{"JOB_COMPLETION_INDEX", std::to_string(i)}}, n);
    const auto s = resolve({{"SLURM_ARRAY_TASK_ID", std::to_string(10 + 3 * i)}, {"SLURM_ARRAY_TASK_MIN", "10"},
                            {"SLURM_ARRAY_TASK_MAX", std::to_string(10 + 3 * (n - 1))}, {"SLURM_ARRAY_TASK_STEP", "3"},
                            {"SLURM_ARRAY_TASK_COUNT", std::to_string(n)}});
    ASSERT_TRUE(p.shard && k.shard && s.shard) << p.error << k.error << s.error;
    ++parallel[p.shard->shard.index];
    ++k8s[k.shard->shard.index];
    ++slurm[s.shard->shard.index];
  }
  for (uint32_t k = 1; k <= n; ++k) {
    EXPECT_EQ(parallel[k], 1) << k;
    EXPECT_EQ(k8s[k], 1) << k;
    EXPECT_EQ(slurm[k], 1) << k;
  }
}

}  // namespace
}  // namespace danescan::inputs
