// scanner/pipeline/probe_state.h — a host's DANE state and TLS findings from its probe records
// (../shared/contract/export-jsonl.md, tests/lab/README.md "Decisions the catalogue encodes"),
// as a pure function. For a host with usable TLSA records:
//   pass         every reachable address (TCP + 220 greeting) authenticated;
//   fail         some reachable address did not (no STARTTLS, handshake failure, no TLSA match,
//                a DANE-TA chain failing on names or dates, an EHLO that never completed);
//   unreachable  no address was reachable, or there is no address (no probes).
// Findings, each naming a cause from the probe's evidence (stage outcomes, OpenSSL's verify
// result and the depth it failed at), never from error texts:
//   tlsa-mismatch            the chain matched no record (X509_V_ERR_DANE_NO_MATCH);
//   dane-ta-name-mismatch    DANE-TA matched, the leaf names no reference identifier
//                            (X509_V_ERR_HOSTNAME_MISMATCH; DANE-EE never checks names);
//   dane-ta-certificate-expired  DANE-TA matched, a certificate below the anchor is expired or
//                            not yet valid (X509_V_ERR_CERT_HAS_EXPIRED / _NOT_YET_VALID);
//   no-starttls-with-tlsa    a complete EHLO reply without STARTTLS (not a stalled or oversized one);
//   starttls-rejected        STARTTLS offered, then answered with 4xx/5xx;
//   tls-handshake-failure    the handshake was begun and did not complete;
//   smtp-connect-failure     (usable TLSA) the TCP connection was refused, timed out or failed;
//   smtp-timeout             connected, then a greeting/EHLO/STARTTLS/handshake stage timed out
//                            (the probe's deadline ends the stage it is in the same way);
//   smtp-protocol-error      a greeting/EHLO/STARTTLS reply too long or not SMTP, or the
//                            connection closed or failed mid-dialogue;
//   smtp-rate-limited        a 421 was seen on any attempt (a cause when the last attempt failed
//                            on it: the retry was refused too);
//   dane-ee-name-mismatch-only  DANE-EE matched and the leaf names none of the reference names.
// The contract has no code (yet) for: a greeting other than 220/421 (e.g. 554), a 4xx/5xx reply to
// EHLO, a DANE-TA chain failing on anything but names or dates below the anchor (a signature, CA
// flags, the anchor's own dates); such a host fails without a cause.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scanner/pipeline/verdict.h"
#include "storage/records.h"

namespace danescan::scanner::pipeline {

struct ProbeOutcome {
  std::optional<HostState> state;     // Pass, Fail or Unreachable; nullopt without usable TLSA
  std::vector<std::string> findings;  // sorted, unique
  bool operator==(const ProbeOutcome&) const = default;
};

// `usable_tlsa`: the host's TLSA RRset has a usable record (its probes then have dane pass or
// fail). Without it (opportunistic probes, --probe-all) there is no state, and only the findings
// that do not depend on TLSA are given (tls-handshake-failure, starttls-rejected, smtp-timeout,
// smtp-protocol-error, smtp-rate-limited).
[[nodiscard]] ProbeOutcome probeOutcome(const std::vector<storage::ProbeRecord>& probes, bool usable_tlsa);

// A probe record as one domain sees it: tls::Prober hands one probe of a shared host to every
// domain it serves, but the next-hop domain is one of each domain's own reference names, so
// leaf_names_match (which dane-ee-name-mismatch-only reads) is judged again against
// `reference_names` from the record's leaf certificate, which is then dropped (never stored).
void judgeLeafNames(storage::ProbeRecord& record, const std::vector<std::string>& reference_names);

}  // namespace danescan::scanner::pipeline
