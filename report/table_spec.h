// report/table_spec.h — shorthands the section builders use to declare tables.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/model.h"

namespace danescan::report::spec {

inline Column text(std::string name, std::string about) { return {std::move(name), Kind::Text, std::move(about)}; }
inline Column count(std::string name, std::string about) { return {std::move(name), Kind::Int, std::move(about)}; }
inline Column share(std::string name, std::string about) { return {std::move(name), Kind::Share, std::move(about)}; }

inline Table table(std::string id, std::string title, std::string about, std::vector<Column> columns) {
  Table t;
  t.id = std::move(id);
  t.title = std::move(title);
  t.about = std::move(about);
  t.columns = std::move(columns);
  return t;
}

// Adds a bar chart of column `value` labelled by the columns `labels` (by name).
inline Table& chart(Table& t, std::vector<std::string> labels, const std::string& value, std::string axis) {
  for (const auto& name : labels) t.chart.labels.push_back(t.column(name));
  t.chart.value = t.column(value);
  t.chart.axis = std::move(axis);
  return t;
}

// The (metric, count, share, of) shape of the summary tables.
inline std::vector<Column> metricColumns(const std::string& counted) {
  return {text("metric", "what is counted"), count("count", "number of " + counted),
          share("share", "count / the base named in `of`"), text("of", "the base of `share`")};
}

// The (label..., hosts, host_share, domains, domain_share) shape of host tables.
inline std::vector<Column> hostColumns(std::vector<Column> labels, const std::string& host_base,
                                       const std::string& domain_base) {
  labels.push_back(count("hosts", "distinct MX host names"));
  labels.push_back(share("host_share", "hosts / " + host_base));
  labels.push_back(count("domains", "distinct domains served by those hosts"));
  labels.push_back(share("domain_share", "domains / " + domain_base));
  return labels;
}

// "WITH a AS (...), b AS (...) " from the CTEs given.
inline std::string withCtes(std::initializer_list<std::string_view> ctes) {
  std::string sql = "WITH ";
  for (auto cte : ctes) {
    if (sql.size() > 5) sql += ", ";
    sql += cte;
  }
  return sql + " ";
}

// A labelled condition: one row of a metric table.
struct Metric {
  std::string label;
  std::string condition;  // SQL over the rows of `from`
};

// (metric, count, share, of) rows from ONE pass over `from`: count = rows meeting the condition
// (each counting `weight`, a column of pre-grouped rows or 1), share = count / `base` (SQL), `of` names the base. A
// materialised CTE holds the sums, so a table of ten metrics costs one scan, not ten.
inline std::string countMetricsSql(const std::string& ctes, const std::string& from, const std::vector<Metric>& rows,
                                   const std::string& base, const std::string& of, const std::string& weight = "1") {
  std::string agg = "agg AS MATERIALIZED (SELECT ";
  for (size_t i = 0; i < rows.size(); ++i) {
    agg += (i ? ", " : "") + std::string("coalesce(sum(CASE WHEN ") + rows[i].condition + " THEN " + weight +
           " ELSE 0 END), 0) AS c" + std::to_string(i);
  }
  agg += " FROM " + from + ")";
  std::string sql = "WITH " + (ctes.empty() ? std::string() : ctes + ", ") + agg + " ";
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string c = "c" + std::to_string(i);
    sql += (i ? " UNION ALL " : "") + std::string("SELECT '") + rows[i].label + "', " + c + ", 1.0 * " + c +
           " / NULLIF(" + base + ", 0), '" + of + "' FROM agg";
  }
  return sql;
}

// (label, hosts, host_share, domains, domain_share) rows from ONE pass over `from`, which joins
// host rows (`h.name`) to the domains they serve (`mx.domain_id`).
inline std::string hostMetricsSql(const std::string& ctes, const std::string& from, const std::vector<Metric>& rows,
                                  const std::string& host_base, const std::string& domain_base) {
  // The bases are columns of the aggregate, so each is evaluated once, not once per row.
  std::string agg = "agg AS MATERIALIZED (SELECT " + host_base + " AS host_base, " + domain_base + " AS domain_base";
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string k = std::to_string(i);
    agg += ", count(DISTINCT CASE WHEN " + rows[i].condition + " THEN h.name END) AS h" + k +
           ", count(DISTINCT CASE WHEN " + rows[i].condition + " THEN mx.domain_id END) AS d" + k;
  }
  agg += " FROM " + from + ")";
  std::string sql = "WITH " + (ctes.empty() ? std::string() : ctes + ", ") + agg + " ";
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string k = std::to_string(i);
    sql += (i ? " UNION ALL " : "") + std::string("SELECT '") + rows[i].label + "', h" + k + ", 1.0 * h" + k +
           " / NULLIF(host_base, 0), d" + k + ", 1.0 * d" + k + " / NULLIF(domain_base, 0) FROM agg";
  }
  return sql;
}

}  // namespace danescan::report::spec
