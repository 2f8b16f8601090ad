// report/sections.h — one builder per section of the report (issue 5), each a handful of SQL
// queries over the run (?1) and, for the comparison, the older run (?2, schema `old`).
// Conventions every table keeps (report/README.md documents them for readers):
// - MX hosts are counted by distinct name (a name observed twice differently has two host rows);
//   "domains" next to a host figure is the number of distinct domains those hosts serve, so each
//   failure is shown per host and weighted by the domains it hits;
// - shares are fractions of the base named in the table's `about`, NULL when the base is zero;
// - fixed vocabularies (verdicts, host states, finding codes, placements) list every value, zeros
//   included, in the contract's order, so that two reports line up row by row.
#pragma once

#include "report/model.h"
#include "report/source.h"

namespace danescan::report {

[[nodiscard]] Section headlineSection(const Source& source);
[[nodiscard]] Section findingsSection(const Source& source);
[[nodiscard]] Section causesSection(const Source& source);  // "Why hosts fail" (sections_causes.cc)
[[nodiscard]] Section cnameSection(const Source& source);
[[nodiscard]] Section deliverySection(const Source& source);  // sections_delivery.cc
[[nodiscard]] Section tlsaSection(const Source& source);
[[nodiscard]] Section certificatesSection(const Source& source);
[[nodiscard]] Section dnsSection(const Source& source);
[[nodiscard]] Section compareSection(const Source& source);  // only when source.comparing()

// SQL VALUES lists of the contract's vocabularies, as CTEs `(k, <name>)` in the contract's order.
extern const char* const kVerdictValues;    // verdicts(k, verdict)
extern const char* const kHostStateValues;  // states(k, state)
extern const char* const kFindingValues;    // codes(k, code)

}  // namespace danescan::report
