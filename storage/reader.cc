// storage/reader.cc — rebuilds DomainRecords from the tables the writer fills (writer.cc is the
// other half of this mapping; SCHEMA.md describes both). Hosts are read once per call and cached,
// since a provider's host is linked from thousands of domains.
#include "storage/reader.h"

#include <unordered_map>
#include <utility>

#include "storage/database.h"

namespace danescan::storage {
namespace {

std::vector<uint16_t> parseEde(std::string_view json) {
  // The writer stores "[n,n,...]"; read the digits, nothing else is there.
  std::vector<uint16_t> codes;
  uint32_t value = 0;
  bool in_number = false;
  for (char c : json) {
    if (c >= '0' && c <= '9') {
      value = value * 10 + static_cast<uint32_t>(c - '0');
      in_number = true;
    } else if (in_number) {
      codes.push_back(static_cast<uint16_t>(value));
      value = 0;
      in_number = false;
    }
  }
  return codes;
}

constexpr const char* kQueryColumns =
    "SELECT purpose, name, type, cd, rcode, ad, tcp, ede, ede_text, elapsed_ms, attempts, resolver, answer, error "
    "FROM queries ";

QueryRecord readQuery(const Statement& s) {
  QueryRecord q;
  q.purpose = s.text(0);
  q.name = s.text(1);
  q.type = static_cast<uint16_t>(s.int64(2));
  q.cd = s.int64(3) != 0;
  q.rcode = s.text(4);
  q.ad = s.int64(5) != 0;
  q.tcp = s.int64(6) != 0;
  q.ede = parseEde(s.text(7));
  q.ede_text = s.text(8);
  q.elapsed_ms = static_cast<uint32_t>(s.int64(9));
  q.attempts = static_cast<uint32_t>(s.int64(10));
  q.resolver = s.text(11);
  q.answer_wire = s.blob(12);
  q.error = s.text(13);
  return q;
}

// The delivery object from its two columns (both NULL: no-mail, the contract's null).
std::optional<DeliveryRecord> readDelivery(const Statement& row, int column) {
  if (row.isNull(column) || row.isNull(column + 1)) return std::nullopt;
  return DeliveryRecord{row.text(column), row.text(column + 1)};
}

}  // namespace

class Reader::Impl {
 public:
  explicit Impl(DbPtr db)
      : db_(std::move(db)),
        domains_(db_.get(),
                 "SELECT id, name, source, line, verdict, mx_rcode, mx_secure, implicit_mx, delivery_rfc7672, "
                 "delivery_postfix, rank FROM domains "
                 "WHERE run_id = ? ORDER BY name"),
        rows_(db_.get(),
              "SELECT d.name, d.verdict, d.mx_rcode, d.mx_secure, d.implicit_mx, "
              "(SELECT count(*) FROM mx WHERE mx.domain_id = d.id), d.id FROM domains d "
              "WHERE d.run_id = ? ORDER BY d.name"),
        mx_(db_.get(), "SELECT host_id, preference FROM mx WHERE domain_id = ? ORDER BY position"),
        findings_(db_.get(), "SELECT DISTINCT position, code FROM findings WHERE domain_id = ? ORDER BY position"),
        domain_queries_(db_.get(), std::string(kQueryColumns) + "WHERE domain_id = ? ORDER BY position"),
        host_(db_.get(),
              "SELECT name, addr_rcode, addr_secure, cname_rcode, cname_secure, tlsa_base, tlsa_rcode, "
              "tlsa_other_base, tlsa_other_rcode, dane FROM hosts WHERE id = ?"),
        chain_(db_.get(), "SELECT name FROM cname_chain WHERE host_id = ? ORDER BY position"),
        addresses_(db_.get(), "SELECT address FROM host_addresses WHERE host_id = ? ORDER BY position"),
        tlsa_(db_.get(),
              "SELECT at, usage, selector, mtype, data FROM tlsa_records WHERE host_id = ? ORDER BY at, position"),
        host_findings_(db_.get(), "SELECT code FROM host_findings WHERE host_id = ? ORDER BY position"),
        probes_(db_.get(),
                "SELECT address, connected, starttls, tls_ok, dane, matched, error, port, tlsa_base, "
                "connect_outcome, connect_ms, greeting_outcome, greeting_ms, ehlo_outcome, ehlo_ms, "
                "starttls_outcome, starttls_ms, handshake_outcome, handshake_ms, tls_version, cipher, "
                "matched_depth, verify_result, verify_text, leaf_names_match, rate_limited, attempts, elapsed_ms, id "
                "FROM probes WHERE host_id = ? ORDER BY position"),
        certs_(db_.get(),
               "SELECT sha256, spki_sha256, subject, issuer, key_type, key_bits, sans, not_before, not_after "
               "FROM probe_certs WHERE probe_id = ? ORDER BY depth"),
        // SANs are stored as a JSON array (reports read them with json_each); SQLite reads it back.
        sans_(db_.get(), "SELECT value FROM json_each(?)"),
        host_queries_(db_.get(), std::string(kQueryColumns) + "WHERE host_id = ? ORDER BY position") {}

