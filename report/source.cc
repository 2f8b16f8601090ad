// report/source.cc — opening the scan (and the compared scan) read-only, the provider function,
// the shared TEMP tables, and the query-to-table helper.
#include "report/source.h"

#include <libpsl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace danescan::report {
namespace {

using storage::SqliteError;

// The public suffix list of Debian's `publicsuffix` package, through libpsl (psl_latest prefers
// the newer of the system file and libpsl's built-in copy). Loaded once per process.
const psl_ctx_t* publicSuffixes() {
  static const std::unique_ptr<psl_ctx_t, storage::CDeleter<&psl_free>> psl(psl_latest(nullptr));
  return psl.get();
}

// registered_domain(NAME): the MX host's registered domain ("provider"), e.g. mx1.mail.example.co.uk
// -> example.co.uk. Names under a suffix the list does not know (the lab's `test.`) take the
// default rule "*" (RFC-less but what browsers do): provider.test. A name that is itself a public
// suffix, an IP literal, or a name libpsl refuses, is its own provider.
void registeredDomain(sqlite3_context* context, int, sqlite3_value** argv) {
  const auto* name = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  if (!name) {
    sqlite3_result_null(context);
    return;
  }
  // An IP literal (an invalid MX exchange, kept as published) is its own provider.
  const std::string_view text(name);
  if (text.find(':') != std::string_view::npos || text.find_first_not_of("0123456789.") == std::string_view::npos) {
    sqlite3_result_text(context, name, -1, SQLITE_TRANSIENT);
    return;
  }
  const psl_ctx_t* psl = publicSuffixes();
  const char* registered = psl ? psl_registrable_domain(psl, name) : nullptr;
  sqlite3_result_text(context, registered ? registered : name, -1, SQLITE_TRANSIENT);
}

// Every section reads these; built once per report. `host_names`: one row per distinct MX host
// name of the run (SCHEMA.md: a name may have several host rows) with its provider and the number
// of domains it serves. `run_figures`: the bases of most shares. `query_stats`: the run's queries
// (domain and host queries alike) grouped by everything the DNS section reports, with their
// number `n`: one pass over the largest table instead of one per DNS table.
constexpr const char* kTempTables[] = {
    "CREATE TEMP TABLE host_names AS "
    "SELECT h.name AS name, registered_domain(h.name) AS provider, count(DISTINCT mx.domain_id) AS domains "
    "FROM hosts h LEFT JOIN mx ON mx.host_id = h.id WHERE h.run_id = ?1 GROUP BY h.name",
    "CREATE UNIQUE INDEX temp.host_names_name ON host_names(name)",
    "CREATE TEMP TABLE run_figures AS SELECT "
    "(SELECT count(*) FROM domains WHERE run_id = ?1) AS scanned, "
    "(SELECT count(DISTINCT mx.domain_id) FROM mx JOIN domains d ON d.id = mx.domain_id WHERE d.run_id = ?1) "
    "AS with_hosts, (SELECT count(*) FROM host_names) AS host_names",
};
constexpr const char* kQueryStatsColumns =
    "purpose, rcode, cd, tcp, attempts > 1 AS retried, ede, elapsed_ms, count(*) AS n";
constexpr const char* kQueryStatsGroup = " GROUP BY purpose, rcode, cd, tcp, retried, ede, elapsed_ms";

constexpr const char* kOldTempTables[] = {
    "CREATE TEMP TABLE old_host_names AS "
    "SELECT h.name AS name, registered_domain(h.name) AS provider, count(DISTINCT mx.domain_id) AS domains "
    "FROM old.hosts h LEFT JOIN old.mx mx ON mx.host_id = h.id WHERE h.run_id = ?2 GROUP BY h.name",
    "CREATE UNIQUE INDEX temp.old_host_names_name ON old_host_names(name)",
};

std::optional<int64_t> checkedLatestRun(sqlite3* db, const std::string& path, std::string& error) {
  try {
    auto run = storage::latestRun(db);
    if (!run) error = path + ": the database holds no scan run";
    return run;
  } catch (const SqliteError& e) {
    error = path + ": " + e.what();
    return std::nullopt;
  }
}

}  // namespace

