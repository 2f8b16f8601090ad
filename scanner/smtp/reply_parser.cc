// scanner/smtp/reply_parser.cc — see reply_parser.h.
#include "scanner/smtp/reply_parser.h"

#include <cctype>

namespace danescan::scanner::smtp {

ParseStatus ReplyParser::feed(std::string_view data, size_t& consumed) {
  consumed = 0;
  if (status_ != ParseStatus::NeedMore) return status_;
  while (consumed < data.size()) {
    const char c = data[consumed++];
    if (++reply_bytes_ > max_reply_) return status_ = ParseStatus::TooLong;
    if (c == '\n') {
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();  // CRLF; a bare LF is tolerated
      status_ = endLine();
      if (status_ != ParseStatus::NeedMore) return status_;
      continue;
    }
    // max_line counts the line's bytes with its CRLF (RFC 5321 section 4.5.3.1.5: 512 for replies).
    if (line_.size() + 2 > max_line_) return status_ = ParseStatus::TooLong;
    line_.push_back(c);
  }
  return status_;
}

ParseStatus ReplyParser::endLine() {
  std::string line;
  line.swap(line_);
  auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  if (line.size() < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2])) return ParseStatus::Garbage;
  if (line[0] < '2' || line[0] > '5') return ParseStatus::Garbage;  // RFC 5321 4.2.1: first digit 2..5
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  const bool last = line.size() == 3 || line[3] == ' ';
  if (!last && line[3] != '-') return ParseStatus::Garbage;
  if (!reply_.lines.empty() && reply_.code != code) return ParseStatus::Garbage;
  reply_.code = code;
  reply_.lines.push_back(line.size() > 4 ? line.substr(4) : std::string());
  return last ? ParseStatus::Done : ParseStatus::NeedMore;
}

void ReplyParser::reset() {
  line_.clear();
  reply_bytes_ = 0;
  reply_ = Reply{};
  status_ = ParseStatus::NeedMore;
}

std::vector<std::string> ehloKeywords(const Reply& reply) {
  std::vector<std::string> keywords;
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    const std::string& line = reply.lines[i];
    std::string word = line.substr(0, line.find(' '));
    for (char& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    keywords.push_back(std::move(word));
  }
  return keywords;
}

bool offersStartTls(const Reply& reply) {
  for (const std::string& keyword : ehloKeywords(reply)) {
    if (keyword == "STARTTLS") return true;
  }
  return false;
}

std::string summary(const Reply& reply) {
  std::string text = std::to_string(reply.code);
  if (!reply.lines.empty() && !reply.lines.front().empty()) {
    text += ' ';
    for (char ch : reply.lines.front()) {
      if (text.size() >= 120) break;
      text.push_back(ch >= 0x20 && ch < 0x7f ? ch : '?');
    }
  }
  return text;
}

}  // namespace danescan::scanner::smtp
