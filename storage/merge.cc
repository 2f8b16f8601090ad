// storage/merge.cc — the merge: check every input, prove the shards disjoint, then replay each
// shard's records through a Writer, so that merged data goes through exactly the code a scan's
// does (host deduplication included) and no second mapping of the schema exists.
#include "storage/merge.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "storage/database.h"
#include "storage/json.h"
#include "storage/reader.h"
#include "storage/run_options.h"
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

// "K/N" -> {K, N}; {0, 0} when it is not that.
std::pair<uint32_t, uint32_t> parseShard(const std::string& text) {
  const size_t slash = text.find('/');
  uint32_t k = 0, n = 0;
  if (slash == std::string::npos) return {0, 0};
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (std::from_chars(begin, begin + slash, k).ec != std::errc() ||
      std::from_chars(begin + slash + 1, end, n).ec != std::errc() || k == 0 || k > n) {
    return {0, 0};
  }
  return {k, n};
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// Every reason the runs do not form one survey, one sentence each; `missing` gets the absent
// K/N when the shards agree on N.
std::vector<std::string> surveyProblems(const std::vector<Shard>& shards, std::vector<std::string>& missing) {
  std::vector<std::string> problems;
  // Shard numbers: every input a shard, one N, each K once, all N present.
  std::map<uint32_t, std::vector<std::string>> counts;  // N -> "path (K/N)"
  std::map<uint32_t, std::string> holder;               // K -> path
  for (const auto& s : shards) {
    const auto [k, n] = s.run.shard ? parseShard(*s.run.shard) : std::pair<uint32_t, uint32_t>{0, 0};
    if (n == 0) {
      problems.push_back(s.path + ": run " + std::to_string(s.run.id) + " is not a shard (scanned without --shard)");
      continue;
    }
    counts[n].push_back(s.path + " (" + *s.run.shard + ")");
    if (auto [it, fresh] = holder.emplace(k, s.path); !fresh) {
      problems.push_back("shard " + *s.run.shard + " is given twice: " + it->second + " and " + s.path);
    }
  }
  if (counts.size() > 1) {
    std::string list;
    for (const auto& [n, paths] : counts) {
      for (const auto& p : paths) list += (list.empty() ? "" : ", ") + p;
    }
    problems.push_back("the shards split the list differently (different N): " + list);
  } else if (counts.size() == 1) {
    const uint32_t n = counts.begin()->first;
    for (uint32_t k = 1; k <= n; ++k) {
      if (!holder.count(k)) missing.push_back(std::to_string(k) + "/" + std::to_string(n));
    }
    if (!missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      problems.push_back("shard(s) missing: " + list + " (given " + std::to_string(holder.size()) + " of " +
                         std::to_string(n) + ")");
    }
  }
  // Each run finished its part.
  for (const auto& s : shards) {
    if (s.run.status != "completed") {
      problems.push_back(s.path + ": run " + std::to_string(s.run.id) + " is " + quoted(s.run.status) +
                         ", not completed (finish it with scan --resume)");
    }
  }
  // The same lists, by content: paths may differ between machines, the bytes may not.
  const Shard& first = shards.front();
  for (size_t i = 1; i < shards.size(); ++i) {
    const Shard& s = shards[i];
    if (!first.run.lists_json || !s.run.lists_json) {
      const Shard& without = first.run.lists_json ? s : first;
      problems.push_back(without.path + ": run " + std::to_string(without.run.id) +
                         " recorded no lists (it never ended), so its lists cannot be compared");
      continue;
    }
    if (s.run.lists.size() != first.run.lists.size()) {
      problems.push_back(s.path + " read " + std::to_string(s.run.lists.size()) + " list(s), " + first.path + " " +
                         std::to_string(first.run.lists.size()));
      continue;
    }
    for (size_t l = 0; l < s.run.lists.size(); ++l) {
      const ListRecord& a = first.run.lists[l];
      const ListRecord& b = s.run.lists[l];
      if (a.sha256 != b.sha256 || a.bytes != b.bytes) {
        problems.push_back("list " + std::to_string(l + 1) + " differs: " + first.path + " read " + quoted(a.path) +
                           " (" + std::to_string(a.bytes) + " bytes, SHA-256 " + a.sha256 + "), " + s.path +
                           " read " + quoted(b.path) + " (" + std::to_string(b.bytes) + " bytes, SHA-256 " + b.sha256 +
                           ")");
      }
    }
  }
  // The same options where they change results.
  for (size_t i = 1; i < shards.size(); ++i) {
    for (const auto& d : resultOptionDifferences(first.run.options_json, shards[i].run.options_json)) {
      problems.push_back("option " + d.key + " differs: " + d.a + " in " + first.path + ", " + d.b + " in " +
                         shards[i].path);
    }
  }
  return problems;
}

// The merged run's options: the first shard's (less its shard), which the checks found the same
// in every shard where it matters, then where each part came from and what the merge decided.
std::string mergedOptions(const std::vector<Shard>& shards, const std::string& merge_started,
                          const std::vector<std::string>& forced, const std::vector<std::string>& missing) {
  std::string out;
  json::Writer w(out);
  w.beginObject();
  for (const auto& [key, value] : optionMembers(shards.front().run.options_json)) {
    if (key == "shard" || key.rfind("merged_", 0) == 0) continue;
    w.key(key).raw(value);
  }
  w.key("merged_from").beginArray();
  for (const auto& s : shards) {
    w.beginObject();
    w.key("path").value(s.path);
    w.key("run").value(s.run.id);
    w.key("shard").value(s.run.shard);
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
  w.endArray();
  // The run's own times are the scan's (earliest shard start, latest end); the merge's are here.
  w.key("merged_at").beginObject().key("started_at").value(merge_started).key("finished_at").value(utcTime()).endObject();
  if (!missing.empty()) {
    w.key("missing_shards").beginArray();
    for (const auto& m : missing) w.value(m);
    w.endArray();
  }
  if (!forced.empty()) {
    w.key("forced").beginArray();
    for (const auto& f : forced) w.value(f);
    w.endArray();
  }
  w.endObject();
  return out;
}

// The merged run's lists: the first shard's, with each list's duplicates summed over the shards
// (every shard reads every line, so lines and invalid lines are the same in each, but a shard
// counts only the duplicates of its own names).
RunEnd mergedEnd(const std::vector<Shard>& shards) {
  RunEnd end;
  std::vector<ListRecord> lists = shards.front().run.lists;
  int64_t duplicates = 0;
  bool any_duplicates = false;
  for (size_t i = 0; i < shards.size(); ++i) {
    const auto& run = shards[i].run;
    if (run.duplicate_lines) {
      duplicates += *run.duplicate_lines;
      any_duplicates = true;
    }
    if (i == 0) continue;
    for (size_t l = 0; l < lists.size() && l < run.lists.size(); ++l) lists[l].duplicates += run.lists[l].duplicates;
  }
  if (shards.front().run.lists_json) end.lists_json = listsJson(lists);
  end.invalid_lines = shards.front().run.invalid_lines;
  if (any_duplicates) end.duplicate_lines = duplicates;
  // The latest end of a shard (ISO 8601 text sorts as time); none ended: the merge's end.
  for (const auto& s : shards) {
    if (s.run.finished_at && (!end.finished_at || *s.run.finished_at > *end.finished_at)) {
      end.finished_at = s.run.finished_at;
    }
  }
  return end;
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
           std::string& error, MergeNotes* notes) {
  namespace fs = std::filesystem;
  const std::string merge_started = utcTime();
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
  std::vector<std::string> missing;
  std::vector<std::string> problems = surveyProblems(shards, missing);
  if (!problems.empty() && !info.force) {
    error = "merge: the inputs do not form one survey:";
    for (const auto& p : problems) error += "\n  - " + p;
    error += "\n(--force merges them anyway and records the checks it overrode in the merged run)";
    return false;
  }
  const std::string overlap = firstOverlap(shards, error);
  if (!error.empty()) return false;
  if (!overlap.empty()) {
    error = "merge: domain " + overlap + ": the inputs are not disjoint shards of one scan";
    return false;
  }

  std::string started = shards.front().run.started_at;
  for (const auto& s : shards) started = std::min(started, s.run.started_at);
  auto writer = Writer::open(
      out_path,
      RunInfo{info.version, info.command_line, mergedOptions(shards, merge_started, problems, missing), std::nullopt, started},
      OpenMode::Create, error);
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
  completed = completed && missing.empty();
  writer->finish(completed && error.empty(), mergedEnd(shards));
  if (error.empty() && writer->failed()) error = out_path + ": " + writer->error();
  writer.reset();
  if (!error.empty()) {
    removeDatabase(out_path);
    return false;
  }
  if (notes) *notes = MergeNotes{problems, missing, completed};
  return true;
}

}  // namespace danescan::storage
