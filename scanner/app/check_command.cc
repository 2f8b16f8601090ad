// scanner/app/check_command.cc — `danescan check DOMAIN`: one domain through the scan's own
// pipeline (Scanner, ResolverClient, Prober), for the mail operator who has just changed it, the
// way danecheck and posttls-finger are used. Prints a human-readable account of every piece of
// evidence (or, with --json, the contract's domain object through storage's export writer, so it
// is byte for byte the line `danescan export` gives), optionally stores the run (--db), and maps
// the verdict to an exit status that monitoring (Nagios-style) scripts can act on.
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inputs/domain_stream.h"
#include "scanner/app/commands.h"
#include "scanner/dns/resolver_client.h"
#include "scanner/loop/loop.h"
#include "scanner/pipeline/scanner.h"
#include "scanner/pipeline/verdict.h"
#include "scanner/tls/prober.h"
#include "storage/export.h"
#include "storage/json.h"
#include "storage/writer.h"

namespace danescan::app {
namespace {

// The scan's options that matter for one domain, with scan's names, meanings and defaults.
struct CheckOptions {
  std::string domain;
  std::vector<std::string> resolvers;
  std::string db;
  bool json = false;
  std::string color = "auto";
  bool allow_special = false;
  bool no_probe = false;
  bool probe_all = false;
  int smtp_port = 25;
  std::string ehlo_name = "danescan.invalid";
  unsigned connect_timeout_ms = 10000;
  unsigned stage_timeout_ms = 30000;
  unsigned probe_deadline_ms = 60000;
  unsigned retry_delay_ms = 30000;
  unsigned timeout_ms = 2000;
  unsigned attempts = 3;
  unsigned late_retry_ms = 5000;
};

// Exit status by verdict (the rule, for monitoring): 0 where nothing is wrong that DANE
// could fix on this side — the domain is protected, or signed without TLSA, or unsigned, or takes
// no mail; 1 where a DANE sender defers or could be downgraded, or where the check could not
// establish that mail is authenticated (dane-unprobed: a --no-probe check proves nothing about TLS).
int exitStatus(scanner::pipeline::Verdict verdict) {
  using scanner::pipeline::Verdict;
  switch (verdict) {
    case Verdict::DaneOk:
    case Verdict::DnssecNoTlsa:
    case Verdict::Insecure:
    case Verdict::NoMail:
      return kExitOk;
    case Verdict::DnsError:
    case Verdict::DaneFail:
    case Verdict::DaneUnusable:
    case Verdict::DaneUnprobed:
    case Verdict::DanePartial:
      return kExitFailed;
  }
  return kExitFailed;
}

// The one domain of the command line, as the Scanner takes its domains.
class OneDomain final : public scanner::pipeline::DomainSource {
 public:
  explicit OneDomain(std::string name) : name_(std::move(name)) {}
  [[nodiscard]] Take take(inputs::DomainEntry& out) override {
    if (taken_) return Take::End;
    taken_ = true;
    out = inputs::DomainEntry{name_, "command line", 1, std::nullopt};
    return Take::Entry;
  }
  void setOnReady(std::function<void()>) override {}

