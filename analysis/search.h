#pragma once
// `lupa search`: per app, which used syscalls are required, stub-only, fake-only or both; per
// syscall, which apps need it and how. Printed as a table, JSON or CSV.

#include "analysis/dataset.h"
#include "analysis/usage.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace analysis {

// One syscall used by at least one selected app.
struct SyscallApps {
  int nr = -1;
  std::string name;
  Need set_need = Need::required;       // what the whole app set needs (combine_needs)
  std::vector<std::string> required_by; // apps that need a full implementation
  std::vector<std::string> stub_only;   // apps that tolerate only a stub
  std::vector<std::string> fake_only;   // apps that tolerate only a fake
  std::vector<std::string> both;        // apps that tolerate either

  // Number of apps using the syscall.
  size_t users() const;
};

// The answer to one search.
struct SearchResult {
  WorkloadFilter workload = WorkloadFilter::bench;
  std::vector<AppUsage> apps;        // selected apps with data, in selection order
  std::vector<std::string> no_data;  // selected apps without a run for the workload
  std::vector<SyscallApps> syscalls; // every syscall used by a selected app, ascending

  // The syscalls whose set-level need is `need`, ascending.
  std::vector<int> set_with(Need need) const;
};

// Searches `dataset` for the apps `apps` (names, as select_apps returns) under `workload`.
SearchResult search(const Dataset& dataset, const std::vector<std::string>& apps,
                    WorkloadFilter workload);

// Whether the per-syscall detail is printed.
enum class ShowUsage { no, yes };

// A text report of `result`: a per-app count table; with `show` the syscall names per app and
// the per-syscall table of which apps need what.
std::string format_search_table(const SearchResult& result, ShowUsage show);

// `result` as JSON (always complete: counts, names per category, per-syscall apps).
nlohmann::json search_json(const SearchResult& result);

// `result` as CSV: without `show`, one row per app with counts
// (app,runs,used,required,stub_only,fake_only,both); with it, one row per app and used syscall
// (app,nr,syscall,need).
std::string format_search_csv(const SearchResult& result, ShowUsage show);

// How a command prints its answer.
enum class OutputFormat { table, json, csv };

// A `lupa search` invocation.
struct SearchRequest {
  std::filesystem::path db;
  std::vector<std::string> apps; // names, comma lists or "*"
  std::string workload;          // bench, suite or *
  ShowUsage show = ShowUsage::no;
  OutputFormat format = OutputFormat::table;
};

// Loads `request.db`, searches it and returns the text to print; errors are one line.
util::Result<std::string> run_search(const SearchRequest& request);

} // namespace analysis
