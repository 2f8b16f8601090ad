// storage/database.cc — the schema (documented in SCHEMA.md; keep the two in step), opening and
// checking a database file, and the thin statement wrapper the writer and the readers share.
#include "storage/database.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace danescan::storage {
namespace {

// Schema version 1. Lists of the contract live in child tables (ordered by `position`) so that
// reports aggregate them in SQL; EDE codes are a JSON array (json_each() reads them).
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  version       TEXT NOT NULL,
  command_line  TEXT NOT NULL,
  options       TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted')),
  resumed       INTEGER NOT NULL DEFAULT 0,
  health        TEXT,
  shard         TEXT,
  lists         TEXT,
  invalid_lines INTEGER,
  duplicate_lines INTEGER
);
CREATE TABLE domains (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  name          TEXT NOT NULL,
  source        TEXT NOT NULL,
  line          INTEGER NOT NULL,
  rank          INTEGER,
  verdict       TEXT NOT NULL,
  mx_rcode      TEXT NOT NULL,
  mx_secure     INTEGER NOT NULL,
  implicit_mx   INTEGER NOT NULL,
  finished_at   TEXT NOT NULL,
  delivery_rfc7672 TEXT,
  delivery_postfix TEXT,
  UNIQUE (run_id, name)
);
CREATE TABLE hosts (
  id               INTEGER PRIMARY KEY,
  run_id           INTEGER NOT NULL REFERENCES runs(id),
  name             TEXT NOT NULL,
  fingerprint      INTEGER NOT NULL,
  addr_rcode       TEXT NOT NULL,
  addr_secure      INTEGER NOT NULL,
  cname_rcode      TEXT,
  cname_secure     INTEGER NOT NULL,
  tlsa_base        TEXT,
  tlsa_rcode       TEXT,
  tlsa_other_base  TEXT,
  tlsa_other_rcode TEXT,
  dane             TEXT NOT NULL,
  UNIQUE (run_id, name, fingerprint)
);
CREATE TABLE mx (
  domain_id   INTEGER NOT NULL REFERENCES domains(id),
  position    INTEGER NOT NULL,
  host_id     INTEGER NOT NULL REFERENCES hosts(id),
  preference  INTEGER NOT NULL,
  PRIMARY KEY (domain_id, position)
) WITHOUT ROWID;
CREATE TABLE cname_chain (
  host_id   INTEGER NOT NULL REFERENCES hosts(id),
  position  INTEGER NOT NULL,
  name      TEXT NOT NULL,
  PRIMARY KEY (host_id, position)
) WITHOUT ROWID;
CREATE TABLE host_addresses (
  host_id   INTEGER NOT NULL REFERENCES hosts(id),
  position  INTEGER NOT NULL,
  address   TEXT NOT NULL,
  PRIMARY KEY (host_id, position)
) WITHOUT ROWID;
CREATE TABLE tlsa_records (
  host_id   INTEGER NOT NULL REFERENCES hosts(id),
  at        TEXT NOT NULL CHECK (at IN ('base', 'other')),
  position  INTEGER NOT NULL,
  usage     INTEGER,
  selector  INTEGER,
  mtype     INTEGER,
  data      TEXT NOT NULL,
  PRIMARY KEY (host_id, at, position)
) WITHOUT ROWID;
CREATE TABLE host_findings (
  host_id   INTEGER NOT NULL REFERENCES hosts(id),
  position  INTEGER NOT NULL,
  code      TEXT NOT NULL,
  PRIMARY KEY (host_id, position)
) WITHOUT ROWID;
CREATE TABLE findings (
  domain_id  INTEGER NOT NULL REFERENCES domains(id),
  position   INTEGER NOT NULL,
  code       TEXT NOT NULL,
  host_id    INTEGER REFERENCES hosts(id)
);
CREATE INDEX findings_domain ON findings(domain_id);
CREATE TABLE probes (
  id                INTEGER PRIMARY KEY,
  host_id           INTEGER NOT NULL REFERENCES hosts(id),
  position          INTEGER NOT NULL,
  address           TEXT NOT NULL,
  connected         INTEGER NOT NULL,
  starttls          INTEGER NOT NULL,
  tls_ok            INTEGER NOT NULL,
  dane              TEXT NOT NULL,
  matched           TEXT,
  error             TEXT,
  port              INTEGER NOT NULL,
  tlsa_base         TEXT NOT NULL,
  connect_outcome   TEXT NOT NULL,
  connect_ms        INTEGER NOT NULL,
  greeting_outcome  TEXT NOT NULL,
  greeting_ms       INTEGER NOT NULL,
  ehlo_outcome      TEXT NOT NULL,
  ehlo_ms           INTEGER NOT NULL,
  starttls_outcome  TEXT NOT NULL,
  starttls_ms       INTEGER NOT NULL,
  handshake_outcome TEXT NOT NULL,
  handshake_ms      INTEGER NOT NULL,
  tls_version       TEXT NOT NULL,
  cipher            TEXT NOT NULL,
  matched_depth     INTEGER,
  verify_result     INTEGER,
  verify_text       TEXT NOT NULL,
  leaf_names_match  INTEGER,
  rate_limited      INTEGER NOT NULL,
  attempts          INTEGER NOT NULL,
  elapsed_ms        INTEGER NOT NULL,
  UNIQUE (host_id, position)
);
CREATE TABLE probe_certs (
  probe_id     INTEGER NOT NULL REFERENCES probes(id),
  depth        INTEGER NOT NULL,
  sha256       TEXT NOT NULL,
  spki_sha256  TEXT NOT NULL,
  subject      TEXT NOT NULL,
  issuer       TEXT NOT NULL,
  key_type     TEXT NOT NULL,
  key_bits     INTEGER NOT NULL,
  sans         TEXT NOT NULL,
  not_before   TEXT NOT NULL,
  not_after    TEXT NOT NULL,
  PRIMARY KEY (probe_id, depth)
) WITHOUT ROWID;
CREATE TABLE queries (
  id          INTEGER PRIMARY KEY,
  host_id     INTEGER REFERENCES hosts(id),
  domain_id   INTEGER REFERENCES domains(id),
  position    INTEGER NOT NULL,
  purpose     TEXT NOT NULL,
  name        TEXT NOT NULL,
  type        INTEGER NOT NULL,
  cd          INTEGER NOT NULL,
  rcode       TEXT NOT NULL,
  ad          INTEGER NOT NULL,
  tcp         INTEGER NOT NULL,
  ede         TEXT NOT NULL,
  ede_text    TEXT NOT NULL,
  elapsed_ms  INTEGER NOT NULL,
  attempts    INTEGER NOT NULL,
  resolver    TEXT NOT NULL,
  answer      BLOB NOT NULL,
  error       TEXT NOT NULL,
  CHECK ((host_id IS NULL) <> (domain_id IS NULL))
);
)sql";

