// storage/merge.cc — the merge: check every input, prove the shards disjoint, then replay each
// shard's records through a Writer, so that merged data goes through exactly the code a scan's
// does (host deduplication included) and no second mapping of the schema exists.
#include "storage/merge.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "storage/database.h"
#include "storage/json.h"
#include "storage/reader.h"
#include "storage/writer.h"

namespace danescan::storage {
namespace {

// Above this many queued records the replay waits for the writer: memory stays bounded.
constexpr uint64_t kMaxBacklog = 20000;

struct Shard {
  std::string path;
  std::unique_ptr<Reader> reader;
  RunSummary run;
};

// The first domain that two shards share, as "NAME in A and B"; empty when they are disjoint.
// The names go through a private temporary database (SQLite's "" file), not memory: a shard of
// a survey holds millions of names.
std::string firstOverlap(const std::vector<Shard>& shards, std::string& error) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2("", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    error = "merge: cannot open a temporary database";
    return {};
  }
  try {
    exec(db.get(), "CREATE TABLE names (name TEXT PRIMARY KEY, shard INTEGER NOT NULL) WITHOUT ROWID");
    exec(db.get(), "BEGIN");
    Statement insert(db.get(), "INSERT INTO names(name, shard) VALUES (?, ?) ON CONFLICT(name) DO NOTHING");
    Statement owner(db.get(), "SELECT shard FROM names WHERE name = ?");
    std::string overlap;
    for (size_t i = 0; i < shards.size() && overlap.empty() && error.empty(); ++i) {
      std::string read_error;
      const bool ok = finishedDomains(
          shards[i].path, shards[i].run.id,
          [&](std::string_view name) {
            if (!overlap.empty()) return;
            insert.bind(1, name).bind(2, static_cast<int64_t>(i)).run();
            if (sqlite3_changes(db.get()) != 0) return;
            owner.bind(1, name);
            const int64_t first = owner.step() ? owner.int64(0) : 0;
            owner.reset();
            overlap = std::string(name) + " in " + shards[static_cast<size_t>(first)].path + " and " + shards[i].path;
          },
          read_error);
      if (!ok) error = read_error;
    }
    return overlap;
  } catch (const SqliteError& e) {
    error = std::string("merge: checking the shards for overlap: ") + e.what();
    return {};
  }
}

std::string mergedOptions(const std::vector<Shard>& shards) {
  std::string out;
  json::Writer w(out);
  w.beginObject().key("merged_from").beginArray();
  for (const auto& s : shards) {
    w.beginObject();
    w.key("path").value(s.path);
    w.key("run").value(s.run.id);
    w.key("status").value(s.run.status);
    w.key("started_at").value(s.run.started_at);
    w.key("finished_at").value(s.run.finished_at);
    w.key("version").value(s.run.version);
    w.key("command_line").value(s.run.command_line);
    // The writer stored the scan's options as one JSON object; anything else goes in as a string.
    w.key("options");
    if (!s.run.options_json.empty() && s.run.options_json.front() == '{' && s.run.options_json.back() == '}') {
      w.raw(s.run.options_json);
    } else {
      w.value(s.run.options_json);
    }
    w.endObject();
  }
  w.endArray().endObject();
  return out;
}

void removeDatabase(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
}

bool replay(Shard& shard, Writer& writer, std::string& error) {
  return shard.reader->forEachDomain(
      shard.run.id, Reader::Detail::Full,
      [&](const DomainRecord& d) {
        while (writer.backlog() > kMaxBacklog && !writer.failed()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        writer.submit(DomainRecord(d));
      },
      error);
}

}  // namespace

bool merge(const std::string& out_path, const std::vector<std::string>& shard_paths, const MergeInfo& info,
           std::string& error) {
  namespace fs = std::filesystem;
  error.clear();  // the checks below read it as "no error so far"
  if (shard_paths.empty()) {
    error = "merge: no shard databases given";
    return false;
  }
  std::error_code ec;
  if (fs::exists(out_path, ec)) {
    error = out_path + ": exists already; merge writes a new database";
    return false;
  }
  std::vector<Shard> shards;
  for (const auto& path : shard_paths) {
    Shard shard{path, Reader::open(path, error), {}};
    if (!shard.reader) return false;
    std::string read_error;
    auto run = shard.reader->run(std::nullopt, read_error);
    if (!read_error.empty()) {
      error = path + ": " + read_error;
      return false;
    }
    if (!run) {
      error = path + ": no scan run in the database";
      return false;
    }
    shard.run = std::move(*run);
    shards.push_back(std::move(shard));
  }
  const std::string overlap = firstOverlap(shards, error);
  if (!error.empty()) return false;
  if (!overlap.empty()) {
    error = "merge: domain " + overlap + ": the inputs are not disjoint shards of one scan";
    return false;
  }

  auto writer =
      Writer::open(out_path, RunInfo{info.version, info.command_line, mergedOptions(shards)}, OpenMode::Create, error);
  if (!writer) {
    removeDatabase(out_path);
    return false;
  }
  bool completed = true;
  for (auto& shard : shards) {
    if (!replay(shard, *writer, error)) {
      error = shard.path + ": " + error;
      break;
    }
    completed = completed && shard.run.status == "completed";
  }
  writer->finish(completed && error.empty());
  if (error.empty() && writer->failed()) error = out_path + ": " + writer->error();
  writer.reset();
  if (!error.empty()) {
    removeDatabase(out_path);
    return false;
  }
  return true;
}

}  // namespace danescan::storage
