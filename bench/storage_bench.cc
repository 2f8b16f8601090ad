// bench/storage_bench.cc — throughput of the storage module: the Writer committing domain records
// into a temporary SQLite file (items = domain records, open to finish() included), with every
// host new (the worst case) or drawn from a pool of provider hosts (a survey's shape), and the
// JSON Lines export reading them back. Records: 2 MX hosts, each with 2 addresses, 2 TLSA records
// and 6 queries with answers in presentation form, plus the domain's MX query.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "storage/export.h"
#include "storage/writer.h"

namespace danescan::storage {
namespace {

constexpr int kRecords = 20000;

QueryRecord query(const std::string& purpose, const std::string& name, uint16_t type) {
  QueryRecord q;
  q.purpose = purpose;
  q.name = name;
  q.type = type;
  q.rcode = "NOERROR";
  q.ad = true;
  q.elapsed_ms = 17;
  q.attempts = 1;
  q.resolver = "127.53.1.1:53";
  // An RRSIG in wire form, about the size of a signed answer's (owner, 18 bytes of fields, the
  // signer, a 64-byte ECDSA signature).
  q.answer_wire = name + std::string(18, '\x01') + name + std::string(64, '\x5a');
  return q;
}

HostRecord host(const std::string& name, int preference) {
  HostRecord h;
  h.host = name;
  h.preference = preference;
  h.addr_rcode = "NOERROR";
  h.addr_secure = true;
  h.cname_rcode = "NOERROR";
  h.cname_secure = true;
  h.addresses = {"192.0.2.1", "2001:db8::25"};
  h.tlsa_base = name;
  h.tlsa_rcode = "NOERROR";
  h.tlsa = {"3 1 1 8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1",
            "2 1 1 0b9fa5a59eed715c26c1020c711b4f6ec42d58b0015e14337a39dad301c5afc3"};
  h.dane = "unprobed";
  h.queries = {query("a", name, 1),     query("aaaa", name, 28),
               query("cname", name, 5), query("tlsa", "_25._tcp." + name, 52),
               query("a", name, 1),     query("aaaa", name, 28)};
  return h;
}

// `mx_hosts` MX hosts per domain (1 or 2), drawn from a pool of `host_pool` (0: each its own).
DomainRecord record(int i, int host_pool, int mx_hosts = 2) {
  DomainRecord d;
  d.domain = "domain" + std::to_string(i) + ".example";
  d.verdict = "dane-unprobed";
  d.mx_rcode = "NOERROR";
  d.mx_secure = true;
  d.source = "top-1m.csv";
  d.line = static_cast<uint64_t>(i) + 1;
  const int a = host_pool ? i % host_pool : 2 * i;
  const int b = host_pool ? (i + 1) % host_pool : 2 * i + 1;
  d.mx = {host("mx" + std::to_string(a) + ".provider.example", 10)};
  if (mx_hosts > 1) d.mx.push_back(host("mx" + std::to_string(b) + ".provider.example", 20));
  d.queries = {query("mx", d.domain, 15)};
  return d;
}

std::string tempPath(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(getpid()) + ".sqlite"))
      .string();
}

// CPU time of the whole process (the writer thread included), which Google Benchmark's CPU column
// does not count: it only sees the submitting thread. On a shared machine this is the steadier
// figure, since wall time also counts the time the writer waited for a core.
double processCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void removeDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// Rows in every table of the database: what a run wrote.
int64_t rowsIn(const std::string& path) {
  sqlite3* db = nullptr;
  int64_t rows = 0;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    for (const char* table : {"domains", "mx", "findings", "hosts", "cname_chain", "host_addresses", "tlsa_records",
                              "host_findings", "probes", "probe_certs", "queries"}) {
      const std::string sql = std::string("SELECT count(*) FROM ") + table;
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
        rows += sqlite3_column_int64(stmt, 0);
      }
      sqlite3_finalize(stmt);
    }
  }
  sqlite3_close(db);
  return rows;
}

void writeAll(benchmark::State& state, int host_pool, int mx_hosts = 2) {
  const std::string path = tempPath("storage-bench");
  std::vector<DomainRecord> records;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    removeDatabase(path);
    records.clear();
    for (int i = 0; i < kRecords; ++i) records.push_back(record(i, host_pool, mx_hosts));
    state.ResumeTiming();
    const double cpu_start = processCpuSeconds();

    std::string error;
    auto writer = Writer::open(path, RunInfo{"bench", "storage_bench", "{}"}, OpenMode::Create, error);
    if (!writer) {
      state.SkipWithError(error.c_str());
      break;
    }
    for (auto& d : records) writer->submit(std::move(d));
    writer->finish(true);
    if (writer->failed()) {
      state.SkipWithError(writer->error().c_str());
      break;
    }
    benchmark::DoNotOptimize(writer->committed());
    cpu += processCpuSeconds() - cpu_start;
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
  state.counters["cpu_us_per_record"] =
      cpu * 1e6 / static_cast<double>(std::max<int64_t>(1, state.iterations() * kRecords));
  state.counters["db_bytes_per_record"] =
      static_cast<double>(std::filesystem::file_size(path)) / static_cast<double>(kRecords);
  // Rows of one iteration (each starts from an empty file), and the writer's cost per row.
  const auto rows = static_cast<double>(rowsIn(path));
  state.counters["rows_per_record"] = rows / kRecords;
  state.counters["cpu_us_per_row"] = cpu * 1e6 / std::max(1.0, rows * static_cast<double>(state.iterations()));
  removeDatabase(path);
}

// Every domain with two hosts of its own: each record writes 2 hosts and their child rows.
void BM_Writer_UniqueHosts(benchmark::State& state) { writeAll(state, 0); }
// Hosts from a pool of 1,000 provider hosts: most records only link to stored hosts.
void BM_Writer_SharedHosts(benchmark::State& state) { writeAll(state, 1000); }
// The shape of most domains of a hot survey scan: one MX host, already stored (a pool of 60, as
// bench/world's providers), so a record is its domain row, its MX row and its MX query's row.
void BM_Writer_HotScanShape(benchmark::State& state) { writeAll(state, 60, 1); }

void BM_ExportJsonl_SharedHosts(benchmark::State& state) {
  const std::string path = tempPath("storage-bench-export");
  removeDatabase(path);
  {
    std::string error;
    auto writer = Writer::open(path, RunInfo{"bench", "storage_bench", "{}"}, OpenMode::Create, error);
    if (!writer) {
      state.SkipWithError(error.c_str());
      return;
    }
    for (int i = 0; i < kRecords; ++i) writer->submit(record(i, 1000));
    writer->finish(true);
  }
  for (auto _ : state) {
    std::ostringstream out;
    std::string error;
    if (!exportJsonl(path, out, error)) {
      state.SkipWithError(error.c_str());
      break;
    }
    benchmark::DoNotOptimize(out.tellp());
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
  removeDatabase(path);
}

BENCHMARK(BM_Writer_UniqueHosts)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Writer_SharedHosts)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Writer_HotScanShape)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ExportJsonl_SharedHosts)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace danescan::storage

BENCHMARK_MAIN();
