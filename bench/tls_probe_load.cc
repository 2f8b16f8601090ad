// bench/tls_probe_load.cc — load driver for the TLS probe engine (issue 4, "Benchmark"): runs
// danescan's own Prober (scanner/tls/prober.h), and through it SmtpProbe, against one or more SMTP
// STARTTLS servers on loopback, and prints what it took. Not a Google Benchmark program: the
// cost measured is a whole probe against a real server (TCP, SMTP dialogue, TLS handshake, DANE),
// so it runs once, on one loop, as the scanner does. bench/tls.sh starts the servers and runs it
// beside `openssl s_time`.
//
// Every probe has its own TLSA base domain (`<i>.<suffix>`), so the Prober's cache (keyed on
// address, port, base and RRset) never joins two of them; all carry the same TLSA RRset, which
// must authenticate the server's certificate. A benchmark of failing probes measures nothing:
// unless every probe ends with dane "pass", the program prints the first failure and exits 1.
//
// Output (stdout), one `key=value` per line: probes, pass, seconds (first probe() call to the
// last report), probes_per_s, max_in_flight and max_per_address (ProberCounters), connections,
// cpu_user_s, cpu_sys_s, cpu_us_per_probe, rss_start_kib (before the first probe), peak_rss_kib
// (getrusage ru_maxrss: the process's high-water mark), tls_version, cipher.
#include <sys/resource.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "scanner/loop/loop.h"
#include "scanner/tls/prober.h"

namespace {

using danescan::scanner::tls::ProbeTarget;
using danescan::scanner::tls::Prober;
using danescan::scanner::tls::ProberOptions;
using danescan::storage::ProbeRecord;

struct Server {
  std::string address;
  uint16_t port = 0;
};

struct Args {
  std::vector<Server> servers;
  std::string tlsa;  // "U S M hex"
  std::string suffix = "bench.test";
  unsigned probes = 1000;
  unsigned concurrency = 64;
  unsigned per_address = 0;  // 0: same as concurrency
  uint32_t deadline_ms = 60000;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "tls_probe_load: %s\n"
               "usage: tls_probe_load --server ADDR:PORT [--server ...] --tlsa 'U S M HEX' [--probes N]\n"
               "                      [--concurrency C] [--per-address K] [--suffix NAME] [--deadline-ms MS]\n",
               why);
  std::exit(2);
}

unsigned number(const char* text, const char* what) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0' || v == 0 || v > 10'000'000) usage(what);
  return static_cast<unsigned>(v);
}

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string opt = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + opt).c_str());
    const char* value = argv[++i];
    if (opt == "--server") {
      const std::string s = value;
      const size_t colon = s.rfind(':');
      if (colon == std::string::npos || colon == 0) usage("--server takes ADDR:PORT");
      const unsigned port = number(s.c_str() + colon + 1, "bad port in --server");
      if (port > 65535) usage("bad port in --server");
      a.servers.push_back({s.substr(0, colon), static_cast<uint16_t>(port)});
    } else if (opt == "--tlsa") {
      a.tlsa = value;
    } else if (opt == "--suffix") {
      a.suffix = value;
    } else if (opt == "--probes") {
      a.probes = number(value, "bad --probes");
    } else if (opt == "--concurrency") {
      a.concurrency = number(value, "bad --concurrency");
    } else if (opt == "--per-address") {
      a.per_address = number(value, "bad --per-address");
    } else if (opt == "--deadline-ms") {
      a.deadline_ms = number(value, "bad --deadline-ms");
    } else {
      usage(("unknown option " + opt).c_str());
    }
  }
  if (a.servers.empty() || a.tlsa.empty()) usage("--server and --tlsa are required");
  if (a.per_address == 0) a.per_address = a.concurrency;
  return a;
}

// VmRSS of this process now (KiB); ru_maxrss only gives the high-water mark.
long currentRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

// 1,000 probes in flight need 1,000 sockets; the soft limit is often 1,024 with stdio counted.
void raiseFileLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parseArgs(argc, argv);
  raiseFileLimit();

  // Targets are built before the clock starts, so only the engine's work is timed.
  std::vector<ProbeTarget> targets;
  targets.reserve(args.probes);
  for (unsigned i = 0; i < args.probes; ++i) {
    const Server& server = args.servers[i % args.servers.size()];
    ProbeTarget t;
    t.address = server.address;
    t.port = server.port;
    t.tlsa_base = "mx" + std::to_string(i) + "." + args.suffix;
    t.reference_names = {t.tlsa_base};
    t.tlsa = {args.tlsa};
    targets.push_back(std::move(t));
  }

  danescan::scanner::loop::Loop loop;
  ProberOptions options;
  options.tls_concurrency = args.concurrency;
  options.per_address = args.per_address;
  options.probe.deadline_ms = args.deadline_ms;
  // Prober's default cache (100,000 records) holds every record of the run, as in a scan.
  uint64_t pass = 0, done = 0, end_ns = 0;
  std::string first_failure, tls_version, cipher;
  rusage before{}, after{};
  long rss_start = 0;
  {
    Prober prober(loop.get(), options);
    prober.setOnFinished([&] { end_ns = uv_hrtime(); });
    rss_start = currentRssKib();
    getrusage(RUSAGE_SELF, &before);
    const uint64_t start_ns = uv_hrtime();
    for (const ProbeTarget& t : targets) {
      prober.probe(t, [&](const ProbeRecord& r) {
        ++done;
        if (r.dane == "pass") {
          ++pass;
          if (tls_version.empty()) tls_version = r.tls_version, cipher = r.cipher;
        } else if (first_failure.empty()) {
          first_failure = r.address + ":" + std::to_string(r.port) + " " + r.tlsa_base + ": dane=" + r.dane +
                          " error=" + r.error.value_or("(none)");
        }
      });
    }
    prober.stop();  // everything requested is reported; on_finished then sets end_ns
    loop.run();
    getrusage(RUSAGE_SELF, &after);
    if (end_ns == 0) end_ns = uv_hrtime();
    const double secs = static_cast<double>(end_ns - start_ns) / 1e9;
    const double user = seconds(after.ru_utime) - seconds(before.ru_utime);
    const double sys = seconds(after.ru_stime) - seconds(before.ru_stime);
    const auto& c = prober.counters();
    std::printf("probes=%u\npass=%llu\nseconds=%.3f\nprobes_per_s=%.1f\n", args.probes,
                static_cast<unsigned long long>(pass), secs, static_cast<double>(done) / secs);
    std::printf("max_in_flight=%zu\nmax_per_address=%zu\nconnections=%llu\n", c.max_in_flight, c.max_per_address,
                static_cast<unsigned long long>(c.connections));
    std::printf("cpu_user_s=%.3f\ncpu_sys_s=%.3f\ncpu_us_per_probe=%.1f\n", user, sys,
                (user + sys) * 1e6 / static_cast<double>(args.probes));
    std::printf("rss_start_kib=%ld\npeak_rss_kib=%ld\ntls_version=%s\ncipher=%s\n", rss_start, after.ru_maxrss,
                tls_version.c_str(), cipher.c_str());
  }
  loop.run();  // the probes' close callbacks, after the Prober is gone
  if (done != args.probes || pass != args.probes) {
    std::fprintf(stderr, "tls_probe_load: %llu of %u probes reported, %llu passed; first failure: %s\n",
                 static_cast<unsigned long long>(done), args.probes, static_cast<unsigned long long>(pass),
                 first_failure.empty() ? "(none reported)" : first_failure.c_str());
    return 1;
  }
  return 0;
}