  sqlite3* db() const { return db_.get(); }

  void forEachDomain(int64_t run, Detail detail, const std::function<void(const DomainRecord&)>& visit) {
    hosts_.clear();
    DomainRecord d;
    domains_.bind(1, run);
    while (domains_.step()) {
      const int64_t id = domains_.int64(0);
      d.domain = domains_.text(1);
      d.source = domains_.text(2);
      d.line = static_cast<uint64_t>(domains_.int64(3));
      d.verdict = domains_.text(4);
      d.mx_rcode = domains_.text(5);
      d.mx_secure = domains_.int64(6) != 0;
      d.implicit_mx = domains_.int64(7) != 0;
      d.delivery = readDelivery(domains_, 8);
      d.rank = domains_.isNull(10) ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(domains_.int64(10)));
      d.mx.clear();
      mx_.bind(1, id);
      while (mx_.step()) {
        d.mx.push_back(host(mx_.int64(0), detail));
        d.mx.back().preference = static_cast<int>(mx_.int64(1));
      }
      d.findings = findings(id);
      d.queries.clear();
      if (detail == Detail::Full) {
        domain_queries_.bind(1, id);
        while (domain_queries_.step()) d.queries.push_back(readQuery(domain_queries_));
      }
      visit(d);
    }
  }

  void forEachDomainRow(int64_t run, const std::function<void(const DomainRow&)>& visit) {
    DomainRow row;
    rows_.bind(1, run);
    while (rows_.step()) {
      row.domain = rows_.text(0);
      row.verdict = rows_.text(1);
      row.mx_rcode = rows_.text(2);
      row.mx_secure = rows_.int64(3) != 0;
      row.implicit_mx = rows_.int64(4) != 0;
      row.hosts = rows_.int64(5);
      row.findings = findings(rows_.int64(6));
      visit(row);
    }
  }

 private:
  std::vector<std::string> findings(int64_t domain_id) {
    std::vector<std::string> codes;
    findings_.bind(1, domain_id);
    while (findings_.step()) codes.push_back(findings_.text(1));
    return codes;
  }

