// The driver on a real libuv loop with a scripted transport (answers delivered from the loop,
// never inside the query call, as ResolverClient does): no sockets, no timers except the
// Scanner's own.
#include "scanner/pipeline/scanner.h"

#include "scripted_dns.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <deque>
#include <map>
#include <set>

namespace danescan::scanner::pipeline {
namespace {

using namespace testing;

const std::string K1(64, 'a');
const std::string K2(64, 'b');

class TempList {
 public:
  explicit TempList(const std::vector<std::string>& names) {
    char tmpl[] = "/tmp/pipeline-test-XXXXXX";
    const int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = tmpl;
    std::ofstream out(path_);
    for (const auto& n : names) out << n << '\n';
  }
  ~TempList() { std::remove(path_.c_str()); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A world of `n` signed domains, each with MX 10 at the shared provider host and MX 20 at its
// own host.
Script world(int n) {
  Script s;
  auto host = [&](const std::string& name, const std::string& ip) {
    s.rr(name, CNAME, "NOERROR", true);
    s.rr(name, A, "NOERROR", true, {name + ". 3600 IN A " + ip});
    s.rr(name, AAAA, "NOERROR", true);
    s.rr("_25._tcp." + name, TLSA, "NOERROR", true,
         {"_25._tcp." + name + ". 3600 IN TLSA 3 1 1 " + K1, "_25._tcp." + name + ". 3600 IN TLSA 3 1 1 " + K2});
  };
  host("mx1.provider.test", "127.25.0.30");
  for (int i = 0; i < n; ++i) {
    const std::string d = "d" + std::to_string(i) + ".test";
    s.rr(d, MX, "NOERROR", true, {d + ". 3600 IN MX 10 mx1.provider.test.", d + ". 3600 IN MX 20 mx." + d + "."});
    host("mx." + d, "127.25.1." + std::to_string(i % 250));
  }
  return s;
}

struct FakeTransport {
  FakeTransport(uv_loop_t* l, Script* s) : loop(l), script(s) {}
  uv_loop_t* loop;
  Script* script;
  size_t in_flight = 0;
  size_t max_in_flight = 0;
  std::map<std::string, int> sent;  // question -> times sent

  Scanner::Transport make() {
    return [this](const dns::Question& q, dns::QueryOptions options, std::function<void(dns::QueryResult)> done) {
      ++in_flight;
      max_in_flight = std::max(max_in_flight, in_flight);
      ++sent[Script::describe(q, options.checking_disabled)];
      dns::QueryResult r = script->reply(q, options.checking_disabled);
      EXPECT_EQ(loop::deferCall(loop, [this, r = std::move(r), done = std::move(done)]() mutable {
                  --in_flight;
                  done(std::move(r));
                }),
                0);
    };
  }
};

inputs::StreamOptions streamOptions(const TempList& list) {
  inputs::StreamOptions o;
  o.sources = {list.path()};
  return o;
}

TEST(Scanner, ScansEveryDomainOnceSharingTheProviderHost) {
  constexpr int kDomains = 40;
  std::vector<std::string> names;
  for (int i = 0; i < kDomains; ++i) names.push_back("d" + std::to_string(i) + ".test");
  TempList list(names);
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  Script script = world(kDomains);
  {
    loop::Loop loop;
    FakeTransport transport{loop.get(), &script};
    ScanOptions options;
    options.concurrency = 7;
    options.domains_in_flight = 5;
    options.allow_special_addresses = true;
    std::vector<storage::DomainRecord> done;
    Scanner scanner(loop.get(), options, transport.make(), source, [&](storage::DomainRecord&& d) { done.push_back(std::move(d)); });
    bool finished = false;
    scanner.setOnFinished([&] { finished = true; });
    scanner.start();
    loop.run();

    EXPECT_TRUE(finished);
    ASSERT_EQ(done.size(), static_cast<size_t>(kDomains));
    std::set<std::string> seen;
    for (const auto& d : done) {
      seen.insert(d.domain);
      EXPECT_EQ(d.verdict, "dane-unprobed") << d.domain;
      ASSERT_EQ(d.mx.size(), 2u);
      EXPECT_EQ(d.mx[0].host, "mx1.provider.test");
      EXPECT_EQ(d.mx[0].preference, 10);
      EXPECT_EQ(d.mx[1].preference, 20);
      EXPECT_EQ(d.source, list.path());
      EXPECT_GT(d.line, 0u);
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(kDomains));
    // The shared host was looked up once; identical questions never sent twice.
    for (const auto& [question, times] : transport.sent) EXPECT_EQ(times, 1) << question;
    EXPECT_EQ(transport.sent["mx1.provider.test A"], 1);
    EXPECT_LE(transport.max_in_flight, 7u);
    const ScanCounters& c = scanner.counters();
    EXPECT_EQ(c.domains_done, static_cast<uint64_t>(kDomains));
    EXPECT_EQ(c.domains_started, static_cast<uint64_t>(kDomains));
    EXPECT_EQ(c.host_lookups, static_cast<uint64_t>(kDomains + 1));
    EXPECT_EQ(c.host_cache_hits, static_cast<uint64_t>(kDomains - 1));
    EXPECT_EQ(c.queries_sent, c.queries_answered);
    EXPECT_EQ(c.queries_in_flight, 0u);
    EXPECT_EQ(c.queries_queued, 0u);
    EXPECT_EQ(c.ad_seen, c.queries_answered);
    EXPECT_EQ(c.domains_in_flight, 0u);
  }
}

TEST(Scanner, CoalescesIdenticalQuestionsInFlight) {
  // Two domains whose MX is the same host, started together: the host lookup is shared while it
  // is still pending, and the implicit-MX domain's A query joins an identical pending one.
  TempList list({"a.test", "b.test"});
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  Script s;
  for (const char* d : {"a.test", "b.test"}) s.rr(d, MX, "NOERROR", true, {std::string(d) + ". 60 IN MX 10 mx.p.test."});
  s.rr("mx.p.test", CNAME, "NOERROR", true);
  s.rr("mx.p.test", A, "NOERROR", true, {"mx.p.test. 60 IN A 192.0.2.1"});
  s.rr("mx.p.test", AAAA, "NOERROR", true);
  s.rr("_25._tcp.mx.p.test", TLSA, "NXDOMAIN", true);
  loop::Loop loop;
  FakeTransport transport{loop.get(), &s};
  std::vector<storage::DomainRecord> done;
  Scanner scanner(loop.get(), ScanOptions{}, transport.make(), source, [&](storage::DomainRecord&& d) { done.push_back(std::move(d)); });
  scanner.start();
  loop.run();
  ASSERT_EQ(done.size(), 2u);
  // The host's queries travel with the first domain reported only (storage keeps them once).
  EXPECT_FALSE(done[0].mx[0].queries.empty());
  EXPECT_TRUE(done[1].mx[0].queries.empty());
  storage::HostRecord first = done[0].mx[0];
  first.queries.clear();
  EXPECT_EQ(first, done[1].mx[0]);
  EXPECT_EQ(done[0].mx[0].dane, "no-tlsa");
  EXPECT_EQ(done[0].verdict, "dnssec-no-tlsa");
  EXPECT_EQ(scanner.counters().host_lookups, 1u);
  EXPECT_EQ(scanner.counters().host_cache_hits, 1u);
  EXPECT_EQ(transport.sent["mx.p.test A"], 1);
}

// --late-retry: the MX question of `late.test` first gets `first` (a SERVFAIL, with or without a
// DNSSEC EDE, or a timeout), then `second` if it is asked again; the host answers normally.
struct LateRetryRun {
  std::vector<storage::DomainRecord> done;
  std::map<std::string, int> sent;
  uint64_t late_retried = 0;
  uint64_t elapsed_ms = 0;
};
LateRetryRun runLateRetry(dns::QueryResult first, dns::QueryResult second, uint64_t late_retry_ms) {
  TempList list({"late.test"});
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  Script s;
  s.rr("late.test", MX, "SERVFAIL", false, {}, true);  // the CD repeat: still no answer (not bogus)
  s.rr("mx.late.test", CNAME, "NOERROR", true);
  s.rr("mx.late.test", A, "NOERROR", true, {"mx.late.test. 60 IN A 192.0.2.1"});
  s.rr("mx.late.test", AAAA, "NOERROR", true);
  s.rr("_25._tcp.mx.late.test", TLSA, "NXDOMAIN", true);
  LateRetryRun run;
  loop::Loop loop;
  int mx_asked = 0;
  Scanner::Transport transport = [&](const dns::Question& q, dns::QueryOptions options, std::function<void(dns::QueryResult)> done) {
    ++run.sent[Script::describe(q, options.checking_disabled)];
    dns::QueryResult r = q.type == MX && !options.checking_disabled ? (mx_asked++ == 0 ? first : second)
                                                                   : s.reply(q, options.checking_disabled);
    EXPECT_EQ(loop::deferCall(loop.get(), [r = std::move(r), done = std::move(done)]() mutable { done(std::move(r)); }), 0);
  };
  ScanOptions options;
  options.late_retry_ms = late_retry_ms;
  const uint64_t start = uv_now(loop.get());
  Scanner scanner(loop.get(), options, transport, source, [&](storage::DomainRecord&& d) { run.done.push_back(std::move(d)); });
  scanner.start();
  loop.run();
  uv_update_time(loop.get());
  run.elapsed_ms = uv_now(loop.get()) - start;
  run.late_retried = scanner.counters().queries_late_retried;
  return run;
}

const std::vector<std::string> kLateMx = {"late.test. 60 IN MX 10 mx.late.test."};

TEST(ScannerLateRetry, ASlowServersServfailIsAskedAgainAndItsAnswerCounts) {
  const LateRetryRun run = runLateRetry(answer("late.test", MX, "SERVFAIL", false),
                                        answer("late.test", MX, "NOERROR", true, kLateMx), 200);
  ASSERT_EQ(run.done.size(), 1u);
  const storage::DomainRecord& d = run.done[0];
  EXPECT_EQ(d.verdict, "dnssec-no-tlsa");
  EXPECT_EQ(d.mx_rcode, "NOERROR");
  EXPECT_EQ(run.sent.at("late.test MX"), 2);
  EXPECT_EQ(run.sent.count("late.test MX +cd"), 0u) << "the retry answered: no CD repeat";
  EXPECT_EQ(run.late_retried, 1u);
  EXPECT_GE(run.elapsed_ms, 200u) << "asked again only after --late-retry ms";
  // One lookup in the evidence: both tries' messages, the first try named.
  ASSERT_EQ(d.queries.size(), 1u);
  EXPECT_EQ(d.queries[0].rcode, "NOERROR");
  EXPECT_EQ(d.queries[0].attempts, 2u);
  EXPECT_GE(d.queries[0].elapsed_ms, 200u);
  EXPECT_NE(d.queries[0].error.find("first try SERVFAIL"), std::string::npos) << d.queries[0].error;
}

TEST(ScannerLateRetry, ATimeoutIsAskedAgainOnceOnly) {
  // The retry fails too (SERVFAIL): the first try's TIMEOUT stands, both tries' messages counted.
  const LateRetryRun run = runLateRetry(timeout(), answer("late.test", MX, "SERVFAIL", false), 50);
  ASSERT_EQ(run.done.size(), 1u);
  EXPECT_EQ(run.done[0].verdict, "dns-error");
  EXPECT_EQ(run.done[0].mx_rcode, "TIMEOUT");
  EXPECT_EQ(run.sent.at("late.test MX"), 2);
  EXPECT_EQ(run.late_retried, 1u);
  ASSERT_EQ(run.done[0].queries.size(), 1u);
  EXPECT_EQ(run.done[0].queries[0].attempts, 4u);  // 3 UDP attempts, then 1
  EXPECT_NE(run.done[0].queries[0].error.find("asked again 50 ms later: SERVFAIL"), std::string::npos)
      << run.done[0].queries[0].error;
}

TEST(ScannerLateRetry, BogusDataAndADisabledRetryAreNotAskedAgain) {
  // A SERVFAIL with EDE 6 (DNSSEC Bogus): the resolver judged the data; asking again changes nothing.
  const LateRetryRun bogus = runLateRetry(answer("late.test", MX, "SERVFAIL", false, {}, {6}),
                                          answer("late.test", MX, "NOERROR", true, kLateMx), 50);
  EXPECT_EQ(bogus.sent.at("late.test MX"), 1);
  EXPECT_EQ(bogus.sent.at("late.test MX +cd"), 1);
  EXPECT_EQ(bogus.late_retried, 0u);
  ASSERT_EQ(bogus.done.size(), 1u);
  EXPECT_EQ(bogus.done[0].verdict, "dns-error");
  // --late-retry 0: the first SERVFAIL is the answer.
  const LateRetryRun off = runLateRetry(answer("late.test", MX, "SERVFAIL", false),
                                        answer("late.test", MX, "NOERROR", true, kLateMx), 0);
  EXPECT_EQ(off.sent.at("late.test MX"), 1);
  EXPECT_EQ(off.late_retried, 0u);
  ASSERT_EQ(off.done.size(), 1u);
  EXPECT_EQ(off.done[0].verdict, "dns-error");
}

TEST(Scanner, BackPressurePausesThePullingOfDomains) {
  TempList list({"d0.test", "d1.test", "d2.test"});
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  Script script = world(3);
  loop::Loop loop;
  FakeTransport transport{loop.get(), &script};
  ScanOptions options;
  options.pause_poll_ms = 1;
  int polls = 0;
  std::vector<std::string> done;
  Scanner scanner(
      loop.get(), options, transport.make(), source, [&](storage::DomainRecord&& d) { done.push_back(d.domain); },
      [&] { return ++polls <= 5; });  // the writer is busy for the first five polls
  scanner.start();
  EXPECT_EQ(scanner.counters().domains_started, 0u);
  loop.run();
  EXPECT_GT(polls, 5);
  EXPECT_EQ(done.size(), 3u);
  EXPECT_TRUE(scanner.finished());
}

TEST(Scanner, StopLetsTheDomainsInFlightFinish) {
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("d" + std::to_string(i) + ".test");
  TempList list(names);
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  Script script = world(20);
  loop::Loop loop;
  FakeTransport transport{loop.get(), &script};
  ScanOptions options;
  options.domains_in_flight = 3;
  std::vector<storage::DomainRecord> done;
  Scanner* self = nullptr;
  Scanner scanner(loop.get(), options, transport.make(), source, [&](storage::DomainRecord&& d) {
    done.push_back(std::move(d));
    if (done.size() == 2) self->stop();
  });
  self = &scanner;
  bool finished = false;
  scanner.setOnFinished([&] { finished = true; });
  scanner.start();
  loop.run();
  EXPECT_TRUE(finished);
  // Everything started was finished and reported, complete; nothing more was started.
  EXPECT_EQ(done.size(), scanner.counters().domains_started);
  EXPECT_LT(done.size(), 20u);
  for (const auto& d : done) EXPECT_EQ(d.verdict, "dane-unprobed");
}

TEST(Scanner, AbandonDropsTheDomainsInFlight) {
  TempList list({"d0.test", "d1.test", "d2.test"});
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  Script script = world(3);
  loop::Loop loop;
  FakeTransport transport{loop.get(), &script};
  std::vector<std::string> done;
  Scanner scanner(loop.get(), ScanOptions{}, transport.make(), source, [&](storage::DomainRecord&& d) { done.push_back(d.domain); });
  bool finished = false;
  scanner.setOnFinished([&] { finished = true; });
  scanner.start();
  EXPECT_EQ(scanner.counters().domains_started, 3u);
  scanner.abandon();
  EXPECT_TRUE(finished);
  loop.run();  // the answers already on their way are dropped
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(scanner.counters().domains_abandoned, 3u);
  EXPECT_EQ(scanner.counters().queries_in_flight, 0u);
}

TEST(Scanner, QpsLimitPacesTheQueries) {
  // 8 domains: 8 MX queries, 4 for each of 9 hosts = 44 queries.
  std::vector<std::string> names;
  for (int i = 0; i < 8; ++i) names.push_back("d" + std::to_string(i) + ".test");
  TempList list(names);
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  Script script = world(8);
  loop::Loop loop;
  FakeTransport transport{loop.get(), &script};
  ScanOptions options;
  options.qps = 200;
  std::vector<std::string> done;
  Scanner scanner(loop.get(), options, transport.make(), source, [&](storage::DomainRecord&& d) { done.push_back(d.domain); });
  const uint64_t start = uv_hrtime();
  scanner.start();
  loop.run();
  const double seconds = static_cast<double>(uv_hrtime() - start) / 1e9;
  EXPECT_EQ(done.size(), 8u);
  const double sent = static_cast<double>(scanner.counters().queries_sent);
  EXPECT_GE(sent, 40.0);
  // The bucket allows a burst of qps/20 = 10, then 200/s: at least (sent - 10) / 200 s. The
  // loop's clock counts whole milliseconds, so a refill may credit up to a millisecond early;
  // 30 % slack keeps the bound meaningful (an unpaced scanner takes a few milliseconds).
  EXPECT_GE(seconds, 0.7 * (sent - 10) / 200.0) << sent << " queries";
}

TEST(Scanner, DestroyedWithQueriesOnTheWayIgnoresTheirAnswers) {
  TempList list({"d0.test"});
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  Script script = world(1);
  loop::Loop loop;
  FakeTransport transport{loop.get(), &script};
  {
    Scanner scanner(loop.get(), ScanOptions{}, transport.make(), source, [](storage::DomainRecord&&) { FAIL(); });
    scanner.start();
  }
  loop.run();
  EXPECT_EQ(transport.in_flight, 0u);
}

// A probe transport that answers from a table of addresses (pass, mismatch, no-listener),
// from the loop, and records every target it was given.
struct FakeProber {
  uv_loop_t* loop = nullptr;  // set by scanWithProbes
  std::vector<tls::ProbeTarget> targets;
  std::map<std::string, std::string> behaviour;  // address -> "pass", "mismatch", "down"
  // A leaf certificate for every record, judged with the first target's names: as tls::Prober
  // hands one probe's record to every domain of a shared host.
  std::string leaf_der;
  std::optional<bool> first_names_match;

  Scanner::ProbeTransport make() {
    return [this](const tls::ProbeTarget& t, std::function<void(const storage::ProbeRecord&)> done) {
      targets.push_back(t);
      storage::ProbeRecord r;
      r.address = t.address;
      r.port = t.port;
      r.tlsa_base = t.tlsa_base;
      const std::string how = behaviour.count(t.address) ? behaviour[t.address] : "pass";
      if (how != "down") {
        r.connected = r.starttls = r.tls_ok = true;
        r.greeting = r.ehlo = r.starttls_stage = r.handshake = {"ok", 1};
        r.tls_version = "TLSv1.3";
      } else {
        r.connect = {"refused", 1};
        r.error = "connection refused";
      }
      if (t.tlsa.empty()) {
        r.dane = "n/a";
      } else if (how == "pass") {
        r.dane = "pass";
        r.matched = t.tlsa[0];
        r.matched_depth = 0;
        r.verify_code = 0;
        r.leaf_names_match = true;
        if (!leaf_der.empty()) {
          r.leaf_der = leaf_der;
          if (!first_names_match) first_names_match = tls::leafNamesMatch(leaf_der, t.reference_names);
          r.leaf_names_match = first_names_match;
        }
      } else {
        r.dane = "fail";
        if (how == "mismatch") {
          r.verify_code = 65;  // X509_V_ERR_DANE_NO_MATCH
          r.error = "no TLSA record matched";
        }
      }
      EXPECT_EQ(loop::deferCall(loop, [r, done = std::move(done)] { done(r); }), 0);
    };
  }
};

struct ProbeRun {
  std::vector<storage::DomainRecord> done;
  ScanCounters counters;
};

ProbeRun scanWithProbes(const std::vector<std::string>& names, Script& script, const ScanOptions& options,
                        FakeProber& prober) {
  TempList list(names);
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  ProbeRun run;
  loop::Loop loop;
  FakeTransport transport{loop.get(), &script};
  prober.loop = loop.get();
  Scanner scanner(loop.get(), options, transport.make(), source, [&](storage::DomainRecord&& d) { run.done.push_back(std::move(d)); },
                  {}, prober.make());
  scanner.start();
  loop.run();
  EXPECT_TRUE(scanner.finished());
  run.counters = scanner.counters();
  std::sort(run.done.begin(), run.done.end(), [](const auto& a, const auto& b) { return a.domain < b.domain; });
  return run;
}

// Every address of a usable-TLSA host is probed with the TLSA RRset, its base as SNI and the
// reference names of RFC 7672 section 3.2.2 (the next-hop domain is the domain's own name); one
// failing address makes the host fail, and its finding reaches the domain.
TEST(ScannerProbes, EveryAddressIsProbedAndOneFailureFailsTheHost) {
  Script s;
  s.rr("two.test", MX, "NOERROR", true, {"two.test. 3600 IN MX 10 mx.two.test."});
  s.rr("mx.two.test", CNAME, "NOERROR", true);
  s.rr("mx.two.test", A, "NOERROR", true, {"mx.two.test. 3600 IN A 127.25.0.1", "mx.two.test. 3600 IN A 127.25.0.2"});
  s.rr("mx.two.test", AAAA, "NOERROR", true);
  s.rr("_25._tcp.mx.two.test", TLSA, "NOERROR", true,
       {"_25._tcp.mx.two.test. 3600 IN TLSA 3 1 1 " + K1, "_25._tcp.mx.two.test. 3600 IN TLSA 2 1 1 " + K2});
  ScanOptions options;
  options.allow_special_addresses = true;
  options.smtp_port = 2525;
  FakeProber prober;
  prober.behaviour = {{"127.25.0.2", "mismatch"}};
  ProbeRun run = scanWithProbes({"two.test"}, s, options, prober);
  ASSERT_EQ(run.done.size(), 1u);
  const auto& d = run.done[0];
  ASSERT_EQ(d.mx.size(), 1u);
  const auto& h = d.mx[0];
  EXPECT_EQ(h.dane, "fail");
  ASSERT_EQ(h.probes.size(), 2u);
  EXPECT_EQ(h.probes[0].address, "127.25.0.1");
  EXPECT_EQ(h.probes[0].dane, "pass");
  EXPECT_EQ(h.probes[1].address, "127.25.0.2");
  EXPECT_EQ(h.probes[1].dane, "fail");
  EXPECT_EQ(d.verdict, "dane-fail");
  EXPECT_NE(std::find(d.findings.begin(), d.findings.end(), "tlsa-mismatch"), d.findings.end());
  ASSERT_EQ(prober.targets.size(), 2u);
  for (const auto& t : prober.targets) {
    EXPECT_EQ(t.port, 2525);
    EXPECT_EQ(t.tlsa_base, "mx.two.test");
    EXPECT_EQ(t.tlsa, h.tlsa);
    EXPECT_NE(std::find(t.reference_names.begin(), t.reference_names.end(), "two.test"), t.reference_names.end());
    EXPECT_NE(std::find(t.reference_names.begin(), t.reference_names.end(), "mx.two.test"), t.reference_names.end());
  }
  EXPECT_EQ(run.counters.probes_requested, 2u);
  EXPECT_EQ(run.counters.probes_done, 2u);
  EXPECT_EQ(run.counters.probes_failed, 1u);
}

// A shared host is probed for each domain with that domain as next-hop reference name (DANE-TA
// name checks depend on it; the real transport caches what does not); all pass: dane-ok.
TEST(ScannerProbes, ASharedHostIsProbedWithEachDomainsReferenceNames) {
  Script script = world(3);
  ScanOptions options;
  options.allow_special_addresses = true;
  FakeProber prober;
  ProbeRun run = scanWithProbes({"d0.test", "d1.test", "d2.test"}, script, options, prober);
  ASSERT_EQ(run.done.size(), 3u);
  for (const auto& d : run.done) {
    EXPECT_EQ(d.verdict, "dane-ok") << d.domain;
    for (const auto& h : d.mx) EXPECT_EQ(h.dane, "pass") << h.host;
  }
  std::set<std::string> next_hops;
  for (const auto& t : prober.targets) {
    if (t.address == "127.25.0.30") next_hops.insert(t.reference_names.back());
  }
  EXPECT_EQ(next_hops, (std::set<std::string>{"d0.test", "d1.test", "d2.test"}));
}

// A self-signed certificate (DER) whose subjectAltName is `san` ("DNS:a.test, DNS:*.b.test").
std::string certificateDer(const char* san) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  EXPECT_TRUE(key && cert);
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("scanner test"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_set_pubkey(cert, key);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san);
  EXPECT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  EXPECT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(std::max(length, 0)));
  OPENSSL_free(der);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

TEST(LeafNamesMatch, OpenSslJudgesTheNamesAsTheProbeDoes) {
  const std::string der = certificateDer("DNS:d0.test, DNS:*.wild.test");
  EXPECT_EQ(tls::leafNamesMatch(der, {"d0.test"}), true);
  EXPECT_EQ(tls::leafNamesMatch(der, {"mx.provider.test", "D0.Test"}), true);  // any one; case-insensitive
  EXPECT_EQ(tls::leafNamesMatch(der, {"d1.test"}), false);
  EXPECT_EQ(tls::leafNamesMatch(der, {"a.wild.test"}), true);
  EXPECT_EQ(tls::leafNamesMatch(der, {"a.b.wild.test"}), false);  // a wildcard covers one label
  EXPECT_EQ(tls::leafNamesMatch(der, {}), false);
  EXPECT_EQ(tls::leafNamesMatch("not a certificate", {"d0.test"}), std::nullopt);
}

// DANE-EE passes whatever the names (RFC 7672 section 3.1.1); the informational finding
// dane-ee-name-mismatch-only depends on each domain's reference names, the next-hop domain among
// them. One probe record serves both domains of the shared host (as tls::Prober shares it); its
// leaf names only d0.test: d0 has no finding, d1 has it, whichever domain was probed first.
TEST(ScannerProbes, TheEeNameFindingIsJudgedPerDomainOnASharedProbe) {
  for (const bool d1_first : {false, true}) {
    Script script = world(2);
    ScanOptions options;
    options.allow_special_addresses = true;
    options.concurrency = 1;  // one domain at a time, in list order
    FakeProber prober;
    prober.leaf_der = certificateDer("DNS:d0.test");
    ProbeRun run = scanWithProbes(d1_first ? std::vector<std::string>{"d1.test", "d0.test"}
                                           : std::vector<std::string>{"d0.test", "d1.test"},
                                  script, options, prober);
    ASSERT_EQ(run.done.size(), 2u);
    const auto has = [](const storage::DomainRecord& d) {
      return std::find(d.findings.begin(), d.findings.end(), "dane-ee-name-mismatch-only") != d.findings.end();
    };
    EXPECT_EQ(run.done[0].domain, "d0.test");
    EXPECT_EQ(run.done[0].verdict, "dane-ok");
    EXPECT_FALSE(has(run.done[0])) << "d1 first: " << d1_first;
    EXPECT_EQ(run.done[1].verdict, "dane-ok");
    EXPECT_TRUE(has(run.done[1])) << "d1 first: " << d1_first;
    for (const auto& d : run.done) {
      for (const auto& h : d.mx) {
        for (const auto& p : h.probes) {
          EXPECT_TRUE(p.leaf_der.empty()) << "dropped before the record leaves the scanner";
          EXPECT_EQ(p.leaf_names_match, d.domain == "d0.test") << d.domain << " " << h.host;
        }
      }
    }
  }
}

// Unreachable everywhere: the host is unreachable (a DANE sender defers), not failed.
TEST(ScannerProbes, NoAddressAcceptingAConnectionMakesTheHostUnreachable) {
  Script script = world(1);
  ScanOptions options;
  options.allow_special_addresses = true;
  FakeProber prober;
  prober.behaviour = {{"127.25.0.30", "down"}};
  ProbeRun run = scanWithProbes({"d0.test"}, script, options, prober);
  ASSERT_EQ(run.done.size(), 1u);
  EXPECT_EQ(run.done[0].mx[0].dane, "unreachable");
  EXPECT_EQ(run.done[0].mx[1].dane, "pass");
  EXPECT_EQ(run.done[0].verdict, "dane-fail");
}

// --no-probe, and special-purpose addresses without --allow-special-addresses: nothing is
// probed and usable-TLSA hosts stay unprobed.
TEST(ScannerProbes, NoProbeAndSpecialAddressesAreNotProbed) {
  for (const bool no_probe : {true, false}) {
    Script script = world(2);
    ScanOptions options;
    options.no_probe = no_probe;
    options.allow_special_addresses = false;  // the world's addresses are loopback
    FakeProber prober;
    ProbeRun run = scanWithProbes({"d0.test", "d1.test"}, script, options, prober);
    EXPECT_TRUE(prober.targets.empty());
    ASSERT_EQ(run.done.size(), 2u);
    for (const auto& d : run.done) {
      EXPECT_EQ(d.verdict, "dane-unprobed");
      for (const auto& h : d.mx) {
        EXPECT_EQ(h.dane, "unprobed");
        EXPECT_TRUE(h.probes.empty());
      }
    }
  }
}

// --probe-all: an insecure host is probed too, opportunistically (no TLSA records: dane n/a),
// and its state does not change.
TEST(ScannerProbes, ProbeAllProbesInsecureHostsWithoutChangingTheirState) {
  Script s;
  s.rr("plain.test", MX, "NOERROR", false, {"plain.test. 3600 IN MX 10 mx.plain.test."});
  s.rr("mx.plain.test", CNAME, "NOERROR", false);
  s.rr("mx.plain.test", A, "NOERROR", false, {"mx.plain.test. 3600 IN A 127.25.0.9"});
  s.rr("mx.plain.test", AAAA, "NOERROR", false);
  s.rr("_25._tcp.mx.plain.test", TLSA, "NXDOMAIN", false);
  for (const bool all : {false, true}) {
    ScanOptions options;
    options.allow_special_addresses = true;
    options.probe_all = all;
    FakeProber prober;
    ProbeRun run = scanWithProbes({"plain.test"}, s, options, prober);
    ASSERT_EQ(run.done.size(), 1u);
    const auto& h = run.done[0].mx[0];
    EXPECT_EQ(h.dane, "insecure");
    EXPECT_EQ(run.done[0].verdict, "insecure");
    ASSERT_EQ(prober.targets.size(), all ? 1u : 0u);
    ASSERT_EQ(h.probes.size(), all ? 1u : 0u);
    if (all) {
      EXPECT_TRUE(prober.targets[0].tlsa.empty());
      EXPECT_EQ(h.probes[0].dane, "n/a");
      EXPECT_TRUE(h.probes[0].tls_ok);
    }
  }
}

// A secure MX host with usable TLSA records at `addresses` 127.25.<block>.1.. (or an alias of
// `target` when given, the TLSA RRset at the target).
void budgetHost(Script& s, const std::string& name, int block, int addresses, const std::string& target = "") {
  const std::string canonical = target.empty() ? name : target;
  std::vector<std::string> a;
  if (!target.empty()) a.push_back(name + ". 3600 IN CNAME " + target + ".");
  for (int i = 1; i <= addresses; ++i) a.push_back(canonical + ". 3600 IN A 127.25." + std::to_string(block) + "." + std::to_string(i));
  s.rr(name, CNAME, "NOERROR", true, target.empty() ? std::vector<std::string>{} : std::vector<std::string>{a[0]});
  s.rr(name, A, "NOERROR", true, a);
  s.rr(name, AAAA, "NOERROR", true, target.empty() ? std::vector<std::string>{} : std::vector<std::string>{a[0]});
  s.rr("_25._tcp." + canonical, TLSA, "NOERROR", true,
       {"_25._tcp." + canonical + ". 3600 IN TLSA 3 1 1 " + K1, "_25._tcp." + canonical + ". 3600 IN TLSA 3 1 1 " + K2});
  if (!target.empty()) s.rr("_25._tcp." + name, TLSA, "NXDOMAIN", true);
}

bool hasFinding(const storage::DomainRecord& d, const std::string& code) {
  return std::find(d.findings.begin(), d.findings.end(), code) != d.findings.end();
}

// Three hosts of 8 addresses each, at most 5 probed per host and 12 per domain: the budget goes
// in preference order (5, 5, 2), in address order within a host; mx-limit-reached is recorded.
// With 10 per domain the least preferred host gets no probe and stays unprobed.
TEST(ScannerProbes, ProbesPerHostAndPerDomainAreBoundedInPreferenceOrder) {
  Script s;
  s.rr("big.test", MX, "NOERROR", true,
       {"big.test. 3600 IN MX 30 a.big.test.", "big.test. 3600 IN MX 10 c.big.test.", "big.test. 3600 IN MX 20 b.big.test."});
  budgetHost(s, "c.big.test", 1, 8);
  budgetHost(s, "b.big.test", 2, 8);
  budgetHost(s, "a.big.test", 3, 8);
  for (const unsigned per_domain : {12u, 10u}) {
    ScanOptions options;
    options.allow_special_addresses = true;
    options.max_addresses_per_host = 5;
    options.max_probes_per_domain = per_domain;
    FakeProber prober;
    ProbeRun run = scanWithProbes({"big.test"}, s, options, prober);
    ASSERT_EQ(run.done.size(), 1u);
    const auto& d = run.done[0];
    ASSERT_EQ(d.mx.size(), 3u);
    EXPECT_EQ(prober.targets.size(), per_domain);
    EXPECT_EQ(run.counters.probes_requested, per_domain);
    EXPECT_EQ(d.mx[0].host, "c.big.test");
    ASSERT_EQ(d.mx[0].probes.size(), 5u);
    EXPECT_EQ(d.mx[0].probes[0].address, "127.25.1.1");
    EXPECT_EQ(d.mx[0].probes[4].address, "127.25.1.5");
    EXPECT_EQ(d.mx[0].addresses.size(), 8u);  // every address is still recorded
    EXPECT_EQ(d.mx[1].probes.size(), 5u);
    EXPECT_EQ(d.mx[2].probes.size(), per_domain - 10);
    EXPECT_EQ(d.mx[0].dane, "pass");
    EXPECT_EQ(d.mx[2].dane, per_domain == 10 ? "unprobed" : "pass");
    EXPECT_EQ(d.verdict, per_domain == 10 ? "dane-unprobed" : "dane-ok");
    EXPECT_TRUE(hasFinding(d, "mx-limit-reached"));
  }
}

// Hosts that share a probe (same address, TLSA base and RRset: two aliases of one provider host)
// spend the domain's budget once; within the limits there is no finding.
TEST(ScannerProbes, HostsSharingAProbeSpendTheBudgetOnce) {
  Script s;
  s.rr("shared.test", MX, "NOERROR", true,
       {"shared.test. 3600 IN MX 10 mx1.shared.test.", "shared.test. 3600 IN MX 20 mx2.shared.test."});
  budgetHost(s, "mx1.shared.test", 4, 4, "mx.provider.test");
  budgetHost(s, "mx2.shared.test", 4, 4, "mx.provider.test");
  ScanOptions options;
  options.allow_special_addresses = true;
  options.max_addresses_per_host = 4;
  options.max_probes_per_domain = 4;
  FakeProber prober;
  ProbeRun run = scanWithProbes({"shared.test"}, s, options, prober);
  ASSERT_EQ(run.done.size(), 1u);
  const auto& d = run.done[0];
  ASSERT_EQ(d.mx.size(), 2u);
  EXPECT_EQ(d.mx[0].probes.size(), 4u);
  EXPECT_EQ(d.mx[1].probes.size(), 4u);
  std::set<std::string> keys;
  for (const auto& t : prober.targets) keys.insert(tls::probeKey(t));
  EXPECT_EQ(keys.size(), 4u);  // tls::Prober makes one connection per key
  EXPECT_FALSE(hasFinding(d, "mx-limit-reached"));
  EXPECT_EQ(d.verdict, "dane-ok");
}

}  // namespace
}  // namespace danescan::scanner::pipeline

namespace danescan::scanner::pipeline {
namespace {

// Answers `delay_ms` after the query (a round trip), from one 1 ms timer: a resolver far away.
struct DelayedTransport {
  DelayedTransport(uv_loop_t* l, Script* s, uint64_t delay) : loop(l), script(s), delay_ms(delay) {
    int rc = 0;
    timer = loop::makeTimer(loop, rc);
    timer->data = this;
  }
  uv_loop_t* loop;
  Script* script;
  uint64_t delay_ms;
  loop::TimerPtr timer;
  std::deque<std::pair<uint64_t, std::function<void()>>> due;
  size_t in_flight = 0;
  size_t max_in_flight = 0;

