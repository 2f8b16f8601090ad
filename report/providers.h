// report/providers.h — the provider-weighted tables (issue 13, part 3) and the rollover
// diagnosis across scans (part 4), each a section of its own so that they stay apart from the
// other sections' files. Conventions as in sections.h; report/README.md documents the tables.
#pragma once

#include "report/model.h"
#include "report/source.h"

namespace danescan::report {

// Section `providers`: the MX providers whose hosts break the most domains, overall, by TLD of
// the scanned domain and by rank bucket of rank,domain lists (providers.cc).
[[nodiscard]] Section providersSection(const Source& source);
// Section `rollover`, only when source.comparing(): hosts failing with tlsa-mismatch now, by what
// changed since the compared scan (rollover.cc).
[[nodiscard]] Section rolloverSection(const Source& source);

}  // namespace danescan::report