std::optional<Source> Source::open(const std::string& path, const std::string& old_path, std::string& error) {
  storage::DbPtr db = storage::openDatabase(path, storage::Access::ReadOnly, error);
  if (!db) return std::nullopt;
  Runs runs;
  auto run = checkedLatestRun(db.get(), path, error);
  if (!run) return std::nullopt;
  runs.run = *run;
  if (!old_path.empty()) {
    // Checked on a connection of its own (the same messages as for the main database), then
    // attached read-only so that one SQL statement can join the two scans.
    storage::DbPtr old = storage::openDatabase(old_path, storage::Access::ReadOnly, error);
    if (!old) return std::nullopt;
    auto old_run = checkedLatestRun(old.get(), old_path, error);
    if (!old_run) return std::nullopt;
    runs.old_run = *old_run;
  }
  try {
    if (sqlite3_create_function_v2(db.get(), "registered_domain", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                   registeredDomain, nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw SqliteError(storage::lastError(db.get(), "registering registered_domain()"));
    }
    // The TEMP tables live in memory: the report never writes beside the scan database.
    storage::exec(db.get(), "PRAGMA temp_store = MEMORY");
    storage::exec(db.get(), "PRAGMA cache_size = -65536");
    if (!old_path.empty()) {
      storage::Statement attach(db.get(), "ATTACH DATABASE ?1 AS old");
      attach.bind(1, old_path);
      attach.run();
    }
    Source source(std::move(db), runs);
    const auto start = std::chrono::steady_clock::now();
    for (const char* sql : kTempTables) (void)source.scalar(sql);
    // With one run in the file (the usual case) every query is the run's: no join needed.
    const std::string from = source.scalar("SELECT count(*) FROM runs") == 1
                                 ? std::string(" FROM queries")
                                 : std::string(
                                       " FROM (SELECT q.* FROM queries q JOIN hosts h ON h.id = q.host_id "
                                       "WHERE h.run_id = ?1 UNION ALL SELECT q.* FROM queries q JOIN domains d "
                                       "ON d.id = q.domain_id WHERE d.run_id = ?1)");
    (void)source.scalar(std::string("CREATE TEMP TABLE query_stats AS SELECT ") + kQueryStatsColumns + from +
                        kQueryStatsGroup);
    if (std::getenv("DANESCAN_REPORT_TIMING")) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      std::fprintf(stderr, "report timing: %-22s %8lld ms\n", "(temp tables)", static_cast<long long>(ms.count()));
    }
    if (source.comparing()) {
      for (const char* sql : kOldTempTables) (void)source.scalar(sql);
    }
    return source;
  } catch (const SqliteError& e) {
    error = path + ": " + e.what();
    return std::nullopt;
  }
}

void Source::bindRuns(sqlite3_stmt* stmt) const {
  const int count = sqlite3_bind_parameter_count(stmt);
  if (count >= 1) sqlite3_bind_int64(stmt, 1, runs_.run);
  if (count >= 2) {
    if (runs_.old_run) {
      sqlite3_bind_int64(stmt, 2, *runs_.old_run);
    } else {
      sqlite3_bind_null(stmt, 2);
    }
  }
}

void Source::fill(Table& table, std::string_view sql) const {
  // DANESCAN_REPORT_TIMING=1: each table's query time on stderr (bench/report.sh uses it).
  static const bool timing = std::getenv("DANESCAN_REPORT_TIMING") != nullptr;
  const auto start = std::chrono::steady_clock::now();
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
    throw SqliteError(storage::lastError(db(), "preparing the query of table " + table.id));
  }
  storage::StmtPtr stmt(raw);
  bindRuns(raw);
  const int columns = std::min<int>(sqlite3_column_count(raw), static_cast<int>(table.columns.size()));
  int rc = 0;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    Row row(table.columns.size());
    for (int i = 0; i < columns; ++i) {
      if (sqlite3_column_type(raw, i) == SQLITE_NULL) continue;
      switch (table.columns[static_cast<size_t>(i)].kind) {
        case Kind::Text: {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, i));
          row[static_cast<size_t>(i)] = std::string(text, static_cast<size_t>(sqlite3_column_bytes(raw, i)));
          break;
        }
        case Kind::Int:
          row[static_cast<size_t>(i)] = static_cast<int64_t>(sqlite3_column_int64(raw, i));
          break;
        case Kind::Share:
          row[static_cast<size_t>(i)] = sqlite3_column_double(raw, i);
          break;
      }
    }
    table.rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) throw SqliteError(storage::lastError(db(), "reading table " + table.id));
  if (timing) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::fprintf(stderr, "report timing: %-22s %8lld ms\n", table.id.c_str(), static_cast<long long>(ms.count()));
  }
}

int64_t Source::scalar(std::string_view sql) const {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
    throw SqliteError(storage::lastError(db(), "preparing a query"));
  }
  storage::StmtPtr stmt(raw);
  bindRuns(raw);
  const int rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) return sqlite3_column_int64(raw, 0);
  if (rc != SQLITE_DONE) throw SqliteError(storage::lastError(db(), "running a query"));
  return 0;
}

std::string Source::text(std::string_view sql) const {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
    throw SqliteError(storage::lastError(db(), "preparing a query"));
  }
  storage::StmtPtr stmt(raw);
  bindRuns(raw);
  const int rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
    return text ? std::string(text, static_cast<size_t>(sqlite3_column_bytes(raw, 0))) : std::string();
  }
  if (rc != SQLITE_DONE) throw SqliteError(storage::lastError(db(), "running a query"));
  return {};
}

int Table::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace danescan::report
