// storage/database.h — internal to storage/: owns the SQLite handle types (the deleter lives in the
// type), the schema and its version, and the one way this module opens a database file so that
// "not a database", "not a danescan database", "newer schema" and "no such directory" read the
// same from the writer, export and merge. Outside storage/, only report/ includes this header: it
// opens the scan read-only with openDatabase (the same refusals and messages) and runs its own SQL
// with these handle types. No other module may.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace danescan::storage {

template <auto Fn>
struct CDeleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};
// sqlite3_close_v2 (not sqlite3_close) so that a handle with a statement still alive during
// unwinding is closed once that statement is finalised instead of leaking.
using DbPtr = std::unique_ptr<sqlite3, CDeleter<&sqlite3_close_v2>>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, CDeleter<&sqlite3_finalize>>;

// `PRAGMA application_id` of every danescan database ("DANE"), so that another program's SQLite
// file is refused instead of being written into; `PRAGMA user_version` is the schema version.
inline constexpr int32_t kApplicationId = 0x44414e45;
inline constexpr int kSchemaVersion = 4;

// A failed SQLite call inside storage/. It never leaves the module: every public entry point
// catches it and returns the message as its error string (errors are data at the API). Inside,
// it keeps each of the many inserts of a record to one line instead of a checked return.
class SqliteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A prepared statement with positional binds (1-based, as SQLite counts) and typed column reads.
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bindNull(int index);
  // Binds text without copying it (SQLITE_STATIC): `value` must stay valid and unchanged until
  // the statement has run, and every parameter bound this way must be bound again before the
  // statement runs again (it keeps the pointer after the reset). For the writer's hot inserts,
  // whose text lives in the record being written.
  Statement& bindRef(int index, std::string_view value);
  Statement& bindRef(int index, const std::string& value) { return bindRef(index, std::string_view(value)); }
  Statement& bindRef(int index, const std::optional<std::string>& value);
  // The same for bytes, bound as a BLOB (an empty one is a zero-length BLOB, not NULL).
  Statement& bindBlobRef(int index, std::string_view bytes);

  // SQLITE_ROW -> true, SQLITE_DONE -> false (and the statement is reset), otherwise throws.
  [[nodiscard]] bool step();
  // Runs a statement that returns no rows, then resets it for the next use.
  void run();
  void reset();

  [[nodiscard]] int64_t int64(int column) const;
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] std::optional<std::string> optText(int column) const;
  [[nodiscard]] std::string blob(int column) const;  // a BLOB's bytes (or a text's); NULL: empty
  [[nodiscard]] bool isNull(int column) const;

 private:
  sqlite3* db_ = nullptr;  // borrowed: the connection outlives its statements
  StmtPtr stmt_;
};

// Runs SQL without results (DDL, PRAGMA, BEGIN/COMMIT); throws SqliteError.
void exec(sqlite3* db, const char* sql);
// Builds the indexes that only reading needs, when missing (a run does it when it finishes; a
// scan killed before that leaves them to the next run's finish). Throws SqliteError.
void createReadIndexes(sqlite3* db);
// The message of the last error on `db`, prefixed with what was being done.
[[nodiscard]] std::string lastError(sqlite3* db, std::string_view doing);

enum class Access { ReadOnly, ReadWrite };

// Opens `path` and checks that it is a danescan database of a schema this build understands.
// ReadWrite creates the file when it does not exist and lays the schema into an empty database;
// ReadOnly requires an existing danescan database. Returns nullptr with `error` set otherwise.
[[nodiscard]] DbPtr openDatabase(const std::string& path, Access access, std::string& error);

// The id of the latest run in the database, or nullopt when it has none.
[[nodiscard]] std::optional<int64_t> latestRun(sqlite3* db);

// A UTC time as ISO 8601 with milliseconds ("2026-11-29T00:45:12.345Z"); now by default.
[[nodiscard]] std::string utcTime(std::chrono::system_clock::time_point when = std::chrono::system_clock::now());

}  // namespace danescan::storage
