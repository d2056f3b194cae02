// Figures for issue 6, on a real database (default ../shared/loupedb-2023):
// 1. seconds to regenerate every paper plot (`lupa plots --all`) and the report (`lupa report`),
//    end to end through the lupa binary, against the baseline of loading the database
//    (`lupa search -a '*' -w '*' --csv`), each the median of 3 runs in this process's run;
// 2. the work-ratio plan against Loupe's greedy order for Unikraft and Gvisor (benchmarks and
//    suites): steps, work, apps working per step.

#include "analysis/plan.h"
#include "analysis/subprocess.h"
#include "util/fs.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace fs = std::filesystem;

namespace {

const fs::path k_lupa = fs::path(LUPA_BINARY_DIR) / "cli" / "lupa";

// Median wall time of `args` run 3 times; exits on failure.
double median_seconds(const std::vector<std::string>& args) {
  std::vector<double> times;
  for (int i = 0; i < 3; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto r = analysis::run_process(k_lupa, args, std::chrono::seconds(600));
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r || r->exit_code != 0) {
      fmt::print(stderr, "bench: lupa {} failed: {}\n", args.front(),
                 r ? r->output : r.error());
      std::exit(1);
    }
    times.push_back(s);
  }
  std::sort(times.begin(), times.end());
  return times[1];
}

} // namespace

int main(int argc, char** argv) {
  fs::path db = argc > 1 ? fs::path(argv[1])
                         : fs::path(LUPA_SOURCE_DIR) / ".." / "shared" / "loupedb-2023";
  if (!fs::is_directory(db)) {
    fmt::print(stderr, "bench: {} is absent; pass a database directory\n", db.string());
    return 1;
  }
  util::TempDir out("lupa-bench-analysis");
  std::string d = db.string();

  fmt::print("== Regenerating plots and report for {} (median of 3, seconds)\n", d);
  double load = median_seconds({"search", "--db", d, "-a", "*", "-w", "*", "--csv"});
  double plots = median_seconds({"plots", "--all", "--db", d, "-o", (out.path() / "plots").string()});
  double report = median_seconds({"report", "--db", d, "-o", (out.path() / "report").string()});
  fmt::print("{:<50} {:>8.3f} s  (baseline)\n", "load + search every app (lupa search)", load);
  fmt::print("{:<50} {:>8.3f} s  {:>6.1f}x baseline\n",
             "every paper plot, SVG+PDF+PNG (lupa plots --all)", plots, plots / load);
  fmt::print("{:<50} {:>8.3f} s  {:>6.1f}x baseline\n", "HTML report with its plots (lupa report)",
             report, report / load);
  fmt::print("{:<50} {:>8.3f} s\n\n", "plots + report", plots + report);

  for (const char* workload : {"bench", "suite"}) {
    for (const char* os : {"Unikraft", "Gvisor"}) {
      analysis::PlanRequest request;
      request.db = db;
      request.supported = os;
      request.apps = {"*"};
      request.workload = workload;
      request.compare = true;
      auto text = analysis::run_plan(request);
      if (!text) {
        fmt::print(stderr, "bench: plan: {}\n", text.error());
        return 1;
      }
      fmt::print("== {} ({} workloads): Loupe's greedy order vs the work-ratio plan\n{}\n", os,
                 workload, *text);
    }
  }
  return 0;
}