  Scanner::Transport make() {
    return [this](const dns::Question& q, dns::QueryOptions options, std::function<void(dns::QueryResult)> done) {
      max_in_flight = std::max(max_in_flight, ++in_flight);
      due.emplace_back(uv_now(loop) + delay_ms, [this, r = script->reply(q, options.checking_disabled), done = std::move(done)]() mutable {
        --in_flight;
        done(std::move(r));
      });
      if (due.size() == 1) {
        uv_timer_start(
            timer.get(),
            [](uv_timer_t* t) {
              auto* self = static_cast<DelayedTransport*>(t->data);
              while (!self->due.empty() && self->due.front().first <= uv_now(self->loop)) {
                auto fn = std::move(self->due.front().second);
                self->due.pop_front();
                fn();
              }
              if (self->due.empty()) uv_timer_stop(t);
            },
            1, 1);
      }
    };
  }
};

TEST(Scanner, AnAdaptiveWindowGrowsWithinItsCeiling) {
  // 20 ms round trips and a window starting at 16: a fixed 16 would keep at most 16 queries in
  // flight; the adaptive one grows (every answer is NOERROR, so nothing holds it back) but never
  // past --concurrency-max, and every domain is scanned.
  constexpr int kDomains = 1500;
  std::vector<std::string> names;
  for (int i = 0; i < kDomains; ++i) names.push_back("d" + std::to_string(i) + ".test");
  TempList list(names);
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  Script script = world(kDomains);
  loop::Loop loop;
  DelayedTransport transport(loop.get(), &script, 20);
  ScanOptions options;
  options.adaptive = true;
  options.concurrency = 16;
  options.concurrency_max = 120;
  options.allow_special_addresses = true;
  size_t done = 0;
  unsigned max_window = 0;
  Scanner* self = nullptr;
  Scanner scanner(loop.get(), options, transport.make(), source, [&](storage::DomainRecord&&) {
    ++done;
    max_window = std::max(max_window, self->counters().window);
  });
  self = &scanner;
  scanner.start();
  loop.run();
  EXPECT_EQ(done, static_cast<size_t>(kDomains));
  EXPECT_GT(transport.max_in_flight, 16u * 2);
  EXPECT_LE(transport.max_in_flight, 120u);
  EXPECT_LE(max_window, 120u);
  EXPECT_GT(max_window, 16u);
}

TEST(Scanner, AnAdaptiveWindowStaysWithinTheQpsLimit) {
  std::vector<std::string> names;
  for (int i = 0; i < 8; ++i) names.push_back("d" + std::to_string(i) + ".test");
  TempList list(names);
  inputs::DomainStream stream(streamOptions(list));
  StreamSource source(stream);
  Script script = world(8);
  loop::Loop loop;
  FakeTransport transport{loop.get(), &script};
  ScanOptions options;
  options.adaptive = true;
  options.qps = 200;
  size_t done = 0;
  Scanner scanner(loop.get(), options, transport.make(), source, [&](storage::DomainRecord&&) { ++done; });
  const uint64_t start = uv_hrtime();
  scanner.start();
  loop.run();
  const double seconds = static_cast<double>(uv_hrtime() - start) / 1e9;
  EXPECT_EQ(done, 8u);
  const double sent = static_cast<double>(scanner.counters().queries_sent);
  EXPECT_GE(seconds, 0.7 * (sent - 10) / 200.0) << sent << " queries";  // as QpsLimitPacesTheQueries
}

}  // namespace
}  // namespace danescan::scanner::pipeline
