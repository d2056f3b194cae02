#pragma once
// `lupa report`: a static HTML site for a results database. index.html shows the plots and a
// table of every app; apps/<app>.html shows, per chosen run, the static vs used vs required
// sets, unstable verdicts, coverage warnings (statically reachable but never exercised) and
// provenance (results.json / provenance.json when the run has them, "not recorded" otherwise).
// Plain files only: no server, no external resources, every link relative.

#include "analysis/dataset.h"
#include "plots/plots.h"

#include <filesystem>
#include <string>
#include <vector>

namespace report {

struct ReportOptions {
  std::filesystem::path out;                                         // output directory (created)
  analysis::WorkloadFilter workload = analysis::WorkloadFilter::all; // for tables and plots
  std::string generator; // "lupa <version>", printed in the footer
};

// What was written.
struct ReportFiles {
  std::filesystem::path index;
  std::vector<std::filesystem::path> app_pages;
  std::vector<plots::PlotFile> plots;
};

// Writes the report of `dataset` into `options.out` (plots in plots/, app pages in apps/).
util::Result<ReportFiles> write_report(const analysis::Dataset& dataset,
                                       const ReportOptions& options);

// `text` with &, <, >, " and ' escaped for HTML.
std::string html_escape(std::string_view text);

// A `lupa report` invocation.
struct ReportRequest {
  std::filesystem::path db;
  std::filesystem::path out;
  std::string workload = "*";
  std::string generator;
};

// Loads `request.db`, writes the report and returns the text to print.
util::Result<std::string> run_report(const ReportRequest& request);

} // namespace report