 private:
  std::string name_;
  bool taken_ = false;
};

std::string optionsJson(const CheckOptions& o) {
  std::string out;
  storage::json::Writer w(out);
  w.beginObject();
  w.key("check").value(o.domain);
  w.key("resolvers").beginArray();
  for (const auto& r : o.resolvers) w.value(r);
  w.endArray();
  w.key("allow_special_addresses").value(o.allow_special);
  w.key("no_probe").value(o.no_probe);
  w.key("probe_all").value(o.probe_all);
  w.key("smtp_port").value(int64_t{o.smtp_port});
  w.key("ehlo_name").value(o.ehlo_name);
  w.key("connect_timeout_ms").value(int64_t{o.connect_timeout_ms});
  w.key("stage_timeout_ms").value(int64_t{o.stage_timeout_ms});
  w.key("probe_deadline_ms").value(int64_t{o.probe_deadline_ms});
  w.key("retry_delay_ms").value(int64_t{o.retry_delay_ms});
  w.key("timeout_ms").value(int64_t{o.timeout_ms});
  w.key("attempts").value(int64_t{o.attempts});
  w.key("late_retry_ms").value(int64_t{o.late_retry_ms});
  w.endObject();
  return out;
}

// ANSI SGR colours, or nothing.
class Style {
 public:
  explicit Style(bool on) : on_(on) {}
  [[nodiscard]] std::string paint(std::string_view text, const char* sgr) const {
    if (!on_) return std::string(text);
    return std::string("\033[") + sgr + "m" + std::string(text) + "\033[0m";
  }
  [[nodiscard]] std::string bold(std::string_view text) const { return paint(text, "1"); }
  [[nodiscard]] std::string dim(std::string_view text) const { return paint(text, "2"); }
  [[nodiscard]] std::string good(std::string_view text) const { return paint(text, "1;32"); }
  [[nodiscard]] std::string warn(std::string_view text) const { return paint(text, "1;33"); }
  [[nodiscard]] std::string bad(std::string_view text) const { return paint(text, "1;31"); }

  [[nodiscard]] std::string state(const std::string& s) const {
    if (s == "pass") return good(s);
    if (s == "fail" || s == "lookup-error" || s == "unreachable") return bad(s);
    if (s == "unusable-tlsa" || s == "unprobed") return warn(s);
    return bold(s);
  }
  [[nodiscard]] std::string verdict(const std::string& v) const {
    const auto parsed = scanner::pipeline::verdictFromString(v);
    if (parsed == scanner::pipeline::Verdict::DaneOk) return good(v);
    if (parsed && exitStatus(*parsed) == kExitOk) return bold(v);
    return bad(v);
  }
  [[nodiscard]] std::string outcome(const std::string& rcode) const {
    return rcode == "NOERROR" || rcode == "NXDOMAIN" ? rcode : bad(rcode);
  }

 private:
  bool on_;
};

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.append(separator);
    out.append(items[i]);
  }
  return out;
}

std::string secureWord(const Style& s, bool secure) { return secure ? s.good("secure (AD)") : s.warn("insecure (no AD)"); }

// "mx example.test NOERROR AD 3 ms" with what went wrong, when anything did.
std::string queryLine(const Style& s, const storage::QueryRecord& q) {
  std::string line = q.purpose + " " + q.name + " " + s.outcome(q.rcode) + (q.ad ? " AD" : "") + (q.tcp ? " TCP" : "");
  line += " " + std::to_string(q.elapsed_ms) + " ms";
  if (q.attempts > 1) line += ", " + std::to_string(q.attempts) + " attempts";
  if (!q.ede.empty()) {
    std::vector<std::string> codes;
    for (uint16_t c : q.ede) codes.push_back(std::to_string(c));
    line += ", EDE " + join(codes, ",");
    if (!q.ede_text.empty()) line += " (" + q.ede_text + ")";
  }
  if (!q.error.empty()) line += ", " + q.error;
  return line;
}

std::string stageLine(const Style& s, const storage::ProbeRecord& p) {
  const std::pair<const char*, const storage::ProbeStageRecord*> stages[] = {
      {"connect", &p.connect},   {"greeting", &p.greeting},  {"EHLO", &p.ehlo},
      {"STARTTLS", &p.starttls_stage}, {"handshake", &p.handshake}};
  std::vector<std::string> parts;
  for (const auto& [name, stage] : stages) {
    if (stage->outcome.empty()) break;  // not reached
    const std::string outcome = stage->outcome == "ok" ? s.good("ok") : s.bad(stage->outcome);
    parts.push_back(std::string(name) + " " + outcome + " " + std::to_string(stage->elapsed_ms) + " ms");
  }
  return parts.empty() ? s.dim("no stage reached") : join(parts, " · ");
}

