// inputs/domain_name.cc — owns the normalisation contract for one domain name: trimming, case,
// the trailing dot, IDN U-label -> A-label conversion (libidn2) and the RFC 1035 length and
// character checks. Every rejection reason a user sees for a name comes from this file.
#include "inputs/domain_name.h"

#include <idn2.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string_view>
#include <utility>

#include "inputs/c_handle.h"
#include "inputs/domain_stream.h"

namespace danescan::inputs {
namespace {

using IdnBuffer = std::unique_ptr<char, CDeleter<&idn2_free>>;

// Byte -> its canonical form (lower case) for the bytes a label may hold, 0 for all others.
// Underscore is allowed because lists carry service names (_dmarc, _mta-sts) and RFC 2181
// section 11 puts no character restriction on DNS labels; we keep the hostname set plus '_'.
constexpr std::array<char, 256> makeLabelTable() {
  std::array<char, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = static_cast<char>(c);
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = static_cast<char>(c - 'A' + 'a');
  for (int c = '0'; c <= '9'; ++c) table[c] = static_cast<char>(c);
  table['-'] = '-';
  table['_'] = '_';
  return table;
}
constexpr std::array<char, 256> kLabelChar = makeLabelTable();

std::string invalidCharacter(unsigned char c) {
  if (c == 0) return "NUL byte";
  char buf[32];
  // A quote or an invisible byte inside quotes would be unreadable; show those as hex.
  if (c > 0x20 && c < 0x7f && c != '\'') {
    std::snprintf(buf, sizeof buf, "invalid character '%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "invalid character 0x%02x", c);
  }
  return buf;
}

std::string idnError(int rc) {
  switch (rc) {
    case IDN2_ENCODING_ERROR:
      return "invalid UTF-8";
    // libidn2 stops a U-label whose punycode would not fit in 63 octets before it reports the
    // label length, so both codes mean the same thing to the user.
    case IDN2_PUNYCODE_BIG_OUTPUT:
    case IDN2_TOO_BIG_LABEL:
      return "label longer than 63 octets";
    case IDN2_TOO_BIG_DOMAIN:
      return "name longer than 253 octets";
    default:
      return std::string("IDN: ") + idn2_strerror(rc);
  }
}

// UTS #46 section 2.3 maps these to '.', so they end a label as the full stop does:
// U+3002 IDEOGRAPHIC, U+FF0E FULLWIDTH and U+FF61 HALFWIDTH IDEOGRAPHIC FULL STOP (UTF-8).
constexpr std::array<std::string_view, 4> kLabelSeparators = {".", "\xE3\x80\x82",
                                                              "\xEF\xBC\x8E", "\xEF\xBD\xA1"};

// Where the label that starts at `from` ends, and the length of the separator found there (0 at
// the end of the name).
std::pair<size_t, size_t> labelEnd(std::string_view name, size_t from) {
  for (size_t i = from; i < name.size(); ++i) {
    for (const std::string_view dot : kLabelSeparators) {
      if (name.compare(i, dot.size(), dot) == 0) return {i, dot.size()};
    }
  }
  return {name.size(), 0};
}

}  // namespace

std::string_view trimWhitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

bool canonicaliseAsciiName(std::string& name, std::string& error) {
  // One trailing dot marks an absolute name (RFC 1034 section 3.1); it is not part of the name.
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty()) {
    error = "root name \".\"";
    return false;
  }
  // The first fault in reading order wins; a label's length is judged where the label ends.
  size_t label_start = 0;
  const size_t size = name.size();
  for (size_t i = 0; i <= size; ++i) {
    if (i == size || name[i] == '.') {
      const size_t label_len = i - label_start;
      if (label_len == 0) {
        error = "empty label";
        return false;
      }
      if (label_len > kMaxLabelOctets) {
        error = "label longer than 63 octets";
        return false;
      }
      // No top-level domain is all-numeric (RFC 3696 section 2), so such a name is an IP
      // literal ("1.2.3.4") or a stray number, never a domain to scan.
      if (i == size && name.find_first_not_of("0123456789", label_start) == std::string::npos) {
        error = "numeric top-level label";
        return false;
      }
      label_start = i + 1;
      continue;
    }
    const auto c = static_cast<unsigned char>(name[i]);
    const char mapped = kLabelChar[c];
    if (mapped == 0) {
      error = invalidCharacter(c);
      return false;
    }
    name[i] = mapped;
  }
  if (size > kMaxNameOctets) {
    error = "name longer than 253 octets";
    return false;
  }
  return true;
}

bool NameNormaliser::normalise(std::string_view raw, std::string& out, std::string& error) {
  const std::string_view name = trimWhitespace(raw);
  if (name.empty()) {
    error = "empty name";
    return false;
  }
  bool ascii = true;
  for (const char ch : name) {
    if (static_cast<unsigned char>(ch) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    out.assign(name);
  } else if (!toALabels(name, out, error)) {
    return false;
  }
  return canonicaliseAsciiName(out, error);
}

bool NameNormaliser::toALabels(std::string_view name, std::string& out, std::string& error) {
  // Judge the ASCII part ourselves first: libidn2 reports "b*ücher" only as a failed A-label
  // round trip, and a NUL byte would cut its C string short.
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80 && c != '.' && kLabelChar[c] == 0) {
      error = invalidCharacter(c);
      return false;
    }
  }
  // IDNA2008 with the UTS #46 non-transitional mapping is what registries and current browsers
  // use: it lower-cases, maps full-width dots and keeps "ß" as its own A-label. NFC first, since
  // lists are not guaranteed to be normalised. Names that IDNA2008 disallows outright (emoji,
  // symbols) exist in the DNS only through the older transitional mapping, so fall back to it for
  // that one error, as curl does; every other error (bidi, CONTEXTJ, hyphens) stays an error.
  // The fallback is decided per label: a disallowed symbol in one label must not change how
  // another label maps "ß" ("faß.☃.de" keeps xn--fa-hia as "faß.de" does).
  int rc = convertLabel(name, out, IDN2_NONTRANSITIONAL);
  if (rc == IDN2_OK) return true;
  if (rc != IDN2_DISALLOWED) {
    error = idnError(rc);
    return false;
  }
  out.clear();
  std::string label;
  for (size_t start = 0;;) {
    const auto [end, separator] = labelEnd(name, start);
    // An empty label is left for canonicaliseAsciiName() to report in reading order.
    if (end > start) {
      rc = convertLabel(name.substr(start, end - start), label, IDN2_NONTRANSITIONAL);
      if (rc == IDN2_DISALLOWED) {
        rc = convertLabel(name.substr(start, end - start), label, IDN2_TRANSITIONAL);
      }
      if (rc != IDN2_OK) {
        error = idnError(rc);
        return false;
      }
      out += label;
    }
    if (separator == 0) return true;
    out += '.';
    start = end + separator;
  }
}

int NameNormaliser::convertLabel(std::string_view text, std::string& out, int mapping) {
  idn_input_.assign(text);
  char* raw_out = nullptr;
  const int rc = idn2_to_ascii_8z(idn_input_.c_str(), &raw_out, IDN2_NFC_INPUT | mapping);
  const IdnBuffer converted(raw_out);
  if (rc == IDN2_OK) out.assign(converted.get());
  return rc;
}

std::optional<std::string> normaliseDomain(std::string_view raw, std::string& error) {
  NameNormaliser normaliser;
  std::string out;
  if (!normaliser.normalise(raw, out, error)) return std::nullopt;
  return out;
}

}  // namespace danescan::inputs