// The indexes that only reading needs (reports group by verdict, state, finding code, rcode,
// TLSA parameters; find hosts by name and domains by host). Keeping them up to date row by row
// during a scan cost a seventh of a hot scan's instructions and most of its page writes (random
// inserts into their b-trees rewrite pages in every commit), so a run builds them when it
// finishes (createReadIndexes), in one sorted pass each.
constexpr const char* kReadIndexesSql = R"sql(
CREATE INDEX IF NOT EXISTS domains_verdict ON domains(run_id, verdict);
CREATE INDEX IF NOT EXISTS hosts_name ON hosts(name);
CREATE INDEX IF NOT EXISTS hosts_dane ON hosts(run_id, dane);
CREATE INDEX IF NOT EXISTS mx_host ON mx(host_id);
CREATE INDEX IF NOT EXISTS tlsa_records_usage ON tlsa_records(usage, selector, mtype);
CREATE INDEX IF NOT EXISTS findings_code ON findings(code);
CREATE INDEX IF NOT EXISTS queries_rcode ON queries(rcode);
-- Version 4: the scan never reads its queries back (only merge and reports do).
CREATE INDEX IF NOT EXISTS queries_host ON queries(host_id);
CREATE INDEX IF NOT EXISTS queries_domain ON queries(domain_id);
)sql";