  const HostRecord& host(int64_t id, Detail detail) {
    if (auto it = hosts_.find(id); it != hosts_.end()) return it->second;
    HostRecord h;
    host_.bind(1, id);
    if (!host_.step()) throw SqliteError("MX link to a missing host " + std::to_string(id));
    h.host = host_.text(0);
    h.addr_rcode = host_.text(1);
    h.addr_secure = host_.int64(2) != 0;
    h.cname_rcode = host_.optText(3);
    h.cname_secure = host_.int64(4) != 0;
    h.tlsa_base = host_.optText(5);
    h.tlsa_rcode = host_.optText(6);
    h.tlsa_other_base = host_.optText(7);
    h.tlsa_other_rcode = host_.optText(8);
    h.dane = host_.text(9);
    host_.reset();
    chain_.bind(1, id);
    while (chain_.step()) h.cname_chain.push_back(chain_.text(0));
    addresses_.bind(1, id);
    while (addresses_.step()) h.addresses.push_back(addresses_.text(0));
    tlsa_.bind(1, id);
    while (tlsa_.step()) {
      std::string text = tlsa_.isNull(1) ? tlsa_.text(4)
                                         : std::to_string(tlsa_.int64(1)) + ' ' + std::to_string(tlsa_.int64(2)) + ' ' +
                                               std::to_string(tlsa_.int64(3)) + ' ' + tlsa_.text(4);
      (tlsa_.text(0) == "base" ? h.tlsa : h.tlsa_other).push_back(std::move(text));
    }
    host_findings_.bind(1, id);
    while (host_findings_.step()) h.host_findings.push_back(host_findings_.text(0));
    probes_.bind(1, id);
    while (probes_.step()) {
      ProbeRecord p;
      p.address = probes_.text(0);
      p.connected = probes_.int64(1) != 0;
      p.starttls = probes_.int64(2) != 0;
      p.tls_ok = probes_.int64(3) != 0;
      p.dane = probes_.text(4);
      p.matched = probes_.optText(5);
      p.error = probes_.optText(6);
      p.port = static_cast<uint16_t>(probes_.int64(7));
      p.tlsa_base = probes_.text(8);
      int column = 9;
      for (ProbeStageRecord* stage : {&p.connect, &p.greeting, &p.ehlo, &p.starttls_stage, &p.handshake}) {
        stage->outcome = probes_.text(column++);
        stage->elapsed_ms = static_cast<uint32_t>(probes_.int64(column++));
      }
      p.tls_version = probes_.text(19);
      p.cipher = probes_.text(20);
      if (!probes_.isNull(21)) p.matched_depth = static_cast<int>(probes_.int64(21));
      if (!probes_.isNull(22)) p.verify_code = probes_.int64(22);
      p.verify_text = probes_.text(23);
      if (!probes_.isNull(24)) p.leaf_names_match = probes_.int64(24) != 0;
      p.rate_limited = probes_.int64(25) != 0;
      p.attempts = static_cast<uint32_t>(probes_.int64(26));
      p.elapsed_ms = static_cast<uint32_t>(probes_.int64(27));
      if (detail == Detail::Full) p.chain = certificates(probes_.int64(28));
      h.probes.push_back(std::move(p));
    }
    if (detail == Detail::Full) {
      host_queries_.bind(1, id);
      while (host_queries_.step()) h.queries.push_back(readQuery(host_queries_));
    }
    if (hosts_.size() >= kHostCacheSize) hosts_.clear();
    return hosts_.emplace(id, std::move(h)).first->second;
  }

  std::vector<PeerCertRecord> certificates(int64_t probe_id) {
    std::vector<PeerCertRecord> chain;
    certs_.bind(1, probe_id);
    while (certs_.step()) {
      PeerCertRecord c;
      c.sha256 = certs_.text(0);
      c.spki_sha256 = certs_.text(1);
      c.subject = certs_.text(2);
      c.issuer = certs_.text(3);
      c.key_type = certs_.text(4);
      c.key_bits = static_cast<int>(certs_.int64(5));
      sans_.bind(1, certs_.text(6));
      while (sans_.step()) c.sans.push_back(sans_.text(0));
      c.not_before = certs_.text(7);
      c.not_after = certs_.text(8);
      chain.push_back(std::move(c));
    }
    return chain;
  }

  static constexpr size_t kHostCacheSize = 4096;

  DbPtr db_;  // declared first: destroyed after the statements
  Statement domains_, rows_, mx_, findings_, domain_queries_, host_, chain_, addresses_, tlsa_, host_findings_, probes_, certs_, sans_,
      host_queries_;
  std::unordered_map<int64_t, HostRecord> hosts_;
};

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::~Reader() = default;

