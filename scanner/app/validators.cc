// scanner/app/validators.cc — option validators that several commands share (scan, bench, list,
// --out), and the --shard/--shards pair of scan and list.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "inputs/shard_env.h"
#include "scanner/app/commands.h"
#include "scanner/dns/resolver_address.h"

namespace danescan::app {

CLI::Validator resolverValidator() {
  return CLI::Validator(
      [](std::string& value) {
        std::string error;
        return scanner::dns::ResolverAddress::parse(value, error) ? std::string() : error;
      },
      "ADDR[:PORT]");
}

CLI::Validator stdoutDash() {
  return CLI::Validator(
      [](std::string& value) {
        if (value == "-") value.clear();
        return std::string();
      },
      "");
}

void addShardOptions(CLI::App& cmd, ShardSelection& selection, const char* shard_help) {
  cmd.add_option("--shard", selection.shard, shard_help)->check(shardValidator());
  cmd.add_option("--shards", selection.shards,
                 "With --shard auto: the shard count N where the scheduler does not give it "
                 "(Kubernetes, GNU parallel); default: $" +
                     std::string(inputs::kShardsEnv))
      ->check(CLI::Validator(
          [](std::string& value) {
            return value.find_first_not_of("0123456789") == std::string::npos && value.find_first_not_of('0') != std::string::npos
                       ? std::string()
                       : "the shard count must be a whole number of at least 1, not '" + value + "'";
          },
          "N"));
}

EffectiveShard resolveShard(const ShardSelection& selection, const char* command, bool quiet) {
  if (selection.shard != "auto") {
    if (selection.shards != 0) {
      throw CLI::ValidationError("--shards", "goes with --shard auto (--shard K/N names N itself)");
    }
    return {selection.shard, ""};
  }
  std::string error;
  const auto found = inputs::resolveAutoShard(
      [](const char* name) -> const char* { return std::getenv(name); },
      selection.shards != 0 ? std::optional<uint32_t>(selection.shards) : std::nullopt, error);
  if (!found) throw CLI::ValidationError("--shard auto", error);
  EffectiveShard effective{
      std::to_string(found->shard.index) + "/" + std::to_string(found->shard.count), found->origin};
  if (!quiet) {
    std::string ignored;
    for (const auto& name : found->ignored) ignored += (ignored.empty() ? "" : ", ") + name;
    std::fprintf(stderr, "danescan %s: --shard auto: shard %s (%s)%s%s\n", command,
                 effective.shard.c_str(), found->origin.c_str(),
                 ignored.empty() ? "" : "; also set, ignored: ", ignored.c_str());
  }
  return effective;
}

void addProbeTimingOptions(CLI::App& cmd, unsigned& connect_timeout_ms, unsigned& stage_timeout_ms,
                           unsigned& probe_deadline_ms, unsigned& retry_delay_ms) {
  cmd.add_option("--connect-timeout", connect_timeout_ms, "TCP connect timeout of a probe in ms")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  cmd.add_option("--probe-timeout", stage_timeout_ms,
                 "Timeout of each SMTP/TLS stage of a probe in ms (greeting, EHLO, STARTTLS, handshake)")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  cmd.add_option("--probe-deadline", probe_deadline_ms, "A whole probe ends after this many ms, whatever the server does")
      ->check(CLI::Range(100, 3600000))
      ->capture_default_str();
  cmd.add_option("--smtp-retry-delay", retry_delay_ms, "Wait this many ms before the one retry after a 421 reply")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
}

void addQueryTimingOptions(CLI::App& cmd, unsigned& timeout_ms, unsigned& attempts, unsigned& late_retry_ms) {
  cmd.add_option("--timeout", timeout_ms, "First per-query timeout in ms (doubled on each retry)")
      ->check(CLI::Range(10, 60000))
      ->capture_default_str();
  cmd.add_option("--attempts", attempts, "UDP attempts per query, rotating across resolvers")
      ->check(CLI::Range(1, 10))
      ->capture_default_str();
  cmd.add_option("--late-retry", late_retry_ms,
                 "Ask a question once more N ms later when the resolver answered SERVFAIL without a DNSSEC reason "
                 "(Extended DNS Error 1-12) or not at all: a resolver gives up on a slow or briefly unreachable server "
                 "and succeeds later; bogus data is not retried (0: never)")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
}

}  // namespace danescan::app
