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
  t.push_back({"pass-and-unreachable-is-pass", {passEe("a"), unreachable("b")}, true, {HostState::Pass, {}}});
  t.push_back({"all-unreachable", {unreachable("a"), unreachable("b")}, true, {HostState::Unreachable, {}}});
  t.push_back({"one-mismatch-of-two", {passEe("a"), mismatch("b")}, true, {HostState::Fail, {"tlsa-mismatch"}}});
  {
    ProbeRecord p = mismatch("a");
    p.verify_code = X509_V_ERR_HOSTNAME_MISMATCH;  // DANE-TA matched, names did not
    p.error = "DANE: hostname mismatch";
    t.push_back({"ta-names-fail-without-finding", {p}, true, {HostState::Fail, {}}});
    p.verify_code = X509_V_ERR_CERT_HAS_EXPIRED;
    t.push_back({"ta-dates-fail-without-finding", {p}, true, {HostState::Fail, {}}});
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
    t.push_back({"stalled-ehlo-no-finding", {p}, true, {HostState::Fail, {}}});
    p.ehlo.outcome = "too-long";
    t.push_back({"long-ehlo-no-finding", {p}, true, {HostState::Fail, {}}});
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
