// report/model.h — what a report is, independent of its format: sections of typed tables. The
// queries (sections.cc and friends) fill it; the renderers (render_*.cc) only lay it out, so every
// figure is the same in text, Markdown, JSON, CSV and HTML.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace danescan::report {

enum class Kind {
  Text,   // a label; may come from the network (names, rcodes, certificate fields): escaped on output
  Int,    // a count or a number of milliseconds
  Share,  // a fraction in [0, 1]; text formats show it as a percentage, JSON and CSV as the fraction
};

struct Column {
  std::string name;  // snake_case; JSON key and CSV header
  Kind kind = Kind::Int;
  std::string about;  // one line for the README and the HTML tooltip
};

// NULL (std::monostate) where a figure does not apply (for example a share of zero domains).
using Cell = std::variant<std::monostate, std::string, int64_t, double>;
using Row = std::vector<Cell>;

// A horizontal bar chart of one table in the HTML format: one bar per row, labelled by the text
// columns `labels` (joined), length the column `value`.
struct Chart {
  std::vector<int> labels;
  int value = -1;
  std::string axis;  // the value axis's title
};

struct Table {
  std::string id;  // unique in the report: JSON key, CSV `table` column, HTML anchor
  std::string title;
  std::string about;  // what the figures mean, shown under the title
  std::vector<Column> columns;
  std::vector<Row> rows;
  Chart chart;  // value < 0: no chart

  [[nodiscard]] int column(const std::string& name) const;
};

struct Section {
  std::string id;
  std::string title;
  std::vector<Table> tables;
};

struct Report {
  // Where the figures come from: one line each in every format.
  std::vector<std::pair<std::string, std::string>> about;
  std::vector<Section> sections;
};

}  // namespace danescan::report
