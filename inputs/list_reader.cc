// inputs/list_reader.cc — owns the byte-level reading of a list source and the line syntax.
#include "inputs/list_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <charconv>
#include <cstring>

#include "inputs/domain_name.h"
#include "inputs/domain_stream.h"

namespace danescan::inputs {
namespace {

// Large enough that a read system call and a zlib call are amortised over thousands of names.
constexpr size_t kReadBytes = 64 * 1024;
constexpr unsigned kZlibBufferBytes = 128 * 1024;

// zlib prefixes its messages with the path it was given, which for gzdopen() is "<fd:N>"; the
// caller reports the real path, so drop that prefix.
std::string zlibMessage(gzFile file) {
  int errnum = Z_OK;
  std::string message = gzerror(file, &errnum);
  if (message.rfind("<fd:", 0) == 0) {
    const size_t colon = message.find(": ");
    if (colon != std::string::npos) message.erase(0, colon + 2);
  }
  return message;
}

// A zip archive starts with a local file header, or is empty (end of central directory)
// (PKWARE APPNOTE 4.3.7, 4.3.16). zlib reads neither; passed through, it would be ~150 lines of
// binary noise, each reported as an invalid name.
bool isZip(std::string_view head) {
  return head.substr(0, 4) == std::string_view("PK\x03\x04", 4) ||
         head.substr(0, 4) == std::string_view("PK\x05\x06", 4);
}

bool isDigits(std::string_view field) {
  if (field.empty()) return false;
  for (const char c : field) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// One CSV field: trimmed, and without the double quotes some exporters put around every field.
std::string_view csvField(std::string_view field) {
  field = trimWhitespace(field);
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
    field = trimWhitespace(field.substr(1, field.size() - 2));
  }
  return field;
}

}  // namespace

ContentDigest::ContentDigest() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) ctx_.reset();
}

void ContentDigest::update(const char* data, size_t size) {
  bytes_ += size;
  if (ctx_) EVP_DigestUpdate(ctx_.get(), data, size);
}

