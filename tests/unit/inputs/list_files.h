// tests/unit/inputs/list_files.h — test fixture support: a temporary directory that owns the
// list files a test writes (plain or gzip via zlib), removed with everything in it at the end.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "inputs/domain_stream.h"

namespace danescan::inputs::testing {

class ListFiles {
 public:
  ListFiles() {
    std::string pattern = (std::filesystem::temp_directory_path() / "inputs_test.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = pattern;
  }
  ~ListFiles() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ListFiles(const ListFiles&) = delete;
  ListFiles& operator=(const ListFiles&) = delete;

  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string writePlain(const std::string& name, const std::string& content) const {
    const std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    EXPECT_TRUE(out.good()) << p;
    return p;
  }

  std::string writeGzip(const std::string& name, const std::string& content) const {
    const std::string p = path(name);
    gzFile file = gzopen(p.c_str(), "wb9");
    EXPECT_NE(file, nullptr) << p;
    if (file == nullptr) return p;
    if (!content.empty()) {
      EXPECT_EQ(gzwrite(file, content.data(), static_cast<unsigned>(content.size())),
                static_cast<int>(content.size()));
    }
    EXPECT_EQ(gzclose(file), Z_OK);
    return p;
  }

  [[nodiscard]] static std::string readBytes(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::filesystem::path dir_;
};

// Everything one run of a stream produced.
struct StreamResult {
  std::vector<DomainEntry> entries;
  std::vector<ListError> errors;
  StreamStats stats;

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.name);
    return out;
  }
};

inline StreamResult readAll(StreamOptions options) {
  StreamResult result;
  options.on_error = [&result](const ListError& e) { result.errors.push_back(e); };
  DomainStream stream(std::move(options));
  DomainEntry entry;
  while (stream.next(entry)) result.entries.push_back(entry);
  result.stats = stream.stats();
  return result;
}

inline StreamResult readAll(std::vector<std::string> sources) {
  StreamOptions options;
  options.sources = std::move(sources);
  return readAll(std::move(options));
}

}  // namespace danescan::inputs::testing

namespace danescan::inputs {

// Readable failure messages for whole-struct comparisons.
inline void PrintTo(const ListError& e, std::ostream* os) {
  *os << e.source << ":" << e.line << ": " << e.reason;
}
inline void PrintTo(const DomainEntry& e, std::ostream* os) {
  *os << e.source << ":" << e.line << ": " << e.name;
}
inline void PrintTo(const StreamStats& s, std::ostream* os) {
  *os << "{lines=" << s.lines << " accepted=" << s.accepted << " rejected=" << s.rejected
      << " duplicates=" << s.duplicates << " out_of_shard=" << s.out_of_shard
      << " unreadable_sources=" << s.unreadable_sources << " excluded=" << s.excluded << "}";
}

}  // namespace danescan::inputs