void printProbe(std::string& out, const Style& s, const storage::ProbeRecord& p) {
  out += "    probe " + p.address + " port " + std::to_string(p.port) + (p.tlsa_base.empty() ? "" : ", SNI " + p.tlsa_base);
  out += p.attempts > 1 ? " (" + std::to_string(p.attempts) + " attempts)\n" : "\n";
  out += "      stages: " + stageLine(s, p) + "\n";
  if (p.rate_limited) out += "      " + s.warn("the server answered 421 (rate limited)") + "\n";
  if (p.tls_ok) out += "      TLS: " + p.tls_version + " " + p.cipher + "\n";
  for (size_t depth = 0; depth < p.chain.size(); ++depth) {
    const auto& c = p.chain[depth];
    const bool matched = p.matched_depth && static_cast<size_t>(*p.matched_depth) == depth;
    out += "      cert " + std::to_string(depth) + ": " + c.subject + " (" + c.key_type + " " + std::to_string(c.key_bits) +
           ", " + c.not_before + " to " + c.not_after + ")" + (matched ? " " + s.good("<- matched") : "") + "\n";
    if (!c.sans.empty()) {
      // A lab or hosting certificate may name hundreds of hosts: the first few tell the story.
      constexpr size_t kNamesShown = 6;
      std::vector<std::string> shown(c.sans.begin(), c.sans.begin() + static_cast<std::ptrdiff_t>(std::min(c.sans.size(), kNamesShown)));
      out += "        names: " + join(shown, ", ");
      if (c.sans.size() > kNamesShown) out += ", ... (" + std::to_string(c.sans.size() - kNamesShown) + " more)";
      out += "\n";
    }
    if (c.issuer != c.subject) out += "        issuer: " + c.issuer + "\n";
  }
  if (p.verify_code && *p.verify_code != 0) {
    out += "      verification: " + s.bad(p.verify_text) + " (" + std::to_string(*p.verify_code) + ")\n";
  }
  std::string dane = p.dane == "pass" ? s.good("pass") : p.dane == "fail" ? s.bad("fail") : p.dane;
  out += "      DANE: " + dane;
  if (p.matched) out += ", matched TLSA " + *p.matched;
  if (p.error) out += "; error: " + *p.error;
  out += "\n";
}

void printHost(std::string& out, const Style& s, const storage::HostRecord& h) {
  out += "\n" + s.bold("MX host " + h.host) + " (preference " + std::to_string(h.preference) + ")\n";
  out += "  CNAME chain: " + (h.cname_chain.empty() ? std::string("none (not an alias)") : h.host + " -> " + join(h.cname_chain, " -> ")) + "\n";
  if (h.cname_rcode) out += "  CNAME query: " + s.outcome(*h.cname_rcode) + "\n";
  out += "  addresses: " + s.outcome(h.addr_rcode) + ", " + secureWord(s, h.addr_secure) + ": " +
         (h.addresses.empty() ? std::string("none") : join(h.addresses, ", ")) + "\n";
  if (h.tlsa_rcode || h.tlsa_base) {
    out += "  TLSA: " + (h.tlsa_base ? "_25._tcp." + *h.tlsa_base : std::string("no base name")) +
           (h.tlsa_rcode ? " " + s.outcome(*h.tlsa_rcode) : std::string()) + ", " + std::to_string(h.tlsa.size()) + " record(s)\n";
    for (const auto& t : h.tlsa) out += "    " + t + "\n";
  } else {
    out += "  TLSA: " + s.dim(h.addr_secure ? "not looked up" : "none used (the host name is insecure: DANE does not apply)") + "\n";
  }
  if (h.tlsa_other_base) {
    out += "  TLSA at the other end of the alias: _25._tcp." + *h.tlsa_other_base +
           (h.tlsa_other_rcode ? " " + s.outcome(*h.tlsa_other_rcode) : std::string()) + ", " +
           std::to_string(h.tlsa_other.size()) + " record(s)\n";
    for (const auto& t : h.tlsa_other) out += "    " + t + "\n";
  }
  if (!h.queries.empty()) {
    out += "  queries:\n";
    for (const auto& q : h.queries) out += "    " + queryLine(s, q) + "\n";
  }
  if (h.probes.empty()) {
    out += "  probes: " + s.dim("none") + "\n";
  } else {
    out += "  probes:\n";
    for (const auto& p : h.probes) printProbe(out, s, p);
  }
  if (!h.host_findings.empty()) out += "  findings: " + s.warn(join(h.host_findings, ", ")) + "\n";
  out += "  host state: " + s.state(h.dane) + "\n";
}

