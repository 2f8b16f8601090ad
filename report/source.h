// report/source.h — the scan database as the report reads it: one read-only connection (opened
// and checked by storage/), the run the figures are about, SQL functions the queries need
// (`registered_domain(name)`, libpsl), TEMP tables that every section shares (a read-only
// connection still has a writable temp schema), and the one helper that turns a query into a
// typed table. No section touches sqlite3 beyond fill().
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/model.h"
#include "storage/database.h"

namespace danescan::report {

// The runs a report compares: the scan's and, with --compare, the older scan's (ATTACHed as `old`).
struct Runs {
  int64_t run = 0;
  std::optional<int64_t> old_run;
};

class Source {
 public:
  // nullopt with `error` set when the file is missing, not a danescan database of this schema
  // version, or has no run. `old_path` (may be empty) is checked the same way and attached.
  [[nodiscard]] static std::optional<Source> open(const std::string& path, const std::string& old_path,
                                                  std::string& error);

  [[nodiscard]] sqlite3* db() const { return db_.get(); }
  [[nodiscard]] const Runs& runs() const { return runs_; }
  [[nodiscard]] bool comparing() const { return runs_.old_run.has_value(); }

  // Runs `sql` with ?1 = the run, ?2 = the old run (when comparing), and appends one row per
  // result row to `table`, reading each column as its Kind says. Throws storage::SqliteError.
  void fill(Table& table, std::string_view sql) const;
  // One integer (0 for NULL or no row).
  [[nodiscard]] int64_t scalar(std::string_view sql) const;
  // One text value ("" for NULL or no row).
  [[nodiscard]] std::string text(std::string_view sql) const;

 private:
  Source(storage::DbPtr db, Runs runs) : db_(std::move(db)), runs_(runs) {}
  void bindRuns(sqlite3_stmt* stmt) const;
  storage::DbPtr db_;
  Runs runs_;
};

}  // namespace danescan::report