std::string ContentDigest::hex() const {
  // Finalise a copy: the source may still be read on.
  DigestPtr copy(EVP_MD_CTX_new());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!ctx_ || !copy || EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) != 1 ||
      EVP_DigestFinal_ex(copy.get(), md, &size) != 1) {
    return {};  // out of memory: no hash rather than a wrong one
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

LineReader::LineReader() : buffer_(new char[kReadBytes]) { carry_.reserve(kMaxLineBytes); }

bool LineReader::open(const std::string& source, std::string& error) {
  int fd = -1;
  if (source == "-") {
    // gzclose() closes its descriptor; a duplicate keeps our standard input open.
    fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
  } else {
    fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  // A directory opens fine and fails only on read; say so up front.
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    error = std::strerror(EISDIR);
    return false;
  }
  file_.reset(gzdopen(fd, "rb"));
  if (!file_) {
    ::close(fd);
    error = "cannot allocate a zlib stream";
    return false;
  }
  gzbuffer(file_.get(), kZlibBufferBytes);
  return true;
}

LineReader::Fill LineReader::fill(std::string& error) {
  const int n = gzread(file_.get(), buffer_.get(), kReadBytes);
  if (n < 0) {
    error = zlibMessage(file_.get());
    return Fill::kError;
  }
  if (n == 0) {
    // zlib reports a gzip stream cut short as a soft Z_BUF_ERROR: gzread() just returns 0.
    int errnum = Z_OK;
    gzerror(file_.get(), &errnum);
    if (errnum != Z_OK) {
      error = errnum == Z_BUF_ERROR ? "truncated gzip stream" : zlibMessage(file_.get());
      return Fill::kError;
    }
    return Fill::kEnd;
  }
  pos_ = 0;
  end_ = static_cast<size_t>(n);
  digest_.update(buffer_.get(), end_);
  if (first_fill_) {
    first_fill_ = false;
    if (isZip({buffer_.get(), end_})) {
      error = "zip archives are not supported; unzip it or use gzip";
      return Fill::kUnsupported;
    }
  }
  return Fill::kData;
}

LineReader::Status LineReader::next(std::string_view& line, std::string& error) {
  if (!file_) return Status::kEnd;
  if (carry_returned_) {
    carry_.clear();
    carry_returned_ = false;
  }
  for (;;) {
    if (pos_ == end_) {
      if (!eof_) {
        switch (fill(error)) {
          case Fill::kData:
            continue;
          case Fill::kError:
            // A partial last line from damaged data could be a wrong but valid-looking name.
            carry_.clear();
            skipping_ = false;
            file_.reset();
            return Status::kError;
          case Fill::kUnsupported:
            file_.reset();
            return Status::kUnsupported;
          case Fill::kEnd:
            eof_ = true;
            break;
        }
      }
      // End of data: a final line without a newline still counts.
      if (skipping_) {
        skipping_ = false;
        ++line_number_;
        return Status::kTooLong;
      }
      if (!carry_.empty()) {
        ++line_number_;
        line = carry_;
        carry_returned_ = true;
        return Status::kLine;
      }
      file_.reset();
      return Status::kEnd;
    }

    const char* start = buffer_.get() + pos_;
    if (after_cr_) {
      // The '\n' of a "\r\n" split across two buffers ends no line of its own.
      after_cr_ = false;
      if (*start == '\n') {
        ++pos_;
        continue;
      }
    }
    const size_t avail = end_ - pos_;
    // A line ends at '\n', at "\r\n", or at a lone '\r'. The '\r' search covers only the
    // bytes before the '\n', which for the usual LF list is one short line.
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', avail));
    const size_t before_lf = newline ? static_cast<size_t>(newline - start) : avail;
    const auto* cr = static_cast<const char*>(std::memchr(start, '\r', before_lf));
    if (cr) {
      if (cr + 1 != newline) after_cr_ = true;  // a lone '\r', or one at the buffer's end
      newline = cr;
    }
    const size_t segment = newline ? static_cast<size_t>(newline - start) : avail;
    pos_ += newline ? segment + 1 : segment;
    if (cr && !after_cr_) ++pos_;  // the '\n' of "\r\n"

    if (!newline) {
      // The line continues in the next buffer: keep at most kMaxLineBytes of it.
      if (!skipping_) {
        if (carry_.size() + segment > kMaxLineBytes) {
          carry_.clear();
          skipping_ = true;
        } else {
          carry_.append(start, segment);
        }
      }
      continue;
    }

    ++line_number_;
    if (skipping_) {
      skipping_ = false;
      return Status::kTooLong;
    }
    if (carry_.empty()) {
      // The common case: the whole line is in the buffer, no copy.
      if (segment > kMaxLineBytes) return Status::kTooLong;
      line = std::string_view(start, segment);
      return Status::kLine;
    }
    if (carry_.size() + segment > kMaxLineBytes) {
      carry_.clear();
      return Status::kTooLong;
    }
    carry_.append(start, segment);
    line = carry_;
    carry_returned_ = true;
    return Status::kLine;
  }
}

std::optional<std::string> contentPrefixSha256(const std::string& path, uint64_t bytes, std::string& error) {
  LineReader reader;  // for its open(): the same descriptor and zlib set-up as a scan's
  if (!reader.open(path, error)) return std::nullopt;
  return reader.prefixDigest(bytes, error);
}

std::optional<std::string> LineReader::prefixDigest(uint64_t bytes, std::string& error) {
  ContentDigest digest;
  while (digest.bytes() < bytes) {
    const uint64_t want = std::min<uint64_t>(kReadBytes, bytes - digest.bytes());
    const int n = gzread(file_.get(), buffer_.get(), static_cast<unsigned>(want));
    if (n < 0) {
      error = zlibMessage(file_.get());
      return std::nullopt;
    }
    if (n == 0) {
      error = "holds " + std::to_string(digest.bytes()) + " bytes, fewer than the " + std::to_string(bytes) +
              " read before";
      return std::nullopt;
    }
    digest.update(buffer_.get(), static_cast<size_t>(n));
  }
  return digest.hex();
}

ListLine classifyLine(std::string_view line, bool first_content_line) {
  // '#' cannot occur in a domain name, so it starts a comment anywhere on the line.
  const size_t hash = line.find('#');
  const bool has_comment = hash != std::string_view::npos;
  if (has_comment) line = line.substr(0, hash);
  line = trimWhitespace(line);
  if (line.empty()) return {has_comment ? LineKind::kComment : LineKind::kBlank, {}};

  // Decided per line, so a list may mix the forms: a comma cannot occur in a domain name, and a
  // Tranco/Alexa line is "rank,domain" with a numeric rank.
  const size_t comma = line.find(',');
  if (comma == std::string_view::npos) return {LineKind::kName, line};
  if (isDigits(csvField(line.substr(0, comma)))) {
    std::string_view rest = line.substr(comma + 1);
    // Further columns, if an export has them, are not ours to judge.
    rest = rest.substr(0, rest.find(','));
    const std::string_view rank_field = csvField(line.substr(0, comma));
    uint64_t rank = 0;
    const auto [end, ec] = std::from_chars(rank_field.data(), rank_field.data() + rank_field.size(), rank);
    const bool whole = ec == std::errc() && end == rank_field.data() + rank_field.size();
    return {LineKind::kName, csvField(rest), whole ? std::optional<uint64_t>(rank) : std::nullopt};
  }
  // A header names columns ("rank,domain"); a first field with a dot is data in another
  // layout ("example.com,1"), which must be reported, not silently skipped as a header.
  if (first_content_line && csvField(line.substr(0, comma)).find('.') == std::string_view::npos) {
    return {LineKind::kHeader, {}};
  }
  // Not a header and not rank,domain: let the name rules reject it with the offending comma.
  return {LineKind::kName, line};
}

}  // namespace danescan::inputs
