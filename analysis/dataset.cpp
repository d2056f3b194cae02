#include "analysis/dataset.h"

#include "util/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace fs = std::filesystem;

namespace analysis {

const char* to_string(WorkloadFilter filter) {
  switch (filter) {
  case WorkloadFilter::bench:
    return "bench";
  case WorkloadFilter::suite:
    return "suite";
  case WorkloadFilter::all:
    return "*";
  }
  return "?";
}

util::Result<WorkloadFilter> parse_workload_filter(std::string_view text) {
  if (text == "bench" || text == "benchmark") {
    return WorkloadFilter::bench;
  }
  if (text == "suite" || text == "testsuite") {
    return WorkloadFilter::suite;
  }
  if (text == "*" || text == "all") {
    return WorkloadFilter::all;
  }
  return util::error(fmt::format("invalid workload '{}' (valid: bench, suite, '*')", text));
}

const db::RunRef& select_run(std::span<const db::RunRef> candidates) {
  auto better = [](const db::RunRef& a, const db::RunRef& b) {
    bool a_imported = a.run_id == "imported";
    bool b_imported = b.run_id == "imported";
    if (a_imported != b_imported) {
      return !a_imported;
    }
    return a.key() < b.key();
  };
  return *std::min_element(candidates.begin(), candidates.end(), better);
}

std::vector<const db::RunData*> AppRuns::runs(WorkloadFilter filter) const {
  std::vector<const db::RunData*> out;
  if (bench && filter != WorkloadFilter::suite) {
    out.push_back(&*bench);
  }
  if (suite && filter != WorkloadFilter::bench) {
    out.push_back(&*suite);
  }
  return out;
}

const AppRuns* Dataset::find(std::string_view name) const {
  auto it = std::lower_bound(apps.begin(), apps.end(), name,
                             [](const AppRuns& a, std::string_view n) { return a.app < n; });
  return it != apps.end() && it->app == name ? &*it : nullptr;
}

util::Result<Dataset> load_dataset(const fs::path& root) {
  Dataset dataset;
  dataset.root = root;
  TRY_ASSIGN(std::vector<db::RunRef> refs, db::scan_runs(root, &dataset.warnings));
  if (refs.empty()) {
    return util::error(fmt::format(
        "{}: not a results database (no <app>/<benchmark-W|suite[-W]>/<run>/data/dyn.csv in it)",
        root.string()));
  }

  // Group the runs by app and workload kind, in key order.
  std::map<std::string, std::map<db::WorkloadKind, std::vector<db::RunRef>>> grouped;
  for (db::RunRef& ref : refs) {
    db::WorkloadKind kind = ref.workload.kind;
    std::string app = ref.app;
    grouped[app][kind].push_back(std::move(ref));
  }

  for (auto& [app, kinds] : grouped) {
    AppRuns runs;
    runs.app = app;
    for (auto& [kind, candidates] : kinds) {
      const db::RunRef& chosen = select_run(candidates);
      for (const db::RunRef& other : candidates) {
        if (other.key() != chosen.key()) {
          runs.not_chosen.push_back(other.key());
        }
      }
      TRY_ASSIGN(db::RunData data, db::load_run(chosen));
      for (const std::string& w : data.warnings) {
        dataset.warnings.push_back(w);
      }
      (kind == db::WorkloadKind::benchmark ? runs.bench : runs.suite) = std::move(data);
    }
    dataset.apps.push_back(std::move(runs));
  }
  return dataset;
}

util::Result<AppRuns> load_run_dir(const fs::path& dir) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(dir, ec);
  if (ec || !fs::is_regular_file(canonical / "data" / "dyn.csv", ec)) {
    return util::error(fmt::format("{}: not a run directory (no data/dyn.csv)", dir.string()));
  }
  std::optional<db::Workload> workload =
      db::parse_workload_dir(canonical.parent_path().filename().string());
  if (!workload) {
    return util::error(fmt::format(
        "{}: not a run directory (expected <app>/<benchmark-W|suite[-W]>/<run id>)", dir.string()));
  }
  db::RunRef ref{canonical.parent_path().parent_path().filename().string(), *workload,
                 canonical.filename().string(), canonical};
  AppRuns runs;
  runs.app = ref.app;
  TRY_ASSIGN(db::RunData data, db::load_run(ref));
  (workload->kind == db::WorkloadKind::benchmark ? runs.bench : runs.suite) = std::move(data);
  return runs;
}

util::Result<std::vector<std::string>> select_apps(const Dataset& dataset,
                                                   std::span<const std::string> wanted) {
  std::vector<std::string> names;
  for (const std::string& entry : wanted) {
    for (const std::string& raw : util::split(entry, ',')) {
      std::string name(util::trim(raw));
      if (!name.empty()) {
        names.push_back(std::move(name));
      }
    }
  }
  if (names.empty()) {
    return util::error("no application selected (give -a with app names, or '*' for all)");
  }
  if (std::find(names.begin(), names.end(), "*") != names.end()) {
    std::vector<std::string> all;
    for (const AppRuns& a : dataset.apps) {
      all.push_back(a.app);
    }
    return all;
  }
  std::vector<std::string> out;
  for (const std::string& name : names) {
    if (!dataset.find(name)) {
      return util::error(
          fmt::format("{}: no application '{}' in this database", dataset.root.string(), name));
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) {
      out.push_back(name);
    }
  }
  return out;
}

} // namespace analysis