std::unique_ptr<Reader> Reader::open(const std::string& path, std::string& error) {
  DbPtr db = openDatabase(path, Access::ReadOnly, error);
  if (!db) return nullptr;
  try {
    return std::unique_ptr<Reader>(new Reader(std::make_unique<Impl>(std::move(db))));
  } catch (const SqliteError& e) {
    error = path + ": " + e.what();
    return nullptr;
  }
}

std::optional<RunSummary> Reader::run(std::optional<int64_t> id, std::string& error) {
  try {
    if (!id) id = latestRun(impl_->db());
    if (!id) return std::nullopt;
    Statement s(impl_->db(),
                "SELECT id, started_at, finished_at, version, command_line, options, status, shard, lists, "
                "invalid_lines, duplicate_lines FROM runs WHERE id = ?");
    s.bind(1, *id);
    if (!s.step()) return std::nullopt;
    RunSummary r{s.int64(0), s.text(1), s.optText(2), s.text(3), s.text(4), s.text(5), s.text(6), s.optText(7),
                 s.optText(8), {}, std::nullopt, std::nullopt};
    if (!s.isNull(9)) r.invalid_lines = s.int64(9);
    if (!s.isNull(10)) r.duplicate_lines = s.int64(10);
    s.reset();
    if (r.lists_json) {
      Statement lists(impl_->db(),
                      "SELECT coalesce(json_extract(value, '$.path'), ''), coalesce(json_extract(value, '$.sha256'), ''), "
                      "coalesce(json_extract(value, '$.bytes'), 0), coalesce(json_extract(value, '$.lines'), 0), "
                      "coalesce(json_extract(value, '$.invalid'), 0), coalesce(json_extract(value, '$.duplicates'), 0), "
                      "coalesce(json_extract(value, '$.complete'), 0) FROM json_each(?) ORDER BY key");
      lists.bind(1, *r.lists_json);
      while (lists.step()) {
        r.lists.push_back(ListRecord{lists.text(0), lists.text(1), lists.int64(2), lists.int64(3), lists.int64(4),
                                     lists.int64(5), lists.int64(6) != 0});
      }
    }
    return r;
  } catch (const SqliteError& e) {
    error = std::string("reading the scan database: ") + e.what();
    return std::nullopt;
  }
}

std::optional<RunSummary> Reader::resumableRun(std::string& error) {
  std::optional<int64_t> id;
  try {
    // The same choice as Writer::open's for OpenMode::Resume.
    Statement pick(impl_->db(),
                   "SELECT coalesce((SELECT max(id) FROM runs WHERE status <> 'completed'), (SELECT max(id) FROM runs))");
    if (pick.step() && !pick.isNull(0)) id = pick.int64(0);
    pick.reset();
  } catch (const SqliteError& e) {
    error = std::string("reading the scan database: ") + e.what();
    return std::nullopt;
  }
  if (!id) return std::nullopt;
  return run(id, error);
}

bool Reader::forEachDomain(int64_t run, Detail detail, const std::function<void(const DomainRecord&)>& visit,
                           std::string& error) {
  try {
    impl_->forEachDomain(run, detail, visit);
    return true;
  } catch (const SqliteError& e) {
    error = std::string("reading the scan database: ") + e.what();
    return false;
  }
}

bool Reader::forEachDomainRow(int64_t run, const std::function<void(const DomainRow&)>& visit, std::string& error) {
  try {
    impl_->forEachDomainRow(run, visit);
    return true;
  } catch (const SqliteError& e) {
    error = std::string("reading the scan database: ") + e.what();
    return false;
  }
}

bool finishedDomains(const std::string& path, int64_t run, const std::function<void(std::string_view)>& visit,
                     std::string& error) {
  DbPtr db = openDatabase(path, Access::ReadOnly, error);
  if (!db) return false;
  try {
    Statement s(db.get(), "SELECT name FROM domains WHERE run_id = ?");
    s.bind(1, run);
    while (s.step()) visit(s.text(0));
    return true;
  } catch (const SqliteError& e) {
    error = path + ": " + e.what();
    return false;
  }
}

}  // namespace danescan::storage
