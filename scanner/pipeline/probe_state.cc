// scanner/pipeline/probe_state.cc — see probe_state.h.
#include "scanner/pipeline/probe_state.h"

#include "scanner/tls/smtp_probe.h"

#include <openssl/x509_vfy.h>

#include <algorithm>

namespace danescan::scanner::pipeline {

ProbeOutcome probeOutcome(const std::vector<storage::ProbeRecord>& probes, bool usable_tlsa) {
  ProbeOutcome out;
  bool any_reachable = false;
  bool all_pass = true;
  for (const storage::ProbeRecord& p : probes) {
    if (p.rate_limited) out.findings.emplace_back("smtp-rate-limited");
    if (p.starttls && !p.tls_ok) out.findings.emplace_back("tls-handshake-failure");
    if (!usable_tlsa) continue;
    if (p.connected) {
      any_reachable = true;
      if (p.dane != "pass") all_pass = false;
    }
    // Only a complete EHLO reply says the server does not offer STARTTLS.
    if (p.connected && p.ehlo.outcome == "ok" && !p.starttls) out.findings.emplace_back("no-starttls-with-tlsa");
    // A chain that matched no record; a DANE-TA match that failed on names or dates has another
    // verify result and no finding (the TA did match).
    if (p.tls_ok && p.dane == "fail" && p.verify_code == X509_V_ERR_DANE_NO_MATCH) {
      out.findings.emplace_back("tlsa-mismatch");
    }
    // RFC 7672 section 3.1.1 allows it; informational.
    if (p.dane == "pass" && p.matched && p.matched->rfind("3 ", 0) == 0 && p.leaf_names_match == false) {
      out.findings.emplace_back("dane-ee-name-mismatch-only");
    }
  }
  if (usable_tlsa) out.state = !any_reachable ? HostState::Unreachable : all_pass ? HostState::Pass : HostState::Fail;
  std::sort(out.findings.begin(), out.findings.end());
  out.findings.erase(std::unique(out.findings.begin(), out.findings.end()), out.findings.end());
  return out;
}

void judgeLeafNames(storage::ProbeRecord& record, const std::vector<std::string>& reference_names) {
  if (record.leaf_der.empty()) return;
  if (const auto match = tls::leafNamesMatch(record.leaf_der, reference_names)) record.leaf_names_match = *match;
  record.leaf_der.clear();
  record.leaf_der.shrink_to_fit();
}

}  // namespace danescan::scanner::pipeline
