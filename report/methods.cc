// report/methods.cc — the methods box (issue 13, part 3): what a reader needs to judge the figures
// before reading them, as the first section of every format: the danescan version, the lists
// and their line counts, the resolvers, every option that changes results (storage/run_options.h:
// all but the harmless ones), when the scan ran and whether it completed. With --compare, the
// result-changing options in which the two runs differ, which every format also names at its top
// (report.cc), since such a comparison mixes the option's effect with real changes.
#include "report/methods.h"

#include "report/table_spec.h"
#include "storage/run_options.h"

namespace danescan::report {
namespace {

using namespace spec;

// SQL: the harmless option keys, as a quoted list for NOT IN.
std::string harmlessKeys() {
  std::string out;
  for (std::string_view key : storage::harmlessOptions()) out += (out.empty() ? "'" : ", '") + std::string(key) + "'";
  return out;
}

}  // namespace

Section methodsSection(const Source& s) {
  Section section{"methods", "Methods", {}};
  Table t = table("methods", "Methods",
                  "How this scan was made: the program, the lists (lines read, invalid lines, duplicate names), the "
                  "resolvers, every recorded option that changes results (probes, special addresses, ports, DNS and "
                  "SMTP timeouts, limits), when it ran and whether it completed. Figures from an interrupted run cover "
                  "the domains finished before it stopped.",
                  {text("item", "what is described"), text("setting", "its value in this run")});
  const std::string option = "CASE WHEN json_valid(r.options) THEN r.options ELSE '{}' END";
  s.fill(t,
         "SELECT item, setting FROM (" 
         "SELECT 1 AS k, 'danescan version' AS item, r.version AS setting, 0 AS sub FROM runs r WHERE r.id = ?1 "
         "UNION ALL SELECT 2, 'status', r.status || CASE WHEN r.resumed > 0 THEN ' (resumed ' || r.resumed || "
         "' times)' ELSE '' END, 0 FROM runs r WHERE r.id = ?1 "
         "UNION ALL SELECT 3, 'started', r.started_at, 0 FROM runs r WHERE r.id = ?1 "
         "UNION ALL SELECT 4, 'finished', coalesce(r.finished_at, '(not finished)'), 0 FROM runs r WHERE r.id = ?1 "
         "UNION ALL SELECT 5, 'duration', CASE WHEN r.finished_at IS NULL THEN '' ELSE printf('%.0f s', "
         "(julianday(r.finished_at) - julianday(r.started_at)) * 86400) END, 0 FROM runs r WHERE r.id = ?1 "
         "UNION ALL SELECT 6, 'list', json_extract(l.value, '$.path') || ': ' || coalesce(json_extract(l.value, "
         "'$.lines'), '?') || ' lines, ' || coalesce(json_extract(l.value, '$.invalid'), '?') || ' invalid, ' || "
         "coalesce(json_extract(l.value, '$.duplicates'), '?') || ' duplicates' || CASE WHEN json_extract(l.value, "
         "'$.complete') = 0 THEN ' (read in part)' ELSE '' END, l.key FROM runs r, json_each(CASE WHEN "
         "json_valid(r.lists) THEN r.lists ELSE '[]' END) l WHERE r.id = ?1 "
         "UNION ALL SELECT 7, 'lists (from the options)', group_concat(o.value, '; '), 0 FROM runs r, "
         "json_each(" + option + ", '$.lists') o WHERE r.id = ?1 AND r.lists IS NULL "
         "UNION ALL SELECT 8, 'invalid lines', coalesce(r.invalid_lines, '?'), 0 FROM runs r WHERE r.id = ?1 "
         "UNION ALL SELECT 9, 'duplicate lines', coalesce(r.duplicate_lines, '?'), 0 FROM runs r WHERE r.id = ?1 "
         "UNION ALL SELECT 10, 'shard', coalesce(r.shard, 'whole list'), 0 FROM runs r WHERE r.id = ?1 "
         "UNION ALL SELECT 11, 'resolvers', group_concat(o.value, ', '), 0 FROM runs r, json_each(" + option +
             ", '$.resolvers') o WHERE r.id = ?1 "
         "UNION ALL SELECT 12, 'probes', CASE WHEN json_extract(" + option + ", '$.no_probe') THEN 'off (--no-probe)' "
         "ELSE 'on' END, 0 FROM runs r WHERE r.id = ?1 "
         "UNION ALL SELECT 13, 'option ' || o.key, CASE WHEN o.type IN ('object', 'array') THEN o.value WHEN o.type "
         "IN ('true', 'false') THEN o.type ELSE CAST(o.atom AS TEXT) END, 0 FROM runs r, json_each(" + option + ") o WHERE r.id = ?1 AND o.key NOT IN (" +
             harmlessKeys() + ", 'no_probe') "
         ") WHERE setting IS NOT NULL ORDER BY k, sub, item");
  section.tables.push_back(std::move(t));

  if (s.comparing()) {
    Table d = table("option_differences", "Options that differ from the compared scan",
                    "Result-changing options (all but the harmless ones of storage/run_options.h) whose values differ "
                    "between this scan and the compared one: changes between the two scans may come from these options, "
                    "not from the domains.",
                    {text("option", "the option's key in the runs' recorded options"),
                     text("this_run", "its value in this scan (JSON), or absent"),
                     text("compared_run", "its value in the compared scan (JSON), or absent")});
    const std::string now = s.text("SELECT options FROM runs WHERE id = ?1");
    const std::string old = s.text("SELECT options FROM old.runs WHERE id = ?2");
    for (const storage::OptionDifference& diff : storage::resultOptionDifferences(now, old)) {
      d.rows.push_back(Row{diff.key, diff.a, diff.b});
    }
    section.tables.push_back(std::move(d));
  }
  return section;
}

std::vector<std::string> optionDifferenceWarnings(const Section& methods) {
  std::vector<std::string> out;
  for (const Table& t : methods.tables) {
    if (t.id != "option_differences") continue;
    for (const Row& row : t.rows) {
      const auto* key = std::get_if<std::string>(&row[0]);
      const auto* a = std::get_if<std::string>(&row[1]);
      const auto* b = std::get_if<std::string>(&row[2]);
      if (key && a && b) out.push_back("option " + *key + " differs: " + *a + " in this scan, " + *b + " in the compared one");
    }
  }
  return out;
}

}  // namespace danescan::report
