// report/render_util.cc — cell formatting and the network-text sanitiser (RFC 3629 section 4:
// no overlong forms, no surrogates, nothing above U+10FFFF).
#include "report/render_util.h"

#include <charconv>
#include <cstdio>

namespace danescan::report::render {
namespace {

// Length of the well-formed multi-byte UTF-8 sequence at s[i], 0 when ill-formed.
size_t sequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = b(i);
  size_t length = 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + length > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xbf) return 0;
  }
  return length;
}

// The code point of the well-formed sequence of `length` bytes at s[i].
char32_t codePoint(std::string_view s, size_t i, size_t length) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  char32_t cp = length == 2 ? (b(i) & 0x1f) : length == 3 ? (b(i) & 0x0f) : (b(i) & 0x07);
  for (size_t k = 1; k < length; ++k) cp = cp << 6 | (b(i + k) & 0x3f);
  return cp;
}

// C1 controls (U+0080-U+009F: U+009B is CSI, which some terminals obey as ESC [ does) and the
// bidirectional formatting characters (Unicode UAX #9: embeddings, overrides, isolates, marks),
// which reorder what a reader sees ("Trojan Source", CVE-2021-42574).
bool invisibleControl(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (const size_t n = sequenceLength(text, i); n > 0) {
      if (const char32_t cp = codePoint(text, i, n); invisibleControl(cp)) {
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(cp >> shift) & 0xf]);
      } else {
        out.append(text.substr(i, n));
      }
      i += n;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

std::string number(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string display(const Cell& cell, Kind kind) {
  if (std::holds_alternative<std::monostate>(cell)) return "-";
  if (const auto* text = std::get_if<std::string>(&cell)) return printable(*text);
  if (const auto* n = std::get_if<int64_t>(&cell)) return std::to_string(*n);
  const double value = std::get<double>(cell);
  if (kind != Kind::Share) return number(value);
  if (value > 0 && value < 0.0005) return "<0.1%";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", value * 100);
  return buffer;
}

}  // namespace danescan::report::render
