// scanner/pipeline/probe_state.cc — see probe_state.h.
#include "scanner/pipeline/probe_state.h"

#include "scanner/tls/smtp_probe.h"

#include <openssl/x509_vfy.h>

#include <algorithm>

namespace danescan::scanner::pipeline {

namespace {

bool failed(const std::string& outcome) { return !outcome.empty() && outcome != "ok" && outcome != "not-offered"; }

// The SMTP dialogue before TLS: what its stages say about the server.
bool timedOut(const storage::ProbeRecord& p) {
  for (const auto* stage : {&p.greeting, &p.ehlo, &p.starttls_stage, &p.handshake}) {
    if (stage->outcome == "timeout") return true;
  }
  return false;
}

bool brokeDialogue(const storage::ProbeRecord& p) {
  for (const auto* stage : {&p.greeting, &p.ehlo, &p.starttls_stage}) {
    const std::string& o = stage->outcome;
    if (o == "too-long" || o == "garbage" || o == "closed" || o == "error") return true;
  }
  return false;
}

// A DANE-TA(2) match whose chain then failed on a date, at a certificate below the trust anchor:
// below the top of the chain OpenSSL built (which ends at the matching certificate), or any
// certificate of a chain of the leaf alone (its trust anchor is then a key above it).
bool taDateFailure(const storage::ProbeRecord& p) {
  if (p.verify_code != X509_V_ERR_CERT_HAS_EXPIRED && p.verify_code != X509_V_ERR_CERT_NOT_YET_VALID) return false;
  if (!p.verify_error_depth) return false;
  return *p.verify_error_depth < p.verify_chain_length - 1 || (p.verify_chain_length == 1 && *p.verify_error_depth == 0);
}

}  // namespace

ProbeOutcome probeOutcome(const std::vector<storage::ProbeRecord>& probes, bool usable_tlsa) {
  ProbeOutcome out;
  bool any_reachable = false;
  bool all_pass = true;
  for (const storage::ProbeRecord& p : probes) {
    if (p.rate_limited) out.findings.emplace_back("smtp-rate-limited");
    // The handshake was begun (STARTTLS accepted) and did not complete.
    if (p.starttls && !p.tls_ok && !p.handshake.outcome.empty()) out.findings.emplace_back("tls-handshake-failure");
    if (timedOut(p)) out.findings.emplace_back("smtp-timeout");
    if (brokeDialogue(p)) out.findings.emplace_back("smtp-protocol-error");
    // Offered, then refused with 4xx/5xx (the STARTTLS stage's "rejected").
    if (p.starttls && p.starttls_stage.outcome == "rejected") out.findings.emplace_back("starttls-rejected");
    if (!usable_tlsa) continue;
    // TCP refused, not accepted in time (a deadline during the connect too), or not made.
    if (failed(p.connect.outcome)) out.findings.emplace_back("smtp-connect-failure");
    if (p.connected) {
      any_reachable = true;
      if (p.dane != "pass") all_pass = false;
    }
    // Only a complete EHLO reply says the server does not offer STARTTLS.
    if (p.connected && p.ehlo.outcome == "ok" && !p.starttls) out.findings.emplace_back("no-starttls-with-tlsa");
    // OpenSSL's verify result after the handshake (SSL_VERIFY_NONE lets it complete): a chain
    // that matched no record is X509_V_ERR_DANE_NO_MATCH; any later error means a DANE-TA(2)
    // record matched (OpenSSL builds the chain to a TLSA trust anchor first, then checks the
    // names, then the dates; DANE-EE skips both).
    if (p.tls_ok && p.dane == "fail") {
      if (p.verify_code == X509_V_ERR_DANE_NO_MATCH) out.findings.emplace_back("tlsa-mismatch");
      if (p.verify_code == X509_V_ERR_HOSTNAME_MISMATCH) out.findings.emplace_back("dane-ta-name-mismatch");
      if (taDateFailure(p)) out.findings.emplace_back("dane-ta-certificate-expired");
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
