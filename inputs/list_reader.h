// inputs/list_reader.h — internal: owns the reading of one list source — the file descriptor, the
// zlib stream, the bounded line buffer — and the syntax of one list line (plain name, comment,
// rank,domain CSV, CSV header).
#pragma once

#include <openssl/evp.h>
#include <zlib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "inputs/c_handle.h"

namespace danescan::inputs {

using GzFilePtr = std::unique_ptr<gzFile_s, CDeleter<&gzclose>>;
using DigestPtr = std::unique_ptr<EVP_MD_CTX, CDeleter<&EVP_MD_CTX_free>>;

// SHA-256 of a source's content as the reader hands it on (the file's bytes for a plain list,
// the decompressed bytes for a gzip one), so that two scans can tell whether they read the same
// list whatever its path (SCHEMA.md, runs.lists). Fed on the reading thread, one call per fill.
class ContentDigest {
 public:
  ContentDigest();
  void update(const char* data, size_t size);
  // Lower-case hex of the bytes so far (the running state is not disturbed).
  [[nodiscard]] std::string hex() const;
  [[nodiscard]] uint64_t bytes() const { return bytes_; }

 private:
  DigestPtr ctx_;
  uint64_t bytes_ = 0;
};

// Splits one source into lines at "\n", "\r\n" or a lone "\r" (old Mac OS files). zlib's
// gzread() passes data without a gzip header through unchanged, so one reader serves plain and
// gzip-compressed lists (also concatenated gzip members) without looking at the file name; a zip
// archive, which zlib cannot read, is recognised by its first bytes and refused. A line is at
// most kMaxLineBytes bytes before its end; longer lines are skipped without being stored and
// reported as kTooLong, so memory is bounded whatever the input.
class LineReader {
 public:
  static constexpr size_t kMaxLineBytes = 4096;

  enum class Status {
    kLine,     // `line` holds the next line without its '\n' (a final line may lack one)
    kTooLong,  // a line longer than kMaxLineBytes was skipped
    kEnd,      // clean end of the source
    kError,    // read error, corrupt or truncated gzip data; `error` says which. The source ends.
    kUnsupported,  // the source is in a format we do not read (a zip archive); `error` says
                   // so in full. The source ends before its first line.
  };

  LineReader();

  // Opens a path, or standard input for "-". On failure returns false with the reason in `error`.
  [[nodiscard]] bool open(const std::string& source, std::string& error);
  // `line` stays valid until the next call.
  [[nodiscard]] Status next(std::string_view& line, std::string& error);
  // 1-based number of the line last returned (kLine or kTooLong).
  [[nodiscard]] uint64_t lineNumber() const { return line_number_; }
  // Instead of next(): the SHA-256 hex of the first `bytes` bytes of content (contentPrefixSha256).
  [[nodiscard]] std::optional<std::string> prefixDigest(uint64_t bytes, std::string& error);
  // The content read so far (all of it once next() answered kEnd).
  [[nodiscard]] const ContentDigest& digest() const { return digest_; }

 private:
  enum class Fill { kData, kEnd, kError, kUnsupported };
  [[nodiscard]] Fill fill(std::string& error);

  GzFilePtr file_;
  std::unique_ptr<char[]> buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  std::string carry_;            // start of a line that crosses a buffer refill
  bool carry_returned_ = false;  // carry_ was handed out as `line`; clear it on the next call
  bool skipping_ = false;        // inside an over-long line, discarding up to its newline
  bool after_cr_ = false;        // the last line ended with '\r': a '\n' next belongs to it
  bool first_fill_ = true;       // nothing read yet: the format check is still to do
  uint64_t line_number_ = 0;
  ContentDigest digest_;
};

enum class LineKind { kBlank, kComment, kHeader, kName };

struct ListLine {
  LineKind kind = LineKind::kBlank;
  std::string_view name;  // for kName: the name field, trimmed, not yet normalised
  // For a "rank,domain" line: the rank (the first field), kept with the domain (domains.rank);
  // nullopt for a plain name, or a rank too large for 64 bits.
  std::optional<uint64_t> rank;
};

// Classifies one raw line. `first_content_line` is true while no name or header has been seen in
// this source; only then is a CSV line whose first field is not a number taken as a header.
[[nodiscard]] ListLine classifyLine(std::string_view line, bool first_content_line);

}  // namespace danescan::inputs