// What each verdict means (export-jsonl.md, "Domain verdicts"), for the operator reading the account.
std::string_view verdictMeaning(scanner::pipeline::Verdict verdict) {
  using scanner::pipeline::Verdict;
  switch (verdict) {
    case Verdict::NoMail: return "the domain receives no mail (NXDOMAIN, null MX, or no MX and no address)";
    case Verdict::DnsError: return "the MX lookup failed: senders cannot find the mail hosts";
    case Verdict::Insecure: return "the MX RRset or every host is not DNSSEC-validated: DANE does not apply";
    case Verdict::DaneFail: return "a host fails, cannot be looked up or reached: a DANE sender defers some or all mail";
    case Verdict::DaneUnusable: return "a host publishes only TLSA records that SMTP cannot use";
    case Verdict::DaneUnprobed: return "hosts publish usable TLSA records, but TLS was not probed";
    case Verdict::DaneOk: return "every MX host authenticates with its TLSA records";
    case Verdict::DanePartial: return "some hosts authenticate, others have no TLSA records: a downgrade through them is possible";
    case Verdict::DnssecNoTlsa: return "the domain is signed, but no host publishes TLSA records";
  }
  return "";
}

// What each delivery value means (export-jsonl.md, "Delivery").
std::string deliveryWord(const Style& s, const std::string& v) {
  if (v == "deliver") return s.good(v) + " (a most-preferred MX host accepts the mail)";
  if (v == "fallback") return s.warn(v) + " (the most-preferred hosts are passed over; a less preferred one accepts)";
  if (v == "defer") return s.bad(v) + " (no MX host accepts: mail is deferred)";
  if (v == "unknown") return s.warn(v) + " (depends on a host that was not probed)";
  return v;
}

std::string account(const storage::DomainRecord& d, const std::vector<std::string>& resolvers, const Style& s) {
  std::string out;
  out += s.bold("danescan check " + d.domain) + " " + s.dim("(resolver " + join(resolvers, ", ") + ")") + "\n\n";
  out += s.bold("MX RRset") + ": " + s.outcome(d.mx_rcode) + ", " + secureWord(s, d.mx_secure) +
         (d.implicit_mx ? ", no MX records: the domain itself is the mail host (implicit MX)" : "") + "\n";
  if (d.mx.empty()) out += "  no MX host\n";
  for (const auto& h : d.mx) out += "  " + std::to_string(h.preference) + " " + h.host + "\n";
  for (const auto& q : d.queries) out += "  query: " + queryLine(s, q) + "\n";
  for (const auto& h : d.mx) printHost(out, s, h);

  out += "\n" + s.bold("Host states") + ":";
  if (d.mx.empty()) out += " none";
  for (const auto& h : d.mx) out += " " + h.host + " " + s.state(h.dane) + ";";
  if (!d.mx.empty()) out.pop_back();
  out += "\n";
  out += s.bold("Verdict") + ": " + s.verdict(d.verdict) + "\n";
  if (const auto v = scanner::pipeline::verdictFromString(d.verdict)) out += "  " + std::string(verdictMeaning(*v)) + "\n";
  out += s.bold("Findings") + ": " + (d.findings.empty() ? std::string("none") : s.warn(join(d.findings, ", "))) + "\n";
  if (d.delivery) {
    out += s.bold("Delivery") + " (what a DANE-enforcing sender does):\n";
    out += "  RFC 7672, strictly: " + deliveryWord(s, d.delivery->rfc7672) + "\n";
    out += "  Postfix (smtp_tls_security_level = dane): " + deliveryWord(s, d.delivery->postfix) + "\n";
  } else if (d.verdict == "no-mail") {
    out += s.bold("Delivery") + ": none (the domain receives no mail)\n";
  } else {
    // The pipeline fills DomainRecord::delivery (helper `delivery`); until it does, say so.
    out += s.bold("Delivery") + ": " + s.dim("[not computed by this build]") + "\n";
  }
  return out;
}

