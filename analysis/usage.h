#pragma once
// What an application needs from the OS, per used syscall: a full implementation ("required"),
// or a stub (-ENOSYS), or a fake (returns 0). Read from dyn.csv with can_fake = col2 || col4
// and can_stub = col3 || col4 (../shared/loupedb-2023/SOURCE.md); unlike Loupe's search, the
// labels are not swapped (nginx's accept4 is stub-only).

#include "analysis/dataset.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace analysis {

// What a used syscall needs.
enum class Need {
  required,  // works neither stubbed nor faked: must be implemented
  stub_only, // works stubbed (-ENOSYS), not faked
  fake_only, // works faked (returns 0), not stubbed
  both,      // works stubbed and works faked
};

// `need` as printed: "required", "stub-only", "fake-only" or "both".
const char* to_string(Need need);

// The need of a syscall for which `can_stub` and `can_fake` hold.
Need need_of(bool can_stub, bool can_fake);

// One app's needs under a workload filter.
struct AppUsage {
  std::string app;
  std::vector<std::string> runs;               // keys of the runs read (empty: no data)
  std::map<int, Need> used;                    // every used syscall and its need
  std::optional<std::vector<int>> static_used; // statically reachable syscalls, when known
  std::vector<int> unstable;                   // syscalls whose verdicts disagreed across replicas
  bool discovery_complete = true;              // false when a run's discovery lost events

  // True when at least one run was read.
  bool has_data() const { return !runs.empty(); }
  // The used syscalls whose need is `need`, ascending.
  std::vector<int> with(Need need) const;
  // Every used syscall, ascending.
  std::vector<int> used_numbers() const;
};

// The needs of `runs.app` under `filter`. With several workloads (filter '*'), the app must
// pass all of them: a syscall used by several can be stubbed (faked) only if every workload
// that uses it tolerates the stub (fake); a syscall used by one workload keeps that verdict.
// Rows marked unused are ignored even when a works flag is set (3 such rows in h2o).
AppUsage app_usage(const AppRuns& runs, WorkloadFilter filter);

// The combined need of a syscall for a set of apps that must all work with one OS: required if
// any app requires it; else stubbable if every app using it tolerates a stub, fakeable if every
// one tolerates a fake; when neither holds (one app stub-only, another fake-only), it is
// required. `needs` holds the need of each app that uses it.
Need combine_needs(const std::vector<Need>& needs);

} // namespace analysis