int32_t pragmaInt(sqlite3* db, const char* pragma) {
  Statement stmt(db, pragma);
  if (!stmt.step()) throw SqliteError(std::string(pragma) + " returned nothing");
  const int64_t value = stmt.int64(0);
  stmt.reset();
  return static_cast<int32_t>(value);
}

bool hasAnyTable(sqlite3* db) {
  Statement stmt(db, "SELECT 1 FROM sqlite_schema LIMIT 1");
  const bool any = stmt.step();
  stmt.reset();
  return any;
}

// A check that needs no SQLite: SQLITE_CANTOPEN's "unable to open database file" does not say
// which part of the path is wrong.
std::string describeOpenFailure(const std::string& path, Access access) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (access == Access::ReadOnly && !fs::exists(p, ec)) return path + ": no such file";
  if (!fs::is_directory(dir, ec)) return path + ": directory " + dir.string() + " does not exist";
  return path + ": cannot open";
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
      SQLITE_OK) {
    throw SqliteError(lastError(db, "preparing a statement"));
  }
  stmt_.reset(raw);
}

Statement& Statement::bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_.get(), index, value) != SQLITE_OK) throw SqliteError(lastError(db_, "bind"));
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies, so temporaries are safe to bind. A null data pointer would
  // bind NULL, hence the "" for an empty view.
  const char* data = value.empty() ? "" : value.data();
  if (sqlite3_bind_text(stmt_.get(), index, data, static_cast<int>(value.size()), SQLITE_TRANSIENT) != SQLITE_OK) {
    throw SqliteError(lastError(db_, "bind"));
  }
  return *this;
}

Statement& Statement::bindRef(int index, std::string_view value) {
  const char* data = value.empty() ? "" : value.data();
  if (sqlite3_bind_text(stmt_.get(), index, data, static_cast<int>(value.size()), SQLITE_STATIC) != SQLITE_OK) {
    throw SqliteError(lastError(db_, "bind"));
  }
  return *this;
}

Statement& Statement::bindBlobRef(int index, std::string_view bytes) {
  const char* data = bytes.empty() ? "" : bytes.data();
  if (sqlite3_bind_blob(stmt_.get(), index, data, static_cast<int>(bytes.size()), SQLITE_STATIC) != SQLITE_OK) {
    throw SqliteError(lastError(db_, "bind"));
  }
  return *this;
}

Statement& Statement::bindRef(int index, const std::optional<std::string>& value) {
  return value ? bindRef(index, std::string_view(*value)) : bindNull(index);
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bindNull(index);
}

Statement& Statement::bindNull(int index) {
  if (sqlite3_bind_null(stmt_.get(), index) != SQLITE_OK) throw SqliteError(lastError(db_, "bind"));
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    reset();
    return false;
  }
  std::string message = sqlite3_errmsg(db_);
  reset();
  throw SqliteError(message);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
  return data ? std::string(data, static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column))) : std::string();
}

std::string Statement::blob(int column) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_.get(), column));
  return data ? std::string(data, static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column))) : std::string();
}

std::optional<std::string> Statement::optText(int column) const {
  if (isNull(column)) return std::nullopt;
  return text(column);
}

bool Statement::isNull(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }

void createReadIndexes(sqlite3* db) { exec(db, kReadIndexesSql); }

void exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw SqliteError(text);
  }
}

std::string lastError(sqlite3* db, std::string_view doing) { return std::string(doing) + ": " + sqlite3_errmsg(db); }

