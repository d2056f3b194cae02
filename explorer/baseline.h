#pragma once
// Baseline first: before anything is explored, the unmodified app must pass its test, and the
// test must fail when the app is not running (it would otherwise tell nothing). Both are plain
// probes, so the runner checks its container workers the same way.

#include "explorer/config.h"
#include "explorer/worker.h"
#include "util/error.h"

#include <vector>

namespace explorer {

struct Baseline {
  std::vector<int> ports; // what the app listened on when ready (expected from then on)
  int processes = 0;      // how many processes its tree had then
  double ready_seconds = 0; // how long it took to get ready
  uint64_t runs = 0;      // probe runs made
  double seconds = 0;     // the unmodified app's probe time
};

// Runs the baseline probes of `config` on `worker`; the error is one line saying what is wrong.
util::Result<Baseline> check_baseline(Worker& worker, const AppConfig& config);

} // namespace explorer
