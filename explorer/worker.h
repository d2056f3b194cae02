#pragma once
// A worker executes probes (one run of the app with some calls injected, judged by the test
// script). The exploration strategy drives a pool of workers concurrently, one probe per
// worker at a time. Implementations: explorer::LocalWorker (in this process, used by
// lupa-explore) and runner::ContainerWorker (a `lupa-explore --worker` inside a container,
// speaking the JSON-lines protocol of core/probe.h).

#include "core/probe.h"

#include <memory>
#include <string>
#include <vector>

namespace explorer {

class Worker {
public:
  virtual ~Worker() = default;
  // Runs `probe` to its verdict (blocking). Throws util::Fatal when the worker itself breaks
  // (not when the app fails: that is an outcome).
  virtual core::ProbeOutcome run(const core::Probe& probe) = 0;
  // A short name for progress messages ("local-0", "container 3f2a...").
  virtual std::string name() const = 0;
};

using WorkerPool = std::vector<std::unique_ptr<Worker>>;

} // namespace explorer
