// tests/lab/probe/probe_lab.cc — runs tls::Prober on one loop for the probes listed on stdin
// and prints, per host, its records and scanner::pipeline::probeOutcome() as JSON lines, for
// probe_test.py, which holds them to the catalogue's expectations.
//
// Input, one probe a line, tab-separated:
//   HOST-ID  ADDRESS  PORT  TLSA-BASE  REFERENCE-NAMES (space-separated)  TLSA (";"-separated)
// Output, one line per HOST-ID in input order:
//   {"host": ID, "state": ..., "findings": [...], "probes": [{contract fields, evidence}, ...]}
// Options: --stage-timeout MS --deadline MS --connect-timeout MS --retry-delay MS --counters 1
// (--counters 1: a last line {"counters": {...}} with the Prober's counters)
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "scanner/loop/loop.h"
#include "scanner/pipeline/probe_state.h"
#include "scanner/tls/prober.h"
#include "storage/json.h"

namespace {

using namespace danescan;

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

void writeProbe(storage::json::Writer& w, const storage::ProbeRecord& p) {
  w.beginObject();
  w.key("address").value(p.address);
  w.key("connected").value(p.connected);
  w.key("starttls").value(p.starttls);
  w.key("tls_ok").value(p.tls_ok);
  w.key("dane").value(p.dane);
  w.key("matched");
  p.matched ? w.value(*p.matched) : w.null();
  w.key("error");
  p.error ? w.value(*p.error) : w.null();
  w.key("matched_depth");
  p.matched_depth ? w.value(int64_t{*p.matched_depth}) : w.null();
  w.key("verify_code");
  p.verify_code ? w.value(*p.verify_code) : w.null();
  w.key("verify_text").value(p.verify_text);
  w.key("leaf_names_match");
  p.leaf_names_match ? w.value(*p.leaf_names_match) : w.null();
  w.key("rate_limited").value(p.rate_limited);
  w.key("attempts").value(int64_t{p.attempts});
  w.key("elapsed_ms").value(int64_t{p.elapsed_ms});
  w.key("tls_version").value(p.tls_version);
  w.key("cipher").value(p.cipher);
  w.key("stages").beginObject();
  for (const auto& [name, stage] : {std::pair{"connect", &p.connect}, {"greeting", &p.greeting}, {"ehlo", &p.ehlo},
                                    {"starttls", &p.starttls_stage}, {"handshake", &p.handshake}}) {
    w.key(name).beginArray().value(stage->outcome).value(int64_t{stage->elapsed_ms}).endArray();
  }
  w.endObject();
  w.key("chain").beginArray();
  for (const auto& c : p.chain) {
    w.beginObject();
    w.key("sha256").value(c.sha256);
    w.key("spki_sha256").value(c.spki_sha256);
    w.key("subject").value(c.subject);
    w.key("issuer").value(c.issuer);
    w.key("key_type").value(c.key_type);
    w.key("key_bits").value(int64_t{c.key_bits});
    w.key("sans").beginArray();
    for (const auto& san : c.sans) w.value(san);
    w.endArray();
    w.key("not_before").value(c.not_before);
    w.key("not_after").value(c.not_after);
    w.endObject();
  }
  w.endArray();
  w.endObject();
}

}  // namespace

int main(int argc, char** argv) {
  scanner::tls::ProberOptions options;
  options.probe.ehlo_name = "probe-lab.danescan.test";
  options.probe.connect_timeout_ms = 2000;
  options.probe.stage_timeout_ms = 1500;
  options.probe.deadline_ms = 5000;
  options.retry_delay_ms = 300;
  options.tls_concurrency = 16;
  bool print_counters = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const auto value = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    if (flag == "--stage-timeout") options.probe.stage_timeout_ms = value;
    else if (flag == "--deadline") options.probe.deadline_ms = value;
    else if (flag == "--connect-timeout") options.probe.connect_timeout_ms = value;
    else if (flag == "--retry-delay") options.retry_delay_ms = value;
    else if (flag == "--counters") print_counters = value != 0;
    else {
      std::fprintf(stderr, "probe_lab: unknown option %s\n", flag.c_str());
      return 2;
    }
  }

  struct Host {
    std::string id;
    bool usable = false;
    std::vector<std::optional<storage::ProbeRecord>> records;
  };
  std::vector<Host> hosts;
  std::map<std::string, size_t> by_id;
  scanner::loop::Loop loop;
  scanner::tls::Prober prober(loop.get(), options);

  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields;  // empty fields kept (an empty TLSA list: opportunistic)
    for (size_t start = 0;;) {
      const size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 6) {
      std::fprintf(stderr, "probe_lab: want 6 tab-separated fields: %s\n", line.c_str());
      return 2;
    }
    scanner::tls::ProbeTarget target;
    target.address = fields[1];
    target.port = static_cast<uint16_t>(std::stoul(fields[2]));
    target.tlsa_base = fields[3];
    target.reference_names = split(fields[4], ' ');
    target.tlsa = split(fields[5], ';');
    auto [it, fresh] = by_id.emplace(fields[0], hosts.size());
    if (fresh) hosts.push_back(Host{fields[0], scanner::tls::hasUsableTlsa(target.tlsa), {}});
    Host& host = hosts[it->second];
    const size_t slot = host.records.size();
    host.records.emplace_back();
    const size_t host_index = it->second;
    // As the scanner does: the record may be another target's probe, its names judged again.
    prober.probe(target, [&hosts, host_index, slot, names = target.reference_names](const storage::ProbeRecord& r) {
      auto& record = hosts[host_index].records[slot];
      record = r;
      scanner::pipeline::judgeLeafNames(*record, names);
    });
  }
  // The Prober holds no handle of its own between probes: the loop ends when the last is done
  // (stop() would drop the 421 retries).
  loop.run();

  int missing = 0;
  for (const Host& host : hosts) {
    std::vector<storage::ProbeRecord> records;
    for (const auto& r : host.records) {
      if (r) records.push_back(*r);
      else ++missing;
    }
    const auto outcome = scanner::pipeline::probeOutcome(records, host.usable);
    std::string out;
    storage::json::Writer w(out);
    w.beginObject();
    w.key("host").value(host.id);
    w.key("state");
    outcome.state ? w.value(std::string(scanner::pipeline::toString(*outcome.state))) : w.null();
    w.key("findings").beginArray();
    for (const auto& f : outcome.findings) w.value(f);
    w.endArray();
    w.key("probes").beginArray();
    for (const auto& r : records) writeProbe(w, r);
    w.endArray();
    w.endObject();
    std::cout << out << '\n';
  }
  if (print_counters) {  // the Prober's own account: how many connections the probes took
    const auto& c = prober.counters();
    std::cout << "{\"counters\": {\"requested\": " << c.requested << ", \"cache_hits\": " << c.cache_hits
              << ", \"connections\": " << c.connections << "}}\n";
  }
  if (missing != 0) {
    std::fprintf(stderr, "probe_lab: %d probes never reported\n", missing);
    return 1;
  }
  return 0;
}