bool useColour(const std::string& when) {
  if (when == "always") return true;
  if (when == "never") return false;
  const char* no_colour = std::getenv("NO_COLOR");  // https://no-color.org: set and not empty
  if (no_colour && *no_colour) return false;
  return isatty(STDOUT_FILENO) == 1;
}

int runCheck(const CheckOptions& o, const std::string& command_line) {
  std::string error;
  const auto domain = inputs::normaliseDomain(o.domain, error);
  if (!domain) {
    std::fprintf(stderr, "danescan check: '%s' is not a domain name: %s\n", o.domain.c_str(), error.c_str());
    return kExitUsage;
  }
  std::vector<scanner::dns::ResolverAddress> resolvers;
  for (const auto& text : o.resolvers) resolvers.push_back(*scanner::dns::ResolverAddress::parse(text, error));  // validated by CLI11

  std::unique_ptr<storage::Writer> writer;
  if (!o.db.empty()) {
    CheckOptions recorded = o;
    recorded.domain = *domain;
    writer = storage::Writer::open(o.db, storage::RunInfo{DANESCAN_VERSION, command_line, optionsJson(recorded)},
                                   storage::OpenMode::Create, error);
    if (!writer) {
      std::fprintf(stderr, "danescan check: %s\n", error.c_str());
      return kExitFailed;
    }
  }

  scanner::loop::Loop loop;
  OneDomain source(*domain);
  scanner::dns::ClientOptions client_options;
  client_options.timeout_ms = o.timeout_ms;
  client_options.attempts = o.attempts;
  scanner::dns::ResolverClient client(loop.get(), resolvers, client_options);

  scanner::pipeline::ScanOptions scan_options;
  scan_options.resolvers = resolvers;
  scan_options.client = client_options;
  scan_options.late_retry_ms = o.late_retry_ms;
  scan_options.allow_special_addresses = o.allow_special;
  scan_options.no_probe = o.no_probe;
  scan_options.probe_all = o.probe_all;
  scan_options.smtp_port = static_cast<uint16_t>(o.smtp_port);
  scan_options.total_domains = 1;

  scanner::tls::ProberOptions prober_options;
  prober_options.probe.ehlo_name = o.ehlo_name;
  prober_options.probe.connect_timeout_ms = o.connect_timeout_ms;
  prober_options.probe.stage_timeout_ms = o.stage_timeout_ms;
  prober_options.probe.deadline_ms = o.probe_deadline_ms;
  prober_options.retry_delay_ms = o.retry_delay_ms;
  scanner::tls::Prober prober(loop.get(), prober_options);

  std::optional<storage::DomainRecord> result;
  scanner::pipeline::Scanner scanner(
      loop.get(), scan_options, scanner::pipeline::makeResolverTransport(client), source,
      [&result](storage::DomainRecord&& record) { result = std::move(record); }, {},
      o.no_probe ? scanner::pipeline::Scanner::ProbeTransport{} : scanner::pipeline::makeProberTransport(prober));
  scanner.setOnFinished([&] {
    client.close();
    prober.stop();
  });
  scanner.start();
  uv_run(loop.get(), UV_RUN_DEFAULT);

  if (!result) {
    std::fprintf(stderr, "danescan check: the pipeline reported no result for %s\n", domain->c_str());
    if (writer) writer->finish(false);
    return kExitFailed;
  }
  const auto verdict = scanner::pipeline::verdictFromString(result->verdict);
  if (!verdict) {
    std::fprintf(stderr, "danescan check: unknown verdict '%s'\n", result->verdict.c_str());
    return kExitFailed;
  }
  // Printed before the record moves to the writer; the JSON is the export's own writer.
  const std::string text =
      o.json ? storage::domainJson(*result) + "\n" : account(*result, o.resolvers, Style(useColour(o.color)));
  // A resolver that does not validate makes every domain read 'insecure' (exit 0): say so.
  const auto& counters = scanner.counters();
  if (*verdict == scanner::pipeline::Verdict::Insecure && counters.queries_answered > 0 && counters.ad_seen == 0) {
    std::fprintf(stderr,
                 "danescan check: warning: no answer carried the AD bit: either %s is not signed or the resolver does "
                 "not validate DNSSEC (check it with a signed name)\n",
                 domain->c_str());
  }
  if (writer) {
    writer->submit(std::move(*result));
    writer->finish(true);
    if (!writer->error().empty()) {
      std::fprintf(stderr, "danescan check: writing %s failed: %s\n", o.db.c_str(), writer->error().c_str());
      return kExitFailed;
    }
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (std::fflush(stdout) != 0) {
    std::fprintf(stderr, "danescan check: writing to standard output failed\n");
    return kExitFailed;
  }
  return exitStatus(*verdict);
}

}  // namespace

