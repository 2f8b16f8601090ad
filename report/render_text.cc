// report/render_text.cc — the formats for people: text (aligned tables for the terminal) and
// Markdown (GitHub/CommonMark pipe tables for papers and READMEs).
#include <algorithm>
#include <string>
#include <vector>

#include "report/render_util.h"
#include "report/report.h"

namespace danescan::report {
namespace {

using render::display;
using render::numeric;

size_t width(const std::string& text) {
  // Code points, not bytes: a U+FFFD or an IDN letter takes one column.
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

void pad(std::ostream& out, const std::string& text, size_t to, bool right) {
  const size_t fill = to > width(text) ? to - width(text) : 0;
  if (right) out << std::string(fill, ' ');
  out << text;
  if (!right) out << std::string(fill, ' ');
}

// Markdown: backslash-escape what CommonMark would read as inline markup in a table cell (ASCII
// punctuation may always be escaped, CommonMark 2.4); `<`, `>` and `&` too, so that a hostile
// name is never raw HTML or an entity, and `|`, which would end the cell.
std::string markdown(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\`*_[]<>|~&").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

void writeText(const Report& report, std::ostream& out) {
  out << "danescan report\n";
  for (const auto& [key, value] : report.about) out << "  " << key << ": " << render::printable(value) << "\n";
  for (const auto& section : report.sections) {
    out << "\n== " << section.title << " ==\n";
    for (const auto& table : section.tables) {
      out << "\n-- " << table.title << " --\n" << table.about << "\n";
      std::vector<std::vector<std::string>> cells;
      std::vector<size_t> widths;
      for (const auto& column : table.columns) widths.push_back(width(column.name));
      for (const auto& row : table.rows) {
        auto& line = cells.emplace_back();
        for (size_t i = 0; i < table.columns.size(); ++i) {
          line.push_back(display(row[i], table.columns[i].kind));
          widths[i] = std::max(widths[i], width(line.back()));
        }
      }
      for (size_t i = 0; i < table.columns.size(); ++i) {
        if (i) out << "  ";
        if (i + 1 == table.columns.size() && !numeric(table.columns[i].kind)) {
          out << table.columns[i].name;
        } else {
          pad(out, table.columns[i].name, widths[i], numeric(table.columns[i].kind));
        }
      }
      out << "\n";
      for (size_t i = 0; i < table.columns.size(); ++i) {
        if (i) out << "  ";
        out << std::string(widths[i], '-');
      }
      out << "\n";
      for (const auto& line : cells) {
        for (size_t i = 0; i < line.size(); ++i) {
          if (i) out << "  ";
          // The last column is not padded on the right (no trailing blanks).
          if (i + 1 == line.size() && !numeric(table.columns[i].kind)) {
            out << line[i];
          } else {
            pad(out, line[i], widths[i], numeric(table.columns[i].kind));
          }
        }
        out << "\n";
      }
      if (table.rows.empty()) out << "(none)\n";
    }
  }
}

void writeMarkdown(const Report& report, std::ostream& out) {
  out << "# danescan report\n\n";
  for (const auto& [key, value] : report.about) {
    out << "- " << key << ": " << markdown(render::printable(value)) << "\n";
  }
  for (const auto& section : report.sections) {
    out << "\n## " << section.title << "\n";
    for (const auto& table : section.tables) {
      out << "\n### " << table.title << "\n\n" << table.about << "\n\n";
      if (table.rows.empty()) {
        out << "(none)\n";
        continue;
      }
      out << "|";
      for (const auto& column : table.columns) out << " " << column.name << " |";
      out << "\n|";
      for (const auto& column : table.columns) out << (numeric(column.kind) ? " ---: |" : " --- |");
      out << "\n";
      for (const auto& row : table.rows) {
        out << "|";
        for (size_t i = 0; i < table.columns.size(); ++i) {
          const std::string text = display(row[i], table.columns[i].kind);
          out << " " << (table.columns[i].kind == Kind::Text ? markdown(text) : text) << " |";
        }
        out << "\n";
      }
    }
  }
}

}  // namespace danescan::report
