// storage/reader.h — reading a scan back: the domain records of a run rebuilt from the tables
// (export and merge use this), and the names a resume must skip. Read-only connections; safe to
// use while a Writer is open on the same file (WAL).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/records.h"
#include "storage/writer.h"

namespace danescan::storage {

// What a run says about itself.
struct RunSummary {
  int64_t id = 0;
  std::string started_at;
  std::optional<std::string> finished_at;
  std::string version;
  std::string command_line;
  std::string options_json;
  std::string status;  // running, completed, interrupted
  std::optional<std::string> shard;       // "K/N", or none for a whole scan
  std::optional<std::string> lists_json;  // runs.lists (none until the run has ended once)
  std::vector<ListRecord> lists;          // the same, parsed
  std::optional<int64_t> invalid_lines, duplicate_lines;
};

class Reader {
 public:
  // nullptr with `error` set when the file is missing, not SQLite, or not a danescan database.
  [[nodiscard]] static std::unique_ptr<Reader> open(const std::string& path, std::string& error);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // The run `id`, or the latest run. nullopt when there is no such run (`error` stays empty) or
  // when reading failed (`error` says why).
  [[nodiscard]] std::optional<RunSummary> run(std::optional<int64_t> id, std::string& error);
  // The run `scan --resume` would continue: the last one not completed, else the last one.
  [[nodiscard]] std::optional<RunSummary> resumableRun(std::string& error);

  enum class Detail {
    Contract,  // the contract's fields only: queries (the evidence) are not read
    Full,      // everything the writer was given, queries included
  };
  // Calls `visit` for every domain of the run in domain-name order (byte order). Returns false with
  // `error` set on a read error; what was visited before it stays visited.
  [[nodiscard]] bool forEachDomain(int64_t run, Detail detail, const std::function<void(const DomainRecord&)>& visit,
                                   std::string& error);

  // For CSV and the like: one call per domain with no hosts read (the MX host count instead).
  struct DomainRow {
    std::string domain, verdict, mx_rcode;
    bool mx_secure = false, implicit_mx = false;
    int64_t hosts = 0;
    std::vector<std::string> findings;
  };
  [[nodiscard]] bool forEachDomainRow(int64_t run, const std::function<void(const DomainRow&)>& visit,
                                      std::string& error);

 private:
  class Impl;
  explicit Reader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The names of the domains already committed in `run` (the scanner skips them on --resume),
// streamed so that memory does not grow with the list. False with `error` set on failure.
[[nodiscard]] bool finishedDomains(const std::string& path, int64_t run,
                                   const std::function<void(std::string_view)>& visit, std::string& error);

}  // namespace danescan::storage
