#pragma once
// A worker that runs probes on this machine: the app under a reaper with the probe's seccomp
// filter, readiness detection (or Loupe's fixed sleep), the test script, then the end of the
// whole tree. Used by lupa-explore, by `lupa-explore --worker` inside containers, and by tests.
// Each call is independent: one LocalWorker may serve several threads at once, and several
// LocalWorkers may run side by side (mind fixed ports in benchmark mode).

#include "explorer/config.h"
#include "explorer/spawn.h"
#include "explorer/worker.h"

#include <atomic>

namespace explorer {

class LocalWorker : public Worker {
public:
  // A worker running the app of `config`, called `name` in messages.
  LocalWorker(AppConfig config, std::string name);

  // Runs `probe` (retrying test exits of 200, at most config.infra_retries times).
  core::ProbeOutcome run(const core::Probe& probe) override;
  std::string name() const override { return m_name; }

  // The configuration this worker runs.
  const AppConfig& config() const { return m_config; }

private:
  core::ProbeOutcome run_once(const core::Probe& probe);

  AppConfig m_config;
  std::string m_name;
  std::atomic<uint64_t> m_sequence{0};
};

// The test script's verdict on output file `output`, with its own process tree ended after it.
struct TestRun {
  int exit_code = -1; // -1 when it timed out
  bool timed_out = false;
};

// Runs `config.test_script` with `output` as $1 (its own output goes to `log`), in the
// network namespace `net` (the app's, when runs are isolated).
TestRun run_test_script(const AppConfig& config, const std::filesystem::path& output,
                        const std::filesystem::path& log, NetNamespace net = {});

// The network namespace a run of `config` starts its app in.
NetNamespace app_network(const AppConfig& config);

} // namespace explorer
