// storage/writer.cc — the writer thread, the run's bookkeeping, and how one DomainRecord becomes
// rows (domains, mx, findings, queries; hosts and their child tables once per distinct host).
#include "storage/writer.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <filesystem>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/database.h"
#include "storage/json.h"

namespace danescan::storage {
namespace {

// domains.delivery_rfc7672 / delivery_postfix at `index` and `index + 1`: both NULL for a
// no-mail domain (the contract's delivery null).
void bindDelivery(Statement& statement, int index, const std::optional<DeliveryRecord>& delivery) {
  if (delivery) {
    statement.bindRef(index, delivery->rfc7672).bindRef(index + 1, delivery->postfix);
  } else {
    statement.bindNull(index).bindNull(index + 1);
  }
}

// FNV-1a 64 over a length-prefixed serialisation of everything a host record says except its
// preference (which belongs to the MX link) and its queries (the evidence of the first
// observation is kept; a cached result handed to many domains repeats it). Two domains that saw
// the same host the same way share one hosts row; a host observed differently gets a second row.
class Fingerprint {
 public:
  void add(std::string_view s) {
    addNumber(s.size());
    for (unsigned char c : s) mix(c);
  }
  void add(const std::string& s) { add(std::string_view(s)); }
  void add(const std::optional<std::string>& s) {
    addNumber(s ? 1 : 0);
    if (s) add(*s);
  }
  void add(const std::vector<std::string>& list) {
    addNumber(list.size());
    for (const auto& s : list) add(s);
  }
  void addNumber(uint64_t n) {
    for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(n >> (8 * i)));
  }
  [[nodiscard]] int64_t value() const { return static_cast<int64_t>(hash_); }

