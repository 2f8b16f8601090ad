// scanner/smtp/reply_parser.h — SMTP replies from bytes (RFC 5321 section 4.2), I/O-free. The
// probe feeds it whatever the socket delivered; it yields whole replies (multi-line ones joined),
// and refuses, rather than buffers, what a hostile server can make unbounded: a line longer than
// `max_line` or a reply longer than `max_reply` is an error, not an allocation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace danescan::scanner::smtp {

struct Reply {
  int code = 0;                     // 3-digit reply code
  std::vector<std::string> lines;   // the text after "NNN-" / "NNN " of each line, without CRLF
  bool operator==(const Reply&) const = default;
};

enum class ParseStatus {
  NeedMore,  // no complete reply yet: feed more bytes
  Done,      // a complete reply is in reply()
  TooLong,   // a line over max_line or a reply over max_reply
  Garbage,   // a line that is not "NNN", "NNN text" or "NNN-text", or codes that differ within a reply
};

class ReplyParser {
 public:
  ReplyParser(size_t max_line, size_t max_reply) : max_line_(max_line), max_reply_(max_reply) {}

  // Consumes bytes of `data` up to the end of the first complete reply (or the error) and
  // returns how many it consumed in `consumed`; bytes after a reply are left to the caller (the
  // next reply, or, after a 220 to STARTTLS, bytes to discard: RFC 3207 section 4.2 injection).
  // After Done, TooLong or Garbage, call reset() before the next reply.
  [[nodiscard]] ParseStatus feed(std::string_view data, size_t& consumed);
  [[nodiscard]] const Reply& reply() const noexcept { return reply_; }
  void reset();

 private:
  [[nodiscard]] ParseStatus endLine();

  size_t max_line_;
  size_t max_reply_;
  std::string line_;       // the current line so far (bounded by max_line_)
  size_t reply_bytes_ = 0; // bytes of the current reply so far
  Reply reply_;
  ParseStatus status_ = ParseStatus::NeedMore;
};

// The EHLO keywords of an EHLO reply (every line but the first), upper-cased first words.
[[nodiscard]] std::vector<std::string> ehloKeywords(const Reply& reply);
[[nodiscard]] bool offersStartTls(const Reply& reply);

// One line for error texts: "421 4.7.0 too many connections" (first line, printable ASCII, at
// most 120 characters).
[[nodiscard]] std::string summary(const Reply& reply);

}  // namespace danescan::scanner::smtp