void addCheckCommand(CLI::App& app, Runner& run, const std::string& command_line) {
  auto o = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand(
      "check", "Check one domain (after a change) and print every piece of evidence; the exit status follows the verdict.");
  cmd->add_option("DOMAIN", o->domain, "The domain to check (IDNs are converted to A-labels)")->required();
  cmd->add_option("--resolver", o->resolvers,
                  "Validating resolver to query, IP[:PORT] (required and repeatable, as for scan; never the system resolver)")
      ->required()
      ->allow_extra_args(false)  // one address per --resolver: `--resolver A DOMAIN` leaves DOMAIN positional
      ->check(resolverValidator());
  cmd->add_option("--db", o->db, "Also store the check as a new run in this SQLite database (as scan does)");
  cmd->add_flag("--json", o->json, "Print the contract's domain object, exactly the line 'danescan export' gives");
  cmd->add_option("--color", o->color, "Colour the account: auto (on a terminal, unless NO_COLOR is set), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  cmd->add_flag("--allow-special-addresses", o->allow_special,
                "Probe MX addresses in special-purpose ranges (loopback, private, ...), which are otherwise recorded only");
  cmd->add_flag("--no-probe", o->no_probe, "DNS only: no SMTP/TLS probes (hosts with usable TLSA records are 'unprobed')");
  cmd->add_flag("--probe-all", o->probe_all,
                "Also probe hosts without usable TLSA records (opportunistic STARTTLS; their DANE state is unchanged)");
  cmd->add_option("--smtp-port", o->smtp_port, "Probe SMTP on this port")->check(CLI::Range(1, 65535))->capture_default_str();
  cmd->add_option("--ehlo-name", o->ehlo_name, "Name to send in EHLO (use a name of the checking machine that resolves to it)")
      ->capture_default_str();
  addProbeTimingOptions(*cmd, o->connect_timeout_ms, o->stage_timeout_ms, o->probe_deadline_ms, o->retry_delay_ms);
  addQueryTimingOptions(*cmd, o->timeout_ms, o->attempts, o->late_retry_ms);
  cmd->footer(
      "Runs the scan's pipeline on one domain: the MX RRset and its AD bit, each host's CNAME chain, addresses,\n"
      "TLSA base name and records, each address's probe (stages, certificate chain, the TLSA record that\n"
      "matched), the host states, the verdict, the findings and what a DANE sender would do (delivery).\n"
      "--resolver is required: check never asks the system resolver, whose DNSSEC validation it cannot know.\n"
      "Exit status: 0 dane-ok, dnssec-no-tlsa, insecure, no-mail; 1 dns-error, dane-fail, dane-unusable,\n"
      "dane-partial, dane-unprobed (or the check itself failed); 2 usage error (bad domain name, option).\n"
      "Example: danescan check example.org --resolver 127.0.0.1");
  cmd->callback([o, &run, command_line] { run = [o, command_line] { return runCheck(*o, command_line); }; });
}

}  // namespace danescan::app
