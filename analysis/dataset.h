#pragma once
// A results database read for analysis: for every app, the one run chosen per workload kind
// (benchmark, suite), parsed. Search, plans, plots, profiles and the report all start here.

#include "db/layout.h"
#include "util/error.h"

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace analysis {

// Which workloads a question is about: `bench` (benchmark-*), `suite` (suite, suite-*), or
// `all` ('*': every workload the app has, all of which it must pass).
enum class WorkloadFilter { bench, suite, all };

// `filter` as written on the command line: "bench", "suite" or "*".
const char* to_string(WorkloadFilter filter);

// Parses `text`: "bench"/"benchmark", "suite"/"testsuite" or "*" (as Loupe's -w).
util::Result<WorkloadFilter> parse_workload_filter(std::string_view text);

// Picks, among several runs of one app for one workload kind (`candidates`, not empty), the run
// the analysis reads. The rule is deterministic, whatever the file times: a run with a hashed
// id is preferred over one named "imported" (a copy of older data), then the smallest run key
// ("<app>/<workload dir>/<run id>") wins. Loupe used the newest ctime, which a clone makes
// arbitrary. The db library will provide "newest by commit history"; this is the one place to
// swap it in.
const db::RunRef& select_run(std::span<const db::RunRef> candidates);

// The runs read for one app.
struct AppRuns {
  std::string app;
  std::optional<db::RunData> bench;    // chosen benchmark run, if the app has one
  std::optional<db::RunData> suite;    // chosen test-suite run, if the app has one
  std::vector<std::string> not_chosen; // keys of the other runs (select_run lost)

  // The chosen runs that `filter` selects (bench first).
  std::vector<const db::RunData*> runs(WorkloadFilter filter) const;
};

// Every app of a database.
struct Dataset {
  std::filesystem::path root;
  std::vector<AppRuns> apps;         // sorted by app name
  std::vector<std::string> warnings; // skipped directories, tolerated format drift

  // The app called `name`, or nullptr.
  const AppRuns* find(std::string_view name) const;
};

// Reads the database at `root`: scans its runs, chooses one per app and workload kind, parses
// them. Fails with one line naming the directory when `root` is not a results database, or the
// run and file when a file cannot be parsed.
util::Result<Dataset> load_dataset(const std::filesystem::path& root);

// The run stored in directory `dir` (<app>/<benchmark-W|suite[-W]>/<run id>, holding
// data/dyn.csv), read as its app's only run. Fails with one line naming `dir` otherwise.
util::Result<AppRuns> load_run_dir(const std::filesystem::path& dir);

// The app names `wanted` denotes in `dataset`: every app for {"*"}, else the names given (in
// the given order, duplicates removed). Each entry may itself be a comma-separated list. An
// unknown name or an empty selection is an error naming it.
util::Result<std::vector<std::string>> select_apps(const Dataset& dataset,
                                                   std::span<const std::string> wanted);

} // namespace analysis
