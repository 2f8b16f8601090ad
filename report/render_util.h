// report/render_util.h — what the renderers share: how a cell reads for people (counts, shares as
// percentages, "-" for NULL) and for programs (shortest round-trip numbers), and the escaping of
// text that came from the network (control characters shown as \xNN, ill-formed UTF-8 replaced).
#pragma once

#include <string>
#include <string_view>

#include "report/model.h"

namespace danescan::report::render {

// Valid UTF-8 with every ill-formed byte replaced by U+FFFD, every C0/DEL control character
// shown as "\xNN", and every C1 control and bidirectional formatting character (which a terminal
// may obey, or which reorder the text a reader sees) as "\uNNNN": safe to print on a terminal
// and to escape for Markdown or HTML.
[[nodiscard]] std::string printable(std::string_view text);

// For people: a count as digits, a share as "12.3%" ("<0.1%" for a small non-zero share), text as
// printable(), NULL as "-".
[[nodiscard]] std::string display(const Cell& cell, Kind kind);

// For programs: the shortest text that reads back as the same double.
[[nodiscard]] std::string number(double value);

// True when the column is right-aligned (counts and shares).
[[nodiscard]] inline bool numeric(Kind kind) { return kind != Kind::Text; }

}  // namespace danescan::report::render
