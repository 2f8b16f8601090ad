// scanner/app/scan_command.cc — `danescan scan`: the lists, the resolver client, the pipeline and
// the SQLite writer, put together on one libuv loop. Owns what a long survey run needs around
// the pipeline: resume, SIGINT/SIGTERM, progress on stderr, the warning about a resolver that
// does not validate, and the exit status of the command-line contract.
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "inputs/domain_stream.h"
#include "scanner/app/commands.h"
#include "scanner/dns/resolver_client.h"
#include "scanner/loop/loop.h"
#include "scanner/pipeline/resolver_health.h"
#include "scanner/pipeline/scanner.h"
#include "scanner/tls/prober.h"
#include "storage/json.h"
#include "storage/reader.h"
#include "storage/writer.h"

namespace danescan::app {
namespace {

struct ScanCommandOptions {
  std::vector<std::string> lists;
  std::vector<std::string> resolvers;
  std::string db;
  bool allow_special = false;
  bool no_probe = false;
  int smtp_port = 25;
  bool probe_all = false;
  unsigned tls_concurrency = 64;
  unsigned per_address = 2;
  unsigned max_mx_hosts = 10;
  unsigned max_addresses_per_host = 5;
  unsigned max_probes_per_domain = 20;
  std::string ehlo_name = "danescan.invalid";
  unsigned connect_timeout_ms = 10000;
  unsigned stage_timeout_ms = 30000;
  unsigned probe_deadline_ms = 60000;
  unsigned retry_delay_ms = 30000;
  std::string concurrency = "auto";  // --concurrency: "auto" or N (see concurrencyOf)
  unsigned concurrency_max = 20000;
  double qps = 0;
  unsigned timeout_ms = 2000;
  unsigned attempts = 3;
  unsigned late_retry_ms = 5000;
  bool resume = false;
  ShardSelection shard_selection;
  std::string shard;         // effective K/N, "" for the whole input
  std::string shard_origin;  // where --shard auto found it
  bool quiet = false;
};

// The writer's queue is not bounded by itself: above this many uncommitted records the scanner
// stops pulling new domains until the disk catches up.
constexpr uint64_t kMaxBacklog = 5000;
// Answers after which a resolver that never set AD is called non-validating.
constexpr uint64_t kAdWarningAfter = 50;

// The effective options, recorded with the run. storage's JSON writer escapes them, so a list
// path with any bytes in it still gives valid JSON.
std::string optionsJson(const ScanCommandOptions& o) {
  std::string out;
  storage::json::Writer w(out);
  w.beginObject();
  w.key("lists").beginArray();
  for (const auto& l : o.lists) w.value(l);
  w.endArray();
  w.key("resolvers").beginArray();
  for (const auto& r : o.resolvers) w.value(r);
  w.endArray();
  w.key("allow_special_addresses").value(o.allow_special);
  w.key("no_probe").value(o.no_probe);
  w.key("smtp_port").value(int64_t{o.smtp_port});
  w.key("probe_all").value(o.probe_all);
  w.key("tls_concurrency").value(int64_t{o.tls_concurrency});
  w.key("per_address").value(int64_t{o.per_address});
  w.key("max_mx_hosts").value(int64_t{o.max_mx_hosts});
  w.key("max_addresses_per_host").value(int64_t{o.max_addresses_per_host});
  w.key("max_probes_per_domain").value(int64_t{o.max_probes_per_domain});
  w.key("ehlo_name").value(o.ehlo_name);
  w.key("connect_timeout_ms").value(int64_t{o.connect_timeout_ms});
  w.key("stage_timeout_ms").value(int64_t{o.stage_timeout_ms});
  w.key("probe_deadline_ms").value(int64_t{o.probe_deadline_ms});
  w.key("retry_delay_ms").value(int64_t{o.retry_delay_ms});
  if (o.concurrency == "auto") {
    w.key("concurrency").value(o.concurrency);
    w.key("concurrency_max").value(int64_t{o.concurrency_max});
  } else {
    w.key("concurrency").value(static_cast<int64_t>(std::stoul(o.concurrency)));
  }
  w.key("qps").raw(std::to_string(o.qps));
  w.key("timeout_ms").value(int64_t{o.timeout_ms});
  w.key("attempts").value(int64_t{o.attempts});
  w.key("late_retry_ms").value(int64_t{o.late_retry_ms});
  w.key("shard").value(o.shard);
  if (!o.shard_origin.empty()) w.key("shard_origin").value(o.shard_origin);
  w.endObject();
  return out;
}

std::string formatDuration(double seconds) {
  const auto s = static_cast<long>(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

// Progress on stderr: a line rewritten in place on a terminal, a log line every 10 s otherwise.
class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1) {}

  // `total`: the domains this invocation will visit, when the list's length is known (a file;
  // never standard input). `health`: the resolver-health warnings still open, or "".
  void tick(const scanner::pipeline::ScanCounters& c, std::optional<uint64_t> total_domains, const std::string& health,
            bool final = false) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    if (!final && !tty_ && now - last_log_ < std::chrono::seconds(10)) return;
    last_log_ = now;
    const double rate = elapsed > 0 ? static_cast<double>(c.domains_done) / elapsed : 0;
    const double qrate = elapsed > 0 ? static_cast<double>(c.queries_sent) / elapsed : 0;
    std::string of_total;
    std::string percent;
    std::string eta;
    if (total_domains) {
      const uint64_t total = std::max(*total_domains, c.domains_done);
      char pct[32];
      std::snprintf(pct, sizeof pct, " (%.0f%%)", total > 0 ? 100.0 * static_cast<double>(c.domains_done) / static_cast<double>(total) : 100.0);
      of_total = "/" + std::to_string(total);
      percent = pct;
      if (rate > 0 && total > c.domains_done) eta = " · ETA " + formatDuration(static_cast<double>(total - c.domains_done) / rate);
    }
    if (c.queries_late_retried > 0) eta = " · " + std::to_string(c.queries_late_retried) + " asked again later" + eta;
    if (!health.empty()) eta += " · WARNING: " + health;
    std::string probes;
    if (c.probes_requested > 0) {
      probes = " · " + std::to_string(c.probes_done) + " probes (" + std::to_string(c.probes_failed) + " not authenticated, " +
               std::to_string(c.probes_requested - c.probes_done) + " in flight)";
    }
    // The final line also names the largest window (with --concurrency auto, what it grew to).
    const std::string peak = final && c.window_peak != c.window ? ", peak " + std::to_string(c.window_peak) : "";
    std::fprintf(stderr, "%sdanescan scan: %" PRIu64 "%s domains%s · %.0f domains/s · %.0f queries/s · %zu in flight (window %u%s) · %" PRIu64
                         " failed queries%s · %s%s%s",
                 tty_ && !final ? "\r\033[K" : "", c.domains_done, of_total.c_str(), percent.c_str(), rate, qrate, c.queries_in_flight,
                 c.window, peak.c_str(),
                 c.queries_failed, probes.c_str(), formatDuration(elapsed).c_str(), eta.c_str(), tty_ && !final ? "" : "\n");
    std::fflush(stderr);
  }
  void clearLine() {
    if (!quiet_ && tty_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool quiet_;
  bool tty_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_log_{};
};

std::string utcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What the scan knows about its resolver (issue 11). Until a resolver has answered anything,
// finished domains are held back, not stored: a domain whose lookups timed out because nothing
// answers would be wrong data. Once one answer arrives they go to the writer; if the resolver
// proves silent instead (pipeline::resolverSilent) they are dropped with the domains in flight,
// the run is left `interrupted`, and --resume redoes every one of them.
struct ResolverWatch {
  scanner::pipeline::HealthMonitor monitor;
  // Set once the Scanner exists. When the list is read and fewer queries than the monitor's
  // window are left, the results still to come are the slowest of the scan (servers that answer
  // late or never): a sample of stragglers, not of the resolver, so the monitor stops there.
  const scanner::pipeline::Scanner* scanner = nullptr;
  [[nodiscard]] bool draining() const {
    if (!scanner || !scanner->inputDone()) return false;
    const auto& c = scanner->counters();
    return c.queries_in_flight + c.queries_queued < scanner::pipeline::HealthMonitor::Options{}.window;
  }
  std::vector<storage::DomainRecord> held;
  bool silent = false;
  uint64_t silent_at_query = 0;
  uint64_t dropped = 0;  // held domains dropped because the resolver proved silent
  std::string silent_at;
};

bool sourcesReadable(const std::vector<std::string>& lists) {
  bool ok = true;
  for (const auto& path : lists) {
    if (path == "-") continue;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(path.c_str(), R_OK) != 0) {
      std::fprintf(stderr, "danescan scan: cannot read list '%s'\n", path.c_str());
      ok = false;
    }
  }
  return ok;
}

// "K/N" as the run records it (runs.shard), or none without --shard.
std::optional<std::string> shardText(const std::string& option) {
  if (option.empty()) return std::nullopt;
  std::string error;
  const auto shard = inputs::Shard::parse(option, error);  // validated by CLI11
  return std::to_string(shard->index) + "/" + std::to_string(shard->count);
}

// --resume continues a run only over the lists it began with: the same files in the same order
// (paths may differ), each still holding the bytes the run read (SHA-256 of the stored prefix),
// and the same shard. Checked before the run is touched; reading the lists' prefixes here blocks
// nothing, since the loop has not started. Standard input cannot be read twice and is not
// checked (a note says so). A run killed before it ever ended has no lists stored: nothing to
// check against. True to go on; false with the reason printed.
bool resumeMatches(const ScanCommandOptions& o) {
  std::error_code ec;
  if (!std::filesystem::exists(o.db, ec)) return true;  // Writer::open says "no scan to resume"
  std::string error;
  auto reader = storage::Reader::open(o.db, error);
  if (!reader) return true;  // and so does the writer, with the same message
  const auto run = reader->resumableRun(error);
  if (!run) return true;
  const auto shard = shardText(o.shard);
  if (run->shard != shard) {
    std::fprintf(stderr, "danescan scan: cannot resume run %" PRId64 " of %s: it scanned %s, this command %s\n", run->id,
                 o.db.c_str(), run->shard ? ("shard " + *run->shard).c_str() : "without --shard",
                 shard ? ("shard " + *shard).c_str() : "without --shard");
    return false;
  }
  if (!run->lists_json) return true;
  if (run->lists.size() != o.lists.size()) {
    std::fprintf(stderr, "danescan scan: cannot resume run %" PRId64 " of %s: it read %zu list(s), this command gives %zu\n",
                 run->id, o.db.c_str(), run->lists.size(), o.lists.size());
    return false;
  }
  for (size_t i = 0; i < o.lists.size(); ++i) {
    const storage::ListRecord& was = run->lists[i];
    if (was.sha256.empty()) continue;  // never opened by the run: nothing to compare
    if (o.lists[i] == "-" || was.path == "-") {
      if (!o.quiet) std::fprintf(stderr, "danescan scan: note: list %zu is standard input, which cannot be checked against the run's\n", i + 1);
      continue;
    }
    const auto now = inputs::contentPrefixSha256(o.lists[i], static_cast<uint64_t>(was.bytes), error);
    if (!now || *now != was.sha256) {
      std::fprintf(stderr,
                   "danescan scan: cannot resume run %" PRId64 " of %s: list '%s' is not the one the run read as '%s' (%s)\n",
                   run->id, o.db.c_str(), o.lists[i].c_str(), was.path.c_str(),
                   now ? ("the first " + std::to_string(was.bytes) + " bytes have another SHA-256").c_str() : error.c_str());
      return false;
    }
  }
  return true;
}

// The lists as the run records them at its end (runs.lists).
storage::RunEnd runEnd(const scanner::pipeline::DomainFeed& feed, const inputs::StreamStats& stats) {
  std::vector<storage::ListRecord> lists;
  for (const auto& s : feed.sources()) {
    lists.push_back(storage::ListRecord{s.source, s.sha256, static_cast<int64_t>(s.bytes), static_cast<int64_t>(s.lines),
                                        static_cast<int64_t>(s.invalid), static_cast<int64_t>(s.duplicates), s.complete});
  }
  storage::RunEnd end;
  end.lists_json = storage::listsJson(lists);
  end.invalid_lines = static_cast<int64_t>(stats.rejected);
  end.duplicate_lines = static_cast<int64_t>(stats.duplicates);
  return end;
}

int runScan(const ScanCommandOptions& o, const std::string& command_line) {
  if (!sourcesReadable(o.lists)) return kExitFailed;
  if (o.resume && !resumeMatches(o)) return kExitFailed;

  std::vector<scanner::dns::ResolverAddress> resolvers;
  for (const auto& text : o.resolvers) {
    std::string error;
    resolvers.push_back(*scanner::dns::ResolverAddress::parse(text, error));  // validated by CLI11
  }

  std::string error;
  auto writer = storage::Writer::open(
      o.db, storage::RunInfo{DANESCAN_VERSION, command_line, optionsJson(o), shardText(o.shard), std::nullopt},
      o.resume ? storage::OpenMode::Resume : storage::OpenMode::Create, error);
  if (!writer) {
    std::fprintf(stderr, "danescan scan: %s\n", error.c_str());
    return kExitFailed;
  }

  // --resume: the domains already committed in this run are not scanned again.
  auto finished = std::make_shared<std::unordered_set<std::string>>();
  if (o.resume) {
    if (!storage::finishedDomains(o.db, writer->runId(), [&](std::string_view name) { finished->emplace(name); }, error)) {
      std::fprintf(stderr, "danescan scan: %s\n", error.c_str());
      writer->finish(false);
      return kExitFailed;
    }
    if (!o.quiet) std::fprintf(stderr, "danescan scan: resuming run %" PRId64 ": %zu domains already done\n", writer->runId(), finished->size());
  }

  inputs::StreamOptions stream_options;
  stream_options.sources = o.lists;
  if (!o.shard.empty()) stream_options.shard = inputs::Shard::parse(o.shard, error);
  if (!finished->empty()) {
    stream_options.exclude = [finished](std::string_view name) { return finished->count(std::string(name)) > 0; };
  }
  scanner::loop::Loop loop;
  // Read on a thread of its own, ahead of the scan: a list that is slow to arrive (a pipe) must
  // not stall the loop while answers wait in the sockets and their timers run out.
  scanner::pipeline::DomainFeed feed(loop.get(), std::move(stream_options));
  scanner::dns::ClientOptions client_options;
  client_options.timeout_ms = o.timeout_ms;
  client_options.attempts = o.attempts;
  scanner::dns::ResolverClient client(loop.get(), resolvers, client_options);

  scanner::pipeline::ScanOptions scan_options;
  scan_options.resolvers = resolvers;
  scan_options.client = client_options;
  scan_options.late_retry_ms = o.late_retry_ms;
  // A fixed window of N, or one that adapts from the old default of 256 up to --concurrency-max.
  scan_options.adaptive = o.concurrency == "auto";
  scan_options.concurrency = scan_options.adaptive ? std::min(256u, o.concurrency_max) : static_cast<unsigned>(std::stoul(o.concurrency));
  scan_options.concurrency_max = o.concurrency_max;
  scan_options.feedback_ms = 0;
  for (unsigned i = 0, t = o.timeout_ms; i < o.attempts; ++i, t *= 2) scan_options.feedback_ms += t;  // the client doubles each retry's timeout
  scan_options.qps = o.qps;
  scan_options.allow_special_addresses = o.allow_special;
  scan_options.no_probe = o.no_probe;
  scan_options.probe_all = o.probe_all;
  scan_options.smtp_port = static_cast<uint16_t>(o.smtp_port);
  scan_options.max_mx_hosts = o.max_mx_hosts;
  scan_options.max_addresses_per_host = o.max_addresses_per_host;
  scan_options.max_probes_per_domain = o.max_probes_per_domain;

  scanner::tls::ProberOptions prober_options;
  prober_options.probe.ehlo_name = o.ehlo_name;
  prober_options.probe.connect_timeout_ms = o.connect_timeout_ms;
  prober_options.probe.stage_timeout_ms = o.stage_timeout_ms;
  prober_options.probe.deadline_ms = o.probe_deadline_ms;
  prober_options.tls_concurrency = o.tls_concurrency;
  prober_options.per_address = o.per_address;
  prober_options.retry_delay_ms = o.retry_delay_ms;
  scanner::tls::Prober prober(loop.get(), prober_options);

  Progress progress(o.quiet);
  ResolverWatch watch;
  // Every query result also goes to the health monitor; a warning says so at once.
  scanner::pipeline::Scanner::Transport transport =
      [&client, &watch, &progress, quiet = o.quiet](const scanner::dns::Question& question, scanner::dns::QueryOptions options,
                                                    std::function<void(scanner::dns::QueryResult)> done) {
        client.query(question, options, [&watch, &progress, quiet, done = std::move(done)](scanner::dns::QueryResult result) {
          if (!watch.draining() && watch.monitor.record(scanner::pipeline::classify(result)) != nullptr) {
            watch.monitor.stampLastOpened(utcNow());
            if (!quiet) {
              progress.clearLine();
              std::fprintf(stderr, "danescan scan: warning: resolver health: %s\n", watch.monitor.activeText().c_str());
            }
          }
          done(std::move(result));
        });
      };
  const auto flushHeld = [&writer, &watch] {
    for (auto& record : watch.held) writer->submit(std::move(record));
    watch.held.clear();
  };

  scanner::pipeline::Scanner scanner(
      loop.get(), scan_options, std::move(transport), feed,
      [&writer, &watch, &client, &flushHeld](storage::DomainRecord&& record) {
        if (client.stats().responses == 0) {
          watch.held.push_back(std::move(record));
          return;
        }
        if (!watch.held.empty()) flushHeld();
        writer->submit(std::move(record));
      },
      [&writer] { return writer->backlog() > kMaxBacklog; },
      o.no_probe ? scanner::pipeline::Scanner::ProbeTransport{} : scanner::pipeline::makeProberTransport(prober));
  watch.scanner = &scanner;

  bool interrupted = false;
  bool warned_ad = false;

  // SIGINT/SIGTERM: stop pulling domains and let those in flight finish, so everything
  // reported is complete and committed; a second signal abandons them (--resume redoes them).
  std::vector<scanner::loop::SignalPtr> signals;
  struct SignalContext {
    scanner::pipeline::Scanner* scanner;
    scanner::tls::Prober* prober;
    bool* interrupted;
    bool quiet;
  } signal_context{&scanner, &prober, &interrupted, o.quiet};
  for (int signum : {SIGINT, SIGTERM}) {
    int uv_error = 0;
    auto handle = scanner::loop::makeSignal(loop.get(), uv_error);
    if (!handle) {
      std::fprintf(stderr, "danescan scan: cannot watch signals: %s\n", uv_strerror(uv_error));
      return kExitFailed;
    }
    handle->data = &signal_context;
    uv_signal_start(
        handle.get(),
        [](uv_signal_t* h, int sig) {
          auto* ctx = static_cast<SignalContext*>(h->data);
          if (!*ctx->interrupted) {
            *ctx->interrupted = true;
            if (!ctx->quiet) std::fprintf(stderr, "\ndanescan scan: %s: finishing the domains in flight (again to abandon them)\n", strsignal(sig));
            ctx->scanner->stop();
          } else {
            ctx->scanner->abandon();
            ctx->prober->abandon();
          }
        },
        signum);
    signals.push_back(std::move(handle));
  }

  int uv_error = 0;
  auto ticker = scanner::loop::makeTimer(loop.get(), uv_error);
  if (!ticker) {
    std::fprintf(stderr, "danescan scan: cannot start a timer: %s\n", uv_strerror(uv_error));
    return kExitFailed;
  }
  struct TickContext {
    scanner::pipeline::Scanner* scanner;
    Progress* progress;
    bool* warned_ad;
    scanner::pipeline::DomainFeed* feed;
    scanner::dns::ResolverClient* client;
    ResolverWatch* watch;
    size_t resolvers;
    unsigned attempts;
  } tick_context{&scanner, &progress, &warned_ad, &feed, &client, &watch, resolvers.size(), o.attempts};
  ticker->data = &tick_context;
  uv_timer_start(
      ticker.get(),
      [](uv_timer_t* t) {
        auto* ctx = static_cast<TickContext*>(t->data);
        const auto& c = ctx->scanner->counters();
        if (!ctx->watch->silent && scanner::pipeline::resolverSilent(ctx->client->stats(), ctx->resolvers, ctx->attempts)) {
          // Nothing answers: stop now rather than store every domain as the resolver's timeout.
          ctx->watch->silent = true;
          ctx->watch->silent_at_query = c.queries_sent;
          ctx->watch->silent_at = utcNow();
          ctx->watch->dropped += ctx->watch->held.size();
          ctx->watch->held.clear();
          ctx->progress->clearLine();
          ctx->scanner->abandon();
          return;
        }
        if (!*ctx->warned_ad && c.queries_answered >= kAdWarningAfter && c.ad_seen == 0) {
          *ctx->warned_ad = true;
          ctx->progress->clearLine();
          std::fprintf(stderr,
                       "danescan scan: warning: %" PRIu64 " answers and not one with the AD bit: the resolver does not "
                       "validate DNSSEC, so every result will read 'insecure'\n",
                       c.queries_answered);
        }
        ctx->progress->tick(c, ctx->feed->total(), ctx->watch->monitor.activeText());
      },
      1000, 1000);

  scanner.setOnFinished([&] {
    uv_timer_stop(ticker.get());
    for (auto& s : signals) uv_signal_stop(s.get());
    client.close();
    prober.stop();  // nothing is left to probe: its timers stop so the loop can end
    feed.close();   // its wake-up handle too
  });
  scanner.start();
  uv_run(loop.get(), UV_RUN_DEFAULT);

  const auto& counters = scanner.counters();
  // The scan ended before the ticker judged the resolver (a short list): no answer at all is
  // the same verdict.
  if (!watch.silent && client.stats().responses == 0 && counters.queries_sent > 0) {
    watch.silent = true;
    watch.silent_at_query = counters.queries_sent;
    watch.silent_at = utcNow();
  }
  if (watch.silent) {
    watch.dropped += watch.held.size();
    watch.held.clear();
    interrupted = true;
  } else {
    flushHeld();
  }
  progress.clearLine();
  progress.tick(counters, feed.total(), watch.monitor.activeText(), true);
  if (!warned_ad && counters.queries_answered > 0 && counters.ad_seen == 0) {
    std::fprintf(stderr, "danescan scan: warning: the resolver never set the AD bit: it does not validate DNSSEC\n");
  }
  const inputs::StreamStats stats = feed.stats();
  const bool completed = !interrupted && stats.unreadable_sources == 0;
  std::vector<std::string> extra;
  if (watch.silent) {
    std::string w;
    storage::json::Writer j(w);
    j.beginObject();
    j.key("kind").value("resolver-silent");
    j.key("at_query").value(static_cast<int64_t>(watch.silent_at_query));
    j.key("until_query").null();
    j.key("share").raw("1");
    j.key("baseline").raw("0");
    j.key("at").value(watch.silent_at);
    j.endObject();
    extra.push_back(std::move(w));
  }
  if (auto health = watch.monitor.json(extra)) writer->setHealth(std::move(*health));
  writer->finish(completed, runEnd(feed, stats));
  if (!writer->error().empty()) {
    std::fprintf(stderr, "danescan scan: writing %s failed: %s\n", o.db.c_str(), writer->error().c_str());
    return kExitFailed;
  }
  if (!o.quiet) {
    std::fprintf(stderr,
                 "danescan scan: %" PRIu64 " domains stored in %s (%" PRIu64 " invalid lines, %" PRIu64 " duplicates%s%s)\n",
                 counters.domains_done - watch.dropped, o.db.c_str(), stats.rejected, stats.duplicates,
                 // Interrupted: the list was read up to DomainFeed's window beyond the last domain.
                 interrupted ? " in the lines read so far" : "",
                 finished->empty() ? "" : (", " + std::to_string(finished->size()) + " done before").c_str());
  }
  if (!o.quiet) {
    for (const std::string& line : watch.monitor.summaryLines()) {
      std::fprintf(stderr, "danescan scan: warning: resolver health: %s\n", line.c_str());
    }
  }
  if (watch.silent) {
    // Not silenced by --quiet: this is the failure the exit status reports.
    std::string list;
    for (const auto& r : o.resolvers) list += (list.empty() ? "" : ", ") + r;
    std::fprintf(stderr,
                 "danescan scan: error: the resolver never answered (%s): %" PRIu64
                 " queries, not one response; nothing was stored for the domains it was asked about. "
                 "Run the same command with --resume once a resolver answers\n",
                 list.c_str(), watch.silent_at_query);
    return kExitFailed;
  }
  if (interrupted) {
    std::fprintf(stderr, "danescan scan: interrupted; run the same command with --resume to finish\n");
    return kExitFailed;
  }
  if (stats.unreadable_sources > 0) {
    std::fprintf(stderr, "danescan scan: %" PRIu64 " list(s) could not be read completely\n", stats.unreadable_sources);
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

void addScanCommand(CLI::App& app, Runner& run, const std::string& command_line) {
  auto o = std::make_shared<ScanCommandOptions>();
  CLI::App* cmd = app.add_subcommand("scan", "Scan the domains of lists for DANE (RFC 7672) and store the evidence in SQLite.");
  cmd->add_option("LIST", o->lists,
                  "Domain lists: plain text or rank,domain CSV, either may be gzip-compressed; '-' reads standard input")
      ->required();
  cmd->add_option("--resolver", o->resolvers,
                  "Validating resolver to query, IP[:PORT] (repeatable: they share the load and fail over; never the system resolver)")
      ->required()
      ->allow_extra_args(false)  // one address per --resolver: `--resolver A LIST` leaves LIST positional
      ->check(resolverValidator());
  cmd->add_option("--db", o->db, "SQLite database to write (created if missing; a new run is appended)")->required();
  cmd->add_flag("--allow-special-addresses", o->allow_special,
                "Probe MX addresses in special-purpose ranges (loopback, private, ...), which are otherwise recorded only");
  cmd->add_flag("--no-probe", o->no_probe, "DNS only: no SMTP/TLS probes (hosts with usable TLSA records are 'unprobed')");
  cmd->add_option("--smtp-port", o->smtp_port, "Probe SMTP on this port")->check(CLI::Range(1, 65535))->capture_default_str();
  cmd->add_flag("--probe-all", o->probe_all,
                "Also probe hosts without usable TLSA records (opportunistic STARTTLS statistics; their DANE state is unchanged)");
  cmd->add_option("--tls-concurrency", o->tls_concurrency, "At most N SMTP/TLS probes in flight")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--per-address", o->per_address, "At most N simultaneous connections to one SMTP server address")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  // Bounded work per domain: one list line must not make the scanner look up thousands of hosts
  // or connect to any set of port-25 addresses. Postfix bounds delivery the same way
  // (smtp_mx_address_limit 5, smtp_mx_session_limit 2); a survey wants more evidence than one
  // delivery, so the defaults are larger, and still bounded.
  cmd->add_option("--max-mx-hosts", o->max_mx_hosts,
                  "Look up at most N MX hosts per domain, the most preferred first (ties by name); the rest are left "
                  "out of the domain's 'mx', which then carries the finding mx-limit-reached")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--max-addresses-per-host", o->max_addresses_per_host,
                  "Probe at most N addresses of one MX host (the first in address order; all are still recorded); "
                  "more give mx-limit-reached")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--max-probes-per-domain", o->max_probes_per_domain,
                  "Probe at most N targets per domain, hosts in preference order (one probe per address, TLSA base "
                  "name and TLSA RRset however many hosts share it); a host left without a probe stays 'unprobed', "
                  "and the domain carries mx-limit-reached")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--ehlo-name", o->ehlo_name, "Name to send in EHLO (use a name of the scanning machine that resolves to it)")
      ->capture_default_str();
  addProbeTimingOptions(*cmd, o->connect_timeout_ms, o->stage_timeout_ms, o->probe_deadline_ms, o->retry_delay_ms);
  cmd->add_option("--concurrency", o->concurrency,
                  "DNS queries in flight: 'auto' finds the number as the scan runs (from 256, growing while the answer rate "
                  "grows and neither answers' time in flight (the resolver queues) nor timeouts and SERVFAILs do; shrinking "
                  "when the time in flight grows or answers come only after a retry (the resolver dropped their first "
                  "query: unbound drops what one client has waiting past its wait-limit, 1,000 by default) and staying "
                  "below the size that lost them, halving when failures rise; at most --concurrency-max), or N for a fixed "
                  "window of at most N")
      ->check(CLI::IsMember({"auto"}) | CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--concurrency-max", o->concurrency_max, "With --concurrency auto: never more than N queries in flight (protects the resolver)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--qps", o->qps, "At most N queries per second (0: no limit)")->check(CLI::NonNegativeNumber)->capture_default_str();
  addQueryTimingOptions(*cmd, o->timeout_ms, o->attempts, o->late_retry_ms);
  cmd->add_flag("--resume", o->resume, "Continue the interrupted scan in this database without redoing finished domains");
  addShardOptions(*cmd, o->shard_selection,
                  "Scan only shard K of N of the input, e.g. 2/8 (merge the shards with 'danescan merge'); 'auto': K/N "
                  "from a scheduler's environment (docs/distributed.md)");
  cmd->add_flag("--quiet,-q", o->quiet, "No progress output");
  cmd->footer(
      "Progress goes to standard error (a status line on a terminal, a log line every 10 s otherwise).\n"
      "SIGINT/SIGTERM finish the domains in flight and commit them; a second signal abandons them.\n"
      "One list line costs a bounded amount of work: --max-mx-hosts, --max-addresses-per-host and\n"
      "--max-probes-per-domain (Postfix bounds one delivery with smtp_mx_address_limit=5 and\n"
      "smtp_mx_session_limit=2; a survey gathers more evidence, still bounded). A cut is the finding\n"
      "mx-limit-reached; the limits are recorded with the run, since they change results.\n"
      "Exit status: 0 the scan completed (whatever the verdicts), 1 it failed or was interrupted\n"
      "(continue with --resume), 2 usage error.\n"
      "Example: danescan scan top-1m.csv.gz --resolver 127.0.0.1 --db survey.sqlite");
  cmd->callback([o, &run, command_line] {
    const EffectiveShard shard = resolveShard(o->shard_selection, "scan", o->quiet);
    o->shard = shard.shard;
    o->shard_origin = shard.origin;
    run = [o, command_line] { return runScan(*o, command_line); };
  });
}

}  // namespace danescan::app
