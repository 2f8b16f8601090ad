// probeOutcome(): a host's DANE state and TLS findings from its probe records, as a table.
#include "scanner/pipeline/probe_state.h"

#include <openssl/x509_vfy.h>

#include <gtest/gtest.h>

namespace danescan::scanner::pipeline {
namespace {

using storage::ProbeRecord;

ProbeRecord passEe(const std::string& address, bool names_match = true) {
  ProbeRecord p;
  p.address = address;
  p.connected = p.starttls = p.tls_ok = true;
  p.ehlo.outcome = p.starttls_stage.outcome = p.handshake.outcome = "ok";
  p.dane = "pass";
  p.matched = "3 1 1 00";
  p.matched_depth = 0;
  p.verify_code = X509_V_OK;
  p.leaf_names_match = names_match;
  return p;
}

ProbeRecord unreachable(const std::string& address) {
  ProbeRecord p;
  p.address = address;
  p.dane = "fail";
  p.connect.outcome = "refused";
  p.error = "connect: connection refused";
  return p;
}

ProbeRecord mismatch(const std::string& address) {
  ProbeRecord p = passEe(address);
  p.dane = "fail";
  p.matched.reset();
  p.matched_depth.reset();
  p.verify_code = X509_V_ERR_DANE_NO_MATCH;
  p.error = "DANE: no matching DANE TLSA records";
  return p;
}

struct Case {
  const char* name;
  std::vector<ProbeRecord> probes;
  bool usable;
  ProbeOutcome expected;
};

std::vector<Case> cases() {
  std::vector<Case> t;
  t.push_back({"no-probes-is-unreachable", {}, true, {HostState::Unreachable, {}}});
  t.push_back({"one-pass", {passEe("a")}, true, {HostState::Pass, {}}});
  // partly-unreachable.test: the contract's smtp-connect-failure is per address.
  t.push_back({"pass-and-unreachable-is-pass", {passEe("a"), unreachable("b")}, true,
               {HostState::Pass, {"smtp-connect-failure"}}});
  t.push_back({"all-unreachable", {unreachable("a"), unreachable("b")}, true,
               {HostState::Unreachable, {"smtp-connect-failure"}}});
  {
    ProbeRecord p = unreachable("a");
    p.connect.outcome = "timeout";  // not accepted in time (or the deadline came first)
    t.push_back({"connect-timeout", {p}, true, {HostState::Unreachable, {"smtp-connect-failure"}}});
    t.push_back({"connect-failure-opportunistic", {p}, false, {std::nullopt, {}}});
  }
  t.push_back({"one-mismatch-of-two", {passEe("a"), mismatch("b")}, true, {HostState::Fail, {"tlsa-mismatch"}}});
  {
    ProbeRecord p = mismatch("a");
    p.verify_code = X509_V_ERR_HOSTNAME_MISMATCH;  // DANE-TA matched, names did not
    p.verify_error_depth = 0;
    p.verify_chain_length = 2;
    p.error = "DANE: hostname mismatch";
    t.push_back({"ta-names", {p}, true, {HostState::Fail, {"dane-ta-name-mismatch"}}});
    // ta-expired.test: the leaf (depth 0) below the CA that matched (depth 1).
    p.verify_code = X509_V_ERR_CERT_HAS_EXPIRED;
    p.error = "DANE: certificate has expired";
    t.push_back({"ta-leaf-expired", {p}, true, {HostState::Fail, {"dane-ta-certificate-expired"}}});
    p.verify_code = X509_V_ERR_CERT_NOT_YET_VALID;
    t.push_back({"ta-leaf-not-yet-valid", {p}, true, {HostState::Fail, {"dane-ta-certificate-expired"}}});
    p.verify_chain_length = 3;
    p.verify_error_depth = 1;  // an intermediate below the anchor
    t.push_back({"ta-intermediate-expired", {p}, true, {HostState::Fail, {"dane-ta-certificate-expired"}}});
    p.verify_error_depth = 2;  // the trust anchor's own dates: not "below the trust anchor"
    t.push_back({"ta-anchor-expired-no-finding", {p}, true, {HostState::Fail, {}}});
    p.verify_chain_length = 1;  // the leaf alone: the anchor is a key above it
    p.verify_error_depth = 0;
    t.push_back({"ta-bare-key-leaf-expired", {p}, true, {HostState::Fail, {"dane-ta-certificate-expired"}}});
    p.verify_error_depth.reset();  // no depth recorded: nothing to place the failure
    t.push_back({"ta-dates-without-depth", {p}, true, {HostState::Fail, {}}});
    // Another verify error (a bad signature below the anchor) names no cause the contract has.
    p.verify_code = X509_V_ERR_CERT_SIGNATURE_FAILURE;
    p.verify_error_depth = 0;
    t.push_back({"ta-signature-failure", {p}, true, {HostState::Fail, {}}});
  }
  {
    ProbeRecord p;
    p.address = "a";
    p.connected = true;
    p.dane = "fail";
    p.greeting.outcome = p.ehlo.outcome = "ok";
    p.starttls_stage.outcome = "not-offered";
    p.error = "no STARTTLS in the EHLO reply";
    t.push_back({"no-starttls", {p}, true, {HostState::Fail, {"no-starttls-with-tlsa"}}});
    t.push_back({"no-starttls-opportunistic", {p}, false, {std::nullopt, {}}});
    p.ehlo.outcome = "timeout";
    p.starttls_stage.outcome = "";
    t.push_back({"stalled-ehlo", {p}, true, {HostState::Fail, {"smtp-timeout"}}});
    t.push_back({"stalled-ehlo-opportunistic", {p}, false, {std::nullopt, {"smtp-timeout"}}});
    p.ehlo.outcome = "too-long";
    t.push_back({"long-ehlo", {p}, true, {HostState::Fail, {"smtp-protocol-error"}}});
    p.ehlo.outcome = "garbage";
    t.push_back({"garbage-ehlo", {p}, true, {HostState::Fail, {"smtp-protocol-error"}}});
    p.ehlo.outcome = "closed";
    t.push_back({"closed-in-ehlo", {p}, true, {HostState::Fail, {"smtp-protocol-error"}}});
    // A garbled greeting: not connected (no 220), so unreachable, with its cause.
    ProbeRecord g;
    g.address = "a";
    g.dane = "fail";
    g.connect.outcome = "ok";
    g.greeting.outcome = "garbage";
    t.push_back({"garbage-greeting", {g}, true, {HostState::Unreachable, {"smtp-protocol-error"}}});
    g.greeting.outcome = "timeout";
    t.push_back({"greeting-timeout", {g}, true, {HostState::Unreachable, {"smtp-timeout"}}});
  }
  {
    // starttls-rejected.test: offered, then 454.
    ProbeRecord p;
    p.address = "a";
    p.connected = p.starttls = true;
    p.dane = "fail";
    p.connect.outcome = p.greeting.outcome = p.ehlo.outcome = "ok";
    p.starttls_stage.outcome = "rejected";
    p.error = "STARTTLS: 454 4.7.0 TLS not available";
    t.push_back({"starttls-rejected", {p}, true, {HostState::Fail, {"starttls-rejected"}}});
    t.push_back({"starttls-rejected-opportunistic", {p}, false, {std::nullopt, {"starttls-rejected"}}});
    p.starttls_stage.outcome = "timeout";  // never answered: no handshake was begun either
    t.push_back({"starttls-timeout", {p}, true, {HostState::Fail, {"smtp-timeout"}}});
    p.starttls_stage.outcome = "ok";
    p.handshake.outcome = "timeout";
    t.push_back({"handshake-timeout", {p}, true, {HostState::Fail, {"smtp-timeout", "tls-handshake-failure"}}});
  }
  {
    ProbeRecord p = mismatch("a");
    p.tls_ok = false;
    p.verify_code.reset();
    p.handshake.outcome = "error";
    p.error = "TLS handshake: wrong version number";
    t.push_back({"handshake-failure", {p}, true, {HostState::Fail, {"tls-handshake-failure"}}});
    t.push_back({"handshake-failure-opportunistic", {p}, false, {std::nullopt, {"tls-handshake-failure"}}});
  }
  {
    ProbeRecord p = unreachable("a");
    p.rate_limited = true;
    p.attempts = 2;
    p.connect.outcome = "ok";  // TCP accepted, then 421 on the retry too: the 421 is the cause
    p.greeting.outcome = "rejected";
    t.push_back({"rate-limited-every-time", {p}, true, {HostState::Unreachable, {"smtp-rate-limited"}}});
    ProbeRecord q = passEe("a");
    q.rate_limited = true;  // 421 first, then a good retry
    t.push_back({"rate-limited-then-pass", {q}, true, {HostState::Pass, {"smtp-rate-limited"}}});
  }
  t.push_back({"ee-name-mismatch", {passEe("a", false), passEe("b", false)}, true,
               {HostState::Pass, {"dane-ee-name-mismatch-only"}}});
  {
    ProbeRecord ta = passEe("a", false);
    ta.matched = "2 1 1 00";  // a DANE-TA pass has checked names itself
    ta.matched_depth = 1;
    t.push_back({"ta-pass-no-name-finding", {ta}, true, {HostState::Pass, {}}});
  }
  {
    ProbeRecord opp = passEe("a");
    opp.dane = "n/a";
    opp.matched.reset();
    t.push_back({"opportunistic-has-no-state", {opp}, false, {std::nullopt, {}}});
  }
  t.push_back({"findings-sorted-unique",
               {mismatch("a"), mismatch("b"), [] { ProbeRecord p = mismatch("c"); p.rate_limited = true; return p; }()},
               true,
               {HostState::Fail, {"smtp-rate-limited", "tlsa-mismatch"}}});
  return t;
}

TEST(ProbeOutcome, Table) {
  for (const Case& c : cases()) {
    EXPECT_EQ(probeOutcome(c.probes, c.usable), c.expected) << c.name;
  }
}

}  // namespace
}  // namespace danescan::scanner::pipeline
