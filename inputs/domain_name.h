// inputs/domain_name.h — internal: the name normaliser behind normaliseDomain() and DomainStream.
//
// It keeps its scratch buffers between calls so that streaming millions of names does not
// allocate per name; one instance per thread.
#pragma once

#include <string>
#include <string_view>

namespace danescan::inputs {

// Limits of RFC 1035 section 2.3.4, counted in octets of the A-label form without the final dot.
inline constexpr size_t kMaxLabelOctets = 63;
inline constexpr size_t kMaxNameOctets = 253;

class NameNormaliser {
 public:
  // Writes the normalised form of `raw` to `out` and returns true, or returns false with a short
  // reason in `error` (`out` is then unspecified). Surrounding ASCII whitespace is ignored.
  [[nodiscard]] bool normalise(std::string_view raw, std::string& out, std::string& error);

 private:
  [[nodiscard]] bool toALabels(std::string_view name, std::string& out, std::string& error);

  // libidn2 on `text` (a name or one label) with `mapping` (IDN2_NONTRANSITIONAL or
  // IDN2_TRANSITIONAL); on IDN2_OK the A-label form is in `out`. Returns libidn2's code.
  [[nodiscard]] int convertLabel(std::string_view text, std::string& out, int mapping);

  std::string idn_input_;  // NUL-terminated copy for libidn2
};

// Checks and lower-cases an all-ASCII name in place: one trailing dot stripped, then labels of
// letters, digits, hyphen and underscore, each 1..63 octets, at most 253 octets in all.
[[nodiscard]] bool canonicaliseAsciiName(std::string& name, std::string& error);

// ASCII whitespace as it appears in hand-edited lists (space, tab, CR, VT, FF, LF).
[[nodiscard]] std::string_view trimWhitespace(std::string_view text);

}  // namespace danescan::inputs
