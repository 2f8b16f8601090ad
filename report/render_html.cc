// report/render_html.cc — one self-contained HTML page: inline CSS, a few lines of inline script
// (sortable tables), charts as inline SVG drawn here (so they need no script), and a
// Content-Security-Policy that forbids every fetch (the page works offline and cannot leak) and
// runs only the style and script it names by digest. Every
// string goes through escape() (names, rcodes and certificate fields come from the network).
#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "report/render_util.h"
#include "report/report.h"

namespace danescan::report {
namespace {

using render::display;

std::string escape(std::string_view raw) {
  const std::string text = render::printable(raw);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

double value(const Cell& cell) {
  if (const auto* n = std::get_if<int64_t>(&cell)) return static_cast<double>(*n);
  if (const auto* d = std::get_if<double>(&cell)) return *d;
  return 0;
}

// A round step for about five ticks up to `max`.
double tickStep(double max) {
  if (max <= 0) return 1;
  const double raw = max / 5;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * magnitude) return std::max(1.0, m * magnitude);
  }
  return 10 * magnitude;
}

std::string fmt(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

constexpr size_t kMaxBars = 30;

// A horizontal bar chart: categories down the left (y axis, titled above with the label columns),
// values along the bottom (x axis with ticks, titled chart.axis).
void chart(std::ostream& out, const Table& table) {
  if (table.chart.value < 0 || table.rows.empty()) return;
  const auto& c = table.chart;
  const size_t bars = std::min(table.rows.size(), kMaxBars);
  double max = 0;
  for (size_t i = 0; i < bars; ++i) max = std::max(max, value(table.rows[i][static_cast<size_t>(c.value)]));
  const double step = tickStep(max);
  const double top = std::max(step, std::ceil(max / step) * step);
  const int label_w = 300, plot_w = 420, bar_h = 18, gap = 6, left = label_w + 30, top_margin = 26;
  const int plot_h = static_cast<int>(bars) * (bar_h + gap);
  const int height = top_margin + plot_h + 50, width = left + plot_w + 80;
  std::string y_title;
  for (int i : c.labels) y_title += (y_title.empty() ? "" : ", ") + table.columns[static_cast<size_t>(i)].name;
  out << "<figure><svg class=\"chart\" role=\"img\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height << "\" aria-label=\"" << escape(table.title) << "\">\n";
  // Axes.
  const int x0 = left, y_axis = top_margin + plot_h;
  out << "<line class=\"axis\" x1=\"" << x0 << "\" y1=\"" << top_margin << "\" x2=\"" << x0 << "\" y2=\"" << y_axis
      << "\"/><line class=\"axis\" x1=\"" << x0 << "\" y1=\"" << y_axis << "\" x2=\"" << x0 + plot_w << "\" y2=\""
      << y_axis << "\"/>\n";
  for (double t = 0; t <= top + step / 2; t += step) {
    const double x = x0 + plot_w * t / top;
    out << "<line class=\"tick\" x1=\"" << fmt(x) << "\" y1=\"" << y_axis << "\" x2=\"" << fmt(x) << "\" y2=\""
        << y_axis + 5 << "\"/><text class=\"tick-label\" x=\"" << fmt(x) << "\" y=\"" << y_axis + 18
        << "\" text-anchor=\"middle\">" << static_cast<int64_t>(t) << "</text>\n";
  }
  out << "<text class=\"axis-title\" x=\"" << x0 + plot_w / 2 << "\" y=\"" << y_axis + 40
      << "\" text-anchor=\"middle\">" << escape(c.axis) << "</text>\n";
  // The category axis's title sits above its labels (a rotated title would not fit short charts).
  out << "<text class=\"axis-title\" x=\"" << x0 - 6 << "\" y=\"16\" text-anchor=\"end\">" << escape(y_title)
      << "</text>\n";
  for (size_t i = 0; i < bars; ++i) {
    const Row& row = table.rows[i];
    std::string label;
    for (int l : c.labels) {
      const size_t k = static_cast<size_t>(l);
      label += (label.empty() ? "" : " ") + display(row[k], table.columns[k].kind);
    }
    const double v = value(row[static_cast<size_t>(c.value)]);
    const double w = plot_w * v / top;
    const int y = top_margin + static_cast<int>(i) * (bar_h + gap) + gap / 2;
    out << "<text class=\"bar-label\" x=\"" << x0 - 6 << "\" y=\"" << y + bar_h - 5 << "\" text-anchor=\"end\">"
        << escape(label.size() > 48 ? label.substr(0, 45) + "..." : label) << "</text>";
    out << "<rect class=\"bar\" x=\"" << x0 << "\" y=\"" << y << "\" width=\"" << fmt(w) << "\" height=\"" << bar_h
        << "\"><title>" << escape(label) << ": " << display(row[static_cast<size_t>(c.value)], Kind::Int)
        << "</title></rect>";
    std::string shown = display(row[static_cast<size_t>(c.value)], table.columns[static_cast<size_t>(c.value)].kind);
    // The share beside the count when the table has one (readable at a glance).
    for (size_t k = 0; k < table.columns.size(); ++k) {
      if (table.columns[k].kind == Kind::Share && static_cast<int>(k) == c.value + 1) {
        shown += " (" + display(row[k], Kind::Share) + ")";
      }
    }
    out << "<text class=\"bar-value\" x=\"" << fmt(x0 + w + 4) << "\" y=\"" << y + bar_h - 5 << "\">" << escape(shown)
        << "</text>\n";
  }
  out << "</svg>";
  if (table.rows.size() > bars) {
    out << "<figcaption>The first " << bars << " of " << table.rows.size() << " rows.</figcaption>";
  }
  out << "</figure>\n";
}

void htmlTable(std::ostream& out, const Table& table) {
  if (table.rows.empty()) {
    out << "<p class=\"none\">(none)</p>\n";
    return;
  }
  out << "<table class=\"sortable\" id=\"t-" << escape(table.id) << "\"><thead><tr>";
  for (const auto& column : table.columns) {
    out << "<th scope=\"col\" data-type=\"" << (render::numeric(column.kind) ? "num" : "text") << "\" title=\""
        << escape(column.about) << "\">" << escape(column.name) << "</th>";
  }
  out << "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out << "<tr>";
    for (size_t i = 0; i < table.columns.size(); ++i) {
      const Kind kind = table.columns[i].kind;
      if (render::numeric(kind)) {
        out << "<td class=\"num\" data-v=\""
            << (std::holds_alternative<std::monostate>(row[i]) ? std::string("-1e308") : render::number(value(row[i])))
            << "\">" << escape(display(row[i], kind)) << "</td>";
      } else {
        out << "<td>" << escape(display(row[i], kind)) << "</td>";
      }
    }
    out << "</tr>\n";
  }
  out << "</tbody></table>\n";
}

constexpr const char* kStyle = R"css(
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #446; margin-top: 2em; } h3 { margin-bottom: .2em; }
nav a { margin-right: 1em; } dl.about { display: grid; grid-template-columns: max-content auto; gap: 0 1em; }
dl.about dt { font-weight: 600; } dl.about dd { margin: 0; font-family: monospace; }
p.about { color: #555; margin-top: 0; max-width: 60em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; }
th, td { border: 1px solid #ccd; padding: 2px 8px; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eef; cursor: pointer; user-select: none; } th[aria-sort=ascending]::after { content: " \25B2"; }
th[aria-sort=descending]::after { content: " \25BC"; } tbody tr:nth-child(even) { background: #f8f8fc; }
svg.chart { font-size: 12px; } .bar { fill: #4a6fa5; } .bar:hover { fill: #2b4a7a; }
.axis, .tick { stroke: #333; } .axis-title { font-weight: 600; } figure { margin: .5em 0; }
)css";

// Sorting: a click on a header sorts its table by that column (numbers by data-v), again to reverse.
// The page marks itself data-sortable="ready" when this has run (the browser test looks for it).
constexpr const char* kScript = R"js(
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, index) {
    th.addEventListener('click', function () {
      var numeric = th.dataset.type === 'num';
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[index], y = b.cells[index], r;
        if (numeric) { r = parseFloat(x.dataset.v) - parseFloat(y.dataset.v); }
        else { r = x.textContent.localeCompare(y.textContent); }
        return ascending ? r : -r;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
document.documentElement.dataset.sortable = 'ready';
)js";

// A CSP source naming one inline element by its digest (CSP Level 2 hash-source): the page's own
// style and script run, and nothing else would, even if some name ever escaped escape().
std::string hashSource(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1) return "'none'";
  unsigned char base64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int length = EVP_EncodeBlock(base64, digest, static_cast<int>(size));
  return "'sha256-" + std::string(reinterpret_cast<const char*>(base64), static_cast<size_t>(length)) + "'";
}

}  // namespace

void writeHtml(const Report& report, std::ostream& out) {
  static const std::string kPolicy = "default-src 'none'; style-src " + hashSource(kStyle) + "; script-src " +
                                     hashSource(kScript) + "; img-src data:";
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\""
      << kPolicy << "\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>danescan report</title>\n"
         "<style>"
      << kStyle << "</style>\n</head>\n<body>\n<h1>danescan report</h1>\n<dl class=\"about\">";
  for (const auto& [key, v] : report.about) out << "<dt>" << escape(key) << "</dt><dd>" << escape(v) << "</dd>";
  out << "</dl>\n<nav>";
  for (const auto& section : report.sections) {
    out << "<a href=\"#" << escape(section.id) << "\">" << escape(section.title) << "</a>";
  }
  out << "</nav>\n";
  for (const auto& section : report.sections) {
    out << "<section id=\"" << escape(section.id) << "\">\n<h2>" << escape(section.title) << "</h2>\n";
    for (const auto& table : section.tables) {
      out << "<h3 id=\"" << escape(table.id) << "\">" << escape(table.title) << "</h3>\n<p class=\"about\">"
          << escape(table.about) << "</p>\n";
      chart(out, table);
      htmlTable(out, table);
    }
    out << "</section>\n";
  }
  out << "<script>" << kScript << "</script>\n</body>\n</html>\n";
}

}  // namespace danescan::report