 private:
  void mix(unsigned char c) {
    hash_ ^= c;
    hash_ *= 0x100000001b3ULL;
  }
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

int64_t hostFingerprint(const HostRecord& h) {
  Fingerprint f;
  f.add(h.host);
  f.add(h.cname_chain);
  f.add(h.addr_rcode);
  f.addNumber(h.addr_secure);
  f.add(h.cname_rcode);
  f.add(h.addresses);
  f.add(h.tlsa_base);
  f.add(h.tlsa_rcode);
  f.add(h.tlsa);
  f.add(h.dane);
  f.addNumber(h.probes.size());
  for (const auto& p : h.probes) {
    f.add(p.address);
    f.addNumber(p.connected);
    f.addNumber(p.starttls);
    f.addNumber(p.tls_ok);
    f.add(p.dane);
    f.add(p.matched);
    f.add(p.error);
  }
  f.addNumber(h.cname_secure);
  f.add(h.tlsa_other_base);
  f.add(h.tlsa_other_rcode);
  f.add(h.tlsa_other);
  f.add(h.host_findings);
  return f.value();
}

// "U S M hex" -> its parts, so reports can group by usage/selector/matching type in SQL. A record
// not in that form (it should not happen) is stored whole in `data` with NULL numbers, not lost.
struct TlsaParts {
  std::optional<int64_t> usage, selector, mtype;
  std::string_view data;
};

TlsaParts splitTlsa(std::string_view text) {
  TlsaParts parts{{}, {}, {}, text};
  int64_t numbers[3];
  const char* p = text.data();
  const char* end = p + text.size();
  for (auto& n : numbers) {
    auto [next, ec] = std::from_chars(p, end, n);
    if (ec != std::errc() || next == end || *next != ' ' || n < 0 || n > 255) return parts;
    p = next + 1;
  }
  for (const char* c = p; c != end; ++c) {
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return parts;
  }
  return TlsaParts{numbers[0], numbers[1], numbers[2], std::string_view(p, static_cast<size_t>(end - p))};
}

std::string edeJson(const std::vector<uint16_t>& codes) {
  std::string json = "[";
  for (size_t i = 0; i < codes.size(); ++i) {
    if (i) json += ',';
    json += std::to_string(codes[i]);
  }
  return json + "]";
}

}  // namespace

std::string listsJson(const std::vector<ListRecord>& lists) {
  std::string out;
  json::Writer w(out);
  w.beginArray();
  for (const auto& l : lists) {
    w.beginObject();
    w.key("path").value(l.path);
    w.key("sha256").value(l.sha256);
    w.key("bytes").value(l.bytes);
    w.key("lines").value(l.lines);
    w.key("invalid").value(l.invalid);
    w.key("duplicates").value(l.duplicates);
    w.key("complete").value(l.complete);
    w.endObject();
  }
  w.endArray();
  return out;
}

// The connection and every statement the writer uses, prepared once. Used by one thread at a time:
// the opener, then the writer thread, then (after the join) finish().
class Writer::Store {
 public:
  explicit Store(DbPtr db)
      : db_(std::move(db)),
        insert_domain_(db_.get(),
                       "INSERT INTO domains(run_id, name, source, line, verdict, mx_rcode, mx_secure, implicit_mx, "
                       "finished_at, delivery_rfc7672, delivery_postfix, rank) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                       "ON CONFLICT(run_id, name) DO NOTHING"),
        find_host_(db_.get(), "SELECT id FROM hosts WHERE run_id = ? AND name = ? AND fingerprint = ?"),
        insert_host_(db_.get(),
                     "INSERT INTO hosts(run_id, name, fingerprint, addr_rcode, addr_secure, cname_rcode, "
                     "cname_secure, tlsa_base, tlsa_rcode, tlsa_other_base, tlsa_other_rcode, dane) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"),
        insert_chain_(db_.get(), "INSERT INTO cname_chain(host_id, position, name) VALUES (?,?,?)"),
        insert_address_(db_.get(), "INSERT INTO host_addresses(host_id, position, address) VALUES (?,?,?)"),
        insert_tlsa_(db_.get(),
                     "INSERT INTO tlsa_records(host_id, at, position, usage, selector, mtype, data) "
                     "VALUES (?,?,?,?,?,?,?)"),
        insert_host_finding_(db_.get(), "INSERT INTO host_findings(host_id, position, code) VALUES (?,?,?)"),
        insert_probe_(db_.get(),
                      "INSERT INTO probes(host_id, position, address, connected, starttls, tls_ok, dane, matched, "
                      "error, port, tlsa_base, connect_outcome, connect_ms, greeting_outcome, greeting_ms, "
                      "ehlo_outcome, ehlo_ms, starttls_outcome, starttls_ms, handshake_outcome, handshake_ms, "
                      "tls_version, cipher, matched_depth, verify_result, verify_text, leaf_names_match, "
                      "rate_limited, attempts, elapsed_ms) "
                      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        insert_cert_(db_.get(),
                     "INSERT INTO probe_certs(probe_id, depth, sha256, spki_sha256, subject, issuer, key_type, "
                     "key_bits, sans, not_before, not_after) VALUES (?,?,?,?,?,?,?,?,?,?,?)"),
        insert_mx_(db_.get(), "INSERT INTO mx(domain_id, position, host_id, preference) VALUES (?,?,?,?)"),
        insert_finding_(db_.get(), "INSERT INTO findings(domain_id, position, code, host_id) VALUES (?,?,?,?)"),
        insert_query_(db_.get(),
                      "INSERT INTO queries(host_id, domain_id, position, purpose, name, type, cd, rcode, ad, tcp, "
                      "ede, ede_text, elapsed_ms, attempts, resolver, answer, error) "
                      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)") {}

  [[nodiscard]] sqlite3* db() const { return db_.get(); }
  // The run was created by this writer: it has no hosts but those this Store inserts, so a host
  // missing from host_ids_ needs no SELECT (until host_ids_ is emptied).
  void markNewRun() { ids_complete_ = true; }

  // One transaction for the whole batch; on any error it is rolled back and the error thrown.
  // Returns the number of records that were duplicates of a domain already stored.
  uint64_t writeBatch(int64_t run, std::vector<Pending>& batch) {
    // IMMEDIATE: take the write lock now, through the busy timeout, rather than fail with
    // SQLITE_BUSY halfway when another connection holds it.
    exec(db(), "BEGIN IMMEDIATE");
    uint64_t duplicates = 0;
    try {
      for (auto& pending : batch) duplicates += writeDomain(run, pending.record, pending.finished) ? 0 : 1;
      exec(db(), "COMMIT");
    } catch (...) {
      sqlite3_exec(db(), "ROLLBACK", nullptr, nullptr, nullptr);
      host_ids_.clear();  // ids of hosts inserted by the rolled-back transaction are gone
      ids_complete_ = false;
      throw;
    }
    return duplicates;
  }

 private:
  // False when the domain is already stored in this run (it is kept once: the first wins).
  // Text is bound in place (bindRef) throughout: the record outlives each statement's run(), and
  // every statement binds all of its parameters for each row. SQLite copied each text before.
  bool writeDomain(int64_t run, const DomainRecord& d, std::chrono::system_clock::time_point finished) {
    const std::string finished_at = utcTime(finished);
    insert_domain_.bind(1, run)
        .bindRef(2, d.domain)
        .bindRef(3, d.source)
        .bind(4, static_cast<int64_t>(d.line))
        .bindRef(5, d.verdict)
        .bindRef(6, d.mx_rcode)
        .bind(7, int64_t{d.mx_secure})
        .bind(8, int64_t{d.implicit_mx})
        .bindRef(9, finished_at);
    bindDelivery(insert_domain_, 10, d.delivery);
    // A rank past INT64_MAX is no rank a list has; it is stored as NULL rather than wrapped.
    if (d.rank && *d.rank <= static_cast<uint64_t>(INT64_MAX)) {
      insert_domain_.bind(12, static_cast<int64_t>(*d.rank));
    } else {
      insert_domain_.bindNull(12);
    }
    insert_domain_.run();
    if (sqlite3_changes(db()) == 0) return false;
    const int64_t domain_id = sqlite3_last_insert_rowid(db());

    std::vector<int64_t> host_ids;
    host_ids.reserve(d.mx.size());
    for (size_t i = 0; i < d.mx.size(); ++i) {
      const int64_t host_id = hostId(run, d.mx[i]);
      host_ids.push_back(host_id);
      insert_mx_.bind(1, domain_id)
          .bind(2, static_cast<int64_t>(i))
          .bind(3, host_id)
          .bind(4, int64_t{d.mx[i].preference})
          .run();
    }
    // One row per (code, host that reports it); one row with no host when none does.
    int64_t position = 0;
    for (const auto& code : d.findings) {
      bool attributed = false;
      for (size_t i = 0; i < d.mx.size(); ++i) {
        const auto& own = d.mx[i].host_findings;
        if (std::find(own.begin(), own.end(), code) == own.end()) continue;
        insert_finding_.bind(1, domain_id).bind(2, position).bindRef(3, code).bind(4, host_ids[i]).run();
        attributed = true;
      }
      if (!attributed) insert_finding_.bind(1, domain_id).bind(2, position).bindRef(3, code).bindNull(4).run();
      ++position;
    }
    for (size_t i = 0; i < d.queries.size(); ++i) writeQuery(std::nullopt, domain_id, i, d.queries[i]);
    return true;
  }

  int64_t hostId(int64_t run, const HostRecord& h) {
    const int64_t fingerprint = hostFingerprint(h);
    std::string key = h.host;
    key.append(reinterpret_cast<const char*>(&fingerprint), sizeof fingerprint);
    if (auto it = host_ids_.find(key); it != host_ids_.end()) return it->second;

    int64_t id = 0;
    // A new run whose cache has never been emptied holds every host it stored: a miss is new.
    if (ids_complete_) {
      id = insertHost(run, fingerprint, h);
    } else if (find_host_.bind(1, run).bindRef(2, h.host).bind(3, fingerprint); find_host_.step()) {
      id = find_host_.int64(0);
      find_host_.reset();
    } else {
      id = insertHost(run, fingerprint, h);
    }
    // Bounded: a survey can meet millions of distinct hosts; the hot ones come back at once.
    if (host_ids_.size() >= kHostCacheSize) {
      host_ids_.clear();
      ids_complete_ = false;
    }
    host_ids_.emplace(std::move(key), id);
    return id;
  }

  int64_t insertHost(int64_t run, int64_t fingerprint, const HostRecord& h) {
    insert_host_.bind(1, run)
        .bindRef(2, h.host)
        .bind(3, fingerprint)
        .bindRef(4, h.addr_rcode)
        .bind(5, int64_t{h.addr_secure})
        .bindRef(6, h.cname_rcode)
        .bind(7, int64_t{h.cname_secure})
        .bindRef(8, h.tlsa_base)
        .bindRef(9, h.tlsa_rcode)
        .bindRef(10, h.tlsa_other_base)
        .bindRef(11, h.tlsa_other_rcode)
        .bindRef(12, h.dane)
        .run();
    const int64_t id = sqlite3_last_insert_rowid(db());
    for (size_t i = 0; i < h.cname_chain.size(); ++i) {
      insert_chain_.bind(1, id).bind(2, static_cast<int64_t>(i)).bindRef(3, h.cname_chain[i]).run();
    }
    for (size_t i = 0; i < h.addresses.size(); ++i) {
      insert_address_.bind(1, id).bind(2, static_cast<int64_t>(i)).bindRef(3, h.addresses[i]).run();
    }
    writeTlsa(id, "base", h.tlsa);
    writeTlsa(id, "other", h.tlsa_other);
    for (size_t i = 0; i < h.host_findings.size(); ++i) {
      insert_host_finding_.bind(1, id).bind(2, static_cast<int64_t>(i)).bindRef(3, h.host_findings[i]).run();
    }
    for (size_t i = 0; i < h.probes.size(); ++i) writeProbe(id, i, h.probes[i]);
    for (size_t i = 0; i < h.queries.size(); ++i) writeQuery(id, std::nullopt, i, h.queries[i]);
    return id;
  }

  void writeProbe(int64_t host_id, size_t position, const ProbeRecord& p) {
    Statement& s = insert_probe_;
    s.bind(1, host_id).bind(2, static_cast<int64_t>(position)).bind(3, p.address);
    s.bind(4, int64_t{p.connected}).bind(5, int64_t{p.starttls}).bind(6, int64_t{p.tls_ok});
    s.bind(7, p.dane).bind(8, p.matched).bind(9, p.error).bind(10, int64_t{p.port}).bind(11, p.tlsa_base);
    int column = 12;  // the stages' outcome and time, in the schema's order
    for (const ProbeStageRecord* stage : {&p.connect, &p.greeting, &p.ehlo, &p.starttls_stage, &p.handshake}) {
      s.bind(column, stage->outcome);
      s.bind(column + 1, int64_t{stage->elapsed_ms});
      column += 2;
    }
    s.bind(22, p.tls_version).bind(23, p.cipher);
    if (p.matched_depth) s.bind(24, int64_t{*p.matched_depth}); else s.bindNull(24);
    if (p.verify_code) s.bind(25, *p.verify_code); else s.bindNull(25);
    s.bind(26, p.verify_text);
    if (p.leaf_names_match) s.bind(27, int64_t{*p.leaf_names_match}); else s.bindNull(27);
    s.bind(28, int64_t{p.rate_limited}).bind(29, int64_t{p.attempts}).bind(30, int64_t{p.elapsed_ms});
    s.run();
    const int64_t probe_id = sqlite3_last_insert_rowid(db());
    for (size_t depth = 0; depth < p.chain.size(); ++depth) {
      const PeerCertRecord& c = p.chain[depth];
      std::string sans;
      json::Writer w(sans);
      w.beginArray();
      for (const std::string& san : c.sans) w.value(san);
      w.endArray();
      insert_cert_.bind(1, probe_id)
          .bind(2, static_cast<int64_t>(depth))
          .bind(3, c.sha256)
          .bind(4, c.spki_sha256)
          .bind(5, c.subject)
          .bind(6, c.issuer)
          .bind(7, c.key_type)
          .bind(8, int64_t{c.key_bits})
          .bind(9, sans)
          .bind(10, c.not_before)
          .bind(11, c.not_after)
          .run();
    }
  }

  void writeTlsa(int64_t host_id, std::string_view at, const std::vector<std::string>& records) {
    for (size_t i = 0; i < records.size(); ++i) {
      const TlsaParts parts = splitTlsa(records[i]);
      insert_tlsa_.bind(1, host_id).bindRef(2, at).bind(3, static_cast<int64_t>(i));
      if (parts.usage) {
        insert_tlsa_.bind(4, *parts.usage).bind(5, *parts.selector).bind(6, *parts.mtype);
      } else {
        insert_tlsa_.bindNull(4).bindNull(5).bindNull(6);
      }
      insert_tlsa_.bindRef(7, parts.data).run();
    }
  }

  void writeQuery(std::optional<int64_t> host_id, std::optional<int64_t> domain_id, size_t position,
                  const QueryRecord& q) {
    if (host_id)
      insert_query_.bind(1, *host_id).bindNull(2);
    else
      insert_query_.bindNull(1).bind(2, *domain_id);
    // The record's text is bound in place (bindRef): it outlives run(), and every parameter is
    // bound again for the next row. The EDE list is a temporary that lives as long.
    const std::string ede = edeJson(q.ede);
    insert_query_.bind(3, static_cast<int64_t>(position))
        .bindRef(4, q.purpose)
        .bindRef(5, q.name)
        .bind(6, int64_t{q.type})
        .bind(7, int64_t{q.cd})
        .bindRef(8, q.rcode)
        .bind(9, int64_t{q.ad})
        .bind(10, int64_t{q.tcp})
        .bindRef(11, ede)
        .bindRef(12, q.ede_text)
        .bind(13, int64_t{q.elapsed_ms})
        .bind(14, int64_t{q.attempts})
        .bindRef(15, q.resolver)
        .bindBlobRef(16, q.answer_wire)
        .bindRef(17, q.error)
        .run();
  }

  static constexpr size_t kHostCacheSize = 1 << 16;

  DbPtr db_;  // declared first: destroyed after the statements
  Statement insert_domain_, find_host_, insert_host_, insert_chain_, insert_address_, insert_tlsa_,
      insert_host_finding_, insert_probe_, insert_cert_, insert_mx_, insert_finding_, insert_query_;
  std::unordered_map<std::string, int64_t> host_ids_;  // name + fingerprint -> hosts.id
  bool ids_complete_ = false;  // host_ids_ holds every host of the run (markNewRun(), never emptied)
};

std::unique_ptr<Writer> Writer::open(const std::string& path, const RunInfo& run, OpenMode mode, std::string& error) {
  std::error_code ec;
  if (mode == OpenMode::Resume && !std::filesystem::exists(path, ec)) {
    error = path + ": no such file, so no scan to resume";
    return nullptr;
  }
  DbPtr db = openDatabase(path, Access::ReadWrite, error);
  if (!db) return nullptr;
  try {
    int64_t run_id = 0;
    if (mode == OpenMode::Resume) {
      // The last run not completed, else the last run (resuming a completed scan skips every
      // domain and changes nothing but the run's bookkeeping).
      Statement pick(
          db.get(),
          "SELECT coalesce((SELECT max(id) FROM runs WHERE status <> 'completed'), (SELECT max(id) FROM runs))");
      if (!pick.step() || pick.isNull(0)) {
        error = path + ": no scan to resume (the database holds no run)";
        return nullptr;
      }
      run_id = pick.int64(0);
      pick.reset();
      Statement mark(db.get(),
                     "UPDATE runs SET status = 'running', finished_at = NULL, resumed = resumed + 1 WHERE id = ?");
      mark.bind(1, run_id).run();
    } else {
      Statement insert(db.get(),
                       "INSERT INTO runs(started_at, version, command_line, options, status, shard) "
                       "VALUES (?,?,?,?,'running',?)");
      insert.bind(1, run.started_at ? *run.started_at : utcTime())
          .bind(2, run.version)
          .bind(3, run.command_line)
          .bind(4, run.options_json.empty() ? std::string_view("{}") : std::string_view(run.options_json))
          .bind(5, run.shard)
          .run();
      run_id = sqlite3_last_insert_rowid(db.get());
    }
    auto store = std::make_unique<Store>(std::move(db));
    if (mode == OpenMode::Create) store->markNewRun();
    std::unique_ptr<Writer> writer(new Writer(std::move(store), run_id));
    writer->thread_ = std::thread([w = writer.get()] { w->threadMain(); });
    return writer;
  } catch (const SqliteError& e) {
    error = path + ": " + e.what();
    return nullptr;
  }
}

Writer::Writer(std::unique_ptr<Store> store, int64_t run_id) : store_(std::move(store)), run_id_(run_id) {}

Writer::~Writer() { finish(false); }

void Writer::submit(DomainRecord&& record) {
  backlog_.fetch_add(1, std::memory_order_relaxed);
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    assert(!stopping_ && "submit() after finish()");
    queue_.push_back(Pending{std::move(record), std::chrono::system_clock::now()});
    wake = queue_.size() == kBatchRecords;  // once per batch, not a futex call per record
  }
  if (wake) wake_.notify_one();
}

void Writer::threadMain() {
  std::vector<Pending> batch;
  for (;;) {
    bool last = false;
    {
      std::unique_lock lock(mutex_);
      // Wait for a full batch or the interval; on the interval, commit whatever is queued.
      wake_.wait_for(lock, kBatchInterval, [this] { return stopping_ || queue_.size() >= kBatchRecords; });
      const size_t take = std::min(queue_.size(), kBatchRecords * 4);
      batch.clear();
      for (size_t i = 0; i < take; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      last = stopping_ && queue_.empty();
    }
    if (!batch.empty()) {
      if (!failed()) {
        try {
          duplicates_.fetch_add(store_->writeBatch(run_id_, batch), std::memory_order_relaxed);
          committed_.fetch_add(batch.size(), std::memory_order_relaxed);
        } catch (const std::exception& e) {  // SqliteError, or bad_alloc while copying text
          recordError(e.what());
        }
      }
      backlog_.fetch_sub(batch.size(), std::memory_order_relaxed);
    }
    if (last) return;
  }
}

void Writer::recordError(std::string message) {
  std::lock_guard lock(mutex_);
  if (error_.empty()) error_ = "writing the scan database: " + std::move(message);
  failed_.store(true, std::memory_order_relaxed);
}

std::string Writer::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void Writer::finish(bool completed, const RunEnd& end) {
  if (finished_) return;
  finished_ = true;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  // The thread is gone: the connection is this thread's now. A run whose writes failed is left
  // 'interrupted' so that a resume redoes what was dropped.
  try {
    createReadIndexes(store_->db());
  } catch (const SqliteError& e) {
    recordError(e.what());
  }
  try {
    // coalesce: a run end that says nothing about the lists keeps what the run stored before.
    Statement mark(store_->db(),
                   "UPDATE runs SET status = ?, finished_at = ?, lists = coalesce(?, lists), "
                   "invalid_lines = coalesce(?, invalid_lines), duplicate_lines = coalesce(?, duplicate_lines) "
                   "WHERE id = ?");
    mark.bind(1, completed && !failed() ? std::string_view("completed") : std::string_view("interrupted"))
        .bind(2, end.finished_at ? *end.finished_at : utcTime())
        .bind(3, end.lists_json);
    if (end.invalid_lines) mark.bind(4, *end.invalid_lines); else mark.bindNull(4);
    if (end.duplicate_lines) mark.bind(5, *end.duplicate_lines); else mark.bindNull(5);
    mark.bind(6, run_id_).run();
  } catch (const SqliteError& e) {
    recordError(e.what());
  }
  if (!health_) return;
  try {
    // A resumed run: the earlier invocations' warnings first, then this one's.
    Statement health(store_->db(),
                     "UPDATE runs SET health = CASE WHEN health IS NULL OR json_valid(health) = 0 THEN json(?1) ELSE "
                     "json_set(json(?1), '$.warnings', (SELECT json_group_array(json(value)) FROM (SELECT value FROM "
                     "json_each(runs.health, '$.warnings') UNION ALL SELECT value FROM json_each(?1, '$.warnings')))) END "
                     "WHERE id = ?2");
    health.bind(1, *health_).bind(2, run_id_).run();
  } catch (const SqliteError& e) {
    recordError(e.what());
  }
}

}  // namespace danescan::storage
