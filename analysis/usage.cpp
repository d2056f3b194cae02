#include "analysis/usage.h"

#include <algorithm>
#include <set>

namespace analysis {

const char* to_string(Need need) {
  switch (need) {
  case Need::required:
    return "required";
  case Need::stub_only:
    return "stub-only";
  case Need::fake_only:
    return "fake-only";
  case Need::both:
    return "both";
  }
  return "?";
}

Need need_of(bool can_stub, bool can_fake) {
  if (can_stub && can_fake) {
    return Need::both;
  }
  if (can_stub) {
    return Need::stub_only;
  }
  if (can_fake) {
    return Need::fake_only;
  }
  return Need::required;
}

namespace {

bool can_stub(Need need) {
  return need == Need::stub_only || need == Need::both;
}
bool can_fake(Need need) {
  return need == Need::fake_only || need == Need::both;
}

} // namespace

Need combine_needs(const std::vector<Need>& needs) {
  bool stub = true;
  bool fake = true;
  for (Need n : needs) {
    stub = stub && can_stub(n);
    fake = fake && can_fake(n);
  }
  return need_of(stub, fake);
}

std::vector<int> AppUsage::with(Need need) const {
  std::vector<int> out;
  for (const auto& [nr, n] : used) {
    if (n == need) {
      out.push_back(nr);
    }
  }
  return out;
}

std::vector<int> AppUsage::used_numbers() const {
  std::vector<int> out;
  for (const auto& entry : used) {
    out.push_back(entry.first);
  }
  return out;
}

AppUsage app_usage(const AppRuns& runs, WorkloadFilter filter) {
  AppUsage usage;
  usage.app = runs.app;
  std::map<int, std::vector<Need>> per_syscall;
  std::set<int> static_set;
  std::set<int> unstable;
  bool any_static = false;
  for (const db::RunData* run : runs.runs(filter)) {
    usage.runs.push_back(run->ref.key());
    for (const core::DynRow& row : run->dyn.rows) {
      if (row.used) {
        per_syscall[row.nr].push_back(need_of(row.can_stub, row.can_fake));
      }
    }
    // Static analysis: data/static_binary.csv, else what results.json recorded.
    const std::vector<int>* static_used = nullptr;
    if (run->static_used) {
      static_used = &*run->static_used;
    } else if (run->result && run->result->static_syscalls) {
      static_used = &*run->result->static_syscalls;
    }
    if (static_used) {
      any_static = true;
      static_set.insert(static_used->begin(), static_used->end());
    }
    if (run->result) {
      for (int nr : run->result->unstable()) {
        unstable.insert(nr);
      }
      usage.discovery_complete = usage.discovery_complete && run->result->discovery_complete;
    }
  }
  for (const auto& [nr, needs] : per_syscall) {
    usage.used[nr] = combine_needs(needs);
  }
  if (any_static) {
    usage.static_used = std::vector<int>(static_set.begin(), static_set.end());
  }
  usage.unstable.assign(unstable.begin(), unstable.end());
  return usage;
}

} // namespace analysis
