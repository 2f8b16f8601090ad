// inputs/domain_stream.cc — owns the pipeline from list sources to accepted names: source order,
// per-line accounting (stats), error reporting, then shard filter, then duplicate filter.
#include "inputs/domain_stream.h"

#include <cinttypes>
#include <cstdio>

#include "inputs/dedup_filter.h"
#include "inputs/domain_name.h"
#include "inputs/list_reader.h"
#include "inputs/shard.h"

namespace danescan::inputs {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

void printError(const ListError& e) {
  if (e.line == 0) {
    std::fprintf(stderr, "%s: %s\n", e.source.c_str(), e.reason.c_str());
  } else {
    std::fprintf(stderr, "%s:%" PRIu64 ": %s\n", e.source.c_str(), e.line, e.reason.c_str());
  }
}

}  // namespace

struct DomainStream::Impl {
  explicit Impl(StreamOptions opts) : options(std::move(opts)) {
    if (!options.on_error) options.on_error = printError;
    per_source.resize(options.sources.size());
    for (size_t i = 0; i < per_source.size(); ++i) per_source[i].source = options.sources[i];
  }

  // The source being read: its counters. Only while `reader` is set (next_source >= 1).
  SourceStats& current() { return per_source[next_source - 1]; }

  // The reader of the current source ends (clean end, error or unsupported): its digest is final.
  void closeSource(bool complete) {
    SourceStats& s = current();
    s.sha256 = reader->digest().hex();
    s.bytes = reader->digest().bytes();
    s.complete = complete;
    reader.reset();
  }

  void report(uint64_t line, std::string reason) {
    error_record.source = source;
    error_record.line = line;
    error_record.reason = std::move(reason);
    options.on_error(error_record);
  }

  // Opens the next source that can be opened; false when none is left.
  bool openNext() {
    while (next_source < options.sources.size()) {
      source = options.sources[next_source++];
      reader = std::make_unique<LineReader>();
      seen_content = false;
      if (reader->open(source, error)) return true;
      ++stats.unreadable_sources;
      report(0, "cannot open: " + error);
    }
    reader.reset();
    return false;
  }

  bool next(DomainEntry& out) {
    for (;;) {
      if (!reader && !openNext()) return false;
      std::string_view line;
      switch (reader->next(line, error)) {
        case LineReader::Status::kEnd:
          closeSource(true);
          continue;
        case LineReader::Status::kError:
          // Names before the damage were handed out already; the rest of the source is lost.
          ++stats.unreadable_sources;
          report(0, reader->lineNumber() == 0
                        ? "read failed: " + error
                        : "read failed after line " + std::to_string(reader->lineNumber()) + ": " +
                              error);
          closeSource(false);
          continue;
        case LineReader::Status::kUnsupported:
          // One error for the whole source, instead of one per line of binary noise.
          ++stats.unreadable_sources;
          report(0, error);
          closeSource(false);
          continue;
        case LineReader::Status::kTooLong:
          ++stats.lines;
          ++stats.rejected;
          ++current().lines;
          ++current().invalid;
          seen_content = true;
          report(reader->lineNumber(),
                 "line longer than " + std::to_string(LineReader::kMaxLineBytes) + " bytes");
          continue;
        case LineReader::Status::kLine:
          break;
      }
      ++stats.lines;
      ++current().lines;
      const uint64_t line_number = reader->lineNumber();
      if (line_number == 1 && line.substr(0, kUtf8Bom.size()) == kUtf8Bom) {
        line.remove_prefix(kUtf8Bom.size());
      }
      const ListLine parsed = classifyLine(line, !seen_content);
      if (parsed.kind == LineKind::kBlank || parsed.kind == LineKind::kComment) continue;
      seen_content = true;
      if (parsed.kind == LineKind::kHeader) continue;

      if (!normaliser.normalise(parsed.name, out.name, error)) {
        ++stats.rejected;
        ++current().invalid;
        report(line_number, error);
        continue;
      }
      // One hash serves both filters; the shard test comes first so that the duplicate filter
      // only holds this shard's names.
      const uint64_t hash = stableNameHash(out.name);
      if (options.shard && !shardHolds(*options.shard, hash)) {
        ++stats.out_of_shard;
        continue;
      }
      if (options.dedup && !dedup.insert(hash)) {
        ++stats.duplicates;
        ++current().duplicates;
        continue;
      }
      if (options.exclude && options.exclude(out.name)) {
        ++stats.excluded;
        continue;
      }
      ++stats.accepted;
      out.source = source;
      out.line = line_number;
      out.rank = parsed.rank;
      return true;
    }
  }

  StreamOptions options;
  StreamStats stats;
  std::vector<SourceStats> per_source;
  size_t next_source = 0;
  std::string source;  // the source being read
  std::unique_ptr<LineReader> reader;
  bool seen_content = false;  // a name or header was seen in this source: no header after it
  NameNormaliser normaliser;
  DedupFilter dedup;
  std::string error;
  ListError error_record;
};

DomainStream::DomainStream(StreamOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

DomainStream::~DomainStream() = default;

bool DomainStream::next(DomainEntry& out) { return impl_->next(out); }

const StreamStats& DomainStream::stats() const { return impl_->stats; }

std::vector<SourceStats> DomainStream::sources() const {
  std::vector<SourceStats> out = impl_->per_source;
  if (impl_->reader) {  // the source being read: what was read of it so far
    SourceStats& s = out[impl_->next_source - 1];
    s.sha256 = impl_->reader->digest().hex();
    s.bytes = impl_->reader->digest().bytes();
  }
  return out;
}

}  // namespace danescan::inputs
