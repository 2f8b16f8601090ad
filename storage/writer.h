// storage/writer.h — the scan's one SQLite writer. It alone owns the connection to the scan
// database and runs its own thread, so the event loop hands over finished domains without ever
// waiting for the disk: submit() queues, the writer thread commits in batched transactions.
//
// A host shared by many domains (a provider's MX host) is stored once per run and linked from each
// domain; see SCHEMA.md for what "once" means when two observations of one host differ.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/records.h"

namespace danescan::storage {

// What a run records about itself (runs table).
struct RunInfo {
  std::string version;       // danescan version
  std::string command_line;  // as typed, for the record
  std::string options_json;  // the effective options as one JSON object; "{}" when empty
  std::optional<std::string> shard = std::nullopt;       // "K/N" for a scan with --shard, else none (runs.shard)
  std::optional<std::string> started_at = std::nullopt;  // none: now (a merge passes its earliest shard's start)
};

// One list a run read (one object of runs.lists). Counts and hash cover what was read: all of
// it when `complete`, a prefix for a run stopped early.
struct ListRecord {
  std::string path;    // as given on the command line, "-" for stdin
  std::string sha256;  // of the content read (a gzip list: decompressed), lower-case hex; empty: never opened
  int64_t bytes = 0;
  int64_t lines = 0;
  int64_t invalid = 0;
  int64_t duplicates = 0;
  bool complete = false;
  bool operator==(const ListRecord&) const = default;
};
// The JSON array runs.lists stores.
[[nodiscard]] std::string listsJson(const std::vector<ListRecord>& lists);

// What a run records when it ends (runs.lists, invalid_lines, duplicate_lines, finished_at).
struct RunEnd {
  // The lists read: a JSON array of {"path", "sha256", "bytes", "lines", "invalid",
  // "duplicates", "complete"} (SCHEMA.md); none leaves the columns as they are.
  std::optional<std::string> lists_json;
  std::optional<int64_t> invalid_lines;
  std::optional<int64_t> duplicate_lines;
  std::optional<std::string> finished_at;  // none: now (a merge passes its latest shard's end)
};

enum class OpenMode {
  Create,  // a new run (in a new file, or appended to an existing danescan database)
  Resume,  // continue the last unfinished run (or else the last run); refused when there is none
};

class Writer {
 public:
  // Opens (or creates) the database and starts the writer thread. nullptr with `error` set when
  // the file cannot be opened, is not a danescan database, or (Resume) holds no run. On Resume,
  // `run` is not stored: the run keeps the command line and options it started with. A resuming
  // scanner then calls finishedDomains(path, runId(), ...) (reader.h) before its first submit().
  [[nodiscard]] static std::unique_ptr<Writer> open(const std::string& path, const RunInfo& run, OpenMode mode,
                                                    std::string& error);
  ~Writer();  // finish(false) unless finish() was called
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Thread-safe; never waits for the disk. The record is committed within the batch interval.
  // The queue is not bounded here (a record is ~2-10 KB with its queries): the caller keeps
  // backlog() under its own limit. Not after finish().
  void submit(DomainRecord&& record);
  // Records submitted and not yet committed: the caller stops pulling input above its limit.
  [[nodiscard]] uint64_t backlog() const { return backlog_.load(std::memory_order_relaxed); }
  // Records in committed transactions (duplicates of an already stored domain included).
  [[nodiscard]] uint64_t committed() const { return committed_.load(std::memory_order_relaxed); }
  // Records whose domain was already stored in this run, kept once (the first one wins).
  [[nodiscard]] uint64_t duplicates() const { return duplicates_.load(std::memory_order_relaxed); }
  [[nodiscard]] int64_t runId() const { return run_id_; }

  // Drains the queue, commits, marks the run completed (or interrupted), joins the thread.
  // Call once, from the thread that opened the writer; later calls do nothing.
  void finish(bool completed, const RunEnd& end = {});
  // The run's resolver-health warnings (runs.health, a JSON object {"window", "queries",
  // "warnings": [...]}), stored by finish(). A resumed run keeps the warnings of its earlier
  // invocations and appends these. Caller's thread, before finish().
  void setHealth(std::string json) { health_ = std::move(json); }

  // The first write error, empty when none. After one, later records are dropped (not half
  // written): the scan reports the error and exits 1; a resume redoes the dropped domains.
  [[nodiscard]] std::string error() const;
  [[nodiscard]] bool failed() const { return failed_.load(std::memory_order_relaxed); }

  // Batching: a transaction starts when kBatchRecords are queued or kBatchInterval after the
  // last one, whichever comes first, and takes up to 4 * kBatchRecords of the queue. So a record
  // is committed within about kBatchInterval plus one transaction's time.
  static constexpr size_t kBatchRecords = 2000;
  static constexpr std::chrono::milliseconds kBatchInterval{500};

 private:
  class Store;  // the connection and its prepared statements (writer.cc)
  explicit Writer(std::unique_ptr<Store> store, int64_t run_id);
  void threadMain();
  void recordError(std::string message);

  std::unique_ptr<Store> store_;  // touched only by the writer thread until it is joined
  const int64_t run_id_;
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  struct Pending {
    DomainRecord record;
    std::chrono::system_clock::time_point finished;  // when submitted: the domain's finished time
  };
  std::deque<Pending> queue_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  std::string error_;          // guarded by mutex_
  bool finished_ = false;      // caller's thread only
  std::optional<std::string> health_;  // caller's thread only

  std::atomic<uint64_t> backlog_{0};
  std::atomic<uint64_t> committed_{0};
  std::atomic<uint64_t> duplicates_{0};
  std::atomic<bool> failed_{false};
};

}  // namespace danescan::storage
