#pragma once
// OS support plans: in which order should an OS implement, stub or fake syscalls so that a set
// of applications starts working?
//
// Two planners:
// - loupe_greedy_plan reproduces Loupe's `search --guide-support` step by step (its ordering,
//   tie-breaking and bookkeeping), with the stub/fake labels corrected, so its output can be set
//   beside the published plans;
// - work_ratio_plan optimises a stated objective with an explicit model of the OS (each syscall
//   unsupported, stubbed, faked or implemented) and a configurable cost per action.

#include "analysis/dataset.h"
#include "analysis/os_lists.h"
#include "analysis/usage.h"

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace analysis {

// Work units charged per syscall for each action.
struct PlanCosts {
  double implement = 10; // a full implementation
  double stub = 1;       // an entry returning -ENOSYS
  double fake = 1;       // an entry returning 0
};

// Parses `text` as "implement=N,stub=N,fake=N" (any subset; the others keep their defaults).
util::Result<PlanCosts> parse_plan_costs(std::string_view text);

enum class PlanMode {
  loupe_greedy, // Loupe's greedy order: fewest syscalls left to implement first
  work_ratio,   // most newly working apps per unit of work first
};

// `mode` as printed: "loupe-greedy" or "work-ratio".
const char* to_string(PlanMode mode);

// One step: the work done for `target` and the apps that start working.
struct PlanStep {
  std::string target;
  std::vector<int> implement;
  std::vector<int> stub;
  std::vector<int> fake;
  std::vector<std::string> now_working; // apps that start working at this step
  double work = 0;                      // this step's work under the plan's costs
  double total_work = 0;                // work of all steps so far
  size_t working = 0;                   // apps working after this step
};

struct Plan {
  PlanMode mode = PlanMode::work_ratio;
  std::string objective;        // what the order optimises, in words
  std::string supported_source; // the OS list the plan starts from
  size_t supported_count = 0;   // syscalls in that list
  PlanCosts costs;
  std::vector<std::string> apps; // apps with data, in the given order
  std::vector<std::string> working_without_changes;
  std::vector<std::string> no_data; // apps without a run for the workload
  std::vector<PlanStep> steps;
  // Loupe's preamble over the whole set (loupe_greedy only): what is missing from the list.
  std::vector<int> missing_implement;
  std::vector<int> missing_stub;
  std::vector<int> missing_fake;
  std::vector<std::string> notes; // caveats to print with the plan
};

// Loupe's greedy plan for `apps` (in the order given; apps without data are set aside) starting
// from `supported`; `costs` only prices the steps for comparison. Replicated exactly: apps whose
// required set is already supported come first; then, repeatedly, the first app (in the given
// order) with the fewest required syscalls not yet supported; its stubs are its stub-only and
// both syscalls not supported or stubbed before, its fakes its fake-only syscalls not supported
// nor in Loupe's `already_faked` set (which, as in Loupe, is reset to the stubs plus this step's
// fakes). Only the labels are corrected: Loupe called col2 "stubbed", it means "works faked".
Plan loupe_greedy_plan(const std::vector<AppUsage>& apps, const SupportedSet& supported,
                       const PlanCosts& costs);

// The work-ratio plan for `apps` starting from `supported` under `costs`. Objective: make the
// curve "apps working vs work spent" rise as steeply as possible. Greedy for budgeted maximum
// coverage: at each step, for every app not yet working, price the work that makes it work
// given the current OS state (implement what it requires; stub or fake what it tolerates;
// a stub/fake conflict with an app already working is solved by implementing), count how
// many apps would work afterwards, and take the step with the most newly working apps per
// work unit (ties: less work, then the given order). Side effects are counted: every app that
// starts working is listed at the step where it does.
Plan work_ratio_plan(const std::vector<AppUsage>& apps, const SupportedSet& supported,
                     const PlanCosts& costs);

// The plan obtained by making the apps of `order` work one after the other (names of `apps`)
// with the OS-state model and `costs` of work_ratio_plan; used to price another planner's order
// (e.g. Loupe's) on equal terms.
Plan replay_order(const std::vector<AppUsage>& apps, const SupportedSet& supported,
                  const PlanCosts& costs, const std::vector<std::string>& order);

// `plan` as text (Loupe's layout for loupe_greedy, a step list for work_ratio).
std::string format_plan(const Plan& plan);

// `plan` as JSON.
nlohmann::json plan_json(const Plan& plan);

// Figures of a plan: work to reach given shares of the apps, and the area under its
// working-vs-work curve normalised to [0, 1] (higher: apps work sooner).
struct PlanFigures {
  size_t steps = 0;
  double total_work = 0;
  size_t implemented = 0;
  size_t stubbed = 0;
  size_t faked = 0;
  size_t working = 0;      // apps working at the end
  double work_to_half = 0; // work until half the apps work
  double work_to_90 = 0;   // work until 90% of the apps work
  double area = 0;         // normalised area under the curve
};

// The figures of `plan`.
PlanFigures plan_figures(const Plan& plan);

// A side-by-side comparison of Loupe's order (`loupe`, priced with replay_order) and the
// work-ratio plan (`ours`): their figures and the apps working after each step.
std::string format_plan_comparison(const Plan& loupe, const Plan& ours);

// A `lupa plan` invocation.
struct PlanRequest {
  std::filesystem::path db;
  std::string supported;         // a file or a shipped OS name
  std::vector<std::string> apps; // names, comma lists or "*" (Loupe's order: as given, or
                                 // sorted by name for "*")
  std::string workload;          // bench or suite
  PlanMode mode = PlanMode::work_ratio;
  bool compare = false; // print both planners' figures side by side instead
  std::string costs;    // "implement=N,stub=N,fake=N" (empty: defaults)
  bool json = false;
};

// Loads `request.db`, plans and returns the text to print; errors are one line.
util::Result<std::string> run_plan(const PlanRequest& request);

} // namespace analysis
