// bench/inputs_bench.cc — throughput of the inputs module: normalising one name (ASCII and IDN,
// through the public function and through the reused normaliser the stream uses), the duplicate
// filter, and DomainStream over a generated list, plain and gzip. Items are names or lines.
#include <benchmark/benchmark.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "inputs/dedup_filter.h"
#include "inputs/domain_name.h"
#include "inputs/domain_stream.h"
#include "inputs/shard.h"

namespace danescan::inputs {
namespace {

// Deterministic generator so that runs compare: splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t state_;
};

constexpr const char* kTlds[] = {"com", "net", "org", "de", "nl", "uk", "io", "fr", "se", "cz"};
constexpr const char* kIdnWords[] = {"bücher", "straße", "müller", "café",      "españa",
                                     "日本語", "пример", "δοκιμή", "königsweg", "smörgås"};

std::string asciiName(Rng& rng) {
  static constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string name;
  if (rng.below(4) == 0) name += "mail.";
  const size_t len = 5 + rng.below(12);
  for (size_t i = 0; i < len; ++i) name += kLetters[rng.below(i == 0 ? 26 : 36)];
  name += '.';
  name += kTlds[rng.below(std::size(kTlds))];
  return name;
}

// The mix the end-to-end script uses too: mostly valid lower-case names, some upper case and
// trailing dots, 1 % IDN, 10 % repeats, 0.5 % invalid.
std::vector<std::string> generateLines(size_t count) {
  Rng rng(20240601);
  std::vector<std::string> lines;
  lines.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t roll = rng.below(1000);
    std::string line;
    if (roll < 100 && !lines.empty()) {
      line = lines[rng.below(lines.size())];
    } else if (roll < 105) {
      line = "*." + asciiName(rng);
    } else if (roll < 115) {
      line = std::string(kIdnWords[rng.below(std::size(kIdnWords))]) + std::to_string(i) + "." +
             kTlds[rng.below(std::size(kTlds))];
    } else if (roll < 165) {
      line = asciiName(rng);
      for (char& c : line) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
      line += '.';
    } else {
      line = asciiName(rng);
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

// The generated list on disk, plain and gzip, for the process's lifetime.
class ListFiles {
 public:
  static const ListFiles& get() {
    static const ListFiles files(1'000'000);
    return files;
  }
  ~ListFiles() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string plain, gzip;
  size_t lines;

 private:
  explicit ListFiles(size_t count) : lines(count) {
    std::string pattern = (std::filesystem::temp_directory_path() / "inputs_bench.XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    dir_ = pattern;
    plain = (dir_ / "list.txt").string();
    gzip = (dir_ / "list.txt.gz").string();
    std::string text;
    for (const auto& line : generateLines(count)) text += line + "\n";
    if (FILE* f = std::fopen(plain.c_str(), "wb")) {
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
    }
    if (gzFile gz = gzopen(gzip.c_str(), "wb6")) {
      gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
      gzclose(gz);
    }
  }
  std::filesystem::path dir_;
};

std::vector<std::string> namesOnly(bool idn) {
  Rng rng(7);
  std::vector<std::string> names;
  for (int i = 0; i < 4096; ++i) {
    names.push_back(idn ? std::string(kIdnWords[rng.below(std::size(kIdnWords))]) + ".example"
                        : asciiName(rng));
  }
  return names;
}

void BM_NormaliseDomain_Ascii(benchmark::State& state) {
  const auto names = namesOnly(false);
  std::string error;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(normaliseDomain(names[i++ & 4095], error));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NormaliseDomain_Ascii);

void BM_NormaliseDomain_Idn(benchmark::State& state) {
  const auto names = namesOnly(true);
  std::string error;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(normaliseDomain(names[i++ & 4095], error));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NormaliseDomain_Idn);

// The stream's own path: one normaliser, buffers reused.
void BM_NameNormaliser_Ascii(benchmark::State& state) {
  const auto names = namesOnly(false);
  NameNormaliser normaliser;
  std::string out, error;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(normaliser.normalise(names[i++ & 4095], out, error));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NameNormaliser_Ascii);

void BM_StableNameHash(benchmark::State& state) {
  const auto names = namesOnly(false);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(stableNameHash(names[i++ & 4095]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StableNameHash);

// Inserting range(0) distinct fingerprints into a fresh filter: includes every doubling.
void BM_DedupFilter_Insert(benchmark::State& state) {
  const auto count = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    DedupFilter filter;
    for (uint64_t i = 0; i < count; ++i) {
      benchmark::DoNotOptimize(filter.insert(
          stableNameHash(std::string_view(reinterpret_cast<const char*>(&i), sizeof i))));
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(count));
}
BENCHMARK(BM_DedupFilter_Insert)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

void streamAll(benchmark::State& state, const std::string& path, bool dedup) {
  const ListFiles& files = ListFiles::get();
  for (auto _ : state) {
    StreamOptions options;
    options.sources = {path};
    options.dedup = dedup;
    options.on_error = [](const ListError&) {};
    DomainStream stream(std::move(options));
    DomainEntry entry;
    uint64_t accepted = 0;
    while (stream.next(entry)) ++accepted;
    benchmark::DoNotOptimize(accepted);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(files.lines));
}

void BM_DomainStream_Plain(benchmark::State& state) {
  streamAll(state, ListFiles::get().plain, true);
}
BENCHMARK(BM_DomainStream_Plain)->Unit(benchmark::kMillisecond);

void BM_DomainStream_PlainNoDedup(benchmark::State& state) {
  streamAll(state, ListFiles::get().plain, false);
}
BENCHMARK(BM_DomainStream_PlainNoDedup)->Unit(benchmark::kMillisecond);

void BM_DomainStream_Gzip(benchmark::State& state) {
  streamAll(state, ListFiles::get().gzip, true);
}
BENCHMARK(BM_DomainStream_Gzip)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace danescan::inputs

BENCHMARK_MAIN();
