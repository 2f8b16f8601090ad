// report/render_data.cc — the formats for programs (report/README.md documents both shapes):
// JSON, one object with every table as an array of row objects (pandas.DataFrame(rows)), and CSV,
// one row per table row under the union of all columns (pandas.read_csv, then filter on `table`).
#include <set>
#include <string>
#include <vector>

#include "report/render_util.h"
#include "report/report.h"
#include "storage/json.h"

namespace danescan::report {
namespace {

void jsonCell(storage::json::Writer& w, const Cell& cell) {
  if (std::holds_alternative<std::monostate>(cell)) {
    w.null();
  } else if (const auto* text = std::get_if<std::string>(&cell)) {
    w.value(std::string_view(*text));  // storage's writer escapes and repairs UTF-8
  } else if (const auto* n = std::get_if<int64_t>(&cell)) {
    w.value(*n);
  } else {
    w.raw(render::number(std::get<double>(cell)));
  }
}

const char* typeName(Kind kind) {
  switch (kind) {
    case Kind::Text:
      return "string";
    case Kind::Int:
      return "integer";
    case Kind::Share:
      return "fraction";
  }
  return "string";
}

// RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled.
std::string csvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

// A text cell that a spreadsheet would run as a formula (=, +, - or @ first: OWASP's "CSV
// injection"; a tab or carriage return, OWASP's other two, never comes first: printable() shows
// them as \x09 and \x0d) gets a leading apostrophe, which spreadsheets show as text. Network
// text reaches the CSV: a zone can name its MX host "=HYPERLINK(...)". A lone "-" stays.
std::string noFormula(std::string text) {
  if (text.empty() || text == "-") return text;
  if (std::string_view("=+-@").find(text.front()) == std::string_view::npos) return text;
  return "'" + text;
}

}  // namespace

void writeJson(const Report& report, std::ostream& out) {
  std::string text;
  storage::json::Writer w(text);
  w.beginObject();
  w.key("format").value("danescan-report").key("format_version").value(int64_t{1});
  w.key("about").beginObject();
  for (const auto& [key, value] : report.about) w.key(key).value(value);
  w.endObject();
  w.key("sections").beginArray();
  for (const auto& section : report.sections) {
    w.beginObject().key("id").value(section.id).key("title").value(section.title).key("tables").beginArray();
    for (const auto& table : section.tables) w.value(table.id);
    w.endArray().endObject();
  }
  w.endArray();
  w.key("tables").beginObject();
  for (const auto& section : report.sections) {
    for (const auto& table : section.tables) {
      w.key(table.id).beginObject();
      w.key("section").value(section.id).key("title").value(table.title).key("about").value(table.about);
      w.key("columns").beginArray();
      for (const auto& column : table.columns) {
        w.beginObject().key("name").value(column.name).key("type").value(typeName(column.kind));
        w.key("about").value(column.about).endObject();
      }
      w.endArray();
      w.key("rows").beginArray();
      for (const auto& row : table.rows) {
        w.beginObject();
        for (size_t i = 0; i < table.columns.size(); ++i) {
          w.key(table.columns[i].name);
          jsonCell(w, row[i]);
        }
        w.endObject();
      }
      w.endArray().endObject();
    }
  }
  w.endObject();
  w.endObject();
  out << text << "\n";
}

void writeCsv(const Report& report, std::ostream& out) {
  // The union of the columns, in order of first appearance; a name means the same everywhere.
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& section : report.sections) {
    for (const auto& table : section.tables) {
      for (const auto& column : table.columns) {
        if (seen.insert(column.name).second) names.push_back(column.name);
      }
    }
  }
  out << "section,table";
  for (const auto& name : names) out << "," << name;
  out << "\n";
  for (const auto& section : report.sections) {
    for (const auto& table : section.tables) {
      std::vector<int> where;
      for (const auto& name : names) where.push_back(table.column(name));
      for (const auto& row : table.rows) {
        out << section.id << "," << table.id;
        for (int i : where) {
          out << ",";
          if (i < 0) continue;
          const Cell& cell = row[static_cast<size_t>(i)];
          if (const auto* text = std::get_if<std::string>(&cell)) {
            out << csvField(noFormula(render::printable(*text)));
          } else if (const auto* n = std::get_if<int64_t>(&cell)) {
            out << *n;
          } else if (const auto* d = std::get_if<double>(&cell)) {
            out << render::number(*d);
          }
        }
        out << "\n";
      }
    }
  }
}

}  // namespace danescan::report
