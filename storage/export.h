// storage/export.h — the public exports of a scan database: JSON Lines exactly as
// ../shared/contract/export-jsonl.md defines them, and a one-row-per-domain CSV (SCHEMA.md lists
// its columns). Both read the latest run unless a run id is given, in domain-name order.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "storage/records.h"

namespace danescan::storage {

// False with `error` set when the database cannot be read or has no run (or not that run), or
// when writing to `out` fails. Lines already written stay written.
[[nodiscard]] bool exportJsonl(const std::string& db_path, std::ostream& out, std::string& error,
                               std::optional<int64_t> run = std::nullopt);
[[nodiscard]] bool exportCsv(const std::string& db_path, std::ostream& out, std::string& error,
                             std::optional<int64_t> run = std::nullopt);

// One contract domain object as one line of JSON (no newline). Exposed for the tests and for
// tools that hold a record in memory.
[[nodiscard]] std::string domainJson(const DomainRecord& record);

}  // namespace danescan::storage