DbPtr openDatabase(const std::string& path, Access access, std::string& error) {
  const int flags = access == Access::ReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);  // owns the handle even when the open failed (SQLite allocates it anyway)
  if (rc != SQLITE_OK) {
    error = rc == SQLITE_CANTOPEN ? describeOpenFailure(path, access)
                                  : path + ": " + (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
    return nullptr;
  }
  try {
    // A writer that finds the database locked by another writer waits this long, then fails.
    sqlite3_busy_timeout(db.get(), 5000);
    // The first read of the header: a file that is not SQLite fails here ("file is not a database").
    const int32_t app = pragmaInt(db.get(), "PRAGMA application_id");
    const int32_t version = pragmaInt(db.get(), "PRAGMA user_version");
    if (app == 0 && version == 0 && !hasAnyTable(db.get())) {
      if (access == Access::ReadOnly) {
        error = path + ": an empty database, not a danescan scan";
        return nullptr;
      }
      exec(db.get(), "PRAGMA journal_mode=WAL");
      exec(db.get(), "BEGIN");
      exec(db.get(), kSchemaSql);
      exec(db.get(), ("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str());
      exec(db.get(), ("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
      exec(db.get(), "COMMIT");
    } else if (app != kApplicationId) {
      error = path + ": an SQLite database, but not one written by danescan";
      return nullptr;
    } else if (version != kSchemaVersion) {
      error = path + ": danescan schema version " + std::to_string(version) + ", this build reads version " +
              std::to_string(kSchemaVersion);
      // Version 4 stores answers as wire bytes; an older file keeps them as text, which this build
      // would misread. There is no migration: the danescan that wrote the file still reads it.
      if (version < kSchemaVersion) error += " (an older scan: read it with the danescan version that wrote it, or scan again)";
      return nullptr;
    }
    if (access == Access::ReadWrite) {
      // WAL: readers (export, report, a resume's finishedDomains) never block the writer.
      // synchronous=NORMAL: in WAL mode a power loss may drop the last commits but never corrupts.
      exec(db.get(), "PRAGMA journal_mode=WAL");
      exec(db.get(), "PRAGMA synchronous=NORMAL");
      // 32 MiB of page cache (default 2 MiB): the index b-trees of queries and hosts stay hot.
      exec(db.get(), "PRAGMA cache_size=-32768");
      // Checkpoint every 64 MiB of WAL instead of 4 MiB: fewer, larger checkpoints (each ends in
      // an fdatasync) inside the writer's commits. The file shrinks back at close.
      exec(db.get(), "PRAGMA wal_autocheckpoint=16384");
    }
  } catch (const SqliteError& e) {
    error = path + ": " + e.what();
    return nullptr;
  }
  return db;
}

std::optional<int64_t> latestRun(sqlite3* db) {
  Statement stmt(db, "SELECT max(id) FROM runs");
  std::optional<int64_t> run;
  if (stmt.step() && !stmt.isNull(0)) run = stmt.int64(0);
  stmt.reset();
  return run;
}

std::string utcTime(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  const std::time_t seconds = system_clock::to_time_t(when);
  const auto millis = static_cast<int>(duration_cast<milliseconds>(when.time_since_epoch()).count() % 1000);
  // The writer stores thousands of times a second (every domain's finished_at): the date and time
  // of a second are formatted once (gmtime_r and snprintf cost 3,300 instructions a call), the
  // milliseconds every time.
  thread_local std::time_t cached_seconds = 0;
  thread_local bool cached = false;
  thread_local char prefix[48];  // "YYYY-MM-DDTHH:MM:SS"
  if (!cached || seconds != cached_seconds) {
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    std::snprintf(prefix, sizeof prefix, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_seconds = seconds;
    cached = true;
  }
  std::string out(prefix);
  const char tail[] = {'.', static_cast<char>('0' + millis / 100), static_cast<char>('0' + millis / 10 % 10),
                       static_cast<char>('0' + millis % 10), 'Z'};
  out.append(tail, sizeof tail);
  return out;
}

}  // namespace danescan::storage
