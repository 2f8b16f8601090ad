// inputs/domain_stream.h — the one entry point the rest of danescan uses to read domain lists.
//
// A DomainStream pulls names lazily from one or more lists (plain text, rank,domain CSV, either
// gzip-compressed, or "-" for stdin; detected from the content, not the file name), normalises
// them, drops invalid lines (reported through the error callback with file:line: reason),
// duplicates and names outside the selected shard. Memory stays flat in the list's length except
// for the duplicate filter, which keeps one 8-byte fingerprint per distinct accepted name in a
// flat table (11 to 21 bytes per name with the table's slack; see dedup_filter.h for the size and
// the chance of a false duplicate, about n^2 / 2^65 for n names).
//
// Order of the filters: normalise -> shard -> duplicates. The duplicate filter therefore holds
// only this shard's names (1/N of the memory), and a name outside the shard counts as
// out_of_shard even when it repeats. Both filters work on the normalised name, so "Example.COM."
// and "example.com" are one name and land in the same shard.
//
// Line syntax, decided per line from the content: everything from '#' on is a comment; blank
// lines are skipped; "rank,domain" (numeric rank, further columns ignored) yields the domain; the
// first non-comment line of a source is skipped as a header when it has a comma but no numeric
// first field ("rank,domain"); anything else is a name. Lines end at LF, CRLF or a lone CR, and
// are at most 4096 bytes; a longer one is rejected without being stored. A UTF-8 byte-order mark
// on line 1 is ignored. A zip archive is refused as a whole (one error, an unreadable source).
//
// No libuv, no SQLite: this module only turns bytes into names.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace danescan::inputs {

// A stable hash partition of the name space: shard K of N (1-based K).
// The same name lands in the same shard on every machine and every build.
struct Shard {
  uint32_t index = 1;  // K, 1..count
  uint32_t count = 1;  // N

  // Parses "K/N"; on failure returns nullopt and says why in `error`.
  [[nodiscard]] static std::optional<Shard> parse(std::string_view text, std::string& error);
  [[nodiscard]] bool contains(std::string_view normalised_name) const;
};

// Why one list line was rejected, with its place.
struct ListError {
  std::string source;  // file path, or "-" for stdin
  uint64_t line = 0;   // 1-based; 0 when the error concerns the whole source
  std::string reason;

  bool operator==(const ListError&) const = default;
};

struct DomainEntry {
  std::string name;  // normalised: lower case, no trailing dot, A-labels
  std::string source;
  uint64_t line = 0;
  std::optional<uint64_t> rank;  // the list's rank for a "rank,domain" line, else nullopt

  bool operator==(const DomainEntry&) const = default;
};

struct StreamStats {
  uint64_t lines = 0;         // lines read (including comments, blanks, headers, over-long lines)
  uint64_t accepted = 0;      // names handed out by next()
  uint64_t rejected = 0;      // invalid lines
  uint64_t duplicates = 0;    // valid names seen before
  uint64_t out_of_shard = 0;  // valid names belonging to another shard
  // Sources that could not be opened, that are zip archives, or that failed part-way (read
  // error, corrupt or truncated gzip data): the names before the failure were handed out, the
  // rest is lost. Either way the stream goes on with the next source and on_error gets one
  // ListError with line 0.
  uint64_t unreadable_sources = 0;
  uint64_t excluded = 0;  // names StreamOptions::exclude held back (e.g. done before a resume)

  bool operator==(const StreamStats&) const = default;
};

// What one source of the stream gave, for the run's record (SCHEMA.md, runs.lists): its content
// hash and line counts. For a source being read, or one left part-way, it covers what was read.
struct SourceStats {
  std::string source;      // the path as given, "-" for stdin
  std::string sha256;      // lower-case hex of the content read (ContentDigest); empty if never opened
  uint64_t bytes = 0;      // content bytes read (decompressed for gzip)
  uint64_t lines = 0;      // as StreamStats, for this source only
  uint64_t invalid = 0;    // StreamStats::rejected of this source
  uint64_t duplicates = 0; // StreamStats::duplicates of this source (names first seen in any source)
  bool complete = false;   // read to its clean end (not unread, not cut short by an error or a stop)

  bool operator==(const SourceStats&) const = default;
};

struct StreamOptions {
  std::vector<std::string> sources;  // paths, "-" for stdin
  std::optional<Shard> shard;
  bool dedup = true;
  // Names for which this returns true are held back (counted in `excluded`, once each even when
  // they repeat): a resumed scan passes the domains it already stored.
  std::function<bool(std::string_view)> exclude;
  // Called once per rejected line and once per unreadable source. Default: print
  // "file:line: reason" to stderr.
  std::function<void(const ListError&)> on_error;
};

class DomainStream {
 public:
  explicit DomainStream(StreamOptions options);
  ~DomainStream();
  DomainStream(const DomainStream&) = delete;
  DomainStream& operator=(const DomainStream&) = delete;

  // Next accepted name; false at the end of the last source.
  [[nodiscard]] bool next(DomainEntry& out);
  [[nodiscard]] const StreamStats& stats() const;
  // One entry per source, in the order given, unread ones included. Not for every entry: it
  // finalises a copy of the current source's digest.
  [[nodiscard]] std::vector<SourceStats> sources() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// SHA-256 (lower-case hex, as SourceStats::sha256) of the first `bytes` bytes of a list file's
// content as a DomainStream reads it (gzip decompressed), so that `scan --resume` can check that a
// list is still the one the run began with. nullopt with `error` set when the file cannot be read
// or holds fewer bytes. Not for "-": standard input cannot be read twice.
[[nodiscard]] std::optional<std::string> contentPrefixSha256(const std::string& path, uint64_t bytes,
                                                             std::string& error);

// Normalises one domain name as the contract defines it: surrounding whitespace ignored; U-labels
// converted to A-labels (libidn2, NFC, UTS #46 non-transitional, transitional only as a fallback,
// label by label, for labels with code points IDNA2008 disallows); lower case; one trailing dot
// stripped. Returns the name, or nullopt with a short reason in `error`: "empty name",
// "root name \".\"", "empty label", "label longer than 63 octets", "name longer than 253 octets",
// "NUL byte", "invalid character '*'" (or 0xNN when not printable; allowed are letters, digits,
// '-', '_'), "invalid UTF-8", "numeric top-level label" (an IP literal or a number: RFC 3696
// section 2), or "IDN: ..." for other libidn2 rejections. The first fault in reading order is
// reported; a label's length is judged where it ends, the name's length last.
// Names that are already ASCII are not passed to libidn2: an "xn--" label is taken as it is.
[[nodiscard]] std::optional<std::string> normaliseDomain(std::string_view raw, std::string& error);

}  // namespace danescan::inputs
